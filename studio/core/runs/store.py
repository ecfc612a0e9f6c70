"""Run folders: naming, status, metrics, epoch snapshots, listing, renaming and deleting."""

from __future__ import annotations

import io
import json
import math
import re
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import RunError
from studio.core.runs.jsonio import json_default, read_json, write_atomic, write_json
from studio.core.safe_load import first_line

RUN_STATUSES = ("running", "done", "stopped", "failed")


def new_run_dir(runs_dir: Path, config: dict) -> Path:
    """A fresh, uniquely named folder: date, time, model and dataset."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dataset = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(config.get("dataset", "data")).split(":")[-1])[-24:]
    base = f"{stamp}-{config.get('model', 'model')}-{dataset}".strip("-")
    path = Path(runs_dir) / base
    n = 1
    while path.exists():
        n += 1
        path = Path(runs_dir) / f"{base}-{n}"
    (path / "checkpoints").mkdir(parents=True)
    (path / "history").mkdir()
    return path


def write_status(run_dir: Path, status: str, reason: str = "", **extra: Any) -> None:
    assert status in RUN_STATUSES
    record = {"status": status, "reason": reason, "updated": datetime.now().isoformat(timespec="seconds")}
    record.update(extra)
    write_json(Path(run_dir) / "status.json", record)


def read_status(run_dir: Path) -> dict:
    status = read_json(Path(run_dir) / "status.json", {})
    if not isinstance(status, dict):
        status = {}  # a damaged status file reads as "unknown", not as a crash of the runs list
    if status.get("status") == "running" and not _recently_touched(run_dir):
        # The process that wrote "running" is gone (crash, kill): the run can be resumed.
        status = dict(status, status="stopped", reason=status.get("reason") or "interrupted")
    return status


def _recently_touched(run_dir: Path, seconds: float = 600) -> bool:
    latest = max((p.stat().st_mtime for p in Path(run_dir).glob("*.json*") if p.exists()), default=0)
    return time.time() - latest < seconds


class MetricsWriter:
    """Appends one JSON line per event to metrics.jsonl and flushes it at once."""

    def __init__(self, run_dir: Path):
        self._fh = open(Path(run_dir) / "metrics.jsonl", "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, default=json_default) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_metrics(run_dir: Path) -> list[dict]:
    """The run's events in order; records of epochs that a resume redid are dropped."""
    records: list[dict] = []
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return records
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(record, dict):
                continue  # not one of ours: a damaged or hand-edited file
            if record.get("event") == "fit_start" and records:
                start = _whole_or_zero(record.get("start_epoch"))
                records = [r for r in records if _whole_or_zero(r.get("epoch")) <= start or "epoch" not in r
                           or r.get("event") in ("fit_start", "fit_end", "error")]
            records.append(record)
    return records


def epoch_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if r.get("event") == "epoch" and _whole_or_zero(r.get("epoch")) > 0]


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
    shutil.rmtree(run_dir)


def best_checkpoint(run_dir: Path) -> Path | None:
    for name in ("best.pt", "last.pt"):
        path = Path(run_dir) / "checkpoints" / name
        if path.is_file():
            return path
    return None
