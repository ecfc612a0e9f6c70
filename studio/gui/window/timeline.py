"""The window's timeline: one epoch slider that sets the epoch of Kernels, Activations, Evaluation and Predict.

A toolbar over the tabs: play/pause (two epochs a second, stopping at the newest), a slider over the
epochs 0..latest of the run on view, and "Epoch N of M". Keys, anywhere in the window: [ and ] step
one epoch, Home and End go to the first and the newest; with the slider focused, Left/Right work too.
It is hidden while no run is on view (the demo model has only the epoch of its checkpoint).

The range follows the run: an opened run's newest epoch on disk, a live or followed run's epochs as
they end (StudioState.epochEnded, modelChanged); while the slider sits at the newest epoch it follows
new ones. An opened run starts at the epoch of the model the window loaded (its best), so the tabs
show what they showed before the timeline existed.

Only the visible tab is told at once (`tab.set_epoch(run_dir, epoch)`); another tab is told when it
is shown, so dragging the slider costs one tab's redraw per step. Other code moves it with
`window.timeline.set_epoch(n)`.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QTimer, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QSizePolicy, QSlider, QStyle, QToolBar, QToolButton, QWidget

TAB_KEYS = ("kernels", "activations", "evaluation", "predict")   # the tabs with set_epoch(run_dir, epoch)
PLAY_INTERVAL_MS = 500   # two epochs a second: slow enough to see each, quick enough for a 20-epoch run


def latest_epoch_on_disk(run_dir: Path) -> int:
    """The newest epoch a run folder kept anything of (matrices and kernels, or weights); 0 if none."""
    from studio.core.runs import read_epoch_snapshots
    from studio.core.runs.snapshots import snapshot_epochs

    epochs = list(read_epoch_snapshots(run_dir)) + snapshot_epochs(run_dir)
    return max(epochs, default=0)


class Timeline(QToolBar):
    """epochChanged(epoch) whenever the slider's epoch changes (by hand, keys, play or the run growing)."""

    epochChanged = Signal(int)

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__("Timeline", parent)
        self.setObjectName("TimelineToolBar")
        self.setMovable(False)
        self._window = weakref.ref(window)
        self.state = window.state
        self.run_dir: Path | None = None
        self.maximum = 0
        self._await_model = False
        self._applied: dict[str, tuple] = {}   # tab key -> the (run_dir, epoch) it was last told
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        for keys, slot in ((("[",), self.step_back), (("]",), self.step_forward),
                           (("Home",), self.go_first), (("End",), self.go_last)):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), window)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(slot)
        self.state.runChanged.connect(self._run_changed)
        self.state.modelChanged.connect(self._model_changed)
        self.state.epochEnded.connect(self._epoch_ended)
        self._run_changed()

    def _build(self) -> None:
        self.play_button = QToolButton()
        self.play_button.setToolTip("Play the run's epochs, two a second ([ and ] step, Home and End jump)")
        self.play_button.clicked.connect(self.toggle_play)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setMinimumWidth(160)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setToolTip("The epoch Kernels, Activations, Evaluation and Predict show: 0 is the random "
                               "start. [ and ] step, Home and End jump, anywhere in the window.")
        self.slider.valueChanged.connect(self._moved)
        self.label = QLabel()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("Epoch 8888 of 8888") + 8)
        title = QLabel("Timeline:")
        title.setContentsMargins(6, 0, 4, 0)
        self.addWidget(title)
        self.addWidget(self.play_button)
        self.addWidget(self.slider)
        self.label.setContentsMargins(8, 0, 6, 0)
        self.addWidget(self.label)
        self._show_playing(False)

    # ------------------------------------------------------------ what other code calls

    def epoch(self) -> int:
        return self.slider.value()

    def set_epoch(self, epoch: int) -> None:
        """Show this epoch everywhere (clamped to the run's epochs)."""
        self._await_model = False
        self.slider.setValue(max(0, min(int(epoch), self.maximum)))

    def is_active(self) -> bool:
        return self.run_dir is not None

    def is_playing(self) -> bool:
        return self.timer.isActive()

    @Slot()
    def toggle_play(self) -> None:
        self.pause() if self.is_playing() else self.play()

    @Slot()
    def play(self) -> None:
        if not self.is_active() or self.maximum == 0:
            return
        if self.epoch() >= self.maximum:
            self.set_epoch(0)   # from the start again
        self.timer.start()
        self._show_playing(True)

    @Slot()
    def pause(self) -> None:
        self.timer.stop()
        self._show_playing(False)

    @Slot()
    def step_back(self) -> None:
        self.pause()
        self.set_epoch(self.epoch() - 1)

    @Slot()
    def step_forward(self) -> None:
        self.pause()
        self.set_epoch(self.epoch() + 1)

    @Slot()
    def go_first(self) -> None:
        self.pause()
        self.set_epoch(0)

    @Slot()
    def go_last(self) -> None:
        self.pause()
        self.set_epoch(self.maximum)

    def shutdown(self) -> None:
        self.pause()

    # ------------------------------------------------------------ following the run

    @Slot()
    def _run_changed(self) -> None:
        self.pause()
        run_dir = self.state.run_dir
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.maximum = latest_epoch_on_disk(self.run_dir) if self.run_dir is not None else 0
        # The run's own model is on its way (loaded in the background): the slider starts at its epoch,
        # and the tabs are told then, not now (they would load this epoch's weights for nothing).
        self._await_model = self.run_dir is not None
        self._set_range(self.maximum, self.maximum)
        self.setVisible(self.is_active())
        if self.run_dir is None:
            self._apply_visible()

    @Slot()
    def _model_changed(self) -> None:
        epoch = getattr(self.state.model, "epoch", None)
        if self.run_dir is None or epoch is None:
            return
        if self._await_model:
            self._await_model = False
            self._set_range(max(self.maximum, epoch), epoch)
            self._apply_visible()
        else:
            self._grow(epoch)

    @Slot(object)
    def _epoch_ended(self, event) -> None:
        epoch = getattr(event, "epoch", None)
        if self.run_dir is not None and isinstance(epoch, int):
            self._grow(epoch)

    def _grow(self, epoch: int) -> None:
        if epoch <= self.maximum:
            return
        following = self.epoch() == self.maximum
        self._set_range(epoch, epoch if following else self.epoch())
        if following:
            self._apply_visible()

    def _set_range(self, maximum: int, value: int) -> None:
        self.maximum = maximum
        self.slider.blockSignals(True)
        self.slider.setRange(0, maximum)
        self.slider.setValue(max(0, min(value, maximum)))
        self.slider.blockSignals(False)
        self.play_button.setEnabled(maximum > 0)
        self._update_label()

    # ------------------------------------------------------------ telling the tabs

    @Slot(int)
    def _moved(self, _value: int) -> None:
        self._await_model = False
        self._update_label()
        self._apply_visible()
        self.epochChanged.emit(self.epoch())

    @Slot()
    def _tick(self) -> None:
        if self.epoch() >= self.maximum:
            self.pause()
            return
        self.slider.setValue(self.epoch() + 1)
        if self.epoch() >= self.maximum:
            self.pause()   # the last epoch is shown; playing ends there

    def target(self) -> tuple:
        """What the tabs are told: (run_dir, epoch), or (None, None) while no run is on view."""
        return (self.run_dir, self.epoch()) if self.is_active() else (None, None)

    @Slot()
    def tab_shown(self) -> None:
        self._apply_visible()

    def _apply_visible(self) -> None:
        window = self._window()
        if window is None or not getattr(window, "loaded", False):
            return
        holder = window.tabs.currentWidget()
        key = next((k for k, h in window.tabs_by_key.items() if h is holder), None)
        if key not in TAB_KEYS:
            return
        wanted = self.target()
        if self._applied.get(key) == wanted:
            return
        tab = window.tab(key)
        set_epoch = getattr(tab, "set_epoch", None)
        if callable(set_epoch):
            self._applied[key] = wanted
            set_epoch(*wanted)

    def _update_label(self) -> None:
        self.label.setText(f"Epoch {self.epoch()} of {self.maximum}")

    def _show_playing(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setText("Pause" if playing else "Play")
        self.play_button.setToolTip("Pause" if playing else "Play the run's epochs, two a second")


def install_timeline(window) -> Timeline:
    """Put the timeline above the tabs of a main window whose tabs exist (after torch loaded)."""
    bar = Timeline(window, parent=window)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    window.tabs.currentChanged.connect(bar.tab_shown)
    return bar
