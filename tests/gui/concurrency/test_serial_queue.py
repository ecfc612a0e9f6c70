"""JobQueue: one job at a time, newest model wins, dropped jobs reported."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWidget

from studio.gui.concurrency.serial_queue import JobQueue


def blocking_job(started: threading.Event, release: threading.Event, value):
    def fn(should_stop):
        started.set()
        release.wait(10)
        return value
    return fn


def test_jobs_run_one_after_another(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    queue = JobQueue(owner)
    active, most, results = [0], [0], []
    lock = threading.Lock()

    def job(value):
        def fn(should_stop):
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            threading.Event().wait(0.02)
            with lock:
                active[0] -= 1
            return value
        return fn

    for i in range(4):
        queue.submit(job(i), results.append)
    qtbot.waitUntil(lambda: len(results) == 4, timeout=10_000)
    assert results == [0, 1, 2, 3] and most[0] == 1


def test_reset_and_replace_report_the_dropped_jobs(qtbot):
    owner = QWidget()
    qtbot.addWidget(owner)
    queue = JobQueue(owner)
    started, release = threading.Event(), threading.Event()
    results, dropped, tags = [], [], []
    queue.dropped.connect(tags.append)
    queue.submit(blocking_job(started, release, "running"), results.append, tag="a",
                 on_dropped=lambda: dropped.append("running"))
    assert started.wait(10)
    queue.submit(lambda stop: "queued", results.append, tag="b", on_dropped=lambda: dropped.append("queued"))
    queue.submit(lambda stop: "replaced", results.append, tag="c", on_dropped=lambda: dropped.append("replaced"))
    queue.submit(lambda stop: "newest", results.append, tag="c", replace=True)
    assert dropped == ["replaced"]
    queue.reset()                                # a new model: everything queued or running is void
    assert dropped == ["replaced", "queued"] and tags == ["c", "b", "c"]
    release.set()
    qtbot.waitUntil(lambda: "running" in dropped, timeout=10_000)   # its result is dropped, and said so
    assert results == []
    queue.submit(lambda stop: "after reset", results.append)
    qtbot.waitUntil(lambda: results == ["after reset"], timeout=10_000)
    assert tags == ["c", "b", "c", "a"]


def test_a_queue_whose_owner_is_gone_delivers_nothing(qtbot):
    owner = QWidget()
    queue = JobQueue(owner)
    started, release = threading.Event(), threading.Event()
    results = []
    queue.submit(blocking_job(started, release, 1), results.append)
    assert started.wait(10)
    shiboken6.delete(owner)
    release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)
    assert results == []
