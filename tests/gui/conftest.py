"""GUI tests: Python's cycle collector runs only in the GUI thread, as in the app."""

import gc

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QThread, QThreadPool, QTimer


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_in_gui_thread(qapp):
    from studio.gui.app import collect_garbage_in_gui_thread

    collect_garbage_in_gui_thread(qapp)
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    gc.collect()  # here, in the main thread: never in a worker that happens to allocate
    # What survives is mostly torch's, torchvision's and Qt's module objects (about 400k): set it aside
    # so the next collection scans only what later tests create (a full scan took 0.7 s per test).
    gc.freeze()


def is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ thread object is already gone
        return False


POOL_GRACE_MS = 3000   # a task that delivered its result may still be returning; a loaded CI machine is slow


def _is_live(timer: QTimer) -> bool:
    return shiboken6.isValid(timer) and timer.isActive()


@pytest.fixture(autouse=True)
def no_thread_left(monkeypatch):
    """napari's rule, for every GUI test: a test that leaves a QThread, a task of the global thread pool
    or an active QTimer behind fails (a timer left running fires into the next test). Yields the threads
    started during the test.

    It runs after pytest-qt has closed the test's widgets (qtbot.addWidget); their pending deleteLater()
    is carried out first, so a timer whose parent widget is gone is gone too."""
    started: list[QThread] = []
    timers: list[QTimer] = []
    start_thread, start_timer = QThread.start, QTimer.start

    def record_thread(self, *args):
        started.append(self)
        return start_thread(self, *args)

    def record_timer(self, *args):
        timers.append(self)
        return start_timer(self, *args)

    monkeypatch.setattr(QThread, "start", record_thread)
    monkeypatch.setattr(QTimer, "start", record_timer)
    yield started
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    running = [t for t in started if is_running(t)]
    pool_idle = QThreadPool.globalInstance().waitForDone(POOL_GRACE_MS)
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    wait_for_all_tasks(30_000)  # cancel what is left, so it cannot run into the next test
    for thread in running:
        thread.wait(10_000)
    live = [t for t in dict.fromkeys(timers) if _is_live(t)]
    described = [f"{type(t.parent()).__name__ if t.parent() else 'no parent'}" for t in live]
    for timer in live:
        timer.stop()  # one leak must not make the following tests fail too
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert pool_idle, "a background task was still running on the global thread pool when the test ended"
    assert not live, f"{len(live)} QTimer(s) still active after the test (parents: {', '.join(described)})"


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    """One real 2-epoch LeNet-5 run on mnist-sample (with epoch snapshots), shared by the tab tests."""
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer

    cfg = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=2, batch_size=64, lr=3e-3)
    trainer = Trainer(cfg, runs_dir=tmp_path_factory.mktemp("runs"))
    trainer.prepare()
    assert trainer.fit().status == "done"
    return trainer.run_dir, trainer.bundle, cfg
