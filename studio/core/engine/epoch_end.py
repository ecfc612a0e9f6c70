"""The writes that end an epoch, in the order that keeps a run consistent whatever the kill moment.

1. record    the epoch's line appended to metrics.jsonl, flushed and fsynced
2. snapshot  history/epoch_NNNN.npz (confusion matrix, kernels), atomic
3. best      checkpoints/best.pt when this epoch is the best so far, atomic
4. last      checkpoints/last.pt, atomic: from here on a resume starts after this epoch
5. status    status.json ("running", epochs_done), atomic

A kill before 4 leaves last.pt at the previous epoch: the resume redoes this epoch and its
fit_start line makes readers drop the orphan record (read_metrics). A kill after 4 finds the
record already on disk. The checkpoint also carries a copy of the record, which resume appends
if metrics.jsonl lacks it (runs written by older versions). docs/run-folder.md has the whole story.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from studio.core import runs

EPOCH_END_STEPS = ("record", "snapshot", "best", "last", "status")


def write_epoch_end(run_dir: Path, writer, record: dict, *, model, checkpoint: dict, is_best: bool,
                    confusion, kernels: Callable[[], dict], best_test_acc: float,
                    hook: Callable[[int, str], None] | None = None) -> None:
    """EPOCH_END_STEPS in order; `hook(epoch, step)` runs after each (the crash tests kill the process there)."""
    epoch = record["epoch"]
    ckpt = Path(run_dir) / "checkpoints"
    checkpoint = dict(checkpoint, metrics=dict(checkpoint.get("metrics") or {}, epoch_record=record))
    writes = {
        "record": lambda: writer.write(record, durable=True),
        "snapshot": lambda: runs.save_epoch_snapshot(run_dir, epoch, confusion, kernels()),
        "best": lambda: is_best and runs.save_checkpoint(ckpt / "best.pt", model, **checkpoint),
        "last": lambda: runs.save_checkpoint(ckpt / "last.pt", model, **checkpoint),
        "status": lambda: runs.write_status(run_dir, "running", epochs_done=epoch, best_test_acc=best_test_acc),
    }
    for step in EPOCH_END_STEPS:
        writes[step]()
        if hook is not None:
            hook(epoch, step)
