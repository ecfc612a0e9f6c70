"""TensorBoard event files next to metrics.jsonl, so `tensorboard --logdir RUNS` shows every run.

metrics.jsonl stays the record: these files are a copy for a tool users already have, written while
training when the `tensorboard` package is installed (the `tensorboard` extra), and rebuilt from
the run folder for runs recorded before (`cnn-studio tensorboard RUN`). Per epoch: train / val /
test loss and accuracy, the learning rate and the epoch time as scalars, the first conv layer's
kernels as an image, and a histogram of every weight tensor.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from studio.core.errors import RunError

SCALARS = {  # TensorBoard tag -> epoch record field
    "loss/train": "train_loss", "loss/val": "val_loss", "loss/test": "test_loss",
    "accuracy/train": "train_acc", "accuracy/val": "val_acc", "accuracy/test": "test_acc",
    "learning_rate": "lr", "epoch_time_s": "epoch_time",
}
_TILE_ZOOM = 6  # 5x5 kernels are 30x30 on screen: big enough to see


def available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class EventWriter:
    """One run's event files; `start_epoch` > 0 (a resume) drops events a crashed writer left past it."""

    def __init__(self, run_dir: Path, start_epoch: int = 0):
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(run_dir), purge_step=start_epoch + 1 if start_epoch else None)

    def epoch(self, record: dict, kernels: np.ndarray | None = None, weights: dict | None = None) -> None:
        step = int(record["epoch"])
        for tag, key in SCALARS.items():
            value = record.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
                self._writer.add_scalar(tag, float(value), step)
        if kernels is not None and kernels.ndim == 4 and kernels.size:
            self._writer.add_image("kernels/first_conv_layer", kernel_grid(kernels), step, dataformats="HWC")
        for name, values in (weights or {}).items():
            if values.size and np.isfinite(values).all():
                self._writer.add_histogram(f"weights/{name}", values, step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class TrainerEvents:
    """Feeds an EventWriter from the trainer's events (EpochEnd writes, FitEnd closes)."""

    def __init__(self, writer: EventWriter, model):
        self._writer, self._model = writer, model

    def __call__(self, event) -> None:
        from studio.core.engine.events import EpochEnd, FitEnd, event_record

        if self._writer is None:
            return
        try:
            if isinstance(event, EpochEnd):
                self._writer.epoch(event_record(event), event.kernels, weight_arrays(self._model))
            elif isinstance(event, FitEnd):
                self._writer.close()
        except (OSError, ValueError, RuntimeError) as exc:
            # A copy for another tool must never end a run: stop copying, say why once.
            warnings.warn(f"TensorBoard event files are no longer written for this run: {exc}", stacklevel=2)
            self._writer = None


def open_for_training(run_dir: Path | None, start_epoch: int, model):
    """The trainer's listener, or None when there is no run folder or TensorBoard is not installed."""
    if run_dir is None or not available():
        return None
    return TrainerEvents(EventWriter(Path(run_dir), start_epoch), model)


def weight_arrays(model) -> dict[str, np.ndarray]:
    return {name: p.detach().float().cpu().numpy().ravel() for name, p in model.named_parameters()
            if name.endswith("weight")}


def kernel_grid(kernels: np.ndarray) -> np.ndarray:
    """(out, in, kh, kw) -> an HWC uint8 grid: RGB tiles for 3 input channels, else the first input channel."""
    k = kernels[:, :3] if kernels.shape[1] == 3 else kernels[:, :1]
    low, high = float(k.min()), float(k.max())
    k = (k - low) / (high - low) if high > low else np.zeros_like(k)
    tiles = np.repeat(np.repeat(k, _TILE_ZOOM, axis=2), _TILE_ZOOM, axis=3).transpose(0, 2, 3, 1)
    n, th, tw, c = tiles.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (th + 1) + 1, cols * (tw + 1) + 1, c), dtype=np.float32)
    for i, tile in enumerate(tiles):
        r, col = divmod(i, cols)
        grid[1 + r * (th + 1):1 + r * (th + 1) + th, 1 + col * (tw + 1):1 + col * (tw + 1) + tw] = tile
    grid = np.repeat(grid, 3, axis=2) if c == 1 else grid
    return (grid * 255).round().astype(np.uint8)


def convert_run(run_dir: Path) -> int:
    """Write the event files of a run recorded before; returns the number of epochs written."""
    from studio.core.runs.store import epoch_records, load_epoch_snapshot, read_epoch_snapshots

    if not available():
        raise RunError("TensorBoard is not installed: pip install \"cnn-studio[tensorboard]\"")
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.jsonl").is_file():
        raise RunError(f"{run_dir} is not a run folder (no metrics.jsonl).")
    for old in run_dir.glob("events.out.tfevents.*"):
        old.unlink()  # rebuilt from the record: no doubled points
    records = epoch_records(run_dir)
    snapshots = set(read_epoch_snapshots(run_dir))
    last_weights = _final_weights(run_dir)
    writer = EventWriter(run_dir)
    try:
        for record in records:
            kernels = None
            if record["epoch"] in snapshots:
                stored = load_epoch_snapshot(run_dir, record["epoch"])["kernels"]
                kernels = next(iter(stored.values()), None)
            weights = last_weights if record is records[-1] else None
            writer.epoch(record, kernels, weights)
    finally:
        writer.close()
    return len(records)


def _final_weights(run_dir: Path) -> dict[str, np.ndarray] | None:
    """The last checkpoint's weights: the only epoch whose full weights a past run kept."""
    from studio.core.errors import StudioError
    from studio.core.safe_load import read_checkpoint

    path = run_dir / "checkpoints" / "last.pt"
    if not path.is_file():
        return None
    try:
        state = read_checkpoint(path).get("state_dict") or {}
    except StudioError:
        return None
    return {k: v.float().numpy().ravel() for k, v in state.items()
            if k.endswith("weight") and hasattr(v, "is_floating_point") and v.is_floating_point()}
