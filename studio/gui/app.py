"""Start the studio: QApplication, icon, error hook, the main window; torch only after it shows.

Importing torch takes seconds; the window must not wait for it. Nothing here imports torch,
torchvision or pyqtgraph: the window shows a loading state and imports them in the
background (MainWindow.start_loading).
"""

from __future__ import annotations

import gc
import os
import sys
import time
import traceback

_PROCESS_CLOCK = time.perf_counter()

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot  # noqa: E402
from PySide6.QtGui import QIcon  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.core.paths import RESOURCES  # noqa: E402
from studio.gui.widgets.plot_config import configure_pyqtgraph  # noqa: E402,F401  (its old home)

APP_NAME = "CNN Studio"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    icon = QIcon()
    folder = RESOURCES / "icons"
    for size in ICON_SIZES:
        path = folder / f"cnn-studio-{size}.png"
        if path.is_file():
            icon.addFile(str(path))
    if icon.isNull() and (folder / "cnn-studio.svg").is_file():
        icon = QIcon(str(folder / "cnn-studio.svg"))
    return icon


class _ErrorRelay(QObject):
    """Carries an exception report to the GUI thread, wherever it was raised."""

    report = Signal(str, str)

    def __init__(self):
        super().__init__()
        # Always queued: PySide calls the excepthook from inside its own error handling, where
        # building a dialog on the spot crashes the process (seen with PySide6 6.11). The dialog is
        # shown from the event loop a moment later instead.
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    @Slot(str, str)
    def _show(self, message: str, details: str) -> None:
        from studio.gui.widgets.error_dialog import show_error

        show_error(None, message, details)  # parented to the main window when there is one


_relay: _ErrorRelay | None = None


def install_excepthook() -> None:
    """An uncaught exception (a bug in a slot, say) becomes an error dialog; the app keeps running.

    PySide6 hands exceptions raised in slots and virtual overrides to sys.excepthook. The
    default hook prints them, and some bindings abort; ours prints and shows a dialog.
    """
    global _relay
    if _relay is None:
        _relay = _ErrorRelay()  # created in the GUI thread, so its slot runs there

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        traceback.print_exception(exc_type, exc, tb)
        from studio.gui.widgets.error_dialog import describe_exception

        if exc is None:
            exc = exc_type()
        exc.__traceback__ = tb
        message, details = describe_exception(exc)
        try:
            _relay.report.emit(message, details)
        except RuntimeError:  # the relay is gone (the app is shutting down): printing is all we can do
            pass

    sys.excepthook = hook


def _startup_probe(window) -> None:
    """CNN_STUDIO_STARTUP_PROBE=1 (bench/gui_overhead.py): print when the window shows and is ready, then quit."""
    stamps: dict[str, float] = {}

    def shown() -> None:
        stamps["shown"] = time.time()
        print(f"probe shown {stamps['shown']:.6f} {time.perf_counter() - _PROCESS_CLOCK:.6f}", flush=True)

    def ready() -> None:
        print(f"probe ready {time.time():.6f} {time.perf_counter() - _PROCESS_CLOCK:.6f}", flush=True)
        print(f"probe closing {time.time():.6f} {time.perf_counter() - _PROCESS_CLOCK:.6f}", flush=True)
        window.close()

    QTimer.singleShot(0, shown)
    window.ready.connect(ready)


def _drive_with_script(window, path: str) -> None:
    """CNN_STUDIO_SCRIPT=file.py (tools/screenshot_x11.py): once ready, call the file's drive(window)."""
    import runpy

    drive = runpy.run_path(path)["drive"]
    window.ready.connect(lambda: drive(window))


class _GuiThreadCollector(QObject):
    """Python's cycle collection, run from a GUI-thread timer (what pyqtgraph's GarbageCollector does,
    without importing pyqtgraph before the window shows)."""

    def __init__(self, parent: QObject, interval_ms: int = 500):
        super().__init__(parent)
        gc.disable()
        self._threshold = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    @Slot()
    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._threshold[generation]:
                gc.collect(generation)
                return


def collect_garbage_in_gui_thread(app: QApplication) -> None:
    """Turn off Python's automatic cycle collection and collect from a GUI-thread timer instead.

    Automatic collection runs in whichever thread happens to allocate; when it frees a cycle
    holding a Qt widget in the training or a pool thread, the widget's destructor waits for
    the GIL there and the process deadlocks or crashes (seen in a test run: a Predict-tab
    worker stuck in QObject::~QObject).
    """
    if getattr(app, "_studio_gc", None) is None:
        app._studio_gc = _GuiThreadCollector(app)


def run(argv: list[str] | None = None) -> int:
    """Open the studio's window and run until it closes; returns the exit code."""
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance()
    owns_process = app is None   # not embedded in another Qt program (or a test): the process is ours
    if app is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("cnn-studio")
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("cnn-studio")
    app.setWindowIcon(app_icon())
    if "QT_STYLE_OVERRIDE" not in os.environ:
        app.setStyle("Fusion")
    install_excepthook()
    collect_garbage_in_gui_thread(app)

    from studio.gui.window.main_window import MainWindow

    window = MainWindow()
    if os.environ.get("CNN_STUDIO_STARTUP_PROBE"):
        _startup_probe(window)
    from studio.gui.self_test import ENV, SelfTest

    check = SelfTest(window) if os.environ.get(ENV) else None   # CI: quit when ready, fail on an error
    if os.environ.get("CNN_STUDIO_SCRIPT"):
        _drive_with_script(window, os.environ["CNN_STUDIO_SCRIPT"])
    window.show()
    code = app.exec()
    _shutdown(window)
    code = int(check.exit_code if check else code)
    if owns_process:
        _end_process(code)
    return code


def _end_process(code: int) -> None:
    """End the process now that nothing is left to save.

    By the time the window has closed, the run is saved and its thread joined, the settings are
    synced and every background task has ended. What remained was Python's own teardown of torch,
    numpy, pyqtgraph and Qt's objects: 2-3 s here (4-8 s reported on a loaded machine) with the
    window already gone and nothing written. The atexit hooks still run first (they take 0.1 s).
    """
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _shutdown(window) -> None:
    """No thread may outlive the event loop: a running QThread at exit aborts the process."""
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    if window.session.is_running():
        window.session.stop()
        window.session.wait()    # the run saves itself: no time limit
    # Background tasks only read (a dataset, a checkpoint) or compute; cancelled, they end between
    # steps. One still busy after a second (a download between two chunks) is not waited for.
    wait_for_all_tasks(1_000)


if __name__ == "__main__":
    sys.exit(run())
