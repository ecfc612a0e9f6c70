"""What the whole window is looking at: one object the tabs share.

The main window owns one StudioState and hands it to every tab's constructor. Tabs read
its attributes and redraw when its signals fire; they never reach into each other. All
signals fire in the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.config.train_config import TrainConfig


class StudioState(QObject):
    configChanged = Signal()          # the settings panel changed self.config
    datasetChanged = Signal()         # self.dataset is a new DatasetBundle (or None while loading)
    datasetFailed = Signal(str)       # the dataset could not be loaded: self.dataset_error says why
    modelChanged = Signal()           # self.model is a new LoadedModel snapshot (or None)
    runChanged = Signal()             # self.run_dir changed (new run, opened run, or none)
    epochEnded = Signal(object)       # an EpochEnd event of the live run, after the run folder has it
    trainingStateChanged = Signal(str)  # "idle", "running", "paused"
    filesDropped = Signal(list)       # paths dropped anywhere on the window: the Predict tab takes them
    statusMessage = Signal(str)       # a short message for the status bar

    def __init__(self, config: TrainConfig | None = None):
        super().__init__()
        self.config: TrainConfig = config or TrainConfig()
        self.dataset: Any = None      # studio.core.data.DatasetBundle
        self.dataset_error: str | None = None
        self.model: Any = None        # studio.core.runs.LoadedModel: a CPU snapshot, safe to use in the GUI thread
        self.run_dir: Path | None = None
        self.training_state = "idle"

    def set_config(self, config: TrainConfig) -> None:
        self.config = config
        self.configChanged.emit()

    def set_dataset(self, bundle: Any) -> None:
        self.dataset = bundle
        self.dataset_error = None
        self.datasetChanged.emit()

    def fail_dataset(self, message: str) -> None:
        """Loading ended in an error: no dataset, and the message (plain text) for whoever shows it."""
        self.dataset = None
        self.dataset_error = message
        self.datasetFailed.emit(message)

    def set_model(self, loaded: Any) -> None:
        self.model = loaded
        self.modelChanged.emit()

    def set_run(self, run_dir: Path | None) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.runChanged.emit()

    def set_training_state(self, value: str) -> None:
        self.training_state = value
        self.trainingStateChanged.emit(value)
