"""Training off the GUI thread: a QObject worker in a QThread, driving the core's Trainer.

The worker turns the Trainer's events into Qt signals that carry plain Python and numpy
values. Batch events are never sent one by one: they are collected and sent as arrays at most
every `emit_interval` seconds (throttled by time, not count, so a fast model cannot flood the
GUI). Pause and stop are flags the Trainer checks between batches; they may be set from any
thread.

TrainingRunner owns the thread's lifetime: start(), stop(), wait(), and the pause state. It does
not relay the worker's signals: subscribe(name, slot) connects the slot straight to that signal
of every worker it starts. The slot must be a @Slot of a QObject living in the GUI thread (then
Qt queues the call there; a lambda connected to the worker would run in the worker thread).
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from studio.core.config.train_config import TrainConfig
from studio.core.errors import StudioError

BATCH_FIELDS = ("epoch", "batch", "step", "loss", "accuracy", "lr")


class BatchBuffer:
    """BatchEnd events since the last emit, handed over as a dict of numpy arrays."""

    def __init__(self):
        self._rows: list[tuple] = []
        self._last = None

    def add(self, event) -> None:
        self._rows.append((event.epoch, event.batch, event.step, event.loss, event.accuracy, event.lr))
        self._last = event

    def __len__(self) -> int:
        return len(self._rows)

    def take(self) -> dict | None:
        """The packet {field: array, 'x': fractional epoch, 'batches', 'images_per_sec'}; None when empty."""
        if not self._rows:
            return None
        import numpy as np  # here, not at the top: the window module must import fast

        table = np.asarray(self._rows, dtype=np.float64)
        packet = {name: table[:, i].copy() for i, name in enumerate(BATCH_FIELDS)}
        last = self._last
        packet["x"] = packet["epoch"] - 1 + packet["batch"] / max(last.batches, 1)
        packet["batches"] = int(last.batches)
        packet["images_per_sec"] = float(last.images_per_sec)
        self._rows = []
        return packet


def failure_text(exc: BaseException) -> tuple[str, str]:
    """(message, details): the user's mistakes read as one sentence, bugs keep their traceback."""
    if isinstance(exc, StudioError):
        return str(exc), ""
    return f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class TrainingWorker(QObject):
    """Runs one Trainer in whichever thread it was moved to; call run() through thread.started."""

    fitStarted = Signal(object)     # FitStart
    batches = Signal(object)        # BatchBuffer.take() packet
    epochEnded = Signal(object)     # EpochEnd (numpy confusion and kernels copies)
    fitEnded = Signal(object)       # FitEnd, always exactly once per run()
    failed = Signal(str, str)       # message, details
    preparing = Signal(int, int)    # download/build progress before the first batch
    blocked = Signal(bool)          # True: the trainer sleeps between two batches (paused); False: it goes on
    health = Signal(object)         # health and diagnosis records (engine/health.py), a list, sent with the batches
    finished = Signal()             # the last signal; run() has returned

    def __init__(self, config: TrainConfig, *, runs_dir: str | Path | None = None,
                 run_dir: str | Path | None = None, resume: bool = False, emit_interval: float = 0.1):
        super().__init__()  # no parent: a QObject with a parent cannot be moved to a thread
        self.config = config
        self.runs_dir = runs_dir
        self.run_dir = run_dir
        self.resume = resume
        self.emit_interval = emit_interval
        self.trainer = None
        self._lock = threading.Lock()
        self._stop_requested = False
        self._paused = False
        self._buffer = BatchBuffer()
        self._health: list[dict] = []
        self._last_emit = 0.0
        self._failed = False
        self._ended = False
        self._started = time.perf_counter()

    # ------------------------------------------------------------ flags (any thread)

    def request_stop(self) -> None:
        with self._lock:
            self._stop_requested = True
            if self.trainer is not None:
                self.trainer.request_stop()

    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()

    def unpause(self) -> None:
        with self._lock:
            self._paused = False
            if self.trainer is not None:
                self.trainer.unpause()

    # ------------------------------------------------------------ the thread's work

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug in this module: still report it and finish cleanly
            self._report_failure(*failure_text(exc))
        finally:
            self.finished.emit()

    def _run(self) -> None:
        from studio.core.engine.trainer import Trainer

        self._started = time.perf_counter()
        try:
            trainer = Trainer(self.config, callbacks=[self._on_event], runs_dir=self.runs_dir,
                              run_dir=self.run_dir, resume=self.resume, keep_cores_free=1)
        except Exception as exc:
            self._report_failure(*failure_text(exc))
            return
        trainer.on_blocked = self._on_blocked
        with self._lock:
            self.trainer = trainer
            if self._paused:
                trainer.pause()
        try:
            trainer.prepare(progress=self._on_prepare_progress)
        except Exception as exc:
            self._report_failure(*failure_text(exc))
            return
        if self._stop_requested:  # stopped while the data loaded: no run folder for nothing
            self._end("stopped", "stopped before training began")
            return
        trainer.fit()  # catches everything; errors arrive as FitError and FitEnd events

    def _on_prepare_progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._last_emit >= self.emit_interval or done >= total:
            self._last_emit = now
            self.preparing.emit(int(done), int(total))

    def _on_event(self, event) -> None:
        """The Trainer's callback, in this worker's thread."""
        from studio.core.engine.events import (BatchEnd, Diagnosis, EpochEnd, FitEnd, FitError, FitStart, HealthEpoch,
                                               HealthStep, event_record)

        if isinstance(event, HealthStep):   # every few steps: throttled with the batches
            self._health.append(event_record(event))
            return
        if isinstance(event, BatchEnd):
            self._buffer.add(event)
            now = time.perf_counter()
            if now - self._last_emit >= self.emit_interval:
                self._last_emit = now
                self._flush()
            return
        self._flush()
        if isinstance(event, FitStart):
            self._last_emit = 0.0  # the first batch shows at once
            self.fitStarted.emit(event)
        elif isinstance(event, EpochEnd):
            self.epochEnded.emit(event)
        elif isinstance(event, FitError):
            self._failed = True
            self.failed.emit(event.message, event.details)
        elif isinstance(event, FitEnd):
            self._ended = True
            self.fitEnded.emit(event)
        elif isinstance(event, (HealthEpoch, Diagnosis)):   # once an epoch (the last after fitEnded): at once
            self._health.append(event_record(event))
            self._flush()

    def _on_blocked(self, blocked: bool) -> None:
        """The Trainer's pause hook, in this worker's thread: show every batch run so far, then say so."""
        self._flush()
        self.blocked.emit(blocked)

    def _flush(self) -> None:
        packet = self._buffer.take()
        if packet is not None:
            self.batches.emit(packet)
        if self._health:
            records, self._health = self._health, []
            self.health.emit(records)

    def _report_failure(self, message: str, details: str) -> None:
        if not self._failed:
            self._failed = True
            self.failed.emit(message, details)
        self._end("failed", message)

    def _end(self, status: str, reason: str) -> None:
        if self._ended:
            return
        from studio.core.engine.events import FitEnd

        self._ended = True
        self.fitEnded.emit(FitEnd(status=status, reason=reason, epochs_done=0, best_test_acc=0.0,
                                  elapsed=time.perf_counter() - self._started))


class TrainingRunner(QObject):
    """Starts a TrainingWorker in a QThread; connects the subscribers' slots to each worker's signals."""

    WORKER_SIGNALS = ("fitStarted", "batches", "epochEnded", "fitEnded", "failed", "preparing", "health")
    finished = Signal()            # the thread has ended and is released: a new run may start
    pausedChanged = Signal(bool)   # True once the trainer is really blocked; False when it goes on or ends

    def __init__(self, parent: QObject | None = None, *, emit_interval: float = 0.1):
        super().__init__(parent)
        self.emit_interval = emit_interval
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._retired: list = []
        self._subscribers: list[tuple[str, object]] = []
        self._paused = False
        self._pause_requested = False

    def subscribe(self, signal: str, slot) -> None:
        """Connect `slot` to the worker signal `signal` of this and every later run."""
        if signal not in self.WORKER_SIGNALS:
            raise ValueError(f"a TrainingWorker has no signal {signal!r}")
        self._subscribers.append((signal, slot))
        if self._worker is not None:
            getattr(self._worker, signal).connect(slot)

    # ------------------------------------------------------------ control (GUI thread)

    def start(self, config: TrainConfig, *, runs_dir=None, run_dir=None, resume: bool = False) -> None:
        if self.is_running():
            raise StudioError("A run is in progress already: stop it first.")
        self._retired.clear()
        worker = TrainingWorker(config, runs_dir=runs_dir, run_dir=run_dir, resume=resume,
                                emit_interval=self.emit_interval)
        thread = QThread()
        thread.setObjectName("cnn-studio-training")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit() is thread-safe; a direct call from the worker's thread lets wait() return even
        # while the GUI thread is blocked in it (on quit), where a queued call never would run.
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        for signal, slot in self._subscribers:
            getattr(worker, signal).connect(slot)
        worker.blocked.connect(self._on_blocked)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        self._pause_requested = False
        self._set_paused(False)
        thread.start()

    def pause(self) -> None:
        """Ask for a pause after the current batch; pausedChanged(True) follows once it has happened."""
        if self._worker is not None:
            self._pause_requested = True
            self._worker.pause()

    def unpause(self) -> None:
        if self._worker is not None:
            self._pause_requested = False
            self._worker.unpause()

    def stop(self) -> None:
        """Ask the run to stop at the next batch; it saves itself and the thread ends."""
        if self._worker is not None:
            self._pause_requested = False
            self._worker.request_stop()

    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        """The trainer is blocked between two batches now (not merely asked to pause)."""
        return self._paused

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested

    @property
    def thread(self) -> QThread | None:
        return self._thread

    @property
    def worker(self) -> TrainingWorker | None:
        return self._worker

    def wait(self, timeout_ms: int | None = None) -> bool:
        """Block until the thread ends (used on quit); True when no thread is left running."""
        if self._thread is None:
            return True
        if timeout_ms is None:
            return self._thread.wait()
        return self._thread.wait(int(timeout_ms))

    def _set_paused(self, value: bool) -> None:
        if value != self._paused:
            self._paused = value
            self.pausedChanged.emit(value)

    @Slot(bool)
    def _on_blocked(self, blocked: bool) -> None:
        if self._thread is not None:
            self._set_paused(blocked)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self._thread, self._worker
        if thread is None:
            return
        thread.wait()  # finished() is emitted just before the thread really ends
        # Keep the Python wrappers until the next start: deleting the sender inside its own
        # signal's delivery is asking for trouble.
        self._retired = [thread, worker]
        self._thread = self._worker = None
        self._pause_requested = False
        self._set_paused(False)
        self.finished.emit()
