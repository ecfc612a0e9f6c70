"""Run slow work off the GUI thread, deliver results back on it: the studio's one way to do it.

Long work is a plain function `fn(progress, should_stop)` (the Orange3 pattern): it reports
progress through `progress(done, total)` and returns early when `should_stop()` is true.

Two QObjects carry a task's news, both living in the GUI thread:
  * the emitter, which the worker emits on. It belongs to Qt (a child of the application), so it
    outlives whoever asked, and deletes itself through the GUI event loop once the work has ended;
  * the relay, a child of the QObject that asked (the owner). Its slots call the callbacks. When
    the owner is destroyed the relay goes with it, Qt drops the queued signals, and no callback
    ever runs on a dead widget: nobody has to ask shiboken whether the owner is still valid.
A lambda connected to a worker's own signal would run in the worker thread (PySide6): the
emitter and the relay are created here, in the GUI thread, which is why this works.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

from studio.core.errors import StudioError


class TaskGone(Exception):
    """Raised into a task's function by progress() once its owner is gone: nobody is waiting, stop."""


class _Emitter(QObject):
    """What the worker emits on; owned by the application until the work ends."""

    done = Signal(object)
    failed = Signal(str, str)
    progressed = Signal(int, int)
    ended = Signal()

    def __init__(self, task: "Task"):
        super().__init__(QCoreApplication.instance())
        self.task = task
        self.ended.connect(self.deleteLater)  # queued from the worker: deleted in the GUI thread

    @Slot()
    def owner_gone(self) -> None:
        if self.task.running:  # the relay also goes after delivering its result: that is no loss
            self.task._owner_gone = True
            self.task.cancel()


class _Relay(QObject):
    """A child of the owner; its slots run the callbacks in the GUI thread."""

    def __init__(self, task: "Task", owner: QObject | None):
        super().__init__(owner)
        self._task = task

    @Slot(object)
    def on_done(self, result: Any) -> None:
        task = self._end()
        if not task.cancelled and task.on_done:
            task.on_done(result)

    @Slot(str, str)
    def on_failed(self, message: str, details: str) -> None:
        task = self._end()
        if not task.cancelled and task.on_error:
            task.on_error(message, details)

    @Slot(int, int)
    def on_progress(self, done: int, total: int) -> None:
        if not self._task.cancelled and self._task.on_progress:
            self._task.on_progress(done, total)

    def _end(self) -> "Task":
        self._task.running = False
        self.deleteLater()  # one relay per task: the owner does not collect them
        return self._task


class _Runnable(QRunnable):
    def __init__(self, task: "Task"):
        super().__init__()
        self._task = task

    def run(self) -> None:
        task, emitter = self._task, self._task._emitter
        try:
            try:
                result = task.fn(task._report, task._stop.is_set)
            except TaskGone:
                return
            except StudioError as exc:
                emitter.failed.emit(str(exc), "")
            except Exception as exc:  # a bug, but the app must keep running: show it with details
                emitter.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
            else:
                emitter.done.emit(result)
        finally:
            task.running = task.running and not task._owner_gone
            try:
                emitter.ended.emit()
            except RuntimeError:  # the application is gone (interpreter exit): nothing left to tidy
                pass


class Task:
    """A handle on one piece of background work: cancel() it, ask whether it is running."""

    def __init__(self, fn, on_done=None, on_error=None, on_progress=None, owner: QObject | None = None):
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.on_progress = on_progress
        self.cancelled = False
        self.running = True
        self._owner_gone = False
        self._stop = threading.Event()
        self._last_progress = None
        self._emitter = _Emitter(self)
        relay = _Relay(self, owner if owner is not None else self._emitter)
        self._emitter.done.connect(relay.on_done)
        self._emitter.failed.connect(relay.on_failed)
        self._emitter.progressed.connect(relay.on_progress)
        relay.destroyed.connect(self._emitter.owner_gone)

    def cancel(self) -> None:
        self.cancelled = True
        self._stop.set()

    def _report(self, done: int, total: int) -> None:
        if self._owner_gone:
            raise TaskGone()
        # Emit only when the visible percentage changes, so a tight loop cannot flood the GUI.
        key = (int(100 * done / total) if total else done, total)
        if key != self._last_progress:
            self._last_progress = key
            self._emitter.progressed.emit(int(done), int(total))


def run_task(
    fn: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    owner: QObject | None = None,
) -> Task:
    """Start fn(progress, should_stop) on the global thread pool. Call from the GUI thread.

    owner: the QObject that asked. Once it is destroyed no callback runs, should_stop() turns
    true and progress() raises TaskGone into fn. Without an owner the callbacks always run.
    """
    task = Task(fn, on_done, on_error, on_progress, owner)
    QThreadPool.globalInstance().start(_Runnable(task))
    return task


def running_tasks() -> list[Task]:
    app = QCoreApplication.instance()
    if app is None:
        return []
    return [e.task for e in app.findChildren(_Emitter) if e.task.running]


def wait_for_all_tasks(timeout_ms: int = 30000) -> bool:
    """Used on quit and by tests: no background task may outlive the window."""
    for task in running_tasks():
        task.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
