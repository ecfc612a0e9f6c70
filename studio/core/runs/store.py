"""Run folders: naming, status, metrics, epoch snapshots, listing, renaming and deleting."""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import RunError
from studio.core.runs.follow import MetricsReader
from studio.core.runs.jsonio import json_default, read_json, write_atomic, write_json
from studio.core.runs.lock import is_locked, read_lock_record
from studio.core.safe_load import first_line

RUN_STATUSES = ("running", "done", "stopped", "failed")


def new_run_dir(runs_dir: Path, config: dict) -> Path:
    """A fresh, uniquely named folder: model and dataset first (what tells runs apart), then date and time.

    Older runs named date-first stay readable; default_name_time reads the time from either format.
    """
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    model = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(config.get("model", "model")))[:32].strip("-.") or "model"
    source = str(config.get("dataset", "data")).split(":", 1)[-1].rstrip("/\\")
    source = re.split(r"[/\\]", source)[-1]   # a folder dataset: the folder's own name
    dataset = re.sub(r"[^A-Za-z0-9_.-]+", "-", source)
    dataset = dataset[-24:].strip("-.") or "data"
    base = f"{model}-{dataset}-{stamp}"
    path = Path(runs_dir) / base
    n = 1
    while True:
        try:
            path.mkdir(parents=True)   # mkdir, not exists(): two runs started in one second still get two folders
            break
        except FileExistsError:
            n += 1
            path = Path(runs_dir) / f"{base}-{n}"
    (path / "checkpoints").mkdir()
    (path / "history").mkdir()
    return path


_DEFAULT_NAMES = (re.compile(r"^\d{8}-(\d{2})(\d{2})(\d{2})-"),                      # before issue 13
                  re.compile(r"-\d{4}-\d{2}-\d{2}_(\d{2})(\d{2})(\d{2})(?:-\d+)?$"))   # model-data-date_time


def default_name_time(name: str) -> str | None:
    """"HH:MM:SS" when `name` is a name new_run_dir gave (either format), None for a renamed run."""
    for pattern in _DEFAULT_NAMES:
        match = pattern.search(name)
        if match:
            return ":".join(match.groups())
    return None


def write_status(run_dir: Path, status: str, reason: str = "", **extra: Any) -> None:
    assert status in RUN_STATUSES
    record = {"status": status, "reason": reason, "updated": datetime.now().isoformat(timespec="seconds")}
    record.update(extra)
    write_json(Path(run_dir) / "status.json", record)


def read_status(run_dir: Path) -> dict:
    """status.json, with liveness read from the run lock: "running" only while its writer holds the lock."""
    status = read_json(Path(run_dir) / "status.json", {})
    if not isinstance(status, dict):
        status = {}  # a damaged status file reads as "unknown", not as a crash of the runs list
    if status.get("status") == "running" and not is_locked(run_dir):
        # The process that wrote "running" is gone (crash, kill -9, power cut): the run can be resumed.
        status = dict(status, status="stopped", reason=status.get("reason") or "interrupted")
    return status


def is_running(run_dir: Path) -> bool:
    """True while a live process trains this run (the OS lock on run.lock is held)."""
    return is_locked(run_dir)


def _refuse_if_running(run_dir: Path, action: str) -> None:
    if is_locked(run_dir):
        pid = read_lock_record(run_dir).get("pid", "?")
        raise RunError(f"{Path(run_dir).name} is being trained (process {pid}): stop it before you {action} it.")


class MetricsWriter:
    """Appends one JSON line per event to metrics.jsonl and flushes it at once.

    `write(record, durable=True)` also fsyncs: the trainer does so for epoch records, which are
    written before the epoch's checkpoint (docs/run-folder.md).
    """

    def __init__(self, run_dir: Path):
        path = Path(run_dir) / "metrics.jsonl"
        self._fh = open(path, "a", encoding="utf-8")
        if _ends_mid_line(path):
            self._fh.write("\n")  # a line cut by a crash must not swallow the next record

    def write(self, record: dict, durable: bool = False) -> None:
        self._fh.write(json.dumps(record, default=json_default) + "\n")
        self._fh.flush()
        if durable:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def _ends_mid_line(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return False
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:
        return False


def read_metrics(run_dir: Path) -> list[dict]:
    """The run's events in order; records of epochs that a resume redid are dropped.

    The lines are parsed by follow.MetricsReader, the one reader of metrics.jsonl (the window reads
    a growing file with it incrementally; here it reads the whole file once).
    """
    records: list[dict] = []
    for record in MetricsReader(run_dir).read_all():
        if record.get("event") == "fit_start" and records:
            start = _whole_or_zero(record.get("start_epoch"))
            records = [r for r in records if _whole_or_zero(r.get("epoch")) <= start or "epoch" not in r
                       or r.get("event") in ("fit_start", "fit_end", "error")]
        records.append(record)
    return records


def epoch_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if r.get("event") == "epoch" and _whole_or_zero(r.get("epoch")) > 0]


def restore_missing_epoch_record(run_dir: Path, record: dict | None) -> bool:
    """Append a checkpoint's copy of its epoch record when metrics.jsonl lacks that epoch.

    Runs written before the record-first order (or a metrics file lost in a copy) can miss the
    last checkpointed epoch's line; the checkpoint keeps a copy of it, so resume puts it back.
    """
    if not isinstance(record, dict) or record.get("event") != "epoch":
        return False
    epoch = _whole_or_zero(record.get("epoch"))
    if epoch == 0 or any(_whole_or_zero(r.get("epoch")) == epoch for r in epoch_records(run_dir)):
        return False
    writer = MetricsWriter(run_dir)
    try:
        writer.write(dict(record, rebuilt_from="checkpoints/last.pt"), durable=True)
    finally:
        writer.close()
    return True


def save_epoch_snapshot(run_dir: Path, epoch: int, confusion: np.ndarray | None, kernels: dict[str, np.ndarray]) -> None:
    arrays = {f"kernels/{name}": np.asarray(w, dtype=np.float32) for name, w in kernels.items()}
    if confusion is not None:
        arrays["confusion"] = np.asarray(confusion, dtype=np.int64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(Path(run_dir) / "history" / f"epoch_{epoch:04d}.npz", buffer.getvalue())


def read_epoch_snapshots(run_dir: Path) -> list[int]:
    """The epochs whose confusion matrix and kernels are kept, in order."""
    epochs = []
    for path in sorted((Path(run_dir) / "history").glob("epoch_*.npz")):
        try:
            epochs.append(int(path.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return epochs


def load_epoch_snapshot(run_dir: Path, epoch: int) -> dict:
    path = Path(run_dir) / "history" / f"epoch_{epoch:04d}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            kernels = {k.split("/", 1)[1]: npz[k] for k in npz.files if k.startswith("kernels/")}
            confusion = npz["confusion"] if "confusion" in npz.files else None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise RunError(f"The snapshot of epoch {epoch} cannot be read ({first_line(exc)}).") from None
    return {"epoch": epoch, "confusion": confusion, "kernels": kernels}


@dataclass
class RunInfo:
    path: Path
    name: str
    config: dict
    status: dict
    created: float
    epochs_done: int = 0
    best_test_acc: float | None = None

    @property
    def state(self) -> str:
        return self.status.get("status", "unknown")


def read_run(run_dir: Path) -> RunInfo:
    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    if not isinstance(config, dict):
        raise RunError(f"{run_dir} is not a CNN Studio run folder (no readable config.json).")
    status = read_status(run_dir)
    return RunInfo(path=run_dir, name=run_dir.name, config=config, status=status,
                   created=(run_dir / "config.json").stat().st_mtime,
                   epochs_done=_whole_or_zero(status.get("epochs_done")),
                   best_test_acc=_fraction_or_none(status.get("best_test_acc")))


def _whole_or_zero(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _fraction_or_none(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder under runs_dir, newest first; folders that aren't runs are skipped."""
    runs = []
    root = Path(runs_dir)
    if not root.is_dir():
        return runs
    for child in root.iterdir():
        if (child / "config.json").is_file():
            try:
                runs.append(read_run(child))
            except RunError:
                continue
    return sorted(runs, key=lambda r: r.created, reverse=True)


def rename_run(run_dir: Path, new_name: str) -> Path:
    _refuse_if_running(run_dir, "rename")
    clean = re.sub(r"[^A-Za-z0-9_. -]+", "-", new_name).strip(" .")
    if not clean:
        raise RunError("A run name needs at least one letter or digit.")
    target = Path(run_dir).with_name(clean)
    if target.exists():
        raise RunError(f"A run named '{clean}' exists already.")
    Path(run_dir).rename(target)
    return target


def delete_run(run_dir: Path) -> None:
    import shutil

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise RunError(f"{run_dir} is not a run folder; nothing was deleted.")
    _refuse_if_running(run_dir, "delete")
    shutil.rmtree(run_dir)


def best_checkpoint(run_dir: Path) -> Path | None:
    for name in ("best.pt", "last.pt"):
        path = Path(run_dir) / "checkpoints" / name
        if path.is_file():
            return path
    return None
