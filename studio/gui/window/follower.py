"""Follow a run that another process writes (the CLI, a distributed run, another machine).

A RunFollower polls the run folder on a timer, reads only the lines metrics.jsonl gained since the
last poll (core/runs/follow.MetricsReader) in a background task, one read in flight at a time, and
feeds them to the Training tab through the methods a live run in this window uses, so the plots
update as for a live run. It stops by itself when the run ends (a fit_end line or status.json done,
stopped or failed), when its writer dies (the run lock is free while status.json still says
running: the OS dropped the lock with the process), or, for a writer on another host whose lock
this host cannot see, when nothing has been written for STALE_AFTER seconds.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from studio.gui.concurrency.tasks import Task, run_task

POLL_INTERVAL_MS = 500
STALE_AFTER = 60.0        # seconds with no new line and no status.json change: the writer stopped responding
ENDED = ("done", "stopped", "failed")


@dataclass
class Poll:
    """What one look at the run folder found (built in a worker, plain data)."""

    records: list[dict]
    restarted: bool
    status: dict
    status_mtime: float
    locked: bool
    lock_record: dict = field(default_factory=dict)


def _raw_status(run_dir: Path) -> tuple[dict, float]:
    """status.json as written (not read_status's lock-checked view: the follower checks the lock itself)."""
    from studio.core.runs.jsonio import read_json

    path = run_dir / "status.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}, 0.0
    status = read_json(path, {})
    return (status if isinstance(status, dict) else {}), mtime


def poll_run(run_dir: Path, reader) -> Poll:
    """Lock, then status, then the new lines. A writer ends by writing its status and then dropping the
    lock, so a free lock read first means the status read after it is final; every line written
    before an end status is read with it."""
    from studio.core.runs.lock import is_locked, read_lock_record

    locked = is_locked(run_dir)
    status, mtime = _raw_status(run_dir)
    records = reader.read_new()
    return Poll(records, reader.restarted, status, mtime, locked, read_lock_record(run_dir))


def writer_is_local(lock_record: dict) -> bool:
    """The lock decides liveness only on the writer's own host (flock is not shared by every file system)."""
    host = lock_record.get("host")
    return host is None or host == socket.gethostname()


def is_followable(run_dir: Path) -> bool:
    """Still being written: status.json says running and its writer holds the lock (or lives on another host)."""
    from studio.core.runs.lock import is_locked, read_lock_record

    run_dir = Path(run_dir)
    status, _ = _raw_status(run_dir)
    if status.get("status") != "running":
        return False
    return is_locked(run_dir) or not writer_is_local(read_lock_record(run_dir))


def writer_text(lock_record: dict) -> str:
    if not lock_record.get("pid"):
        return "another process"
    return f"process {lock_record['pid']} on {lock_record.get('host', 'an unknown host')}"


class RunFollower(QObject):
    """Keeps the Training tab live on a run folder another process writes; one run at a time."""

    followEnded = Signal(str)     # the message the status bar shows when following ends

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent or window)
        self.window = window
        self.run_dir: Path | None = None
        self.history = None
        self.polls = 0
        self._reader = None
        self._task: Task | None = None
        self._model_task: Task | None = None
        self._new_epochs: list[dict] = []   # epoch records the other tabs have not heard of yet
        self._last_news = 0.0
        self._last_mtime = 0.0
        self._lock_record: dict = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    def is_following(self) -> bool:
        return self.run_dir is not None

    def follow(self, run_dir: Path) -> None:
        """Start over on run_dir: its whole metrics first, then only what it gains."""
        from studio.core.runs.follow import MetricsReader
        from studio.core.runs.lock import read_lock_record

        self.stop()
        tab = self.window.training_tab
        self.run_dir = Path(run_dir)
        self._reader = MetricsReader(self.run_dir)
        self._lock_record = read_lock_record(self.run_dir)
        self._last_news = time.monotonic()
        self._last_mtime = 0.0
        self.history = tab.start_live(self.run_dir.name)
        self.history.path = self.run_dir
        tab.title.setText(f"Following: {self.run_dir.name}")
        self.window.show_status(f"Following {self.run_dir.name} (written by {writer_text(self._lock_record)})")
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        """Stop polling (quietly: the caller says why, if anyone needs to know)."""
        self._timer.stop()
        for task in (self._task, self._model_task):
            if task is not None:
                task.cancel()
        self._task = self._model_task = None
        self._new_epochs = []
        self.run_dir = None
        self._reader = None

    def shutdown(self) -> None:
        self.stop()

    # ------------------------------------------------------------ polling

    @Slot()
    def _tick(self) -> None:
        if self.run_dir is None or self._task is not None:
            return   # one read in flight at a time: a slow shared folder never piles up reads
        if self.window.training_tab.live is not self.history:
            self.stop()   # the tab moved on (a run trained here, another run opened, New run)
            return
        run_dir, reader = self.run_dir, self._reader
        self._task = run_task(lambda progress, should_stop: poll_run(run_dir, reader), self._on_poll,
                              self._on_poll_failed, owner=self)

    def _on_poll_failed(self, message: str, details: str) -> None:
        self._task = None
        self._finish(f"{self._name()}: following stopped, the run folder could not be read ({message})")

    def _on_poll(self, poll: Poll) -> None:
        self._task = None
        tab = self.window.training_tab
        if self.run_dir is None or tab.live is not self.history:
            self.stop()
            return
        if poll.lock_record:
            self._lock_record = poll.lock_record
        if poll.restarted:       # the file was replaced: what was drawn no longer holds
            self.history = tab.start_live(self.run_dir.name)
            self.history.path = self.run_dir
        now = time.monotonic()
        if poll.records or poll.status_mtime != self._last_mtime:
            self._last_news, self._last_mtime = now, poll.status_mtime
        ended = self._feed(tab, poll.records)
        self.polls += 1
        if self._new_epochs and self._model_task is None and ended is None:
            self._load_latest_model()
        state = poll.status.get("status")
        if ended is None and state in ENDED:
            ended = {"status": state, "reason": poll.status.get("reason", "")}
            tab.fit_ended(ended)
        local = writer_is_local(self._lock_record)
        if ended is not None:
            self._finish(self._end_text(ended))
        elif local and poll.locked:
            pass   # alive, however long its epoch takes: the lock says so
        elif local and poll.status:
            self._died(f"the writer ({writer_text(self._lock_record)}) died")
        elif now - self._last_news > STALE_AFTER:
            self._died(f"the writer stopped responding (nothing written for {STALE_AFTER:.0f} s)")

    def _feed(self, tab, records: list[dict]) -> dict | None:
        """Records in order through the live path; the fit_end record if the run ended in them."""
        from studio.gui.tabs.training_history import records_to_packet

        pending: list[dict] = []
        ended = None

        def flush():
            packet = records_to_packet(pending)
            if packet is not None:
                tab.add_batches(packet)
            pending.clear()

        for record in records:
            kind = record.get("event")
            if kind == "batch":
                pending.append(record)
                continue
            flush()
            if kind == "fit_start":
                tab.fit_started({k: v for k, v in record.items() if k != "run_dir"})
            elif kind == "epoch":
                tab.add_epoch(record)
                self._new_epochs.append(record)
                self.window.set_progress(int(record.get("epoch", 0)), self._planned(), f"{self._name()}: epoch "
                                         f"{int(record.get('epoch', 0))}/{self._planned()} (followed)")
            elif kind == "fit_end":
                ended = record
                tab.fit_ended(record)
            elif kind in ("health", "health_epoch", "diagnosis"):
                tab.add_health([record])
        flush()
        return ended

    # ------------------------------------------------------------ the other tabs (Kernels, Evaluation, Predict)

    def _load_latest_model(self) -> None:
        """The newest checkpoint as the window's model, then the epoch news: the tabs that refresh
        on a live run's epochs (Kernels, Evaluation) refresh on a followed one's the same way."""
        from studio.core.runs import load_checkpoint

        records, self._new_epochs = self._new_epochs, []
        path = self.run_dir / "checkpoints" / "last.pt"
        self._model_task = run_task(lambda progress, should_stop: load_checkpoint(path),
                                    lambda model: self._model_loaded(model, records),
                                    lambda message, details: self._model_loaded(None, records), owner=self)

    def _model_loaded(self, model, records: list[dict]) -> None:
        from studio.core.engine.events import EpochEnd

        self._model_task = None
        if self.run_dir is None or self.window.training_tab.live is not self.history:
            return   # the window moved on (a run trained here): its model is not ours to replace
        state = self.window.state
        if model is not None:
            state.set_model(model)
        names = [f for f in EpochEnd.__dataclass_fields__ if f not in ("confusion", "kernels")]
        for record in records:
            values = {k: record.get(k, 0) for k in names}
            state.epochEnded.emit(EpochEnd(**dict(values, epochs=self._planned())))

    def _planned(self) -> int:
        return max(1, int((self.history.fit_start or {}).get("epochs", 0) or self.history.config.get("epochs", 1)))

    def _name(self) -> str:
        return self.run_dir.name if self.run_dir else "the run"

    def _end_text(self, ended: dict) -> str:
        epochs = len(self.history.epochs)
        acc = self.history.epochs.column("test_acc")
        best = f", best test accuracy {100 * float(max(acc)):.2f}%" if epochs else ""
        reason = f" ({ended['reason']})" if ended.get("reason") else ""
        return f"{self._name()} finished: {ended.get('status', '?')}{reason}, {epochs} epochs{best}"

    def _died(self, why: str) -> None:
        tab = self.window.training_tab
        tab.fit_ended({"status": "failed", "reason": why})
        self._finish(f"{self._name()}: {why}; following stopped")

    def _finish(self, message: str) -> None:
        run_dir = self.run_dir
        self.stop()
        self._load_best_model(run_dir)
        self.window.show_status(message)
        self.followEnded.emit(message)
        refresh = getattr(self.window.runs_panel, "refresh", None)
        if callable(refresh):
            refresh()   # its status (live -> done) changed

    def _load_best_model(self, run_dir: Path | None) -> None:
        """The run ended: its best model, as for a run opened after the fact."""
        from studio.core.runs import best_checkpoint, load_checkpoint

        checkpoint = best_checkpoint(run_dir) if run_dir is not None else None
        if checkpoint is not None:
            self._model_task = run_task(lambda progress, should_stop: load_checkpoint(checkpoint),
                                        lambda model: self._best_loaded(run_dir, model),
                                        lambda message, details: None, owner=self)

    def _best_loaded(self, run_dir: Path, model) -> None:
        self._model_task = None
        w = self.window
        if w.state.run_dir == run_dir and not w.session.is_running():   # still the run on view
            w.state.set_model(model)
