"""Run slow work off the GUI thread, deliver results back on it.

Long work is a plain function `fn(progress, should_stop)` (the Orange3 pattern): it reports
progress through `progress(done, total)` and returns early when `should_stop()` is true.
The result, error or progress reaches the GUI thread through signals of a QObject that lives
there, so the callbacks may touch widgets. A lambda connected to a worker's own signal would
run in the worker thread (PySide6), which is why the relay below is created in the GUI thread.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from studio.core.errors import StudioError


class _Relay(QObject):
    """Lives in the GUI thread; its slots call the user's callbacks there."""

    done = Signal(object)
    failed = Signal(str, str)
    progressed = Signal(int, int)

    def __init__(self, task: "Task"):
        super().__init__()
        self._task = task
        self.done.connect(self._on_done)
        self.failed.connect(self._on_failed)
        self.progressed.connect(self._on_progress)

    @Slot(object)
    def _on_done(self, result: Any) -> None:
        self._task._finish()
        if not self._task.cancelled and self._task.on_done:
            self._task.on_done(result)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._task._finish()
        if not self._task.cancelled and self._task.on_error:
            self._task.on_error(message, details)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if not self._task.cancelled and self._task.on_progress:
            self._task.on_progress(done, total)


class _Runnable(QRunnable):
    def __init__(self, task: "Task"):
        super().__init__()
        self._task = task

    def run(self) -> None:
        task = self._task
        try:
            try:
                result = task.fn(task._report, task._stop.is_set)
            except _RelayGone:
                return
            except StudioError as exc:
                task._relay.failed.emit(str(exc), "")
            except Exception as exc:  # a bug, but the app must keep running: show it with details
                task._relay.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
            else:
                task._relay.done.emit(result)
        except RuntimeError:  # "Signal source has been deleted": the process is exiting; nobody is listening
            pass


class _RelayGone(Exception):
    """Raised into a task's function when its progress can no longer be delivered: stop working."""


class Task:
    """A handle on one piece of background work: cancel() it, ask whether it is running."""

    _alive: set["Task"] = set()  # keeps tasks (and their relays) alive until they finish

    def __init__(self, fn, on_done=None, on_error=None, on_progress=None):
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.on_progress = on_progress
        self.cancelled = False
        self.running = True
        self._stop = threading.Event()
        self._last_progress = None
        self._relay = _Relay(self)

    def cancel(self) -> None:
        self.cancelled = True
        self._stop.set()

    def _report(self, done: int, total: int) -> None:
        # Emit only when the visible percentage changes, so a tight loop cannot flood the GUI.
        key = (int(100 * done / total) if total else done, total)
        if key != self._last_progress:
            self._last_progress = key
            try:
                self._relay.progressed.emit(int(done), int(total))
            except RuntimeError as exc:  # the relay was deleted at exit
                raise _RelayGone() from exc

    def _finish(self) -> None:
        self.running = False
        Task._alive.discard(self)


def run_task(
    fn: Callable[[Callable[[int, int], None], Callable[[], bool]], Any],
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Task:
    """Start fn(progress, should_stop) on the global thread pool. Call from the GUI thread."""
    task = Task(fn, on_done, on_error, on_progress)
    Task._alive.add(task)
    QThreadPool.globalInstance().start(_Runnable(task))
    return task


def wait_for_all_tasks(timeout_ms: int = 30000) -> bool:
    """Used on quit and by tests: no background task may outlive the window."""
    for task in list(Task._alive):
        task.cancel()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
