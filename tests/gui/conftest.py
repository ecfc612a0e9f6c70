"""GUI tests: Python's cycle collector runs only in the GUI thread, as in the app."""

import gc

import pytest


@pytest.fixture(scope="session", autouse=True)
def _collect_garbage_in_gui_thread(qapp):
    from studio.gui.app import collect_garbage_in_gui_thread

    collect_garbage_in_gui_thread(qapp)
    yield


@pytest.fixture(autouse=True)
def _collect_after_each_test():
    yield
    gc.collect()  # here, in the main thread: never in a worker that happens to allocate
