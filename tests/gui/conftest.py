"""GUI tests: Python's cycle collector runs only in the GUI thread, as in the app."""

import gc

import pytest
from PySide6.QtCore import QThread


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_in_gui_thread(qapp):
    from studio.gui.app import collect_garbage_in_gui_thread

    collect_garbage_in_gui_thread(qapp)
    yield


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    gc.collect()  # here, in the main thread: never in a worker that happens to allocate


def is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ thread object is already gone
        return False


@pytest.fixture
def no_thread_left(monkeypatch):
    """napari's rule: a test that leaves a QThread or a background task running fails. Yields the threads started."""
    started: list[QThread] = []
    original = QThread.start

    def start(self, *args):
        started.append(self)
        return original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield started
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    tasks_done = wait_for_all_tasks(30_000)
    running = [t for t in started if is_running(t)]
    for thread in running:
        thread.wait(10_000)
    assert not running, f"{len(running)} QThread(s) still running after the test"
    assert tasks_done, "a background task was still running"


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
