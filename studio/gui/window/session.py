"""One training run at a time, as the window sees it: the runner, the progress line and the live model.

TrainingSession owns the TrainingRunner and turns what the worker reports into what the window
shows: the progress bar (value, range, text with an ETA that counts training time only, not
pauses), status messages, errors, and the Training tab's curves. After each epoch it reloads
the newest checkpoint off the GUI thread and hands the tabs that CPU snapshot, then the epoch
events, in order (a queue, so a slow reload never reorders or loses an epoch).
The window never touches the runner's internals; it calls start/pause/unpause/stop.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.config.train_config import TrainConfig
from studio.core.errors import StudioError
from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.concurrency.training import TrainingRunner
from studio.gui.window.distributed_session import DistributedRun, planned_processes

PAUSED = " · paused"


def duration_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingSession(QObject):
    progressChanged = Signal(int, int, str)   # value, maximum (0: busy), text
    statusMessage = Signal(str)
    errorRaised = Signal(str, str)            # message, details: the window shows them in a dialog
    stateChanged = Signal()                   # started, paused, unpaused: the window updates its actions
    finished = Signal()                       # the thread has ended: a new run may start

    def __init__(self, state, parent: QObject | None = None, *, emit_interval: float = 0.1):
        super().__init__(parent)
        self.state = state
        self.view = None                      # the Training tab, once it exists
        self.runner = TrainingRunner(self, emit_interval=emit_interval)
        for name in TrainingRunner.WORKER_SIGNALS:
            self.runner.subscribe(name, getattr(self, "_on_" + _snake(name)))
        self.runner.pausedChanged.connect(self._on_paused_changed)
        self.runner.finished.connect(self._on_runner_finished)
        self.distributed = DistributedRun(parent, self)   # Processes > 1: a subprocess, followed (its own module)
        self.distributed.ended.connect(self._on_distributed_ended)
        self.fit_start = None
        self._pending_epochs: list = []
        self._live_model: Task | None = None
        self._failure_shown = False
        self._run_clock = 0.0
        self._paused_at: float | None = None
        self._run_first_done = 0
        self._progress = (0, 1, "")
        self._epoch_times: dict[int, float] = {}   # the whole run's, a resumed run's earlier epochs too
        self._earlier_times: Task | None = None
        self._ended = None                          # the end line's parts, once the run has ended

    # ------------------------------------------------------------ control

    def set_view(self, training_tab) -> None:
        self.view = training_tab

    def is_running(self) -> bool:
        return self.runner.is_running() or self.distributed.is_running()

    @property
    def paused(self) -> bool:
        return self.runner.paused or self.distributed.paused

    @property
    def pause_requested(self) -> bool:
        return self.runner.pause_requested or self.distributed.paused

    def start(self, config: TrainConfig | None, run_dir: Path | None = None, resume: bool = False) -> bool:
        if planned_processes(config, run_dir, resume) > 1:
            return self._start_distributed(config, run_dir, resume)
        try:
            self.runner.start(config, run_dir=run_dir, resume=resume)
        except StudioError as exc:
            self.errorRaised.emit(str(exc), "")
            return False
        self.fit_start = None
        self._pending_epochs = []
        self._failure_shown = False
        self._set_progress(0, 0, "Preparing the data and the model…")
        self.state.set_training_state("running")
        self.stateChanged.emit()
        return True

    def _start_distributed(self, config, run_dir: Path | None, resume: bool) -> bool:
        try:
            run_dir = self.distributed.start(config, run_dir, resume)
        except (OSError, StudioError) as exc:
            self.errorRaised.emit(f"The processes could not be started: {exc}", "")
            return False
        self.state.set_run(run_dir)
        self._set_progress(0, 0, f"Starting {planned_processes(config, run_dir, resume)} processes (torchrun)…")
        self.state.set_training_state("running")
        self.stateChanged.emit()
        return True

    def pause(self) -> None:
        if self.distributed.is_running():
            self.distributed.command("pause")
            self.stateChanged.emit()
        elif self.is_running() and not self.runner.pause_requested:
            self.runner.pause()
            self._set_progress(*self._progress[:2], self._progress[2].split(PAUSED)[0] + " · pausing…")
            self.stateChanged.emit()

    def unpause(self) -> None:
        if self.distributed.is_running():
            self.distributed.command("run")
            self.stateChanged.emit()
        elif self.is_running():
            self.runner.unpause()
            self.stateChanged.emit()

    def stop(self) -> None:
        if self.is_running():
            self.distributed.command("stop")
            self.runner.stop()
            self._set_progress(*self._progress[:2], "Stopping after this batch…")
            self.statusMessage.emit("Stopping: the run is saved at its last finished epoch.")

    def wait(self, timeout_ms: int | None = None) -> bool:
        return self.distributed.wait(timeout_ms) and self.runner.wait(timeout_ms)

    def shutdown(self) -> None:
        """The window closes: drop the pending model reload (the run itself is stopped by the window)."""
        if self._live_model is not None:
            self._live_model.cancel()
        if self._earlier_times is not None:
            self._earlier_times.cancel()
        self._pending_epochs = []
        self.distributed.shutdown()

    def _set_progress(self, value: int, maximum: int, text: str) -> None:
        self._progress = (value, maximum, text)
        self.progressChanged.emit(value, maximum, text)

    # ------------------------------------------------------------ what the worker reports (GUI thread)

    @Slot(object)
    def _on_fit_started(self, event) -> None:
        from studio.core.engine.events import event_record

        self.fit_start = event
        self._epoch_times, self._ended = {}, None
        if event.start_epoch and event.run_dir:
            self._read_earlier_epoch_times(Path(event.run_dir), event.start_epoch)
        self._run_clock = time.perf_counter()
        self._paused_at = time.perf_counter() if self.runner.paused else None
        self._run_first_done = event.start_epoch * event.batches_per_epoch
        self._set_progress(self._run_first_done, max(1, event.epochs * event.batches_per_epoch),
                           f"Epoch {event.start_epoch + 1}/{event.epochs} · starting…")
        if event.run_dir:
            self.state.set_run(Path(event.run_dir))
        if self.view is not None:
            self.view.fit_started(event_record(event))
        self.statusMessage.emit(f"Training {event.config.get('model')} on {event.config.get('dataset')} "
                                f"({event.device})")

    @Slot(object)
    def _on_batches(self, packet: dict) -> None:
        if self.view is not None:
            self.view.add_batches(packet)
        start = self.fit_start
        if start is None:
            return
        epoch, batch = int(packet["epoch"][-1]), int(packet["batch"][-1])
        batches = int(packet["batches"])
        done = (epoch - 1) * batches + batch
        maximum = self._progress[1]
        self._set_progress(done, maximum, f"Epoch {epoch}/{start.epochs} · batch {batch}/{batches} · "
                                          f"{packet['images_per_sec']:,.0f} img/s · ETA "
                                          f"{duration_text(self.eta(done, maximum))}"
                                          f"{PAUSED if self.runner.paused else ''}")

    def eta(self, done: int, maximum: int) -> float:
        """Seconds left at the pace so far, counting training time only (pauses excluded)."""
        now = time.perf_counter()
        elapsed = now - self._run_clock - (now - self._paused_at if self._paused_at is not None else 0.0)
        ran = done - self._run_first_done
        return (maximum - done) * elapsed / ran if ran > 0 else 0.0

    @Slot(object)
    def _on_health(self, records: list) -> None:
        if self.view is not None:
            self.view.add_health(records)   # health records and the live diagnosis (engine/health.py)

    @Slot(object)
    def _on_epoch_ended(self, event) -> None:
        from studio.core.engine.events import event_record

        if self.view is not None:
            self.view.add_epoch(event_record(event))
        self._epoch_times[int(event.epoch)] = float(event.epoch_time)
        self._pending_epochs.append(event)
        if self._live_model is None or not self._live_model.running:
            self._load_live_model()

    def _read_earlier_epoch_times(self, run_dir: Path, start_epoch: int) -> None:
        """A resumed run's time so far: the epoch times its metrics.jsonl recorded (read in a worker)."""
        if self._earlier_times is not None:
            self._earlier_times.cancel()

        def read(progress, should_stop):
            return recorded_epoch_times(run_dir, start_epoch)

        def done(times: dict) -> None:
            for epoch, seconds in times.items():
                self._epoch_times.setdefault(epoch, seconds)
            if self._ended is not None:   # the run ended before its earlier epochs were read
                self._show_end()

        self._earlier_times = run_task(read, on_done=done, on_error=lambda message, details: None, owner=self)

    def _show_end(self) -> None:
        value, maximum, head, elapsed, best = self._ended
        self._set_progress(value, maximum, f"{head}{duration_text(self.training_seconds(elapsed))}{best}")

    def training_seconds(self, fallback: float) -> float:
        """The whole run's training time: its epochs' recorded times (pauses excluded by the trainer).

        A run that ended inside its first epoch has no epoch time yet: then this fit's own clock."""
        return sum(self._epoch_times.values()) if self._epoch_times else fallback

    def _load_live_model(self) -> None:
        """Give the tabs a CPU snapshot of the model as of the newest checkpoint, then the epoch events."""
        from studio.core.runs import load_checkpoint

        events, self._pending_epochs = self._pending_epochs, []
        run_dir = self.state.run_dir
        if run_dir is None:
            self._deliver(events)
            return
        path = run_dir / "checkpoints" / "last.pt"

        def loaded(model):
            self.state.set_model(model)
            self._after_live_model(events)

        def failed(message, details):
            self.statusMessage.emit(f"The latest checkpoint could not be read: {message}")
            self._after_live_model(events)

        self._live_model = run_task(lambda progress, should_stop: load_checkpoint(path), on_done=loaded,
                                    on_error=failed, owner=self)

    def _after_live_model(self, events: list) -> None:
        self._deliver(events)
        if self._pending_epochs:
            self._load_live_model()

    def _deliver(self, events: list) -> None:
        for event in events:
            self.state.epochEnded.emit(event)

    @Slot(object)
    def _on_fit_ended(self, event) -> None:
        from studio.core.engine.events import event_record

        if self.view is not None:
            self.view.fit_ended(event_record(event))
        value, maximum, _ = self._progress
        maximum = maximum or 1
        if event.status == "done":
            value = maximum
        text = {"done": "Done", "stopped": "Stopped", "failed": "Failed"}.get(event.status, event.status)
        best = f" · best test accuracy {100 * event.best_test_acc:.2f}%" if event.best_test_acc else ""
        self._ended = (value, maximum, f"{text}: {event.epochs_done} epochs in ", event.elapsed, best)
        self._show_end()
        self.statusMessage.emit(f"{text}: {event.reason}")
        if event.status == "failed" and not self._failure_shown:  # e.g. the loss became NaN
            self.errorRaised.emit(f"Training failed: {event.reason}", "")

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self._failure_shown = True
        self.errorRaised.emit(f"Training failed: {message}", details)

    @Slot(int, int)
    def _on_preparing(self, done: int, total: int) -> None:
        if total:
            self._set_progress(*self._progress[:2], f"Preparing: {100 * done // total} % (downloading or building)")

    @Slot(bool)
    def _on_paused_changed(self, paused: bool) -> None:
        # The ETA counts training time only: a pause moves the run's clock forward by its length.
        if paused:
            self._paused_at = time.perf_counter()
        elif self._paused_at is not None:
            self._run_clock += time.perf_counter() - self._paused_at
            self._paused_at = None
        if self.runner.is_running():
            self.state.set_training_state("paused" if paused else "running")
            base = self._progress[2].split(PAUSED)[0].split(" · pausing…")[0]
            self._set_progress(*self._progress[:2], base + (PAUSED if paused else ""))
        self.stateChanged.emit()

    @Slot(dict, str)
    def _on_distributed_ended(self, status: dict, output: str) -> None:
        state = status.get("status", "failed")
        self.statusMessage.emit(f"{state.capitalize()}: {status.get('reason', '')}")
        self.state.set_training_state("idle")
        self.finished.emit()
        follower = self.distributed.window.runs.follower
        if not follower.is_following() and self.distributed.run_dir is not None:
            follower._load_best_model(self.distributed.run_dir)   # the follower ended while the launcher lived
        if state == "failed":
            self.errorRaised.emit(f"Training failed: {status.get('reason') or 'the processes ended early'}", output)

    @Slot()
    def _on_runner_finished(self) -> None:
        self.state.set_training_state("idle")
        self.finished.emit()


def recorded_epoch_times(run_dir: Path, up_to_epoch: int) -> dict[int, float]:
    """{epoch: seconds} of the run's epoch records (core/runs' reader: a redone epoch counts once), 1..up_to_epoch."""
    from studio.core.runs import epoch_records

    return {int(r["epoch"]): float(r["epoch_time"]) for r in epoch_records(run_dir)
            if int(r["epoch"]) <= up_to_epoch and isinstance(r.get("epoch_time"), (int, float))}


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
