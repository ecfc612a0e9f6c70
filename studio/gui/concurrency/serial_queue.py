"""One background job at a time for the Predict tab, newest model wins.

Jobs run strictly one after another because Grad-CAM hooks the tab's model: two passes over
the same network at once would record each other's activations. `reset()` (a new model)
drops queued jobs and makes the running one stop early; its result is then ignored, but the
next job still waits for it to end, so the network is never used twice at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import shiboken6

from studio.gui.concurrency.tasks import Task, run_task


@dataclass
class _Job:
    generation: int
    fn: Callable[[Callable[[], bool]], Any]
    on_done: Callable[[Any], None]
    on_error: Callable[[str, str], None] | None
    tag: str


class JobQueue:
    def __init__(self, owner):
        self._owner = owner              # a QWidget: callbacks are skipped once it is deleted
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
               replace: bool = False) -> None:
        """fn(should_stop) runs in a worker; on_done(result) / on_error(message, details) in the GUI.

        replace: drop queued jobs with the same tag first (only the newest request matters).
        """
        if replace:
            self._jobs = deque(job for job in self._jobs if job.tag != tag)
        job = _Job(self.generation, fn, on_done, on_error, tag)
        self._jobs.appendleft(job) if front else self._jobs.append(job)
        self._pump()

    def reset(self) -> None:
        self.generation += 1
        self._jobs.clear()

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
                              lambda message, details: self._finished(job, None, (message, details)))

    def _finished(self, job: _Job, result, error) -> None:
        self._task = None
        self._running = None
        if shiboken6.isValid(self._owner) and job.generation == self.generation:
            try:
                if error is None:
                    job.on_done(result)
                elif job.on_error is not None:
                    job.on_error(*error)
            finally:
                self._pump()
        elif shiboken6.isValid(self._owner):
            self._pump()
