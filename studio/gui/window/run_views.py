"""Past runs in the window: open one, compare several, follow renames and deletions, find one to resume.

Run folders are read off the GUI thread: a long run's metrics.jsonl takes a noticeable time to
parse (0.2 s per 20k lines), so opening or comparing reads them in a background task
(training_history.read_history, through the incremental reader in core/runs/follow.py) and the GUI only
draws. Whether a run can be resumed is decided from the run list's cached RunInfo, never by
re-reading the folder on each selection change.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.panels.runs import RunsPanel
from studio.gui.widgets.error_dialog import show_error
from studio.gui.window.follower import RunFollower, is_followable


def _read_run_for_view(run_dir: Path):
    """(RunInfo, RunHistory or None) of one run folder: in a worker. None: the run is still being
    written by another process, and the follower reads it (all of it, then what it gains)."""
    from studio.core.runs import read_run
    from studio.gui.tabs.training_history import read_history

    if is_followable(run_dir):
        return read_run(run_dir), None
    return read_run(run_dir), read_history(run_dir)


def _read_runs_for_compare(run_dirs: list[Path]):
    from studio.gui.tabs.training_history import read_history

    return [read_history(run_dir, with_status=False) for run_dir in run_dirs]


class RunViews(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel: RunsPanel = window.runs_panel
        self._tasks: dict[str, Task] = {}
        self._opened_info = None      # RunInfo of the run on view when it is not in the list
        self.follower = RunFollower(window, parent=self)   # a run another process is still writing
        p = self.panel
        p.openRequested.connect(self.open_run)
        p.compareRequested.connect(self.compare)
        p.resumeRequested.connect(window.resume_run)
        p.runRenamed.connect(self._on_renamed)
        p.runDeleted.connect(self._on_deleted)
        p.selectionChanged.connect(window._update_actions)

    # ------------------------------------------------------------ open and compare

    @Slot()
    def open_dialog(self) -> None:
        if not self.window.loaded:
            return
        from studio.core.paths import runs_dir

        folder = QFileDialog.getExistingDirectory(self.window, "Open a run folder", str(runs_dir()))
        if folder:
            self.open_run(Path(folder))

    @Slot(object)
    def open_run(self, run_dir) -> bool:
        """Read a past run in the background; then show its curves as recorded and load its best model."""
        w = self.window
        if not w.loaded:
            return False
        if w.session.is_running():
            w.show_status("A run is training: wait for it or stop it before opening another.")
            return False
        run_dir = Path(run_dir)
        w.show_status(f"Opening {run_dir.name}…")
        self._start("read", lambda progress, stop: _read_run_for_view(run_dir),
                    lambda result: self._show_opened(run_dir, *result),
                    lambda message, details: show_error(w, message, details))
        return True

    def _show_opened(self, run_dir: Path, info, history) -> None:
        from studio.core.runs import best_checkpoint, load_checkpoint

        w = self.window
        if w.session.is_running():
            return
        self._opened_info = info
        w.state.set_run(run_dir)
        w.show_tab("training")
        self.panel.select_runs([run_dir])
        if history is None:
            self.follower.follow(run_dir)     # live: the status bar names the writer
        else:
            self.follower.stop()
            w.training_tab.show_history(history)
            self._show_progress(run_dir, info)
        checkpoint = best_checkpoint(run_dir)
        if checkpoint is not None:
            self._start("model", lambda progress, stop: load_checkpoint(checkpoint), w.state.set_model,
                        lambda message, details: show_error(w, f"The run's model could not be loaded: {message}",
                                                            details))
        w._update_actions()

    def _show_progress(self, run_dir: Path, info) -> None:
        """The progress bar of an opened run: how far it got, and how it ended."""
        planned = max(1, int(info.config.get("epochs", 1) or 1))
        best = f" · best test accuracy {100 * info.best_test_acc:.2f}%" if info.best_test_acc else ""
        self.window.set_progress(min(info.epochs_done, planned), planned,
                                 f"{run_dir.name}: {info.state}, {info.epochs_done}/{planned} epochs{best}")
        self.window.show_status(f"Opened {run_dir}")

    @Slot(list)
    def compare(self, run_dirs: list) -> None:
        w = self.window
        if not w.loaded or w.session.is_running():
            w.show_status("Runs can be compared when no run is training.")
            return
        run_dirs = [Path(p) for p in run_dirs]
        self._start("read", lambda progress, stop: _read_runs_for_compare(run_dirs),
                    lambda histories: self._show_compared(run_dirs, histories),
                    lambda message, details: show_error(w, message, details))

    def _show_compared(self, run_dirs: list[Path], histories) -> None:
        w = self.window
        w.training_tab.compare_histories(histories)
        w.show_tab("training")
        w.set_progress(0, 1, f"Comparing {len(run_dirs)} runs")
        w.show_status("Comparing: " + ", ".join(p.name for p in run_dirs))

    # ------------------------------------------------------------ the list changed under the views

    def _on_renamed(self, old, new) -> None:
        w = self.window
        old, new = Path(old), Path(new)
        if w.training_tab is not None:
            w.training_tab.rename_run(old, new)
        if w.state.run_dir is not None and old == w.state.run_dir:
            w.state.set_run(new)
            info = self.panel.info(new)
            if not w.session.is_running() and info is not None:
                self._show_progress(new, info)   # the progress line named the run by its old name
                w.show_status(f"Renamed the run to {new.name}")

    def _on_deleted(self, path) -> None:
        w = self.window
        path = Path(path)
        if w.training_tab is not None:
            w.training_tab.forget_run(path)
        if w.state.run_dir is not None and path == w.state.run_dir:
            self._opened_info = None
            w.new_run()
        w._update_actions()

    # ------------------------------------------------------------ resuming

    def info(self, run_dir: Path):
        info = self.panel.info(run_dir)
        if info is None and self._opened_info is not None and Path(self._opened_info.path) == Path(run_dir):
            info = self._opened_info
        return info

    def resumable_candidate(self) -> Path | None:
        """The run Resume would continue: the one on view, else the single one selected; None if neither can."""
        candidates = [self.window.state.run_dir] if self.window.state.run_dir else []
        selected = self.panel.selected_paths()
        if len(selected) == 1:
            candidates.append(selected[0])
        for path in candidates:
            info = self.info(path)
            if info is not None and Path(path).is_dir() and RunsPanel.is_resumable(info):
                return Path(path)
        return None

    # ------------------------------------------------------------ tasks

    def _start(self, key: str, fn, on_done, on_error) -> None:
        self._cancel(key)
        self._tasks[key] = run_task(fn, on_done, on_error, owner=self)

    def _cancel(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def shutdown(self) -> None:
        self.follower.stop()
        for key in list(self._tasks):
            self._cancel(key)
