"""run_task: results reach the GUI thread through a relay owned by the widget that asked."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWidget

from studio.gui.concurrency.tasks import Task, _Runnable, run_task, running_tasks, wait_for_all_tasks


def test_the_result_arrives_in_the_gui_thread(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    seen = []
    run_task(lambda progress, stop: threading.get_ident(), on_done=lambda r: seen.append((r, threading.get_ident())),
             owner=owner)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    worker_thread, callback_thread = seen[0]
    assert callback_thread == threading.get_ident() != worker_thread


def test_errors_and_progress_reach_their_callbacks(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    progress_seen, errors = [], []

    def fn(progress, stop):
        progress(1, 2)
        raise ValueError("a bug")

    task = run_task(fn, on_error=lambda m, d: errors.append((m, d)), on_progress=lambda *a: progress_seen.append(a),
                    owner=owner)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert progress_seen == [(1, 2)]
    assert errors[0][0] == "ValueError: a bug" and "Traceback" in errors[0][1]
    assert not task.running


@pytest.mark.parametrize("outcome", ["done", "progress", "failed"])
def test_a_task_whose_owner_is_gone_ends_quietly(qtbot, outcome):
    """The owner is destroyed while its task runs: no callback, and progress() stops the work."""
    owner = QWidget()
    calls, reached = [], []

    def fn(progress, should_stop):
        if outcome == "progress":
            progress(1, 2)
            reached.append("after progress")   # must not happen: progress() raises once the owner is gone
        if outcome == "failed":
            raise ValueError("a bug")
        return 42

    task = Task(fn, on_done=calls.append, on_error=lambda *a: calls.append(a), on_progress=lambda *a: calls.append(a),
                owner=owner)
    shiboken6.delete(owner)          # the widget goes (its relay with it) while the task runs
    assert task.cancelled and task._stop.is_set()
    _Runnable(task).run()            # in this thread: nothing may raise, nothing may be delivered
    qtbot.wait(50)                   # let any (wrongly) queued delivery run
    assert reached == [] and calls == []
    assert not task.running


def test_a_cancelled_task_says_stop_and_delivers_nothing(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    started, release, results = threading.Event(), threading.Event(), []

    def fn(progress, should_stop):
        started.set()
        release.wait(10)
        return should_stop()

    task = run_task(fn, on_done=results.append, owner=owner)
    assert started.wait(10)
    task.cancel()
    release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.waitUntil(lambda: not task.running, timeout=10_000)
    assert results == []


def test_wait_for_all_tasks_cancels_and_waits(qtbot):
    stops = []

    def fn(progress, should_stop):
        while not should_stop():
            threading.Event().wait(0.01)
        stops.append(True)

    task = run_task(fn)
    assert task in running_tasks()
    assert wait_for_all_tasks(10_000)
    assert stops == [True]


def test_relays_do_not_pile_up_on_their_owner(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    done = []
    for i in range(5):
        run_task(lambda progress, stop, i=i: i, on_done=done.append, owner=owner)
    qtbot.waitUntil(lambda: len(done) == 5, timeout=10_000)
    qtbot.waitUntil(lambda: not owner.children(), timeout=5_000)
