"""Runs' epoch metrics as CSV: the numbers behind the curves, for a spreadsheet or a report.

write_metrics_csv writes one run (one row per epoch); write_runs_csv writes several runs into one
long-format file (one row per run and epoch, the run's folder name first), the shape pandas'
read_csv and a spreadsheet's pivot table want. Missing values are empty cells.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from collections.abc import Iterable

CSV_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr", "epoch_time",
              "images_per_sec")
LONG_FIELDS = ("run", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr",
               "epoch_time")


def write_metrics_csv(run_dir: Path, path: Path) -> Path:
    """One row per finished epoch of the run (the curves' numbers), accuracies in 0..1."""
    from studio.core.runs.store import epoch_records

    return _write(path, CSV_FIELDS, ({k: row.get(k, "") for k in CSV_FIELDS} for row in epoch_records(run_dir)))


def long_rows(run_dirs: Iterable[Path]) -> list[dict]:
    """Every epoch of every run as one flat row (LONG_FIELDS), runs in the order given."""
    from studio.core.runs.store import epoch_records

    rows = []
    for run_dir in run_dirs:
        for record in epoch_records(Path(run_dir)):
            row = {k: _cell(record.get(k)) for k in LONG_FIELDS[1:]}
            rows.append({"run": Path(run_dir).name, **row})
    return rows


def write_runs_csv(run_dirs: Iterable[Path], path: Path) -> Path:
    """All the runs' epoch scalars in one long-format CSV file."""
    return _write(path, LONG_FIELDS, long_rows(run_dirs))


def _cell(value):
    """A number as it was recorded; anything missing, non-numeric or not finite is an empty cell."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return value if math.isfinite(value) else ""


def _write(path: Path, fields, rows) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path
