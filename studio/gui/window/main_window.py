"""The main window: settings and runs on the left, training controls and the tabs on the right.

A thin shell: menus, tabs, status bar, drag and drop, settings persistence. It appears before
torch is imported; start_loading() (on the first show) imports torch and the core in the
background (loader.load_core) while a "Loading" page shows, then adds the tabs, each built the
first time it is shown. The work lives elsewhere: TrainingSession (session.py) runs training,
WorkspaceLoader (loader.py) loads datasets, RunViews (run_views.py) opens, compares and tidies
runs, exports.py writes files. Tabs are asked through their public methods, never poked.
"""

from __future__ import annotations

import time
import traceback
from importlib import import_module
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QMainWindow, QProgressBar, QSplitter, QStackedWidget,
    QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from studio.core.config.train_config import TrainConfig
from studio.core.errors import StudioError
from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.lectures.actions import connect_panel
from studio.gui.lectures.panel import LecturesPanel
from studio.gui.panels.runs import RunsPanel, _ask_yes_no
from studio.gui.panels.settings import SettingsPanel
from studio.gui.state import StudioState
from studio.gui.widgets.error_dialog import show_error
from studio.gui.widgets.lazy_tab import LazyTab
from studio.gui.widgets.loading_page import LoadingPage
from studio.gui.widgets.plot_config import configure_pyqtgraph
from studio.gui.window import exports, menus
from studio.gui.window.loader import WorkspaceLoader, load_core
from studio.gui.window.persistence import WindowSettings, open_settings  # noqa: F401  (open_settings: tests)
from studio.gui.window.run_views import RunViews
from studio.gui.window.session import TrainingSession
from studio.gui.window.timeline import install_timeline

# (key, title, module, class, takes state). Added after torch loads, in this order; built when first shown.
TAB_SPECS = (
    ("data", "Data", "studio.gui.tabs.data", "DataTab", True),
    ("training", "Training", "studio.gui.tabs.training", "TrainingTab", True),
    ("model", "Model", "studio.gui.tabs.inspect.model", "ModelTab", True),
    ("kernels", "Kernels", "studio.gui.tabs.inspect.kernels", "KernelsTab", True),
    ("activations", "Activations", "studio.gui.tabs.inspect.activations", "ActivationsTab", True),
    ("evaluation", "Evaluation", "studio.gui.tabs.inspect.evaluation", "EvaluationTab", True),
    ("predict", "Predict", "studio.gui.tabs.predict.tab", "PredictTab", True),
    ("lab", "Lab", "studio.gui.tabs.lab.tab", "LabTab", False),
    ("compare", "Compare", "studio.gui.tabs.inspect.compare", "CompareTab", True),
)


class MainWindow(QMainWindow):
    ready = Signal()   # torch is loaded and the tabs exist

    def __init__(self, settings=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("CNN Studio")
        self.setObjectName("CnnStudioMainWindow")
        self.store = WindowSettings(settings or open_settings())
        self.settings = self.store.settings
        self.state = StudioState(self.store.config())
        self.session = TrainingSession(self.state, self)
        self.workspace = WorkspaceLoader(self.state, self)
        self.loaded = False
        self.tabs_by_key: dict[str, LazyTab] = {}
        self.training_tab = None
        self.confirm = _ask_yes_no        # replaced by tests: nothing modal may block them
        self._load_started = False
        self._close_pending = False
        self._core_task: Task | None = None
        self.core_info: dict = {}
        self.timeline = None              # gui/window/timeline.py, once the tabs exist
        self._build()
        self.runs = RunViews(self)
        self.actions_by_key = menus.build_actions(self)
        self.view_menu = menus.build_menus(self, self.actions_by_key)
        self._connect()
        self.store.restore_geometry(self)
        self._update_actions()
        self.setAcceptDrops(True)

    @property
    def runner(self):
        return self.session.runner

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
        self.left_tabs.setMinimumWidth(280)

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
        self.set_progress(0, 1, "Loading PyTorch…")
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)   # eight tabs fit a narrow window by scrolling the bar
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

    def _connect(self) -> None:
        self.settings_panel.configChanged.connect(self._on_config_edited)
        self.settings_panel.datasetChanged.connect(self.load_dataset)
        self.settings_panel.modelChanged.connect(self.workspace.update_model_info)
        s = self.session
        s.progressChanged.connect(self.set_progress)
        s.statusMessage.connect(self.show_status)
        s.errorRaised.connect(self._show_error)
        s.stateChanged.connect(self._update_actions)
        s.finished.connect(self._on_training_finished)
        w = self.workspace
        w.statusMessage.connect(self.show_status)
        w.modelInfo.connect(self.settings_panel.set_model_info)
        w.datasetFailed.connect(self._on_dataset_failed)
        w.datasetLoaded.connect(self._update_actions)
        self.state.runChanged.connect(self._on_run_changed)
        self.state.statusMessage.connect(self.show_status)
        self.runs_panel.errorRaised.connect(self._show_error)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_about_to_quit)

    # ------------------------------------------------------------ loading torch after the window shows

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._load_started:
            self.start_loading()

    @Slot()
    def start_loading(self) -> None:
        if self._load_started:
            return
        self._load_started = True
        self._load_clock = time.perf_counter()
        self.show_status("Loading PyTorch…")
        self._core_task = run_task(load_core, self._on_core_loaded, self._on_core_failed, owner=self)

    def _on_core_loaded(self, info: dict) -> None:
        configure_pyqtgraph()
        self.core_info = info
        self.settings_panel.populate(info["datasets"], info["models"], info["devices"])
        self.state.set_config(self.settings_panel.config())
        self._add_tabs()
        self.timeline = install_timeline(self)
        self.stack.setCurrentWidget(self.tabs)
        self.runs_panel.setEnabled(True)
        self.runs_panel.refresh()
        devices = ", ".join(label for _, label in info["devices"])
        self.device_label.setText(f"PyTorch {info['torch']} · {devices}")
        self.loaded = True
        self.set_progress(0, 1, "Ready: press Train")
        self.show_status(f"Ready (PyTorch loaded in {time.perf_counter() - self._load_clock:.1f} s)")
        self._update_actions()
        self.load_dataset(self.state.config.dataset)
        last_run = self.store.last_run()
        if last_run is not None:
            self.open_run(last_run)   # where the previous session left off
        self.ready.emit()

    def _on_core_failed(self, message: str, details: str) -> None:
        self.loading_page.show_failure(message)
        self.set_progress(0, 1, "PyTorch could not be loaded")
        show_error(self, f"PyTorch could not be loaded: {message}", details)

    def _add_tabs(self) -> None:
        for index, (key, title, module, cls, takes_state) in enumerate(TAB_SPECS):
            def factory(module=module, cls=cls, takes_state=takes_state):
                tab_class = getattr(import_module(module), cls)
                return tab_class(self.state) if takes_state else tab_class()

            tab = LazyTab(factory, title)
            self.tabs.addTab(tab, title)
            self.tabs_by_key[key] = tab
            self.view_menu.addAction(menus.make_action(self, f"{title} tab", lambda _=False, k=key: self.show_tab(k),
                                                  [f"Ctrl+{index + 1}"]))
        self.training_tab = self.tab("training")   # fed by the session from the first run on
        self.session.set_view(self.training_tab)
        self.store.restore_tab(self.tabs)

    def tab(self, key: str) -> QWidget | None:
        """The tab's content, built now if it was not yet."""
        holder = self.tabs_by_key.get(key)
        return holder.build() if holder is not None else None

    def show_tab(self, key: str) -> QWidget | None:
        widget = self.tab(key)
        if widget is not None:
            self.tabs.setCurrentWidget(self.tabs_by_key[key])
        return widget

    def current_tab(self) -> QWidget | None:
        holder = self.tabs.currentWidget()
        return holder.widget if isinstance(holder, LazyTab) else holder

    # ------------------------------------------------------------ settings and dataset

    @Slot()
    def _on_config_edited(self) -> None:
        previous = self.state.config
        config = self.settings_panel.config()
        self.state.set_config(config)
        self.store.save_config(config)
        if (previous.model, previous.pretrained, previous.model_options) != \
                (config.model, config.pretrained, config.model_options):
            self.workspace.update_model_info()

    def apply_config(self, config: TrainConfig) -> None:
        """Show a config (a resumed run's) in the panel and the tabs; reload the data if it differs."""
        previous = self.state.config
        self.settings_panel.set_config(config)
        self.state.set_config(self.settings_panel.config())
        if (previous.dataset, previous.image_size) != (config.dataset, config.image_size):
            self.load_dataset(config.dataset)
        else:
            self.workspace.update_model_info()

    @Slot(str)
    def load_dataset(self, name: str) -> None:
        """Load (maybe download) the dataset off the GUI thread; Train waits for it."""
        if self.loaded:
            self.workspace.load_dataset(name)
            self._update_actions()

    def _on_dataset_failed(self, message: str, details: str) -> None:
        self._update_actions()
        show_error(self, f"The dataset could not be loaded: {message}", details)

    # ------------------------------------------------------------ training controls

    @Slot()
    def start_training(self) -> bool:
        if not self.loaded or self.session.is_running() or self.state.dataset is None:
            if self.loaded and self.state.dataset is None:
                self.show_status("Train needs a dataset: choose one that loads (see the Data tab).")
            return False
        config = self.settings_panel.config()
        try:
            config.validate()
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self.state.set_config(config)
        self.store.save_config(config)
        self.training_tab.start_live(f"{config.model} on {config.dataset}")
        return self._begin(config)

    def _begin(self, config: TrainConfig | None, run_dir: Path | None = None, resume: bool = False) -> bool:
        if not self.session.start(config, run_dir=run_dir, resume=resume):
            return False
        self.settings_panel.set_locked(True)
        self.show_tab("training")
        return True

    @Slot()
    def pause_training(self) -> None:
        self.session.pause()

    @Slot()
    def stop_training(self) -> None:
        self.session.stop()

    @Slot()
    def resume_training(self) -> None:
        if self.session.is_running():
            self.session.unpause()
            return
        candidate = self.runs.resumable_candidate()
        if candidate is not None:
            self.resume_run(candidate)

    @Slot(object)
    def resume_run(self, run_dir) -> bool:
        """Continue a stopped run from its last checkpoint, with its own settings."""
        from studio.core.runs import read_run

        if not self.loaded or self.session.is_running():
            return False
        run_dir = Path(run_dir)
        try:
            info = read_run(run_dir)
        except StudioError as exc:
            show_error(self, str(exc))
            return False
        self.apply_config(TrainConfig.from_dict(info.config))
        self.training_tab.start_live(run_dir.name, resume_from=run_dir)
        return self._begin(None, run_dir=run_dir, resume=True)

    @Slot()
    def _on_training_finished(self) -> None:
        self.settings_panel.set_locked(False)
        self.runs_panel.set_active_run(None)
        if self.loaded:
            self.runs_panel.refresh()
        self._update_actions()
        if self._close_pending:
            self.close()

    @Slot()
    def _on_run_changed(self) -> None:
        run_dir = self.state.run_dir
        if run_dir is not None:
            self.store.save_last_run(run_dir)
        if run_dir is not None and self.session.is_running():
            self.runs_panel.set_active_run(run_dir)
            self.runs_panel.refresh()
        self._update_actions()

    # ------------------------------------------------------------ runs (run_views.py does the work)

    @Slot()
    def new_run(self) -> None:
        if self.session.is_running():
            self.show_status("A run is training: stop it before starting a new one.")
            return
        if self.training_tab is not None:
            self.training_tab.clear()
        self.state.set_run(None)
        self.state.set_model(None)
        self.set_progress(0, 1, "Ready: press Train" if self.loaded else "Loading PyTorch…")
        self.show_settings()
        self._update_actions()

    def open_run(self, run_dir) -> bool:
        return self.runs.open_run(run_dir)

    def compare_runs(self, run_dirs: list) -> None:
        self.runs.compare(run_dirs)

    # ------------------------------------------------------------ export

    def export_plot(self, key: str, path) -> Path | None:
        return exports.export_plot(self, key, path)

    def export_metrics(self, path) -> Path | None:
        return exports.export_metrics(self, path)

    # ------------------------------------------------------------ small things

    @Slot()
    def show_runs_list(self) -> None:
        self.left_tabs.setCurrentWidget(self.runs_panel)

    @Slot()
    def show_settings(self) -> None:
        self.left_tabs.setCurrentWidget(self.settings_panel)

    @Slot(str)
    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    @Slot(int, int, str)
    def set_progress(self, value: int, maximum: int, text: str) -> None:
        self.progress.setRange(0, maximum)
        self.progress.setValue(value)
        self.progress.setFormat(text)

    def _show_error(self, message: str, details: str = "") -> None:
        show_error(self, message, details)

    @Slot()
    def _update_actions(self) -> None:
        a = self.actions_by_key
        running = self.session.is_running()
        asked = running and self.session.pause_requested
        a["train"].setEnabled(self.loaded and not running and self.state.dataset is not None)
        a["pause"].setEnabled(running and not asked)
        a["stop"].setEnabled(running)
        a["resume"].setEnabled(asked or (self.loaded and not running and self.runs.resumable_candidate() is not None))
        a["new"].setEnabled(not running)
        a["open"].setEnabled(self.loaded and not running)
        a["export_plot"].setEnabled(self.loaded)
        a["export_csv"].setEnabled(self.loaded and self.state.run_dir is not None)

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
        """Files dropped anywhere: the Predict tab takes them (built first, so it hears of them)."""
        self.show_tab("predict")
        self.state.filesDropped.emit([str(p) for p in paths])

    # ------------------------------------------------------------ closing

    def save_settings(self) -> None:
        self.store.save_window(self, self.tabs if self.loaded else None)
        if not self.session.is_running():
            self.store.save_config(self.settings_panel.config())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        if self.session.is_running() and not self._close_pending:
            if not self.confirm(self, "Quit while training?",
                                "A run is training. Stop it and quit?\n\nThe run is saved and can be "
                                "resumed later from its last finished epoch."):
                event.ignore()
                return
            # The run may have ended while the question was open: then there is nothing to wait for,
            # and a pending close left behind would shut the window when some later run finishes.
            if self.session.is_running():
                self._close_pending = True
                self.stop_training()
        if self.session.is_running():
            event.ignore()  # closed for real when the thread has ended (_on_training_finished)
            return
        self._close_pending = False
        self.save_settings()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Cancel the background work and ask every built tab to stop its own."""
        if self._core_task is not None:
            self._core_task.cancel()
        self.workspace.shutdown()
        self.session.shutdown()
        self.runs.shutdown()
        if self.timeline is not None:
            self.timeline.shutdown()
        for holder in self.tabs_by_key.values():
            stop = getattr(holder.widget, "shutdown", None)
            if callable(stop):
                try:
                    stop()
                except Exception:  # noqa: BLE001 - closing must not fail on one tab
                    traceback.print_exc()

    @Slot()
    def _on_about_to_quit(self) -> None:
        """Last line of defence: the app is quitting with a run alive; stop it and wait (no QThread abort)."""
        if self.session.is_running():
            self.session.stop()
            self.session.wait(60_000)
