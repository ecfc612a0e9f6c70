"""The writes that end an epoch, in the order that keeps a run consistent whatever the kill moment.

1. record    the epoch's line appended to metrics.jsonl, flushed and fsynced
2. snapshot  history/epoch_NNNN.npz (confusion matrix, kernels) and, when the run's budget keeps this
             epoch, history/weights_NNNN.pt (runs/snapshots.py), each atomic
3. last      checkpoints/last.pt, atomic: from here on a resume starts after this epoch
4. best      checkpoints/best.pt when this epoch is the best so far, atomic
5. status    status.json ("running", epochs_done), atomic

A kill before 3 leaves last.pt at the previous epoch: the resume redoes this epoch and its
fit_start line makes readers drop the orphan record (read_metrics). A kill after 3 finds the
record already on disk; a best.pt that a kill between 3 and 4 left behind is replaced by
last.pt on resume when last.pt says it is the best (reconcile_best). The checkpoint also carries
a copy of the record, which resume appends if metrics.jsonl lacks it (runs written by older
versions). docs/run-folder.md has the whole story.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.core import runs
from studio.core.errors import StudioError

EPOCH_END_STEPS = ("record", "snapshot", "last", "best", "status")


def write_epoch_end(run_dir: Path, writer, record: dict, *, model, checkpoint: dict, is_best: bool,
                    confusion, kernels: Callable[[], dict], best_test_acc: float,
                    weights: Callable[[], object] = lambda: None, hook: Callable[[int, str], None] | None = None) -> None:
    """EPOCH_END_STEPS in order; `hook(epoch, step)` runs after each (the crash tests kill the process there)."""
    epoch = record["epoch"]
    ckpt = Path(run_dir) / "checkpoints"
    checkpoint = dict(checkpoint, metrics=dict(checkpoint.get("metrics") or {}, epoch_record=record))
    writes = {
        "record": lambda: writer.write(record, durable=True),
        "snapshot": lambda: (runs.save_epoch_snapshot(run_dir, epoch, confusion, kernels()), weights()),
        "best": lambda: is_best and runs.save_checkpoint(ckpt / "best.pt", model, **checkpoint),
        "last": lambda: runs.save_checkpoint(ckpt / "last.pt", model, **checkpoint),
        "status": lambda: runs.write_status(run_dir, "running", epochs_done=epoch, best_test_acc=best_test_acc),
    }
    for step in EPOCH_END_STEPS:
        writes[step]()
        if hook is not None:
            hook(epoch, step)


def reconcile_best(run_dir: Path, last: dict) -> bool:
    """After a crash between writing last.pt and best.pt: make best.pt the last epoch's when that was the best."""
    metrics = last.get("metrics") if isinstance(last.get("metrics"), dict) else {}
    if "best_epoch" in metrics:   # the run's own choice (on val, or on test without a validation split)
        if metrics.get("best_epoch") != last.get("epoch"):
            return False
    else:                         # a checkpoint written before the validation split: chosen on test
        acc, best_acc = metrics.get("test_acc"), metrics.get("best_test_acc")
        if not isinstance(acc, (int, float)) or not isinstance(best_acc, (int, float)) or acc < best_acc:
            return False
    ckpt = Path(run_dir) / "checkpoints"
    try:
        best_epoch = runs.read_checkpoint(ckpt / "best.pt").get("epoch")
    except StudioError:
        best_epoch = None   # missing or damaged: last.pt is the best there is
    if best_epoch == last.get("epoch"):
        return False
    runs.write_atomic(ckpt / "best.pt", (ckpt / "last.pt").read_bytes())
    return True


def killed_before_first_checkpoint(run_dir: Path) -> bool:
    """No last.pt because the first epoch never reached it (not because it was lost): resume starts over."""
    status = runs.read_json(Path(run_dir) / "status.json", {})
    return (isinstance(status, dict) and status.get("epochs_done") == 0
            and not (Path(run_dir) / "checkpoints" / "best.pt").exists())
