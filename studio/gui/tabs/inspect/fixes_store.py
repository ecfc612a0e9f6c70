"""The data fixes being made in the window, and "Retrain with fixes".

One FixesStore per StudioState (fixes_store(state)), shared by every view that marks images (the
hardest examples, the Evaluation tab's grids, the comparison view), so a mark made in one shows in
all. The marks belong to the run on view: they are written at once to RUN/data_fixes.json
(core/data/fixes.py), never to the user's images. Retraining freezes a copy of them, sets the new
config's data_fixes, reloads the dataset with them (the Data tab shows the new counts) and starts
training once it is loaded.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.data.fixes import DataFixes, fixes_for_run, freeze_fixes, run_fixes_path, write_fixes
from studio.core.data.folder import PREFIX as FOLDER_PREFIX


def fixes_store(state) -> FixesStore:
    """The state's store, made on first use (an attribute of the state: it lives and dies with it)."""
    store = getattr(state, "_data_fixes_store", None)
    if store is None:
        store = FixesStore(state, parent=state)
        state._data_fixes_store = store
    return store


class FixesStore(QObject):
    changed = Signal()

    def __init__(self, state, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self.fixes = DataFixes()
        self._run: Path | None = None
        self._error = ""
        state.runChanged.connect(self._reload)
        self._reload()

    @Slot()
    def _reload(self) -> None:
        from studio.core.errors import StudioError
        from studio.core.runs import read_run

        self._run = Path(self.state.run_dir) if self.state.run_dir is not None else None
        self.fixes, self._error = DataFixes(), ""
        if self._run is not None:
            try:
                self.fixes = fixes_for_run(self._run, read_run(self._run).config)
            except StudioError as exc:
                self._error = str(exc)
        self.changed.emit()

    # ------------------------------------------------------------ what can be fixed
    def run_dataset(self) -> str:
        from studio.core.errors import StudioError
        from studio.core.runs import read_run

        try:
            return str(read_run(self._run).config.get("dataset", "")) if self._run is not None else ""
        except StudioError:
            return ""

    def why_not(self) -> str:
        """Why images cannot be marked now, in words; "" when they can."""
        bundle = self.state.dataset
        if self._error:
            return self._error
        if bundle is None or not bundle.name.startswith(FOLDER_PREFIX):
            return "Images can be relabelled or excluded in folder datasets (folder:PATH), whose files are yours."
        if self._run is None:
            return "Open or train a run first: the fixes are kept beside the run."
        if self.run_dataset() != bundle.name:
            return f"The loaded dataset is not the run's ({self.run_dataset() or 'unknown'}): load it to fix its images."
        return ""

    @property
    def path(self) -> Path | None:
        return run_fixes_path(self._run) if self._run is not None else None

    def status(self, key: str | None) -> str:
        return self.fixes.status(key) if key else ""

    # ------------------------------------------------------------ marking
    def relabel(self, key: str, class_name: str) -> None:
        self.fixes.mark_relabel(key, class_name)
        self._save()

    def exclude(self, key: str) -> None:
        self.fixes.mark_exclude(key)
        self._save()

    def clear(self, key: str) -> None:
        self.fixes.clear(key)
        self._save()

    def _save(self) -> None:
        if self._run is None:
            return
        if not self.fixes.dataset and self.state.dataset is not None:
            self.fixes.dataset = self.state.dataset.name
        write_fixes(run_fixes_path(self._run), self.fixes)
        self.changed.emit()

    def summary(self) -> str:
        if not len(self.fixes):
            return "No fixes yet: right-click an image to relabel or exclude it."
        return f"Fixes: {self.fixes.summary()}, kept in the run folder ({self.path.name})."

    def retrain_config(self):
        """The run's settings plus a frozen copy of the fixes: what "Retrain with fixes" trains."""
        from studio.core.config.train_config import TrainConfig
        from studio.core.runs import read_run

        config = TrainConfig.from_dict(read_run(self._run).config)
        config.data_fixes = str(freeze_fixes(self._run, self.fixes))
        return config


class RetrainStarter(QObject):
    """Shows the retrain config, reloads the dataset with the fixes, and trains once it is loaded."""

    def __init__(self, window, config):
        super().__init__(window)
        self.window, self.config = window, config
        state = window.state
        state.datasetChanged.connect(self._dataset_changed)
        state.datasetFailed.connect(self._done)
        window.apply_config(config)
        window.load_dataset(config.dataset)

    @Slot()
    def _dataset_changed(self) -> None:
        bundle = self.window.state.dataset
        if bundle is None:
            return   # the reload started
        self._done()
        self.window.start_training()

    @Slot()
    def _done(self, *_args) -> None:
        state = self.window.state
        state.datasetChanged.disconnect(self._dataset_changed)
        state.datasetFailed.disconnect(self._done)
        self.deleteLater()


def retrain_with_fixes(widget) -> str:
    """Start the new run from the view's window; returns why not, in words, or ""."""
    window = widget.window()
    store = fixes_store(window.state) if hasattr(window, "state") else None
    if store is None or not hasattr(window, "start_training"):
        return "Retraining needs the main window."
    reason = store.why_not() or ("" if len(store.fixes) else "Mark some images first.")
    if not reason and window.session.is_running():
        reason = "A run is training: wait for it or stop it first."
    if reason:
        return reason
    RetrainStarter(window, store.retrain_config())
    return ""
