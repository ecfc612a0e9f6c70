"""One run's numbers as the Training tab draws them: growing arrays fed by packets and epoch records.

Qt-free (numpy only), so a worker can build a RunHistory from a run folder (read_history) and hand
it to the GUI thread, which only draws it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from studio.core.diagnosis.records import thin
from studio.core.diagnosis.stats import Z95, accuracy_margin  # noqa: F401  (re-exported: the tab's names)
from studio.gui.widgets.metric_plot import GrowingBuffer

SMOOTHING = 0.95               # EMA factor of the smoothed batch loss (TensorBoard-style, bias-corrected)
OVERFIT_GAP = 0.05             # train minus test accuracy that earns a hint about overfitting


def smoothing_for(batches_per_epoch: int) -> float:
    """The EMA factor for a run: at most SMOOTHING, and a time constant of at most a quarter epoch,
    so a run with one batch per epoch is not smoothed over twenty epochs that do not exist yet."""
    return min(SMOOTHING, max(0.0, 1.0 - 4.0 / max(int(batches_per_epoch), 1)))


HEALTH_KINDS = ("health", "health_epoch", "diagnosis")
BATCH_COLUMNS = ("x", "epoch", "step", "loss", "smooth", "accuracy", "lr")
EPOCH_COLUMNS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "lr",
                 "epoch_time", "images_per_sec")


def records_to_packet(records: list[dict]) -> dict | None:
    """metrics.jsonl batch lines -> the packet shape the worker emits (so both draw the same way)."""
    rows = [r for r in records if r.get("event") == "batch"]
    if not rows:
        return None
    def col(key: str) -> np.ndarray:
        return np.asarray([float(r.get(key, np.nan)) for r in rows], dtype=np.float64)
    packet = {key: col(key) for key in ("epoch", "batch", "step", "loss", "accuracy", "lr")}
    batches = col("batches")
    packet["x"] = packet["epoch"] - 1 + packet["batch"] / np.maximum(batches, 1)
    packet["batches"] = int(batches[-1])
    packet["images_per_sec"] = float(rows[-1].get("images_per_sec", 0.0))
    return packet


def epoch_line(record: dict) -> str:
    """Seed 001's epoch line for an epoch record (live or read back)."""
    from studio.core.engine.events import epoch_log_line

    # epoch_log_line reads attributes; a record has keys
    fields = {k: float(record.get(k, float("nan"))) for k in ("train_loss", "train_acc", "test_acc", "epoch_time")}
    return epoch_log_line(SimpleNamespace(epoch=int(record.get("epoch", 0)), **fields))


class RunHistory:
    """One run's numbers as growing arrays, plus what the log and the summary need."""

    def __init__(self, name: str, path: Path | None = None):
        self.name = name
        self.path = Path(path) if path else None
        self.batches = GrowingBuffer(BATCH_COLUMNS, capacity=4096)
        self.epochs = GrowingBuffer(EPOCH_COLUMNS, capacity=64)
        self.fit_start: dict | None = None
        self.fit_end: dict | None = None
        self.config: dict = {}
        self.health: list[dict] = []          # "health", "health_epoch" records (engine/health.py)
        self.diagnosis: list[dict] = []       # the latest findings (core/diagnosis), plain dicts
        self._ema = 0.0
        self._ema_weight = 0.0

    def add_batches(self, packet: dict) -> None:
        loss = np.asarray(packet["loss"], dtype=np.float64)
        smooth = np.empty_like(loss)
        ema, weight = self._ema, self._ema_weight
        factor = smoothing_for(packet.get("batches", 1))
        for i, value in enumerate(loss):  # a packet holds a handful of batches: a plain loop is fine
            if np.isfinite(value):
                ema = factor * ema + (1 - factor) * value
                weight = factor * weight + (1 - factor)
            smooth[i] = ema / weight if weight else np.nan
        self._ema, self._ema_weight = ema, weight
        self.batches.extend(x=packet["x"], epoch=packet["epoch"], step=packet["step"], loss=loss, smooth=smooth,
                            accuracy=packet["accuracy"], lr=packet["lr"])

    def add_epoch(self, record: dict) -> None:
        # val_* is None without a validation split (and absent in older runs): a gap in the curve
        self.epochs.append(**{k: float(v) if isinstance(v := record.get(k), (int, float)) else np.nan
                              for k in EPOCH_COLUMNS})

    def add_records(self, records: list[dict]) -> None:
        """Feed a run folder's metrics, in order, through the same methods a live run uses."""
        pending: list[dict] = []
        for record in records:
            kind = record.get("event")
            if kind == "batch":
                pending.append(record)
                continue
            self._flush(pending)
            pending = []
            if kind == "epoch":
                self.add_epoch(record)
            elif kind == "fit_start":
                self.start(record)
            elif kind == "fit_end":
                self.fit_end = record
            elif kind in HEALTH_KINDS:
                self.add_health([record])
        self._flush(pending)

    def add_health(self, records: list[dict]) -> None:
        for record in records:
            if record.get("event") == "diagnosis":
                self.diagnosis = list(record.get("findings") or [])
            else:
                self.health.append(record)
                thin(self.health)   # a long run: bounded memory and plotting

    def _flush(self, batch_records: list[dict]) -> None:
        packet = records_to_packet(batch_records)
        if packet is not None:
            self.add_batches(packet)

    def start(self, fit_start: dict) -> None:
        """A (re)start: a resumed run redoes the epoch it was stopped in, so drop its partial rows."""
        self.fit_start = fit_start
        self.fit_end = None
        self.config = dict(fit_start.get("config") or self.config)
        done = int(fit_start.get("start_epoch", 0) or 0)
        self.batches.truncate(int(np.searchsorted(self.batches.column("epoch"), done, side="right")))
        self.epochs.truncate(int(np.searchsorted(self.epochs.column("epoch"), done, side="right")))
        self.health = [r for r in self.health if isinstance(r.get("epoch"), int) and r["epoch"] <= done]

    def label(self, differences: str = "") -> str:
        """A short legend label: what sets this run apart from the others compared (`differences`, from
        core.runs.overview.differing_settings), else its readable name ("lenet5 · mnist · Dec 2 02:53",
        or the name the user gave it)."""
        from studio.core.runs.overview import display_name

        return differences or display_name(self.name, self.config)

    def epoch_records(self) -> list[dict]:
        return [{k: float(self.epochs.column(k)[i]) for k in EPOCH_COLUMNS} for i in range(len(self.epochs))]

    def summary(self) -> str:
        """The final numbers in words, with the overfitting hint of seed 003."""
        if not len(self.epochs):
            return ""
        e = self.epochs
        last = len(e) - 1
        train_acc, test_acc = e.column("train_acc")[last], e.column("test_acc")[last]
        chooser = "val_acc" if np.isfinite(e.column("val_acc")).any() else "test_acc"   # as the trainer chose
        best = int(np.nanargmax(e.column(chooser)))
        total_time = float(np.nansum(e.column("epoch_time")))
        status = (self.fit_end or {}).get("status", "")
        head = {"done": "Finished", "stopped": "Stopped", "failed": "Failed"}.get(status, "So far")
        epochs = int(e.column("epoch")[last])
        test_count = int((self.fit_start or {}).get("test_size", 0) or 0)
        margin = accuracy_margin(test_acc, test_count) if test_count else float("nan")
        spread = (f" ± {100 * margin:.1f} points (95 %, {test_count:,} test images)"
                  if np.isfinite(margin) else "")
        text = (f"<b>{head}</b> after {epochs} epoch{'s' if epochs != 1 else ''} ({total_time:.1f} s of training). "
                f"Final: train accuracy <b>{100 * train_acc:.2f}%</b>, test accuracy <b>{100 * test_acc:.2f}%</b>"
                f"{spread}, train loss {e.column('train_loss')[last]:.4f}, test loss {e.column('test_loss')[last]:.4f}. "
                f"Best epoch (chosen on {'validation' if chooser == 'val_acc' else 'test'}): "
                f"{int(e.column('epoch')[best])}, test accuracy {100 * e.column('test_acc')[best]:.2f}%.")
        gap = train_acc - test_acc
        # A gap within the test accuracy's own uncertainty says nothing (one image of eight is 12.5 points).
        if gap > OVERFIT_GAP and not (np.isfinite(margin) and gap <= margin):
            text += (f"<br><span style='color:#b22222'>Train accuracy is {100 * gap:.1f} points above test "
                     "accuracy: the model is memorising its training images (overfitting). Try augmentation, "
                     "weight decay or fewer epochs.</span>")
        reason = (self.fit_end or {}).get("reason")
        if status in ("stopped", "failed") and reason:
            text += f"<br>Reason: {reason}"
        return text


def read_history(run_dir: Path, with_status: bool = True) -> RunHistory:
    """A run folder's metrics as a RunHistory. Qt-free and slow for long runs: call it in a worker."""
    from studio.core.runs import read_status
    from studio.core.runs.follow import MetricsReader

    run_dir = Path(run_dir)
    from studio.core.diagnosis import RunRecords, diagnose

    history = RunHistory(run_dir.name, run_dir)
    records = MetricsReader(run_dir).read_all()
    history.add_records(records)
    # Today's rules over the whole record (a run from before them has no diagnosis line of its own)
    history.diagnosis = [finding.to_dict() for finding in diagnose(RunRecords.from_records(records))]
    if with_status and history.fit_end is None:  # crashed or still running elsewhere: the status file knows
        status = read_status(run_dir)
        if status.get("status") in ("done", "stopped", "failed"):
            history.fit_end = {"status": status["status"], "reason": status.get("reason", "")}
    return history


