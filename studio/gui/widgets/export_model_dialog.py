"""File > Export model…: a checkpoint leaves the studio as ONNX, TorchScript or safetensors.

The export and its self-check (the written file run beside PyTorch on held-out images) happen off
the GUI thread; the dialog shows the check's verdict in words, as `cnn-studio export` prints it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QVBoxLayout, QWidget,
)

FORMATS = (  # (format, title, what it is for)
    ("onnx", "ONNX", "Any ONNX runtime (onnxruntime, TensorRT, OpenVINO, browsers). Opset 18, any batch size."),
    ("torchscript", "TorchScript", "PyTorch without Python: C++ (LibTorch) and mobile. Traced and checked."),
    ("safetensors", "safetensors + JSON", "The weights in a pickle-free format, with a sidecar naming the "
                                          "architecture, classes and normalisation. The studio reads it back."),
)


class ExportModelDialog(QDialog):
    """Export `checkpoint`; `start_task(fn, on_done, on_error)` runs fn(progress, should_stop) off the GUI thread."""

    def __init__(self, checkpoint: Path, start_task, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.checkpoint = Path(checkpoint)
        self._start_task = start_task
        self.task = None
        self.result = None
        self.format_combo = QComboBox()
        for key, title, _ in FORMATS:
            self.format_combo.addItem(title, key)
        self.about = QLabel(wordWrap=True)
        self.path_edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Model", QLabel(str(self.checkpoint), wordWrap=True,
                                    textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse))
        form.addRow("Format", self.format_combo)
        form.addRow("", self.about)
        form.addRow("Save as", path_row)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setVisible(False)
        self.report = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.start_export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.report)
        layout.addWidget(self.buttons)
        self.format_combo.currentIndexChanged.connect(self._format_chosen)
        self._format_chosen()
        self.resize(560, self.sizeHint().height())

    @property
    def format(self) -> str:
        return self.format_combo.currentData()

    @Slot()
    def _format_chosen(self) -> None:
        from studio.core.runs.export import default_path

        self.about.setText(next(about for key, _, about in FORMATS if key == self.format))
        self.path_edit.setText(str(default_path(self.checkpoint, self.format)))

    @Slot()
    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export model as", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    @Slot()
    def start_export(self) -> None:
        from studio.core.runs import load_checkpoint
        from studio.core.runs.export import export_model

        checkpoint, fmt, out = self.checkpoint, self.format, Path(self.path_edit.text().strip())
        if not out.name:
            self.report.setText("Choose where to save the exported model.")
            return

        def work(progress, should_stop):
            return export_model(load_checkpoint(checkpoint), fmt, out)

        self._set_busy(True)
        self.report.setText("Exporting, then checking the file against PyTorch on held-out images…")
        self.task = self._start_task(work, on_done=self._exported, on_error=self._failed, owner=self)

    def _exported(self, result) -> None:
        self.result = result
        self._set_busy(False)
        verdict = "Verified" if result.passed else "The exported model does NOT match PyTorch"
        self.report.setText(
            f"<b>{verdict}</b> with {result.checked_with} on {result.images} {result.images_source}: "
            f"top-1 identical for {result.top1_agree} of {result.images}, largest probability difference "
            f"{result.max_prob_diff:.1e}.<br>Saved {', '.join(str(f) for f in result.files)} "
            f"({result.size_bytes / 1e6:.2f} MB){result.notes}.")

    def _failed(self, message: str, details: str) -> None:
        self._set_busy(False)
        self.report.setText(f"<b>Export failed:</b> {message}")

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.export_button.setEnabled(not busy)
        self.format_combo.setEnabled(not busy)
        self.path_edit.setEnabled(not busy)

    def reject(self) -> None:
        if self.task is not None:
            self.task.cancel()  # the export itself finishes in the background; its answer is dropped
        super().reject()
