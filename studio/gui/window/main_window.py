"""The main window: settings and runs on the left, training controls and the tabs on the right.

It appears before torch is imported. The window is built from Qt and the torch-free config
only; start_loading() (called on the first show) imports torch, torchvision, pyqtgraph and the
core in a background thread while a "Loading" page is shown, then builds the tabs in the GUI
thread. Training runs through a TrainingRunner (a QThread); the window only forwards what
the worker reports to the views, and carries the run's state to the tabs through StudioState.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

import shiboken6
from PySide6.QtCore import QByteArray, QEvent, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QFileDialog, QFrame, QHBoxLayout, QInputDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
    QScrollArea, QSplitter, QStackedWidget, QStyle, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from studio.core.config.train_config import TrainConfig
from studio.core.errors import StudioError
from studio.gui.lectures.actions import connect_panel
from studio.gui.lectures.panel import LecturesPanel
from studio.gui.panels.runs import RunsPanel, _ask_yes_no
from studio.gui.panels.settings import SettingsPanel
from studio.gui.state import StudioState
from studio.gui.concurrency.tasks import run_task
from studio.gui.concurrency.training import TrainingRunner
from studio.gui.widgets.error_dialog import show_error

SETTINGS_FILE = "cnn-studio.ini"

# (key, title, module, class, takes state). Built after torch loads, in this order.
TAB_SPECS = (
    ("data", "Data", "studio.gui.tabs.data", "DataTab", True),
    ("training", "Training", "studio.gui.tabs.training", "TrainingTab", True),
    ("model", "Model", "studio.gui.tabs.inspect.model", "ModelTab", True),
    ("kernels", "Kernels", "studio.gui.tabs.inspect.kernels", "KernelsTab", True),
    ("activations", "Activations", "studio.gui.tabs.inspect.activations", "ActivationsTab", True),
    ("evaluation", "Evaluation", "studio.gui.tabs.inspect.evaluation", "EvaluationTab", True),
    ("predict", "Predict", "studio.gui.tabs.predict.tab", "PredictTab", True),
    ("lab", "Lab", "studio.gui.tabs.lab.tab", "LabTab", False),
)
PLOT_TITLES = {"loss": "Loss", "accuracy": "Accuracy", "lr": "Learning rate", "time": "Epoch time"}


def open_settings() -> QSettings:
    """The settings file: under $CNN_STUDIO_SETTINGS_DIR when set (tests), else the per-user default."""
    folder = os.environ.get("CNN_STUDIO_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / SETTINGS_FILE), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "cnn-studio", "cnn-studio")


def load_core(progress, should_stop) -> dict:
    """The slow imports, off the GUI thread: torch, torchvision, pyqtgraph and the core's lists."""
    started = time.perf_counter()
    import torch  # noqa: F401  (2-3 s)
    import torchvision  # noqa: F401  (the rest of the wait)
    import pyqtgraph  # noqa: F401

    from studio.core.data import list_datasets
    from studio.core.engine.devices import available_devices
    from studio.core.models import list_models
    import studio.core.engine.trainer  # noqa: F401
    import studio.core.runs  # noqa: F401

    return {"datasets": list_datasets(), "models": list_models(), "devices": available_devices(),
            "torch": torch.__version__, "seconds": time.perf_counter() - started}


def _model_facts(name: str, options: dict, pretrained: bool, data_shape, num_classes: int) -> tuple[int, tuple]:
    from studio.core.models import build_model, model_input_shape

    shape = tuple(model_input_shape(name, data_shape, pretrained, options))
    model = build_model(name, shape, num_classes, options, pretrained=False, progress=False)
    return sum(p.numel() for p in model.parameters()), shape


class LazyTab(QWidget):
    """A tab built the first time it is shown: the Lab takes seconds to build and needs no state.

    The built widget sits in a scroll area: a section wider than the window scrolls, instead of
    its minimum width growing the whole window past the screen's edge (the Lab's editable grids
    and plots side by side asked for more than a 1280-pixel screen has).
    """

    def __init__(self, factory, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._factory = factory
        self._title = title
        self.widget: QWidget | None = None
        self.scroll = _FitScrollArea()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    def build(self) -> QWidget:
        if self.widget is None:
            self.widget = _make_tab(self._factory, self._title)
            self.scroll.setWidget(self.widget)
        return self.widget

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.widget is None:
            QTimer.singleShot(0, self.build)


class _FitScrollArea(QScrollArea):
    """Gives its widget the viewport's size, never less than the widget's minimum size hint.

    Unlike setWidgetResizable(True) it ignores height-for-width: a page of word-wrapped labels
    asks for a tall height at its minimum width, which scrolled half the Lab out of sight.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._fit_pending = False

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._fit()

    def eventFilter(self, watched, event) -> bool:
        # The page's minimum size changes with its content (another Lab section, longer text).
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget() and not self._fit_pending:
            self._fit_pending = True
            QTimer.singleShot(0, self._deferred_fit)
        return super().eventFilter(watched, event)

    def _deferred_fit(self) -> None:
        self._fit_pending = False
        if shiboken6.isValid(self):
            self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        hint = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        viewport = self.maximumViewportSize()
        width = max(viewport.width(), hint.width())
        height = max(viewport.height(), hint.height())
        if width > viewport.width():  # a horizontal scroll bar takes its height from the page
            height = max(viewport.height() - self.horizontalScrollBar().sizeHint().height(), hint.height())
        if height > viewport.height() and width == viewport.width():
            width = max(viewport.width() - self.verticalScrollBar().sizeHint().width(), hint.width())
        if widget.size() != QSize(width, height):
            widget.resize(width, height)


def _make_tab(factory, title: str) -> QWidget:
    try:
        return factory()
    except Exception as exc:  # one broken tab must not take the studio down
        traceback.print_exc()
        label = QLabel(f"The {title} tab could not be built:\n{type(exc).__name__}: {exc}")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        return label


class LoadingPage(QWidget):
    """What the window shows while torch loads: a visible "loading" state, not a blank pause."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.label = QLabel("Loading PyTorch and the models…")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.label.setFont(font)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy indicator
        self.bar.setMaximumWidth(360)
        self.bar.setTextVisible(False)
        self.hint = QLabel("The settings on the left can be changed already.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.hint)
        layout.addStretch(3)

    def show_failure(self, message: str) -> None:
        self.label.setText("CNN Studio could not load PyTorch.")
        self.hint.setText(message)
        self.hint.setWordWrap(True)
        self.bar.hide()


class MainWindow(QMainWindow):
    ready = Signal()   # torch is loaded and the tabs exist

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("CNN Studio")
        self.setObjectName("CnnStudioMainWindow")
        self.settings = settings or open_settings()
        self.state = StudioState(self._restore_config())
        self.runner = TrainingRunner(self)
        self.loaded = False
        self.tabs_by_key: dict[str, QWidget] = {}
        self.training_tab = None
        self.data_tab = None
        self.confirm = _ask_yes_no        # replaced by tests: nothing modal may block them
        self._load_started = False
        self._close_pending = False
        self._tasks: dict[str, object] = {}
        self._pending_epochs: list = []
        self._fit_start = None
        self._failure_shown = False
        self._run_clock = 0.0
        self._paused_at: float | None = None
        self._run_first_done = 0
        self._model_facts_cache: dict = {}
        self.core_info: dict = {}
        self._build()
        self._build_actions()
        self._build_menus()
        self._connect()
        self._restore_geometry()
        self._update_actions()
        self.setAcceptDrops(True)

    # ------------------------------------------------------------ construction (no torch here)

    def _build(self) -> None:
        self.settings_panel = SettingsPanel(self.state.config)
        self.runs_panel = RunsPanel()
        self.runs_panel.setEnabled(False)
        self.left_tabs = QTabWidget()
        self.left_tabs.addTab(self.settings_panel, "Settings")
        self.left_tabs.addTab(self.runs_panel, "Runs")
        self.lectures_panel = LecturesPanel()
        self.left_tabs.addTab(self.lectures_panel, "Lectures")
        connect_panel(self, self.lectures_panel)
        self.left_tabs.setMinimumWidth(320)

        self.controls = QWidget()
        bar = QHBoxLayout(self.controls)
        bar.setContentsMargins(6, 6, 6, 0)
        self.control_buttons: dict[str, QToolButton] = {}
        for key in ("train", "pause", "stop", "resume"):
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setMinimumHeight(30)
            self.control_buttons[key] = button
            bar.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setMinimumHeight(26)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Loading PyTorch…")
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.loading_page = LoadingPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.loading_page)
        self.stack.addWidget(self.tabs)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.controls)
        right_layout.addWidget(self.stack, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left_tabs)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([340, 940])
        self.setCentralWidget(self.splitter)

        self.status_label = QLabel("")
        self.device_label = QLabel("PyTorch: loading…")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.device_label)

    def _action(self, text: str, slot, shortcuts=(), tip: str = "", icon=None) -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip + (f" ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                                     if shortcuts else ""))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.actions_by_key = {
            "new": self._action("&New run", self.new_run, ["Ctrl+N"],
                                "Clear the view and set up a new run"),
            "open": self._action("&Open run…", self.open_run_dialog, ["Ctrl+O"],
                                 "Open a past run's folder"),
            "export_plot": self._action("&Export plot…", self.export_plot_dialog, ["Ctrl+E"],
                                        "Save a training plot as PNG or SVG"),
            "export_csv": self._action("Export &metrics as CSV…", self.export_metrics_dialog, ["Ctrl+Shift+E"],
                                       "Save the current run's per-epoch numbers as CSV"),
            "install_desktop": self._action("Add to the &applications menu", self.install_desktop_entry,
                                            tip="Write a desktop entry for this user"),
            "quit": self._action("&Quit", self.close, ["Ctrl+Q"], "Quit CNN Studio"),
            "train": self._action("Train", self.start_training, ["Ctrl+T", "F5"], "Start a new run", sp.SP_MediaPlay),
            "pause": self._action("Pause", self.pause_training, ["Ctrl+P", "F6"],
                                  "Pause after the current batch", sp.SP_MediaPause),
            "stop": self._action("Stop", self.stop_training, ["Ctrl+.", "Shift+F5"],
                                 "Stop after the current batch; the run is saved", sp.SP_MediaStop),
            "resume": self._action("Resume", self.resume_training, ["Ctrl+R", "F7"],
                                   "Continue a paused run, or a stopped run from its last checkpoint",
                                   sp.SP_MediaSeekForward),
            "runs": self._action("&Runs list", self.show_runs_list, ["Ctrl+L"], "Show the list of runs"),
            "settings": self._action("&Settings", self.show_settings, ["Ctrl+,"], "Show the run settings"),
            "about": self._action("&About CNN Studio", self.show_about),
        }
        for key in ("train", "pause", "stop", "resume"):
            self.control_buttons[key].setDefaultAction(self.actions_by_key[key])

    def _build_menus(self) -> None:
        a = self.actions_by_key
        file_menu = self.menuBar().addMenu("&File")
        for key in ("new", "open", None, "export_plot", "export_csv", None, "install_desktop", None, "quit"):
            file_menu.addSeparator() if key is None else file_menu.addAction(a[key])
        train_menu = self.menuBar().addMenu("&Training")
        for key in ("train", "pause", "stop", "resume"):
            train_menu.addAction(a[key])
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(a["settings"])
        self.view_menu.addAction(a["runs"])
        self.view_menu.addSeparator()
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(a["about"])

    def _connect(self) -> None:
        self.settings_panel.configChanged.connect(self._on_config_edited)
        self.settings_panel.datasetChanged.connect(self._on_dataset_chosen)
        self.settings_panel.modelChanged.connect(self._on_model_chosen)
        r = self.runner
        r.fitStarted.connect(self._on_fit_started)
        r.batches.connect(self._on_batches)
        r.epochEnded.connect(self._on_epoch_ended)
        r.fitEnded.connect(self._on_fit_ended)
        r.failed.connect(self._on_training_failed)
        r.preparing.connect(self._on_preparing)
        r.finished.connect(self._on_runner_finished)
        r.pausedChanged.connect(self._on_paused_changed)
        p = self.runs_panel
        p.openRequested.connect(self.open_run)
        p.compareRequested.connect(self.compare_runs)
        p.resumeRequested.connect(self.resume_run)
        p.runRenamed.connect(self._on_run_renamed)
        p.runDeleted.connect(self._on_run_deleted)
        p.errorRaised.connect(self._show_message_error)
        p.tree.itemSelectionChanged.connect(self._update_actions)
        self.state.statusMessage.connect(self.show_status)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_about_to_quit)

    # ------------------------------------------------------------ loading torch after the window shows

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._load_started:
            QTimer.singleShot(0, self.start_loading)

    @Slot()
    def start_loading(self) -> None:
        if self._load_started:
            return
        self._load_started = True
        self._load_clock = time.perf_counter()
        self.show_status("Loading PyTorch…")
        self._tasks["core"] = run_task(load_core, on_done=self._on_core_loaded, on_error=self._on_core_failed)

    def _on_core_loaded(self, info: dict) -> None:
        from studio.gui.app import configure_pyqtgraph

        configure_pyqtgraph()
        self.core_info = info
        self.settings_panel.populate(info["datasets"], info["models"], info["devices"])
        self.state.set_config(self.settings_panel.config())
        self._build_tabs()
        self.stack.setCurrentWidget(self.tabs)
        self.runs_panel.setEnabled(True)
        self.runs_panel.refresh()
        devices = ", ".join(label for _, label in info["devices"])
        self.device_label.setText(f"PyTorch {info['torch']} · {devices}")
        self.loaded = True
        self.progress.setFormat("Ready: press Train")
        seconds = time.perf_counter() - self._load_clock
        self.show_status(f"Ready (PyTorch loaded in {seconds:.1f} s)")
        self._update_actions()
        self.load_dataset(self.state.config.dataset)
        self.ready.emit()

    def _on_core_failed(self, message: str, details: str) -> None:
        self.loading_page.show_failure(message)
        self.progress.setFormat("PyTorch could not be loaded")
        show_error(self, f"PyTorch could not be loaded: {message}", details)

    def _build_tabs(self) -> None:
        for index, (key, title, module, cls, takes_state) in enumerate(TAB_SPECS):
            def factory(module=module, cls=cls, takes_state=takes_state):
                tab_class = getattr(import_module(module), cls)
                return tab_class(self.state) if takes_state else tab_class()

            # Tabs that follow the state are built now, so they see every signal; the rest on first show.
            tab = _make_tab(factory, title) if takes_state else LazyTab(factory, title)
            self.tabs.addTab(tab, title)
            self.tabs_by_key[key] = tab
            action = self._action(f"{title} tab", lambda _=False, w=tab: self.tabs.setCurrentWidget(w),
                                  [f"Ctrl+{index + 1}"])
            self.view_menu.addAction(action)
        self.training_tab = self.tabs_by_key.get("training")
        self.data_tab = self.tabs_by_key.get("data")
        saved = self.settings.value("window/tab", 0)
        try:
            self.tabs.setCurrentIndex(int(saved))
        except (TypeError, ValueError):
            pass

    # ------------------------------------------------------------ settings and dataset

    @Slot()
    def _on_config_edited(self) -> None:
        previous = self.state.config
        config = self.settings_panel.config()
        self.state.set_config(config)
        self._save_config(config)
        if (previous.model, previous.pretrained, previous.model_options) != \
                (config.model, config.pretrained, config.model_options):
            self.update_model_info()

    def _apply_config(self, config: TrainConfig) -> None:
        """Show a config (a resumed run's) in the panel and the tabs; reload the data if it differs."""
        previous = self.state.config
        self.settings_panel.set_config(config)
        self.state.set_config(self.settings_panel.config())
        if (previous.dataset, previous.image_size) != (config.dataset, config.image_size):
            self.load_dataset(config.dataset)
        else:
            self.update_model_info()

    @Slot(str)
    def _on_dataset_chosen(self, name: str) -> None:
        self.load_dataset(name)

    @Slot(str)
    def _on_model_chosen(self, _name: str) -> None:
        self.update_model_info()

    def load_dataset(self, name: str) -> None:
        """Load (maybe download) the dataset off the GUI thread, then hand it to every tab."""
        if not self.loaded:
            return
        from studio.core.data import load_dataset

        self._cancel_task("dataset")
        cfg = self.state.config
        self.state.set_dataset(None)
        self.settings_panel.set_model_info("Parameters: waiting for the dataset…")
        self.show_status(f"Loading {name}…")

        def work(progress, should_stop):
            return load_dataset(name, data_dir=cfg.data_dir, image_size=cfg.image_size, progress=progress)

        self._tasks["dataset"] = run_task(work, on_done=self._on_dataset_loaded, on_error=self._on_dataset_failed,
                                          on_progress=self._on_dataset_progress)

    def _on_dataset_loaded(self, bundle) -> None:
        self.state.set_dataset(bundle)
        self.show_status(f"{bundle.name}: {len(bundle.train):,} training and {len(bundle.test):,} test images")
        self.update_model_info()

    def _on_dataset_failed(self, message: str, details: str) -> None:
        self.show_status("The dataset could not be loaded.")
        self.settings_panel.set_model_info("Parameters: no dataset loaded")
        if self.data_tab is not None and hasattr(self.data_tab, "info"):
            self.data_tab.info.setText(f"<span style='color:#b22222'>{message}</span>")
        show_error(self, f"The dataset could not be loaded: {message}", details)

    def _on_dataset_progress(self, done: int, total: int) -> None:
        if total:
            self.show_status(f"Loading {self.state.config.dataset}: {100 * done // total} %")

    def update_model_info(self) -> None:
        """Parameter count and input size of the chosen model on the loaded dataset (built off-thread)."""
        bundle, cfg = self.state.dataset, self.state.config
        if bundle is None or not self.loaded:
            return
        key = (cfg.model, json.dumps(cfg.model_options, sort_keys=True), cfg.pretrained, bundle.input_shape,
               len(bundle.classes))
        if key in self._model_facts_cache:
            self._show_model_facts(self._model_facts_cache[key])
            return
        self._cancel_task("model_info")
        self.settings_panel.set_model_info("Counting parameters…")
        args = (cfg.model, dict(cfg.model_options), cfg.pretrained, bundle.input_shape, len(bundle.classes))

        def done(facts):
            self._model_facts_cache[key] = facts
            self._show_model_facts(facts)

        self._tasks["model_info"] = run_task(
            lambda progress, should_stop: _model_facts(*args), on_done=done,
            on_error=lambda message, details: self.settings_panel.set_model_info(
                f"<span style='color:#b22222'>{message}</span>"))

    def _show_model_facts(self, facts) -> None:
        params, (c, h, w) = facts
        self.settings_panel.set_model_info(f"<b>{params:,}</b> parameters · input {c}×{h}×{w}")

    # ------------------------------------------------------------ training controls

    @Slot()
    def start_training(self) -> bool:
        if not self.loaded or self.runner.is_running():
            return False
        config = self.settings_panel.config()
        try:
            config.validate()
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self.state.set_config(config)
        self._save_config(config)
        if self.training_tab is not None:
            self.training_tab.start_live(f"{config.model} on {config.dataset}")
        return self._begin(config)

    def _begin(self, config: TrainConfig | None, run_dir: Path | None = None, resume: bool = False) -> bool:
        try:
            self.runner.start(config, run_dir=run_dir, resume=resume)
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self._fit_start = None
        self._pending_epochs = []
        self._failure_shown = False
        self.progress.setRange(0, 0)
        self.progress.setFormat("Preparing the data and the model…")
        self.settings_panel.set_locked(True)
        self.state.set_training_state("running")
        if self.training_tab is not None:
            self.tabs.setCurrentWidget(self.training_tab)
        self._update_actions()
        return True

    @Slot()
    def pause_training(self) -> None:
        if self.runner.is_running() and not self.runner.paused:
            self.runner.pause()

    @Slot()
    def stop_training(self) -> None:
        if self.runner.is_running():
            self.runner.stop()
            self.progress.setFormat("Stopping after this batch…")
            self.show_status("Stopping: the run is saved at its last finished epoch.")

    @Slot()
    def resume_training(self) -> None:
        if self.runner.is_running():
            if self.runner.paused:
                self.runner.unpause()
            return
        if self.state.run_dir is not None and self._is_resumable(self.state.run_dir):
            self.resume_run(self.state.run_dir)
        else:
            selected = self.runs_panel.selected_paths()
            if len(selected) == 1 and self._is_resumable(selected[0]):
                self.resume_run(selected[0])

    @Slot(object)
    def resume_run(self, run_dir) -> bool:
        """Continue a stopped run from its last checkpoint, with its own settings."""
        from studio.core.runs import read_run

        if not self.loaded or self.runner.is_running():
            return False
        run_dir = Path(run_dir)
        try:
            info = read_run(run_dir)
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self._apply_config(TrainConfig.from_dict(info.config))
        if self.training_tab is not None:
            self.training_tab.start_live(run_dir.name, resume_from=run_dir)
        return self._begin(None, run_dir=run_dir, resume=True)

    def _is_resumable(self, run_dir: Path) -> bool:
        from studio.core.runs import read_run

        try:
            return RunsPanel.is_resumable(read_run(run_dir))
        except StudioError:
            return False

    # ------------------------------------------------------------ what the worker reports (GUI thread)

    @Slot(object)
    def _on_fit_started(self, event) -> None:
        from studio.core.engine.events import event_record

        self._fit_start = event
        self._run_clock = time.perf_counter()
        self._paused_at = time.perf_counter() if self.runner.paused else None
        self._run_first_done = event.start_epoch * event.batches_per_epoch
        self.progress.setRange(0, max(1, event.epochs * event.batches_per_epoch))
        self.progress.setValue(self._run_first_done)
        self.progress.setFormat(f"Epoch {event.start_epoch + 1}/{event.epochs} · starting…")
        if event.run_dir:
            self.state.set_run(Path(event.run_dir))
            self.runs_panel.set_active_run(Path(event.run_dir))
            self.runs_panel.refresh()
        if self.training_tab is not None:
            self.training_tab.fit_started(event_record(event))
        self.show_status(f"Training {event.config.get('model')} on {event.config.get('dataset')} ({event.device})")

    @Slot(object)
    def _on_batches(self, packet: dict) -> None:
        if self.training_tab is not None:
            self.training_tab.add_batches(packet)
        start = self._fit_start
        if start is None:
            return
        epoch, batch = int(packet["epoch"][-1]), int(packet["batch"][-1])
        batches = int(packet["batches"])
        done = (epoch - 1) * batches + batch
        self.progress.setValue(done)
        now = time.perf_counter()
        elapsed = now - self._run_clock - (now - self._paused_at if self._paused_at is not None else 0.0)
        ran = done - self._run_first_done
        eta = (self.progress.maximum() - done) * elapsed / ran if ran > 0 else 0
        state = " · paused" if self.runner.paused else ""
        self.progress.setFormat(f"Epoch {epoch}/{start.epochs} · batch {batch}/{batches} · "
                                f"{packet['images_per_sec']:,.0f} img/s · ETA {_duration(eta)}{state}")

    @Slot(object)
    def _on_epoch_ended(self, event) -> None:
        from studio.core.engine.events import event_record

        if self.training_tab is not None:
            self.training_tab.add_epoch(event_record(event))
        self._pending_epochs.append(event)
        task = self._tasks.get("live_model")
        if task is None or not task.running:
            self._load_live_model()

    def _load_live_model(self) -> None:
        """Give the tabs a CPU snapshot of the model as of the newest checkpoint, then the epoch events."""
        from studio.core.runs import load_checkpoint

        events, self._pending_epochs = self._pending_epochs, []
        run_dir = self.state.run_dir
        if run_dir is None:
            for event in events:
                self.state.epochEnded.emit(event)
            return
        path = run_dir / "checkpoints" / "last.pt"

        def loaded(model):
            self.state.set_model(model)
            self._after_live_model(events)

        def failed(message, details):
            self.show_status(f"The latest checkpoint could not be read: {message}")
            self._after_live_model(events)

        self._tasks["live_model"] = run_task(lambda progress, should_stop: load_checkpoint(path),
                                             on_done=loaded, on_error=failed)

    def _after_live_model(self, events: list) -> None:
        for event in events:
            self.state.epochEnded.emit(event)
        if self._pending_epochs:
            self._load_live_model()

    @Slot(object)
    def _on_fit_ended(self, event) -> None:
        from studio.core.engine.events import event_record

        if self.training_tab is not None:
            self.training_tab.fit_ended(event_record(event))
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if event.status == "done":
            self.progress.setValue(self.progress.maximum())
        text = {"done": "Done", "stopped": "Stopped", "failed": "Failed"}.get(event.status, event.status)
        best = f" · best test accuracy {100 * event.best_test_acc:.2f}%" if event.best_test_acc else ""
        self.progress.setFormat(f"{text}: {event.epochs_done} epochs in {_duration(event.elapsed)}{best}")
        self.show_status(f"{text}: {event.reason}")
        if event.status == "failed" and not self._failure_shown:  # e.g. the loss became NaN
            show_error(self, f"Training failed: {event.reason}")

    @Slot(str, str)
    def _on_training_failed(self, message: str, details: str) -> None:
        self._failure_shown = True
        show_error(self, f"Training failed: {message}", details)

    @Slot(int, int)
    def _on_preparing(self, done: int, total: int) -> None:
        if total:
            self.progress.setFormat(f"Preparing: {100 * done // total} % (downloading or building)")

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        # The ETA counts training time only: a pause moves the run's clock forward by its length.
        if paused:
            self._paused_at = time.perf_counter()
        elif self._paused_at is not None:
            self._run_clock += time.perf_counter() - self._paused_at
            self._paused_at = None
        if self.runner.is_running():
            self.state.set_training_state("paused" if paused else "running")
            if paused:
                self.progress.setFormat(self.progress.format().split(" · paused")[0] + " · paused")
        self._update_actions()

    @Slot()
    def _on_runner_finished(self) -> None:
        self.settings_panel.set_locked(False)
        self.state.set_training_state("idle")
        self.runs_panel.set_active_run(None)
        if self.loaded:
            self.runs_panel.refresh()
        self._update_actions()
        if self._close_pending:
            self.close()

    # ------------------------------------------------------------ runs

    @Slot()
    def new_run(self) -> None:
        if self.runner.is_running():
            self.show_status("A run is training: stop it before starting a new one.")
            return
        if self.training_tab is not None:
            self.training_tab.clear()
        self.state.set_run(None)
        self.state.set_model(None)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Ready: press Train" if self.loaded else "Loading PyTorch…")
        self.show_settings()
        self._update_actions()

    @Slot()
    def open_run_dialog(self) -> None:
        if not self.loaded:
            return
        from studio.core.paths import runs_dir

        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", str(runs_dir()))
        if folder:
            self.open_run(Path(folder))

    @Slot(object)
    def open_run(self, run_dir) -> bool:
        """Show a past run's curves as recorded, and give the tabs its best model."""
        from studio.core.runs import best_checkpoint, load_checkpoint, read_run

        if not self.loaded:
            return False
        if self.runner.is_running():
            self.show_status("A run is training: wait for it or stop it before opening another.")
            return False
        run_dir = Path(run_dir)
        try:
            read_run(run_dir)
            self.training_tab.show_run(run_dir)
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self.state.set_run(run_dir)
        self.tabs.setCurrentWidget(self.training_tab)
        self.runs_panel.select_runs([run_dir])
        self._show_run_progress(run_dir)
        checkpoint = best_checkpoint(run_dir)
        if checkpoint is not None:
            self._cancel_task("run_model")
            self._tasks["run_model"] = run_task(
                lambda progress, should_stop: load_checkpoint(checkpoint), on_done=self.state.set_model,
                on_error=lambda message, details: show_error(self, f"The run's model could not be loaded: {message}",
                                                             details))
        self._update_actions()
        return True

    def _show_run_progress(self, run_dir: Path) -> None:
        """The progress bar of an opened run: how far it got, and how it ended."""
        from studio.core.runs import read_run

        info = read_run(run_dir)
        planned = max(1, int(info.config.get("epochs", 1) or 1))
        self.progress.setRange(0, planned)
        self.progress.setValue(min(info.epochs_done, planned))
        best = f" · best test accuracy {100 * info.best_test_acc:.2f}%" if info.best_test_acc else ""
        self.progress.setFormat(f"{run_dir.name}: {info.state}, {info.epochs_done}/{planned} epochs{best}")
        self.show_status(f"Opened {run_dir}")

    @Slot(list)
    def compare_runs(self, run_dirs: list) -> None:
        if not self.loaded or self.runner.is_running():
            self.show_status("Runs can be compared when no run is training.")
            return
        self.training_tab.compare_runs([Path(p) for p in run_dirs])
        self.tabs.setCurrentWidget(self.training_tab)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(f"Comparing {len(run_dirs)} runs")
        self.show_status("Comparing: " + ", ".join(Path(p).name for p in run_dirs))

    def _on_run_renamed(self, old, new) -> None:
        if self.state.run_dir is not None and Path(old) == self.state.run_dir:
            new = Path(new)
            self.state.set_run(new)
            tab = self.training_tab
            if tab is not None and tab.histories and not tab.compare_mode:
                history = tab.histories[-1]
                history.path, history.name = new, new.name
                status = (history.fit_end or {}).get("status")
                tab.title.setText(f"Run: {new.name}" + (f" ({status})" if status else ""))
            if not self.runner.is_running():
                self._show_run_progress(new)   # the progress line named the run by its old name
                self.show_status(f"Renamed the run to {new.name}")

    def _on_run_deleted(self, path) -> None:
        if self.state.run_dir is not None and Path(path) == self.state.run_dir:
            self.new_run()

    # ------------------------------------------------------------ export

    @Slot()
    def export_plot_dialog(self) -> None:
        if self.training_tab is None:
            return
        titles = list(PLOT_TITLES.values())
        title, ok = QInputDialog.getItem(self, "Export plot", "Which plot?", titles, 0, False)
        if not ok:
            return
        key = next(k for k, v in PLOT_TITLES.items() if v == title)
        path, chosen = QFileDialog.getSaveFileName(self, "Export plot", str(Path.home() / f"{key}.png"),
                                                   "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".svg" if "SVG" in chosen else ".png"
        self.export_plot(key, path)

    def export_plot(self, key: str, path) -> Path | None:
        try:
            written = self.training_tab.export_plot(key, path)
        except (StudioError, OSError) as exc:
            show_error(self, f"The plot could not be exported: {exc}")
            return None
        self.show_status(f"Saved {written}")
        return written

    @Slot()
    def export_metrics_dialog(self) -> None:
        if self.state.run_dir is None:
            self.show_status("Open or train a run first: its metrics are what gets exported.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export metrics as CSV",
                                              str(Path.home() / f"{self.state.run_dir.name}.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_metrics(path)

    def export_metrics(self, path) -> Path | None:
        from studio.gui.panels.runs import write_metrics_csv

        if self.state.run_dir is None:
            return None
        try:
            written = write_metrics_csv(self.state.run_dir, Path(path))
        except OSError as exc:
            show_error(self, f"The CSV file could not be written: {exc}")
            return None
        self.show_status(f"Saved {written}")
        return written

    @Slot()
    def install_desktop_entry(self) -> None:
        from studio.desktop import install_desktop_entry

        try:
            path = install_desktop_entry()
        except OSError as exc:
            show_error(self, f"The desktop entry could not be written: {exc}")
            return
        self.show_status(f"CNN Studio is now in the applications menu ({path})")

    # ------------------------------------------------------------ small things

    @Slot()
    def show_runs_list(self) -> None:
        self.left_tabs.setCurrentWidget(self.runs_panel)

    @Slot()
    def show_settings(self) -> None:
        self.left_tabs.setCurrentWidget(self.settings_panel)

    @Slot()
    def show_about(self) -> None:
        import studio

        QMessageBox.about(self, "About CNN Studio",
                          f"<b>CNN Studio {studio.__version__}</b><p>Train convolutional neural networks on images "
                          "and watch them learn: curves, kernels, activations, confusion matrices and "
                          "predictions, on CPU, CUDA or Apple MPS.</p>"
                          f"<p>Python {sys.version.split()[0]}</p>")

    @Slot(str)
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _show_message_error(self, message: str) -> None:
        show_error(self, message)

    def _update_actions(self) -> None:
        a = self.actions_by_key
        running = self.runner.is_running()
        paused = running and self.runner.paused
        a["train"].setEnabled(self.loaded and not running)
        a["pause"].setEnabled(running and not paused)
        a["stop"].setEnabled(running)
        resumable = False
        if self.loaded and not running:
            candidates = [self.state.run_dir] if self.state.run_dir else []
            candidates += self.runs_panel.selected_paths()[:1]
            resumable = any(self._is_resumable(p) for p in candidates if p)
        a["resume"].setEnabled(paused or resumable)
        a["new"].setEnabled(not running)
        a["open"].setEnabled(self.loaded and not running)
        a["export_plot"].setEnabled(self.loaded)
        a["export_csv"].setEnabled(self.loaded and self.state.run_dir is not None)

    def _cancel_task(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    # ------------------------------------------------------------ drops anywhere on the window

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.drop_files(paths)

    def drop_files(self, paths: list[str]) -> None:
        """Files dropped anywhere: the Predict tab takes them."""
        predict = self.tabs_by_key.get("predict")
        if predict is not None:
            self.tabs.setCurrentWidget(predict)
        self.state.filesDropped.emit([str(p) for p in paths])

    # ------------------------------------------------------------ persistence and closing

    def _restore_config(self) -> TrainConfig:
        raw = self.settings.value("config/last")
        if raw:
            try:
                config = TrainConfig.from_dict(json.loads(str(raw)))
                config.validate()
                return config
            except (ValueError, TypeError, StudioError):
                pass  # a settings file from another version: start from the defaults
        return TrainConfig()

    def _save_config(self, config: TrainConfig) -> None:
        self.settings.setValue("config/last", json.dumps(config.to_dict()))

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        try:
            self.left_tabs.setCurrentIndex(int(self.settings.value("window/left_tab", 0)))
        except (TypeError, ValueError):
            pass

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("window/left_tab", self.left_tabs.currentIndex())
        if self.loaded:
            self.settings.setValue("window/tab", self.tabs.currentIndex())
        if not self.runner.is_running():
            self._save_config(self.settings_panel.config())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self.runner.is_running() and not self._close_pending:
            if not self.confirm(self, "Quit while training?",
                                "A run is training. Stop it and quit?\n\nThe run is saved and can be "
                                "resumed later from its last finished epoch."):
                event.ignore()
                return
            # The run may have ended while the question was open: then there is nothing to wait for,
            # and a pending close left behind would shut the window when some later run finishes.
            if self.runner.is_running():
                self._close_pending = True
                self.stop_training()
        if self.runner.is_running():
            event.ignore()  # closed for real when the thread has ended (_on_runner_finished)
            return
        self._close_pending = False
        self.save_settings()
        for key in list(self._tasks):
            self._cancel_task(key)
        if self.training_tab is not None:
            self.training_tab._timer.stop()
        for tab in self.tabs_by_key.values():  # the Lab's animations and background work
            built = tab.widget if isinstance(tab, LazyTab) else tab
            shutdown = getattr(built, "shutdown", None)
            if callable(shutdown):
                try:
                    shutdown()
                except Exception:  # noqa: BLE001 - closing must not fail on one tab
                    traceback.print_exc()
        event.accept()

    @Slot()
    def _on_about_to_quit(self) -> None:
        """Last line of defence: the app is quitting with a run alive; stop it and wait (no QThread abort)."""
        if self.runner.is_running():
            self.runner.stop()
            self.runner.wait(60_000)


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
