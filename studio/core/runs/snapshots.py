"""Weights over time: the model's weights at epoch 0 (the random start) and after the epochs a budget allows.

Each kept epoch is history/weights_NNNN.pt in the studio's checkpoint format, without the optimiser
(a snapshot is for looking back, not for resuming), written atomically like last.pt and read by the one
checkpoint reader (weights_only). The budget is per run: every epoch while all the run's snapshots fit,
otherwise epoch 0 and log-spaced epochs, dense early where a network changes most. The plan depends only
on the epoch count, the model's size and the budget, so a resumed run keeps the same epochs.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.core.errors import RunError, StudioError
from studio.core.runs.checkpoint import load_checkpoint, save_checkpoint
from studio.core.runs.loaded_model import LoadedModel

DEFAULT_BUDGET_MB = 200
_FILE_OVERHEAD = 16_384   # pickle framing, names and the small fields beside the tensors


def weights_path(run_dir: Path, epoch: int) -> Path:
    return Path(run_dir) / "history" / f"weights_{int(epoch):04d}.pt"


def snapshot_bytes(model: torch.nn.Module) -> int:
    """What one snapshot of this model takes on disk, near enough to plan with."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values()) + _FILE_OVERHEAD


def plan_epochs(epochs: int, size_bytes: int, budget_bytes: int) -> frozenset[int]:
    """The epochs kept: all of 0..epochs when they fit in the budget, else 0 and log-spaced epochs.

    The log-spaced set always holds epoch 1 and the last planned epoch, so the start and the end of
    training can be compared with whatever lies between.
    """
    slots = budget_bytes // max(1, size_bytes)
    if epochs < 0 or slots < 1:
        return frozenset()
    if slots >= epochs + 1:
        return frozenset(range(epochs + 1))
    return frozenset({0}) | _log_spaced(epochs, slots - 1)


def _log_spaced(epochs: int, count: int) -> frozenset[int]:
    """`count` distinct epochs in 1..epochs, spaced evenly on a log scale, both ends included."""
    if count <= 0:
        return frozenset()
    if count == 1:
        return frozenset({epochs})
    chosen = [1]
    for i in range(1, count):
        target = round(epochs ** (i / (count - 1)))
        # distinct, and leaving room for the epochs still to place
        chosen.append(min(max(chosen[-1] + 1, target), epochs - (count - 1 - i)))
    return frozenset(chosen)


class SnapshotKeeper:
    """Saves the planned epochs' weights during a run (the trainer's side of this module)."""

    def __init__(self, run_dir: Path, epochs: int, budget_mb: int, model: torch.nn.Module):
        self.run_dir = Path(run_dir)
        self.plan = plan_epochs(epochs, snapshot_bytes(model), int(budget_mb) * 1_000_000)

    def keeps(self, epoch: int) -> bool:
        return epoch in self.plan

    def save(self, model: torch.nn.Module, **fields) -> bool:
        """Write the snapshot of fields["epoch"] when the plan keeps it; `fields` are save_checkpoint's."""
        epoch = fields["epoch"]
        if not self.keeps(epoch):
            return False
        fields = {k: v for k, v in fields.items() if k not in ("optimizer", "scheduler")}
        save_checkpoint(weights_path(self.run_dir, epoch), model, **fields)
        return True


def snapshot_epochs(run_dir: Path) -> list[int]:
    """The epochs whose weights this run kept, in order."""
    epochs = []
    for path in (Path(run_dir) / "history").glob("weights_*.pt"):
        try:
            epochs.append(int(path.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return sorted(epochs)


def nearest_snapshot(run_dir: Path, epoch: int) -> int | None:
    """The kept epoch closest to `epoch` (the earlier one on a tie), None when the run kept none."""
    kept = snapshot_epochs(run_dir)
    if not kept:
        return None
    return min(kept, key=lambda e: (abs(e - epoch), e))


def run_folder_of(path: str | Path) -> Path | None:
    """The run folder a command-line argument names: the folder itself or a checkpoint inside it."""
    path = Path(path)
    for folder in (path, path.parent.parent):
        if folder.is_dir() and (folder / "config.json").is_file():
            return folder
    return None


def load_epoch_model(run_dir: Path, epoch: int, map_location: str = "cpu") -> LoadedModel:
    """The model as it was after epoch `epoch` (0: before training), from its snapshot.

    A run without that snapshot (an older run, or an epoch the budget skipped) falls back on
    last.pt or best.pt when they hold that very epoch; otherwise the message names the kept epochs.
    """
    path = weights_path(run_dir, epoch)
    if path.exists():
        return load_checkpoint(path, map_location=map_location)
    for name in ("last.pt", "best.pt"):
        checkpoint = Path(run_dir) / "checkpoints" / name
        if checkpoint.exists():
            try:
                loaded = load_checkpoint(checkpoint, map_location=map_location)
            except StudioError:
                continue
            if loaded.epoch == epoch:
                return loaded
    kept = snapshot_epochs(run_dir)
    listed = ", ".join(str(e) for e in kept) if kept else "none"
    raise RunError(f"The weights of epoch {epoch} were not kept for {Path(run_dir).name} "
                   f"(epochs kept: {listed}).")
