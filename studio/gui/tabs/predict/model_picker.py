"""The Predict tab's model picker: which model answers, and where it came from.

Lists the current run, the demo models, the saved runs, opened checkpoint files and the
torchvision ImageNet models (studio.core.runs.sources). It only chooses; the tab loads the
chosen source in the background and reports back with show_loaded / show_error.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from studio.core.runs import sources as sources_mod
from studio.core.runs.sources import ModelSource

AUTO_ARCH = "(from the checkpoint)"


class ModelPicker(QWidget):
    """sourceChosen(ModelSource) whenever the user (or code) picks another model."""

    sourceChosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._sources: list[ModelSource] = []
        self._files: list[ModelSource] = []
        self._current = sources_mod.current_source(None)
        self.combo = QComboBox()
        self.combo.setMinimumContentsLength(34)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("The model that answers: the current run, a demo model, a saved run, "
                              "a checkpoint file or an ImageNet model")
        self.combo.activated.connect(self._activated)
        self.open_button = QPushButton("Open checkpoint…")
        self.open_button.setToolTip("A .pt file: the studio's own checkpoint or a notebook's state dict")
        self.open_button.clicked.connect(self._open_clicked)
        self.arch_label = QLabel("Architecture:")
        self.arch = QComboBox()
        self.arch.setToolTip("For a notebook's plain state dict: the zoo architecture it was trained with")
        self.arch.activated.connect(self._arch_activated)
        self.refresh_button = QToolButton()
        self.refresh_button.setText("⟳")
        self.refresh_button.setToolTip("List the runs and cached models again")
        self.refresh_button.clicked.connect(self.refresh)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Model:"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.open_button)
        row.addWidget(self.arch_label)
        row.addWidget(self.arch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.info)
        self._fill_architectures()
        self._show_arch(False)

    # ---------------------------------------------------------------- listing

    def set_current(self, loaded) -> None:
        """The current run's model changed: relabel its entry (keeping the selection)."""
        self._current = sources_mod.current_source(loaded)
        self._rebuild(keep=self.selected())

    @Slot()
    def refresh(self) -> None:
        try:
            self._sources = sources_mod.list_sources()
        except Exception as exc:  # noqa: BLE001 - a broken runs folder must not break the picker
            self._sources = sources_mod.demo_sources()
            self.show_error(f"Could not list every model: {exc}")
        self._rebuild(keep=self.selected())

    def sources(self) -> list[ModelSource]:
        return [self._current, *self._sources, *self._files]

    def selected(self) -> ModelSource | None:
        index = self.combo.currentIndex()
        entries = self.sources()
        return entries[index] if 0 <= index < len(entries) else None

    def _rebuild(self, keep: ModelSource | None) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        for source in self.sources():
            self.combo.addItem(source.title)
            i = self.combo.count() - 1
            self.combo.setItemData(i, source.note or source.detail, Qt.ItemDataRole.ToolTipRole)
            if not source.available and source.kind == "current":
                # Nothing to pick until a model exists; an uncached ImageNet model stays
                # pickable so that choosing it can try the download and say why not.
                self.combo.model().item(i).setEnabled(False)
        keys = [s.key for s in self.sources()]
        if keep is not None and keep.key in keys:
            self.combo.setCurrentIndex(keys.index(keep.key))
        self.combo.blockSignals(False)

    # ---------------------------------------------------------------- choosing

    def choose(self, source: ModelSource) -> None:
        """Select `source` (adding it when it is a file) and announce it."""
        if source.kind == "checkpoint":
            self._files = [f for f in self._files if f.path != source.path] + [source]
        self._rebuild(keep=source)
        self._show_arch(source.kind == "checkpoint", source.model_name)
        self.info.setText(f"Loading {source.title}…")
        self.info.setStyleSheet("")
        self.sourceChosen.emit(source)

    def choose_default(self, has_current: bool) -> ModelSource | None:
        """The current run's model when there is one, else the first demo model, else anything usable."""
        entries = self.sources()
        preferred = [s for s in entries if s.kind == "current" and has_current]
        preferred += [s for s in entries if s.kind == "demo"]
        preferred += [s for s in entries if s.available and s.kind != "current"]
        if preferred:
            self.choose(preferred[0])
            return preferred[0]
        self.show_error("No model yet: train one, or open a checkpoint.")
        return None

    @Slot(int)
    def _activated(self, index: int) -> None:
        entries = self.sources()
        if 0 <= index < len(entries):
            self.choose(entries[index])

    @Slot()
    def _open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a checkpoint", "",
                                              "PyTorch checkpoints (*.pt *.pth *.ckpt);;All files (*)")
        if path:
            self.open_checkpoint(Path(path))

    def open_checkpoint(self, path: Path, model_name: str | None = None) -> ModelSource:
        source = sources_mod.checkpoint_source(Path(path), model_name)
        self.choose(source)
        return source

    @Slot(int)
    def _arch_activated(self, index: int) -> None:
        source = self.selected()
        if source is None or source.kind != "checkpoint":
            return
        name = self.arch.itemData(index)
        self.open_checkpoint(source.path, name or None)

    def _fill_architectures(self) -> None:
        self.arch.addItem(AUTO_ARCH, "")
        try:
            from studio.core.models import list_models

            for spec in list_models():
                self.arch.addItem(spec.name, spec.name)
        except ImportError:
            pass

    def _show_arch(self, visible: bool, model_name: str | None = None) -> None:
        self.arch_label.setVisible(visible)
        self.arch.setVisible(visible)
        index = self.arch.findData(model_name or "")
        self.arch.setCurrentIndex(max(0, index))

    # ---------------------------------------------------------------- feedback

    def show_loaded(self, loaded, epoch_note: str = "") -> None:
        """epoch_note: which epoch of the run answers, when the window's timeline chose one."""
        c, h, w = loaded.input_shape
        classes = loaded.classes
        names = ", ".join(classes[:6]) + (", …" if len(classes) > 6 else "")
        self.info.setStyleSheet("")
        self.info.setText(f"<b>{html.escape(loaded.model_name)}</b> · input {c}×{h}×{w} · {len(classes)} classes "
                          f"({html.escape(names)}) · {html.escape(_short_source(loaded.source))}"
                          + (f" · <b>at {html.escape(epoch_note)}</b>" if epoch_note else ""))
        self.info.setToolTip(str(loaded.source))

    def show_error(self, message: str) -> None:
        source = self.selected()
        if source is not None and source.kind == "checkpoint" and not source.model_name \
                and "plain state dict" in message:
            # The core's wording names the command line's --model; here the choice is the list beside.
            message = (f"{source.path.name} holds only weights (a notebook's state dict), not which network "
                       "they belong to: choose the architecture it was trained with in the Architecture list.")
            self.arch.setFocus()
        self.info.setStyleSheet("color: #b00020;")
        self.info.setText(html.escape(message))


def _short_source(source: str) -> str:
    """A checkpoint's file name (the full path is in the tooltip); other sources as they are."""
    text = str(source)
    if text.endswith((".pt", ".pth", ".ckpt")):
        text = Path(text).name
    return ("…" + text[-70:]) if len(text) > 72 else text
