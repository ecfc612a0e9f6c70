"""The Training tab: the curves of a run as it learns, a past run, or several runs compared.

One code path draws everything. A run's numbers live in a RunHistory, fed batch packets
(dicts of numpy arrays) and epoch records (dicts shaped like metrics.jsonl lines). A live run
feeds it from the worker's signals; a past run from its folder (training_history.read_history),
converted to the very same packets and records. A timer redraws the curves from the history
at 10 Hz, only when something changed and the tab is visible: never once per batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit, QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from studio.core.diagnosis.findings import describe_action
from studio.gui.tabs.diagnosis_panel import DiagnosisPanel
from studio.gui.tabs.health import HealthView
from studio.gui.tabs.training_history import (  # noqa: F401  (re-exported: the tab's public names)
    RunHistory, accuracy_margin, epoch_line, read_history, records_to_packet, smoothing_for,
)
from studio.gui.widgets.metric_plot import PALETTE, MetricPlot

REDRAW_INTERVAL_MS = 100       # 10 Hz: smooth enough to the eye, cheap enough for a 2-core machine


class TrainingTab(QWidget):
    """Live and recorded training curves, the epoch log and the final summary."""

    def __init__(self, state=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.histories: list[RunHistory] = []
        self.compare_mode = False
        self._legend_labels: list[str] = []     # what tells compared runs apart, one per history
        self._x_span: int | None = None
        self._dirty = self._dirty_batches = self._dirty_epochs = self._dirty_health = False
        self._region = None   # a diagnosis finding's highlighted stretch of a curve plot
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
        self.log_boxes: dict[str, QCheckBox] = {}
        log_row = QHBoxLayout()
        log_row.addWidget(QLabel("Log scale:"))
        for key, text in (("loss", "loss"), ("lr", "learning rate")):
            action = self.plots[key].enable_log_toggle(f"training/log_{key}")
            box = QCheckBox(text)
            box.setToolTip("A logarithmic y axis (also in the plot's right-click menu); remembered")
            box.setChecked(action.isChecked())
            box.toggled.connect(action.setChecked)
            action.toggled.connect(box.setChecked)
            log_row.addWidget(box)
            self.log_boxes[key] = box
        log_row.addStretch(1)
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
        self.log_view.setPlaceholderText("One line per epoch appears here (the lecture “CNN basics”'s format).")
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.summary)
        self.diagnosis = DiagnosisPanel()
        self.diagnosis.applyRequested.connect(self._apply_suggestion)
        self.diagnosis.highlightRequested.connect(self.highlight)
        bottom_layout.addWidget(self.diagnosis)
        bottom_layout.addWidget(self.log_view, 1)
        self.health_view = HealthView()
        self.pages = QTabWidget()
        self.pages.addTab(grid_widget, "Curves")
        self.pages.addTab(self.health_view, "Health")
        self.pages.currentChanged.connect(self._on_page_changed)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addLayout(log_row)
        layout.addWidget(self.splitter, 1)
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        self.title.setFont(title_font)

    # ------------------------------------------------------------ what is shown

    def clear(self) -> None:
        self._timer.stop()
        self._x_span = None
        for plot in self.plots.values():
            plot.clear_curves()
            plot.auto_x()
        self.histories = []
        self.compare_mode = False
        self.clear_highlight()
        self.health_view.clear()
        self.diagnosis.clear()
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
        """A past run, read from its folder (here, in this thread), drawn exactly as it was drawn live."""
        return self.show_history(read_history(run_dir), redraw=redraw)

    def show_history(self, history: RunHistory, redraw: bool = True) -> RunHistory:
        """A past run read by read_history (off the GUI thread, preferably)."""
        self.clear()
        self._add_history(history)
        self.set_epoch_span(self._planned_epochs(history))
        for record in history.epoch_records():
            self.log(epoch_line(record))
        self.title.setText(f"Run: {history.name}")
        self._show_summary(history)
        self.diagnosis.set_findings(history.diagnosis)
        self._redraw_health_now()
        if redraw:
            self.redraw(force=True)
        return history

    def compare_runs(self, run_dirs: list[Path]) -> list[RunHistory]:
        """Two or more runs on the same axes, one colour each (solid: test, dashed: train)."""
        return self.compare_histories([read_history(run_dir, with_status=False) for run_dir in run_dirs])

    def compare_histories(self, histories: list[RunHistory]) -> list[RunHistory]:
        from studio.core.runs.overview import differing_settings

        self.clear()
        self.compare_mode = True
        self._legend_labels = differing_settings([h.config for h in histories])
        for history in histories:
            self._add_history(history)
            best = history.epochs.column("test_acc")
            best_text = f"{100 * np.nanmax(best):.2f}%" if len(best) else "no epochs"
            self.log(f"{history.name}: {len(history.epochs)} epochs, best test accuracy {best_text}")
        # The runs' recorded epochs, not their plans: five-epoch runs stopped at two span 0-2 (issue 13.7).
        done = [int(np.nanmax(h.epochs.column("epoch"))) for h in self.histories if len(h.epochs)]
        self.set_epoch_span(max(done) if done else 1)
        self.title.setText(f"Comparing {len(histories)} runs: solid lines test, dashed lines train")
        self.redraw(force=True)
        return self.histories

    def shown_runs(self) -> list[Path]:
        return [h.path for h in self.histories if h.path is not None]

    def forget_run(self, run_dir: Path) -> None:
        """The run was deleted: stop drawing it (a comparison goes on with the others)."""
        run_dir = Path(run_dir)
        kept = [h for h in self.histories if h.path != run_dir]
        if len(kept) == len(self.histories):
            return
        if self.compare_mode and kept:
            self.compare_histories(kept)
        else:
            self.clear()

    def rename_run(self, old: Path, new: Path) -> None:
        """The run on view was renamed: its title, legend and history follow."""
        for history in self.histories:
            if history.path == Path(old):
                history.path, history.name = Path(new), Path(new).name
        live = self.live
        if live is not None and live.path == Path(new):
            status = (live.fit_end or {}).get("status")
            self.title.setText(f"Run: {live.name}" + (f" ({status})" if status else ""))

    def shutdown(self) -> None:
        """The window closes: no more redraws."""
        self._timer.stop()

    def set_epoch_span(self, epochs: int) -> None:
        """Every plot's x axis spans 0..epochs (set only when it changes: an axis redraw costs)."""
        epochs = max(1, int(epochs))
        if epochs == self._x_span:
            return
        self._x_span = epochs
        for plot in self.plots.values():
            plot.set_x_span(0, epochs)

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
        label = history.label(self._legend_labels[i] if i < len(self._legend_labels) else "")
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

    def add_health(self, records: list[dict]) -> None:
        """Health records and the live diagnosis (engine/health.py) of the live or followed run."""
        if self.live is not None:
            self.live.add_health(records)
            self.diagnosis.set_findings(self.live.diagnosis)
            self._mark_dirty(health=True)

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
        self._fit_summary()

    def _fit_summary(self) -> None:
        # A word-wrapped label's minimum height ignores wrapping: in the splitter's bottom pane the
        # overfitting warning was cut off. Ask for the height its text needs at its present width.
        width = max(self.summary.width(), 200)
        self.summary.setMinimumHeight(self.summary.heightForWidth(width) if self.summary.text() else 0)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_summary()

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
        if (self._dirty_health or force) and self.health_view.isVisible():
            self._dirty_health = False
            self.health_view.set_records(self.live.health if self.live is not None else [])
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
        if not self.compare_mode:
            self._fit_x_to_data()
        touched = ("loss", "lr", "accuracy", "time") if epochs else ("loss", "lr")
        for key in touched:
            p[key].update_y_range()

    def _fit_x_to_data(self) -> None:
        """The x axis ends at the next whole epoch the data reaches (not at the run's planned end): it
        moves once an epoch, so the axis is still rarely redrawn."""
        reached = 0.0
        for h in self.histories:   # both grow in order: the last row is the furthest
            for value in (h.batches.last("x", 0.0), h.epochs.last("epoch", 0.0)):
                if np.isfinite(value):
                    reached = max(reached, value)
        self.set_epoch_span(int(np.ceil(reached - 1e-9)) if reached > 0 else 1)

    def _mark_dirty(self, batches: bool = False, epochs: bool = False, health: bool = False) -> None:
        self._dirty = True
        self._dirty_batches |= batches
        self._dirty_epochs |= epochs
        self._dirty_health |= health

    def _redraw_health_now(self) -> None:
        """A past run or a switch of page: no live timer may run to draw it."""
        self._mark_dirty(health=True)
        if not self._timer.isActive() and self.isVisible():
            self.redraw()

    @Slot(int)
    def _on_page_changed(self, _index: int) -> None:
        if "_timer" in vars(self):   # not while Qt takes the widget apart (its pages go one by one)
            self._redraw_health_now()

    # ------------------------------------------------------------ the diagnosis's buttons

    def highlight(self, spec: dict) -> None:
        """Shade the stretch of the plot a finding is about, on whichever page holds that plot."""
        self.clear_highlight()
        plot = self.plots.get(spec.get("plot", ""))
        if plot is None:
            if self.health_view.highlight(spec):
                self.pages.setCurrentWidget(self.health_view)
            return
        import pyqtgraph as pg

        low, high = (list(spec.get("x") or [0, 0]) + [0, 0])[:2]
        self._region = (plot, pg.LinearRegionItem(values=(float(low), float(max(high, low + 0.05))), movable=False,
                                                  brush=pg.mkBrush(255, 200, 0, 60)))
        plot.addItem(self._region[1])
        self.pages.setCurrentIndex(0)

    def clear_highlight(self) -> None:
        if self._region is not None:
            self._region[0].removeItem(self._region[1])
            self._region = None
        self.health_view.clear_highlight()

    def _apply_suggestion(self, action: dict) -> None:
        """A finding's suggested change, into the settings for the next run (the panel shows it)."""
        from studio.core.diagnosis.findings import apply_action
        from studio.core.errors import StudioError

        if self.state is None:
            return
        if self.state.training_state != "idle":
            self.state.statusMessage.emit("A run is training: apply the suggestion once it has ended.")
            return
        try:
            config = apply_action(self.state.config, action)
        except StudioError as exc:
            self.state.statusMessage.emit(str(exc))
            return
        window = self.window()
        if hasattr(window, "apply_config"):
            window.apply_config(config)   # the settings panel and the tabs follow
        else:
            self.state.set_config(config)
        self.state.statusMessage.emit(f"Settings for the next run: {describe_action(action)}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self.redraw(force=True)

    def export_plot(self, key: str, path) -> Path:
        self.redraw(force=True)
        return self.plots[key].export(path)
