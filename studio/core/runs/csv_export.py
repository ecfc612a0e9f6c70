"""A run's epoch metrics as CSV: the numbers behind the curves, for a spreadsheet or a report."""

from __future__ import annotations

import csv
from pathlib import Path

CSV_FIELDS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr", "epoch_time",
              "images_per_sec")


def write_metrics_csv(run_dir: Path, path: Path) -> Path:
    """One row per finished epoch of the run (the curves' numbers), accuracies in 0..1."""
    from studio.core.runs.store import epoch_records

    rows = epoch_records(run_dir)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in CSV_FIELDS})
    return path
