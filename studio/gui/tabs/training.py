"""The Training tab: the curves of a run as it learns, a past run, or several runs compared.

One code path draws everything. A run's numbers live in a RunHistory, fed batch packets
(dicts of numpy arrays) and epoch records (dicts shaped like metrics.jsonl lines). A live run
feeds it from the worker's signals; a past run feeds it from studio.core.runs.read_metrics,
converted to the very same packets and records. A timer redraws the curves from the history
at 10 Hz, only when something changed and the tab is visible: never once per batch.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QGridLayout, QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from studio.gui.widgets.metric_plot import PALETTE, GrowingBuffer, MetricPlot

REDRAW_INTERVAL_MS = 100       # 10 Hz: smooth enough to the eye, cheap enough for a 2-core machine
SMOOTHING = 0.95               # EMA factor of the smoothed batch loss (TensorBoard-style, bias-corrected)
OVERFIT_GAP = 0.05             # train minus test accuracy that earns a hint about overfitting

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
        self._ema = 0.0
        self._ema_weight = 0.0

    def add_batches(self, packet: dict) -> None:
        loss = np.asarray(packet["loss"], dtype=np.float64)
        smooth = np.empty_like(loss)
        ema, weight = self._ema, self._ema_weight
        for i, value in enumerate(loss):  # a packet holds a handful of batches: a plain loop is fine
            if np.isfinite(value):
                ema = SMOOTHING * ema + (1 - SMOOTHING) * value
                weight = SMOOTHING * weight + (1 - SMOOTHING)
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
        self._flush(pending)

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

    def label(self) -> str:
        """A short legend label: a renamed run keeps its name; a default name becomes time + what differs."""
        match = re.match(r"^\d{8}-(\d{2})(\d{2})(\d{2})-", self.name)
        if not match:
            return self.name
        cfg = self.config
        return (f"{':'.join(match.groups())} {cfg.get('model', '?')}, {cfg.get('optimizer', '?')} "
                f"lr {cfg.get('lr', '?')}, batch {cfg.get('batch_size', '?')}")

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
        text = (f"<b>{head}</b> after {epochs} epoch{'s' if epochs != 1 else ''} ({total_time:.1f} s of training). "
                f"Final: train accuracy <b>{100 * train_acc:.2f}%</b>, test accuracy <b>{100 * test_acc:.2f}%</b>, "
                f"train loss {e.column('train_loss')[last]:.4f}, test loss {e.column('test_loss')[last]:.4f}. "
                f"Best epoch (chosen on {'validation' if chooser == 'val_acc' else 'test'}): "
                f"{int(e.column('epoch')[best])}, test accuracy {100 * e.column('test_acc')[best]:.2f}%.")
        gap = train_acc - test_acc
        if gap > OVERFIT_GAP:
            text += (f"<br><span style='color:#b22222'>Train accuracy is {100 * gap:.1f} points above test "
                     "accuracy: the model is memorising its training images (overfitting). Try augmentation, "
                     "weight decay or fewer epochs.</span>")
        reason = (self.fit_end or {}).get("reason")
        if status in ("stopped", "failed") and reason:
            text += f"<br>Reason: {reason}"
        return text


class TrainingTab(QWidget):
    """Live and recorded training curves, the epoch log and the final summary."""

    def __init__(self, state=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.histories: list[RunHistory] = []
        self.compare_mode = False
        self._dirty = self._dirty_batches = self._dirty_epochs = False
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer)
        self.redraw_count = 0

    def _build(self) -> None:
        self.plots = {
            "loss": MetricPlot("Loss", "cross-entropy"),
            "accuracy": MetricPlot("Accuracy", "%", legend_corner="bottom"),
            "lr": MetricPlot("Learning rate", "lr"),
            "time": MetricPlot("Epoch time", "seconds"),
        }
        self.plots["accuracy"].set_y_mode("fixed", 0, 100)
        for key in ("loss", "lr", "time"):
            self.plots[key].set_y_mode("sticky", include_zero=True)
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        grid.addWidget(self.plots["loss"], 0, 0)
        grid.addWidget(self.plots["accuracy"], 0, 1)
        grid.addWidget(self.plots["lr"], 1, 0)
        grid.addWidget(self.plots["time"], 1, 1)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.title = QLabel("Press Train to start a run, or open a past run from the Runs list.")
        self.title.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.hide()
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setPlaceholderText("One line per epoch appears here (seed 001's format).")
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.summary)
        bottom_layout.addWidget(self.log_view, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(grid_widget)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.splitter, 1)
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        self.title.setFont(title_font)

    # ------------------------------------------------------------ what is shown

    def clear(self) -> None:
        self._timer.stop()
        for plot in self.plots.values():
            plot.clear_curves()
            plot.auto_x()
        self.histories = []
        self.compare_mode = False
        self.log_view.clear()
        self.summary.clear()
        self.summary.hide()
        self.title.setText("Press Train to start a run, or open a past run from the Runs list.")

    def start_live(self, name: str, resume_from: Path | None = None) -> RunHistory:
        """A new live run (or a resumed one: its recorded curves first, then the new points)."""
        history = self.show_run(resume_from, redraw=False) if resume_from else None
        if history is None:
            self.clear()
            history = self._add_history(RunHistory(name))
        self.title.setText(f"Training: {name}")
        self.summary.hide()
        self._mark_dirty(batches=True, epochs=True)
        self._timer.start()
        return history

    def show_run(self, run_dir: Path, redraw: bool = True) -> RunHistory:
        """A past run, read from its folder, drawn exactly as it was drawn live."""
        from studio.core.runs import read_metrics, read_status

        run_dir = Path(run_dir)
        self.clear()
        history = RunHistory(run_dir.name, run_dir)
        history.add_records(read_metrics(run_dir))
        if history.fit_end is None:  # crashed or still running elsewhere: the status file knows
            status = read_status(run_dir)
            if status.get("status") in ("done", "stopped", "failed"):
                history.fit_end = {"status": status["status"], "reason": status.get("reason", "")}
        self._add_history(history)
        self.set_epoch_span(self._planned_epochs(history))
        for record in history.epoch_records():
            self.log(epoch_line(record))
        self.title.setText(f"Run: {run_dir.name}")
        self._show_summary(history)
        if redraw:
            self.redraw(force=True)
        return history

    def compare_runs(self, run_dirs: list[Path]) -> list[RunHistory]:
        """Two or more runs on the same axes, one colour each (solid: test, dashed: train)."""
        from studio.core.runs import read_metrics

        self.clear()
        self.compare_mode = True
        for run_dir in run_dirs:
            history = RunHistory(Path(run_dir).name, Path(run_dir))
            history.add_records(read_metrics(Path(run_dir)))
            self._add_history(history)
            best = history.epochs.column("test_acc")
            best_text = f"{100 * np.nanmax(best):.2f}%" if len(best) else "no epochs"
            self.log(f"{history.name}: {len(history.epochs)} epochs, best test accuracy {best_text}")
        self.set_epoch_span(max(self._planned_epochs(h) for h in self.histories) if self.histories else 1)
        self.title.setText(f"Comparing {len(run_dirs)} runs: solid lines test, dashed lines train")
        self.redraw(force=True)
        return self.histories

    def set_epoch_span(self, epochs: int) -> None:
        """Every plot's x axis spans the whole run from the start: the curves fill it in, the axis stays put."""
        for plot in self.plots.values():
            plot.set_x_span(0, max(1, epochs))

    @staticmethod
    def _planned_epochs(history: RunHistory) -> int:
        planned = int((history.fit_start or {}).get("epochs", 0) or history.config.get("epochs", 0) or 0)
        done = int(history.epochs.column("epoch").max()) if len(history.epochs) else 0
        return max(planned, done, 1)

    def _add_history(self, history: RunHistory) -> RunHistory:
        self.histories.append(history)
        self._make_curves(len(self.histories) - 1, history)
        return history

    def _make_curves(self, i: int, history: RunHistory) -> None:
        p = self.plots
        if not self.compare_mode:
            p["loss"].add_curve(f"{i}:batch", color="#7f7f7f", width=1, alpha=70, name="batch loss")
            p["loss"].add_curve(f"{i}:smooth", color=PALETTE[0], width=2, name="batch loss, smoothed")
            p["loss"].add_curve(f"{i}:train_loss", color=PALETTE[0], width=1, dash=True, symbol="o",
                                name="train loss (epoch)")
            p["loss"].add_curve(f"{i}:val_loss", color=PALETTE[2], width=2, symbol="t", name="val loss (epoch)")
            p["loss"].add_curve(f"{i}:test_loss", color=PALETTE[1], width=2, symbol="o", name="test loss (epoch)")
            p["accuracy"].add_curve(f"{i}:train_acc", color=PALETTE[0], width=2, symbol="o", name="train")
            p["accuracy"].add_curve(f"{i}:val_acc", color=PALETTE[2], width=2, symbol="t", name="val")
            p["accuracy"].add_curve(f"{i}:test_acc", color=PALETTE[1], width=2, symbol="o", name="test")
            p["accuracy"].add_fill(f"{i}:train_acc", f"{i}:test_acc", "#d62728", alpha=40)
            p["lr"].add_curve(f"{i}:lr", color=PALETTE[2], width=2)
            p["time"].add_curve(f"{i}:time", color=PALETTE[4], width=2, symbol="s")
            return
        color = PALETTE[i % len(PALETTE)]
        label = history.label()
        p["loss"].add_curve(f"{i}:test_loss", color=color, width=2, symbol="o", name=label)
        p["loss"].add_curve(f"{i}:train_loss", color=color, width=1.5, dash=True)
        p["accuracy"].add_curve(f"{i}:test_acc", color=color, width=2, symbol="o", name=label)
        p["accuracy"].add_curve(f"{i}:train_acc", color=color, width=1.5, dash=True)
        p["lr"].add_curve(f"{i}:lr", color=color, width=2)
        p["time"].add_curve(f"{i}:time", color=color, width=2, symbol="s")

    # ------------------------------------------------------------ live feed

    @property
    def live(self) -> RunHistory | None:
        return self.histories[-1] if self.histories and not self.compare_mode else None

    def fit_started(self, record: dict) -> None:
        history = self.live
        if history is None:
            return
        history.start(record)
        self.set_epoch_span(int(record.get("epochs", 1) or 1))
        cfg = record.get("config") or {}
        self.log(f"Training {cfg.get('model', '?')} on {cfg.get('dataset', '?')}: {record.get('train_size', 0):,} "
                 f"train / {record.get('test_size', 0):,} test images, {record.get('num_params', 0):,} parameters, "
                 f"device {record.get('device', '?')}"
                 + (f", resuming after epoch {record['start_epoch']}" if record.get("start_epoch") else ""))
        if record.get("run_dir"):
            history.path = Path(record["run_dir"])
            history.name = history.path.name
            self.title.setText(f"Training: {history.name}")

    def add_batches(self, packet: dict) -> None:
        if self.live is not None:
            self.live.add_batches(packet)
            self._mark_dirty(batches=True)

    def add_epoch(self, record: dict) -> None:
        if self.live is not None:
            self.live.add_epoch(record)
            self.log(epoch_line(record))
            self._mark_dirty(epochs=True)

    def fit_ended(self, record: dict) -> None:
        history = self.live
        self._timer.stop()
        if history is None:
            return
        history.fit_end = record
        status = record.get("status", "")
        if status == "done":
            self.log(f"Done: {record.get('reason', '')} in {float(record.get('elapsed', 0)):.1f} s.")
        else:
            self.log(f"Run {status}: {record.get('reason', '')}")
        self.title.setText(f"Run: {history.name} ({status})")
        self._show_summary(history)
        self.redraw(force=True)

    def log(self, line: str) -> None:
        self.log_view.appendPlainText(line)

    def _show_summary(self, history: RunHistory) -> None:
        text = history.summary()
        self.summary.setText(text)
        self.summary.setVisible(bool(text))

    # ------------------------------------------------------------ drawing

    @Slot()
    def _on_timer(self) -> None:
        self.redraw()

    def redraw(self, force: bool = False) -> None:
        """Hand the changed curves their whole history (setData on array views); cheap, so a timer can do it.

        Between epochs only batch data arrives, so only the loss and learning-rate plots are touched;
        a plot whose curves were not given new data is not repainted.
        """
        if not (self._dirty or force):
            return
        if not force and not self.isVisible():
            return  # redrawn in showEvent: no work for a hidden tab
        batches, epochs = self._dirty_batches or force, self._dirty_epochs or force
        self._dirty = self._dirty_batches = self._dirty_epochs = False
        self.redraw_count += 1
        p = self.plots
        for i, h in enumerate(self.histories):
            b, e = h.batches, h.epochs
            if batches:
                if p["loss"].has_curve(f"{i}:batch"):
                    p["loss"].set_data(f"{i}:batch", b.column("x"), b.column("loss"))
                    p["loss"].set_data(f"{i}:smooth", b.column("x"), b.column("smooth"))
                p["lr"].set_data(f"{i}:lr", b.column("x"), b.column("lr"))
            if epochs:
                ex = e.column("epoch")
                p["loss"].set_data(f"{i}:train_loss", ex, e.column("train_loss"))
                p["loss"].set_data(f"{i}:test_loss", ex, e.column("test_loss"))
                if p["loss"].has_curve(f"{i}:val_loss"):
                    p["loss"].set_data(f"{i}:val_loss", ex, e.column("val_loss"))
                    p["accuracy"].set_data(f"{i}:val_acc", ex, 100 * e.column("val_acc"))
                p["accuracy"].set_data(f"{i}:train_acc", ex, 100 * e.column("train_acc"))
                p["accuracy"].set_data(f"{i}:test_acc", ex, 100 * e.column("test_acc"))
                p["time"].set_data(f"{i}:time", ex, e.column("epoch_time"))
        touched = ("loss", "lr", "accuracy", "time") if epochs else ("loss", "lr")
        for key in touched:
            p[key].update_y_range()

    def _mark_dirty(self, batches: bool = False, epochs: bool = False) -> None:
        self._dirty = True
        self._dirty_batches |= batches
        self._dirty_epochs |= epochs

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.redraw(force=True)

    def export_plot(self, key: str, path) -> Path:
        self.redraw(force=True)
        return self.plots[key].export(path)
