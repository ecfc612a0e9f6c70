"""Find LR…: the learning-rate range test from the settings panel, and its "Use this LR".

The test runs off the GUI thread (gui/concurrency/tasks.run_task) on the settings as they stand;
the dialog plots the loss against the LR on a log axis, marks the suggested LR and the
minimum/10 point, says which rule chose the suggestion, and hands the chosen LR back to the
learning-rate field. Nothing is written: no run folder, no checkpoint.
pyqtgraph and torch are imported only when the dialog opens: the panel is built before them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.config.train_config import TrainConfig

SUGGESTED_COLOUR, OTHER_COLOUR = "#d62728", "#2ca02c"


class LrRow(QWidget):
    """The learning-rate input with its "Find LR…" button; the dialog it opens is kept in `dialog`."""

    def __init__(self, spin: QWidget, config_of: Callable[[], TrainConfig], parent: QWidget | None = None):
        super().__init__(parent)
        self.spin = spin
        self._config_of = config_of
        self.dialog: LrFinderDialog | None = None
        self.button = QPushButton("Find LR…")
        self.button.setToolTip("A short run with the learning rate growing from 1e-7 to 10 (Smith's range test): "
                               "suggests a learning rate for these settings. Nothing is saved.")
        self.button.clicked.connect(self.open_dialog)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(spin, 1)
        layout.addWidget(self.button)

    @Slot()
    def open_dialog(self) -> LrFinderDialog:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = LrFinderDialog(self._config_of(), parent=self.window())
        self.dialog.lrChosen.connect(self._use)
        self.dialog.open()
        return self.dialog

    @Slot(float)
    def _use(self, lr: float) -> None:
        self.spin.setValue(lr)   # the panel's own edit signal carries it into the config


class LrFinderDialog(QDialog):
    """Runs the range test for `config`; lrChosen(lr) when the user takes an LR."""

    lrChosen = Signal(float)

    def __init__(self, config: TrainConfig, parent: QWidget | None = None):
        super().__init__(parent)
        from studio.core.engine.lr_finder import END_LR, NUM_ITER, START_LR

        self.setWindowTitle("Find a learning rate")
        self.config = config
        self.range = (START_LR, END_LR)
        self.task = None
        self.found = None
        intro = QLabel(f"A short run on <b>{config.model}</b> with <b>{config.dataset}</b> ({config.optimizer}, "
                       f"batch {config.batch_size}): the learning rate grows from {START_LR:g} to {END_LR:g}, one "
                       "step per batch, until the loss blows up. The suggested LR is where the smoothed loss falls "
                       "fastest. The model is thrown away afterwards; nothing is saved.", wordWrap=True)
        self.steps_spin = QSpinBox(minimum=20, maximum=5000, value=NUM_ITER, singleStep=50, suffix=" steps")
        self.steps_spin.setToolTip("More steps follow the loss more closely, and take longer.")
        self.plot = self._make_plot()
        self.progress = QProgressBar(textVisible=True)
        self.progress.setVisible(False)
        self.verdict = QLabel("Press Run to start.", wordWrap=True,
                              textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steepest_choice = QRadioButton("Steepest descent")
        self.minimum_choice = QRadioButton("Minimum / 10")
        choices = QHBoxLayout()
        choices.addWidget(QLabel("Use:"))
        choices.addWidget(self.steepest_choice)
        choices.addWidget(self.minimum_choice)
        choices.addStretch(1)
        choices.addWidget(QLabel("Length:"))
        choices.addWidget(self.steps_spin)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.ActionRole)
        self.use_button = self.buttons.addButton("Use this LR", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.use_lr)
        self.buttons.rejected.connect(self.reject)
        for choice in (self.steepest_choice, self.minimum_choice):
            choice.toggled.connect(self._refresh_use)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.verdict)
        layout.addLayout(choices)
        layout.addWidget(self.buttons)
        self._set_running(False)
        self.resize(720, 540)   # fits a 1024x768 screen with the window's frame around it

    def _make_plot(self):
        import pyqtgraph as pg

        from studio.gui.widgets.metric_plot import DARK, LIGHT, theme_for
        from studio.gui.widgets.plot_config import configure_pyqtgraph

        configure_pyqtgraph()
        theme = DARK if theme_for(self.palette()) == "dark" else LIGHT
        plot = pg.PlotWidget(background=theme["background"])
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=theme["grid_alpha"])
        for side, label in (("bottom", "learning rate (log scale)"), ("left", "training loss")):
            axis = plot.getAxis(side)
            axis.enableAutoSIPrefix(False)   # "(x0.001)" beside a log axis only confuses
            axis.setPen(theme["axis"])
            axis.setTextPen(theme["text"])
            plot.setLabel(side, label, color=theme["text"])
        plot.addLegend(offset=(-10, 10), labelTextColor=theme["text"], brush=theme["legend"])
        self.raw_curve = plot.plot([], [], pen=pg.mkPen("#9a9a9a", width=1), name="loss")
        self.smooth_curve = plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), name="smoothed loss")
        self.suggested_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(SUGGESTED_COLOUR, width=2),
                                              label="", labelOpts={"position": 0.92, "color": SUGGESTED_COLOUR})
        self.other_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(OTHER_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                                          label="", labelOpts={"position": 0.8, "color": OTHER_COLOUR})
        for line in (self.suggested_line, self.other_line):
            line.setVisible(False)
            plot.addItem(line)
        self.points = pg.ScatterPlotItem(size=9)
        plot.addItem(self.points)
        return plot

    # ------------------------------------------------------------ running

    @Slot()
    def start(self) -> None:
        from studio.gui.concurrency.tasks import run_task

        config, steps, (start_lr, end_lr) = self.config, self.steps_spin.value(), self.range

        def work(progress, should_stop):
            from studio.core.engine.lr_finder import find_lr

            return find_lr(config, start_lr=start_lr, end_lr=end_lr, num_iter=steps, progress=progress,
                           should_stop=should_stop, keep_cores_free=1)

        self.found = None
        self._show_curve(None)
        self.progress.setRange(0, 0)   # loading the data and building the model: no count yet
        self.verdict.setText("Loading the data and building the model…")
        self._set_running(True)
        self.task = run_task(work, on_done=self._found, on_error=self._failed, on_progress=self._progressed,
                             owner=self)

    @Slot()
    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self._set_running(False)
        self.verdict.setText("Cancelled. The settings are unchanged.")

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.verdict.setText(f"Step {done} of {total}…")

    def _found(self, result) -> None:
        self.found = result
        self._set_running(False)
        self._show_curve(result)
        self.verdict.setText(_verdict(result))
        if result.steepest_lr is not None:
            self.steepest_choice.setChecked(True)
        else:
            self.minimum_choice.setChecked(True)
        self._refresh_use()

    def _failed(self, message: str, details: str) -> None:
        self._set_running(False)
        self.verdict.setText(f"<b>The range test failed:</b> {message}")

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.run_button.setEnabled(not running)
        self.steps_spin.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self._refresh_use()

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running and not self.task.cancelled

    # ------------------------------------------------------------ the answer

    def chosen_lr(self) -> float | None:
        if self.found is None:
            return None
        if self.minimum_choice.isChecked():
            return self.found.min_loss_lr_div10
        return self.found.steepest_lr

    @Slot()
    def _refresh_use(self) -> None:
        result = self.found
        self.steepest_choice.setEnabled(bool(result and result.steepest_lr))
        self.minimum_choice.setEnabled(bool(result and result.min_loss_lr_div10))
        lr = self.chosen_lr()
        self.use_button.setEnabled(lr is not None and not self.cancel_button.isEnabled())
        self.use_button.setText(f"Use {lr:.2g}" if lr else "Use this LR")
        if result is not None:
            self.steepest_choice.setText(_choice_text("Steepest descent", result.steepest_lr))
            self.minimum_choice.setText(_choice_text("Minimum / 10", result.min_loss_lr_div10))

    @Slot()
    def use_lr(self) -> None:
        lr = self.chosen_lr()
        if lr is None:
            return
        self.lrChosen.emit(float(f"{lr:.2g}"))   # two figures: 0.0024, not 0.0024420530945486497
        self.accept()

    def _show_curve(self, result) -> None:
        lrs = result.lrs if result else []
        raw = [v if math.isfinite(v) else float("nan") for v in (result.losses if result else [])]
        self.raw_curve.setData(lrs, raw, connect="finite")
        smoothed = [s if math.isfinite(s) else float("nan") for s in (result.smoothed if result else [])]
        self.smooth_curve.setData(lrs, smoothed, connect="finite")
        marks = []
        for line, lr, text, colour in ((self.suggested_line, result and result.suggested_lr,
                                        f"suggested ({result.method})" if result else "", SUGGESTED_COLOUR),
                                       (self.other_line, result and _other_lr(result), "", OTHER_COLOUR)):
            line.setVisible(bool(lr))
            if lr:
                line.setValue(math.log10(lr))   # the axis is logarithmic: items sit at log10(x)
                line.label.setFormat(f"{text or _other_name(result)} {lr:.2g}")
                marks.append({"pos": (math.log10(lr), _loss_at(result, lr)), "brush": colour, "pen": colour})
        self.points.setData(marks)
        if result and smoothed:
            finite = [s for s in smoothed if math.isfinite(s)]
            if finite:
                low = min(min(finite), min(v for v in result.losses if math.isfinite(v)))
                self.plot.setYRange(low, min(max(finite), 4 * min(finite)) * 1.02, padding=0.02)

    def done(self, code: int) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()   # closing the dialog stops the test at its next step
        super().done(code)


def _other_lr(result) -> float | None:
    return result.min_loss_lr_div10 if result.method == "steepest" else result.steepest_lr


def _other_name(result) -> str:
    return "minimum/10" if result.method == "steepest" else "steepest"


def _loss_at(result, lr: float) -> float:
    """The smoothed loss at the recorded LR nearest to lr (minimum/10 lies between the steps)."""
    nearest = min(range(len(result.lrs)), key=lambda i: abs(math.log(result.lrs[i]) - math.log(lr)))
    value = result.smoothed[nearest]
    return value if math.isfinite(value) else result.losses[nearest]


def _choice_text(name: str, lr: float | None) -> str:
    return f"{name}: {lr:.2g}" if lr else f"{name}: none"


def _verdict(result) -> str:
    if result.suggested_lr is None:
        return "<b>No suggestion:</b> the loss never became a number. Try another model or a smaller batch."
    ended = {"diverged": "stopped when the smoothed loss passed 4x its minimum",
             "finished": "ran to the end of the range"}.get(result.stopped, result.stopped)
    rule = ("the <b>steepest descent</b> of the smoothed loss" if result.method == "steepest"
            else "the <b>minimum / 10</b> rule (the loss never fell, so there is no steepest descent)")
    other = (f" The minimum / 10 rule gives {result.min_loss_lr_div10:.2g} (green)."
             if result.method == "steepest" and result.min_loss_lr_div10 else "")
    return (f"Suggested learning rate: <b>{result.suggested_lr:.2g}</b> (red), by {rule}.{other} "
            f"{len(result.lrs)} steps; the test {ended}.")
