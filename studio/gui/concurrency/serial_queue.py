"""Background jobs strictly one after another, newest model wins, and nothing dropped in silence.

The Predict tab runs its jobs this way because Grad-CAM hooks the tab's model: two passes over
the same network at once would record each other's activations. `reset()` (a new model) drops
queued jobs and makes the running one stop early; its result is then ignored, but the next job
still waits for it to end, so the network is never used twice at once.

Every job that will not deliver a result (dropped by reset() or replaced by a newer job with the
same tag) calls its on_dropped and emits `dropped(tag)`, so a caller waiting for an answer
learns at once that none will come (instead of polling the queue).

The queue is a child of the widget that owns it: when the widget goes, so do the queue and its
relays, and no callback runs on a dead widget.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.gui.concurrency.tasks import Task, run_task


@dataclass
class _Job:
    generation: int
    fn: Callable[[Callable[[], bool]], Any]
    on_done: Callable[[Any], None]
    on_error: Callable[[str, str], None] | None
    on_dropped: Callable[[], None] | None
    tag: str


class JobQueue(QObject):
    dropped = Signal(str)   # the tag of a job that will never deliver a result

    def __init__(self, owner: QObject):
        super().__init__(owner)
        self._jobs: deque[_Job] = deque()
        self._task: Task | None = None
        self._running: _Job | None = None
        self.generation = 0

    @property
    def busy(self) -> bool:
        return bool(self._jobs) or self._is_running()

    def pending(self, tag: str) -> int:
        return sum(1 for job in self._jobs if job.tag == tag) + int(
            self._is_running() and self._running is not None and self._running.tag == tag)

    def submit(self, fn, on_done, on_error=None, *, tag: str = "", front: bool = False,
               replace: bool = False, on_dropped: Callable[[], None] | None = None) -> None:
        """fn(should_stop) runs in a worker; on_done(result) / on_error(message, details) in the GUI.

        replace: drop queued jobs with the same tag first (only the newest request matters).
        on_dropped(): called in the GUI thread when this job is dropped without a result.
        """
        if replace:
            self._drop([job for job in self._jobs if job.tag == tag])
        job = _Job(self.generation, fn, on_done, on_error, on_dropped, tag)
        self._jobs.appendleft(job) if front else self._jobs.append(job)
        self._pump()

    def reset(self) -> None:
        """Drop every queued job; the running one stops early and its result is dropped too."""
        self.generation += 1
        self._drop(list(self._jobs))

    def _drop(self, jobs: list[_Job]) -> None:
        for job in jobs:
            self._jobs.remove(job)
        for job in jobs:
            self._report_dropped(job)

    def _report_dropped(self, job: _Job) -> None:
        if job.on_dropped is not None:
            job.on_dropped()
        self.dropped.emit(job.tag)

    def _is_running(self) -> bool:
        return self._task is not None and self._task.running

    def _pump(self) -> None:
        if self._is_running() or not self._jobs:
            return
        job = self._jobs.popleft()
        self._running = job

        def work(progress, should_stop):
            return job.fn(lambda: should_stop() or job.generation != self.generation)

        self._task = run_task(work, lambda result: self._finished(job, result, None),
                              lambda message, details: self._finished(job, None, (message, details)), owner=self)

    def _finished(self, job: _Job, result, error) -> None:
        self._task = None
        self._running = None
        try:
            if job.generation != self.generation:
                self._report_dropped(job)
            elif error is None:
                job.on_done(result)
            elif job.on_error is not None:
                job.on_error(*error)
        finally:
            self._pump()
