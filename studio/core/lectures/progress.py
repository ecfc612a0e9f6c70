"""Where the student stopped in each tour: a small JSON file in the per-user config folder.

{"current": 1, "steps": {"0": 3, "1": 5}} — the tour last open, and the step last shown in each.
$CNN_STUDIO_SETTINGS_DIR moves it (tests point it at a temporary folder), like the window's
settings file. A missing or damaged file means "from the start", never an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

FILE_NAME = "lectures-progress.json"


def progress_file() -> Path:
    folder = os.environ.get("CNN_STUDIO_SETTINGS_DIR") or platformdirs.user_config_dir("cnn-studio")
    return Path(folder) / FILE_NAME


def load() -> dict:
    try:
        data = json.loads(progress_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"current": 0, "steps": {}}
    if not isinstance(data, dict):
        return {"current": 0, "steps": {}}
    steps = data.get("steps") if isinstance(data.get("steps"), dict) else {}
    clean = {str(k): v for k, v in steps.items() if isinstance(v, int) and not isinstance(v, bool) and v >= 0}
    current = data.get("current")
    return {"current": current if isinstance(current, int) and not isinstance(current, bool) else 0,
            "steps": clean}


def last_step(tour: int) -> int:
    """The step (0-based) the student last looked at in this tour, 0 if none."""
    return load()["steps"].get(str(tour), 0)


def current_tour() -> int:
    return load()["current"]


def remember(tour: int, step: int) -> None:
    """Record that `step` of `tour` is on screen; written atomically, failures ignored (it is a convenience)."""
    data = load()
    data["current"] = int(tour)
    data["steps"][str(int(tour))] = int(step)
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
