"""What the Runs table and the compare legends say about a run: Qt-free, read in a worker.

run_overview(info) adds to a RunInfo what only metrics.jsonl knows (best validation accuracy,
training time); differing_settings(configs) names the settings that tell several runs apart,
so a comparison's legend reads "lr 0.01" against "lr 0.001" rather than two times of day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# The settings a legend may name, in the order it names them, and how each is written.
LEGEND_KEYS = ("model", "dataset", "optimizer", "lr", "batch_size", "epochs", "schedule", "weight_decay",
               "augment", "normalize", "val_fraction", "seed")
_SHORT = {"batch_size": "batch", "weight_decay": "wd", "schedule": "sched", "val_fraction": "val",
          "normalize": "norm"}


@dataclass
class RunOverview:
    """One row of the Runs table, in plain values (None where a run does not know). It answers what a
    RunInfo answers (path, name, config, state, epochs_done, best_test_acc, created)."""
    path: Path
    name: str
    display: str
    model: str
    dataset: str
    optimizer: str
    lr: float | None
    batch_size: int | None
    epochs: int | None
    epochs_done: int
    augmentation: str
    best_val_acc: float | None
    best_test_acc: float | None
    duration: float | None          # seconds of training (the epochs' times summed)
    state: str                      # running (a live writer holds the run lock), done, stopped, failed
    created: float
    config: dict


def display_name(name: str, config: dict) -> str:
    """What was trained first, then when: "lenet5 · mnist-sample · Dec 2 02:53". A name the user gave
    (by renaming the folder) is shown as it is."""
    from studio.core.runs.store import default_name_time

    time_of_day = default_name_time(name)
    if time_of_day is None:
        return name
    date = _date_in(name)
    when = f"{date.strftime('%b %-d')} {time_of_day[:5]}" if date else time_of_day[:5]
    return f"{config.get('model', '?')} · {config.get('dataset', '?')} · {when}"


def _date_in(name: str) -> datetime | None:
    import re

    match = re.search(r"(\d{4})-?(\d{2})-?(\d{2})[-_]\d{6}", name)
    if not match:
        return None
    try:
        return datetime(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def augmentation_summary(config: dict) -> str:
    """"off", or the augmentations switched on ("hflip, crop 4")."""
    augment = config.get("augment")
    if not isinstance(augment, dict):
        return "off"
    on = []
    for key, value in augment.items():
        if isinstance(value, bool):
            if value:
                on.append(key)
        elif isinstance(value, (int, float)) and value:
            on.append(f"{key.replace('_padding', '').replace('_', ' ')} {value:g}")
    return ", ".join(on) if on else "off"


_EPOCH_FIGURES: dict[str, tuple[tuple[int, int], tuple[list, list, list]]] = {}


def _epoch_figures(run_dir: Path) -> tuple[list, list, list]:
    """Each epoch's val accuracy, test accuracy and time, re-read only when metrics.jsonl changed:
    a Refresh of the Runs table would otherwise parse every run's whole file (batch lines included)."""
    from studio.core.runs.store import epoch_records

    try:
        stat = (Path(run_dir) / "metrics.jsonl").stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)
    cached = _EPOCH_FIGURES.get(str(run_dir))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    records = epoch_records(run_dir)
    figures = ([r["val_acc"] for r in records if _finite(r.get("val_acc"))],
               [r["test_acc"] for r in records if _finite(r.get("test_acc"))],
               [r["epoch_time"] for r in records if _finite(r.get("epoch_time"))])
    if len(_EPOCH_FIGURES) > 4096:
        _EPOCH_FIGURES.clear()   # folders come and go: keep the memory bounded
    _EPOCH_FIGURES[str(run_dir)] = (stamp, figures)
    return figures


def run_overview(info) -> RunOverview:
    """A RunInfo plus its epoch records' best validation accuracy and summed epoch times."""
    cfg = info.config
    val, test, times = _epoch_figures(info.path)
    best_test = info.best_test_acc if info.best_test_acc is not None else (max(test) if test else None)
    return RunOverview(
        path=info.path, name=info.name, display=display_name(info.name, cfg), model=str(cfg.get("model", "?")),
        dataset=str(cfg.get("dataset", "?")), optimizer=str(cfg.get("optimizer", "?")),
        lr=_number(cfg.get("lr")), batch_size=_whole(cfg.get("batch_size")), epochs=_whole(cfg.get("epochs")),
        epochs_done=info.epochs_done, augmentation=augmentation_summary(cfg),
        best_val_acc=max(val) if val else None, best_test_acc=best_test,
        duration=sum(times) if times else None, state=info.state, created=info.created, config=cfg)


def list_overviews(runs_dir: Path) -> list[RunOverview]:
    """Every run under runs_dir as a table row, newest first. Reads every metrics file: call it in a worker."""
    from studio.core.runs.store import list_runs

    return [run_overview(info) for info in list_runs(runs_dir)]


def differing_settings(configs: list[dict]) -> list[str]:
    """Labels naming what differs among the configs, one per config ("adam, lr 0.01"); "" for a config
    that differs in nothing the legend names (the caller falls back to the run's name)."""
    keys = [k for k in LEGEND_KEYS if len({_setting_text(k, c.get(k)) for c in configs}) > 1]
    return [", ".join(_setting_text(k, c.get(k), named=True) for k in keys) for c in configs]


def _setting_text(key: str, value, named: bool = False) -> str:
    if key == "augment":
        return "aug " + augmentation_summary({"augment": value})
    if isinstance(value, float):
        value = f"{value:g}"
    elif value is None:
        value = "?"
    if not named or key in ("model", "dataset", "optimizer"):
        return str(value)
    return f"{_SHORT.get(key, key)} {value}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value) -> float | None:
    return float(value) if _finite(value) else None


def _whole(value) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
