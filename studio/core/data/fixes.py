"""Fixes to a folder dataset's labels, kept beside a run, never in the user's images.

A student who finds a mislabelled or useless image marks it: relabel (the class it really is) or
exclude. The marks are a small JSON file (RUN/data_fixes.json) naming each image by its path
relative to the dataset folder, so the file stays valid if the folder moves, and the images
themselves are never touched. A run trained "with fixes" names a frozen copy of that file in its
config (`data_fixes`), and the folder loader applies it: excluded images are dropped and relabelled
ones get their new class, after the train/test split was drawn on the original labels, so the
test images of the run with fixes are the old ones minus the excluded.

    {"format": "cnn-studio data fixes", "version": 1, "dataset": "folder:/path",
     "relabel": {"cat/img_003.png": "dog"}, "exclude": ["dog/blurry.png"]}
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.errors import DatasetError

FORMAT = "cnn-studio data fixes"
VERSION = 1
FILE_NAME = "data_fixes.json"
MAX_BYTES = 20_000_000   # a hand-edited or hostile file must not fill memory


@dataclass
class DataFixes:
    """Relabels (relative path -> class name) and exclusions (relative paths) of one folder dataset."""

    dataset: str = ""
    relabel: dict[str, str] = field(default_factory=dict)
    exclude: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.relabel) + len(self.exclude)

    def mark_relabel(self, key: str, new_class: str) -> None:
        key = normalise_key(key)
        self.exclude.discard(key)
        self.relabel[key] = str(new_class)

    def mark_exclude(self, key: str) -> None:
        key = normalise_key(key)
        self.relabel.pop(key, None)
        self.exclude.add(key)

    def clear(self, key: str) -> None:
        key = normalise_key(key)
        self.relabel.pop(key, None)
        self.exclude.discard(key)

    def status(self, key: str) -> str:
        """"excluded", "relabelled as NAME", or "" for an image left as it is."""
        key = normalise_key(key)
        if key in self.exclude:
            return "excluded"
        if key in self.relabel:
            return f"relabelled as {self.relabel[key]}"
        return ""

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "dataset": self.dataset,
                "relabel": dict(sorted(self.relabel.items())), "exclude": sorted(self.exclude)}

    def summary(self) -> str:
        return f"{len(self.exclude)} excluded, {len(self.relabel)} relabelled"


def normalise_key(key: str) -> str:
    """Forward slashes, no leading "./": the same image has one key on every system."""
    key = str(key).replace("\\", "/")
    while key.startswith("./"):
        key = key[2:]
    return key


def image_key(root: Path, file: Path) -> str:
    """An image's key: its path relative to the dataset folder."""
    return normalise_key(os.path.relpath(Path(file), Path(root)))


def read_fixes(path: str | os.PathLike) -> DataFixes:
    """The fixes in `path`; DatasetError with a readable reason when the file cannot be used."""
    if not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"data_fixes must name a file, not {path!r}.")
    path = Path(path).expanduser()
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DatasetError(f"The data fixes file {path} is too large to be one ({path.stat().st_size:,} bytes).")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"The data fixes file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"The data fixes file {path} cannot be read ({exc}).") from None
    return _from_dict(data, path)


def _from_dict(data, path: Path) -> DataFixes:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a CNN Studio data fixes file.")
    relabel, exclude = data.get("relabel", {}), data.get("exclude", [])
    if not isinstance(relabel, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in relabel.items()):
        raise DatasetError(f"{path}: 'relabel' must map image paths to class names.")
    if not isinstance(exclude, list) or not all(isinstance(k, str) for k in exclude):
        raise DatasetError(f"{path}: 'exclude' must be a list of image paths.")
    dataset = data.get("dataset", "")
    return DataFixes(dataset=dataset if isinstance(dataset, str) else "",
                     relabel={normalise_key(k): v for k, v in relabel.items()},
                     exclude={normalise_key(k) for k in exclude})


def write_fixes(path: str | os.PathLike, fixes: DataFixes) -> Path:
    """Write atomically (a temporary file renamed over the old one): a crash leaves the old fixes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(fixes.to_dict(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def run_fixes_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / FILE_NAME


def fixes_for_run(run_dir: str | os.PathLike, config: dict | None = None) -> DataFixes:
    """The fixes being made from a run: its own file, else those it was trained with, else none."""
    own = run_fixes_path(run_dir)
    if own.is_file():
        return read_fixes(own)
    used = (config or {}).get("data_fixes")
    if isinstance(used, str) and used and Path(used).is_file():
        return read_fixes(used)
    return DataFixes(dataset=str((config or {}).get("dataset", "")))


def freeze_fixes(run_dir: str | os.PathLike, fixes: DataFixes) -> Path:
    """A copy named by its content (RUN/data_fixes-<hash>.json) for a new run to train with: later marks
    made in the same run change data_fixes.json, never the data a finished run was trained on."""
    text = json.dumps(fixes.to_dict(), sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return write_fixes(Path(run_dir) / f"data_fixes-{digest}.json", fixes)


def apply_fixes(files: list[tuple[Path, int]], root: Path, classes: list[str], fixes: DataFixes
                ) -> tuple[list[int], list[int]]:
    """(indices of the files kept, their labels) once exclusions and relabels are applied.

    A relabel to a class the dataset does not have is an error (the file was written for another
    dataset); marks naming files that no longer exist are ignored.
    """
    unknown = sorted({name for name in fixes.relabel.values() if name not in classes})
    if unknown:
        raise DatasetError(f"The data fixes relabel images as {', '.join(unknown)}, which is not a class of "
                           f"{root} ({', '.join(classes)}).")
    kept, labels = [], []
    for i, (file, label) in enumerate(files):
        key = image_key(root, file)
        if key in fixes.exclude:
            continue
        kept.append(i)
        labels.append(classes.index(fixes.relabel[key]) if key in fixes.relabel else label)
    return kept, labels
