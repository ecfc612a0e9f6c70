"""What the window loads off the GUI thread: the core (torch) once, then the chosen dataset.

load_core is the slow import after the window shows: torch, pyqtgraph and the core's lists. Not
torchvision: it takes seconds (it pulls in torch._dynamo) and only a torchvision model, a dataset
download or an op needs it; those import it themselves.

WorkspaceLoader loads the dataset the settings name (maybe downloading it) and counts the
chosen model's parameters on it (studio.core.models.model_facts), each as one background task,
the newest request winning. It reports through signals; the window shows what they say.
"""

from __future__ import annotations

import html
import json
import time

from PySide6.QtCore import QObject, Signal

from studio.gui.concurrency.tasks import Task, run_task

ERROR_STYLE = "<span style='color:#b22222'>{}</span>"


def load_core(progress, should_stop) -> dict:
    """The slow imports, off the GUI thread: torch, pyqtgraph and the core's lists."""
    started = time.perf_counter()
    import torch  # (2-3 s)
    import pyqtgraph  # noqa: F401

    from studio.core.data import list_datasets
    from studio.core.engine.devices import available_devices
    from studio.core.models import list_models
    import studio.core.engine.trainer  # noqa: F401
    import studio.core.runs  # noqa: F401

    return {"datasets": list_datasets(), "models": list_models(), "devices": available_devices(),
            "torch": torch.__version__, "seconds": time.perf_counter() - started}


class WorkspaceLoader(QObject):
    datasetLoaded = Signal(object)        # the DatasetBundle
    datasetFailed = Signal(str, str)      # message, details
    modelInfo = Signal(str)               # rich text for the settings panel
    statusMessage = Signal(str)

    def __init__(self, state, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self._tasks: dict[str, Task] = {}
        self._facts: dict = {}

    def load_dataset(self, name: str) -> None:
        """Load (maybe download) the dataset; every tab hears of it through the state."""
        from studio.core.data import load_dataset

        self._cancel("dataset")
        cfg = self.state.config
        self.state.set_dataset(None)
        self.modelInfo.emit("Parameters: waiting for the dataset…")
        self.statusMessage.emit(f"Loading {name}…")

        def work(progress, should_stop):
            return load_dataset(name, data_dir=cfg.data_dir, image_size=cfg.image_size, progress=progress,
                                fixes=cfg.data_fixes if name.startswith("folder:") else None)

        def progressed(done: int, total: int) -> None:
            if total:
                self.statusMessage.emit(f"Loading {name}: {100 * done // total} %")

        self._tasks["dataset"] = run_task(work, self._loaded, self._failed, progressed, owner=self)

    def _loaded(self, bundle) -> None:
        self.state.set_dataset(bundle)
        self.statusMessage.emit(f"{bundle.name}: {len(bundle.train):,} training and {len(bundle.test):,} test images")
        self.datasetLoaded.emit(bundle)
        self.update_model_info()

    def _failed(self, message: str, details: str) -> None:
        self.statusMessage.emit("The dataset could not be loaded.")
        self.modelInfo.emit("Parameters: no dataset loaded")
        self.state.fail_dataset(message)
        self.datasetFailed.emit(message, details)

    def update_model_info(self) -> None:
        """Parameter count and input size of the chosen model on the loaded dataset (built off-thread)."""
        from studio.core.models import model_facts

        bundle, cfg = self.state.dataset, self.state.config
        if bundle is None:
            return
        args = (cfg.model, dict(cfg.model_options), cfg.pretrained, tuple(bundle.input_shape), len(bundle.classes))
        key = json.dumps(args, sort_keys=True, default=str)
        if key in self._facts:
            self._show_facts(self._facts[key])
            return
        self._cancel("model_info")
        self.modelInfo.emit("Counting parameters…")

        def done(facts) -> None:
            self._facts[key] = facts
            self._show_facts(facts)

        self._tasks["model_info"] = run_task(
            lambda progress, should_stop: model_facts(*args), done,
            lambda message, details: self.modelInfo.emit(ERROR_STYLE.format(html.escape(message))), owner=self)

    def _show_facts(self, facts) -> None:
        params, (c, h, w) = facts
        self.modelInfo.emit(f"<b>{params:,}</b> parameters · input {c}×{h}×{w}")

    def shutdown(self) -> None:
        for key in list(self._tasks):
            self._cancel(key)

    def _cancel(self, key: str) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()
