"""The Predict tab's choice of explanation: the method (Grad-CAM, ..., input gradients) and its layer.

A view only: it lists studio.core.inspect.cams' methods and the model's conv layers, and says
when the choice changed; the tab puts the choice into its pipeline Settings and asks for the
selected picture again (off the GUI thread, through its job queue).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from studio.core.inspect import cams

DEFAULT_LAYER_TEXT = "default (last conv stage)"
_TIPS = {
    "gradcam": "Feature maps weighted by the mean gradient of the class score (Selvaraju et al., 2017)",
    "gradcam++": "Like Grad-CAM, with per-position weights from higher-order gradients (Chattopadhyay et al., 2018)",
    "layercam": "Each position weighted by its own positive gradient: finer maps, also at early layers "
                "(Jiang et al., 2021)",
    "scorecam": "No gradients: each feature map masks the input and is weighted by the score it keeps "
                "(Wang et al., 2020); one forward pass per channel",
    "smoothgradcam++": "Grad-CAM++ averaged over noisy copies of the input (Omeiza et al., 2019)",
    "saliency": "|d score / d pixel|, the largest over the colour channels (Simonyan et al., 2014); "
                "no layer",
}


class CamControls(QWidget):
    changed = Signal()   # the method or the layer changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.method_box = QComboBox()
        for key, label in cams.METHODS.items():
            self.method_box.addItem(label, key)
            self.method_box.setItemData(self.method_box.count() - 1, _TIPS.get(key, ""),
                                         Qt.ItemDataRole.ToolTipRole)
        self.method_box.setToolTip("How the map explains the answer")
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The convolution layer the map is taken at: early layers show edges, "
                                  "late ones the parts that decide the class")
        self.layer_box.addItem(DEFAULT_LAYER_TEXT, None)
        # Long layer names ("features.denseblock4.denselayer16.conv2") must not widen the tab at 1024 px.
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_box.setMinimumContentsLength(14)
        self.layer_label = QLabel("at layer:")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Explain with:"))
        row.addWidget(self.method_box)
        row.addWidget(self.layer_label)
        row.addWidget(self.layer_box)
        row.addStretch(1)
        self.method_box.currentIndexChanged.connect(self._changed)
        self.layer_box.currentIndexChanged.connect(self._changed)

    def method(self) -> str:
        return self.method_box.currentData()

    def layer(self) -> str | None:
        return self.layer_box.currentData() if cams.uses_layer(self.method()) else None

    def set_layers(self, names: list[str]) -> None:
        """A new model: its conv layers; the choice stays if the new model has that layer too."""
        keep = self.layer_box.currentData()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItem(DEFAULT_LAYER_TEXT, None)
        for name in names:
            self.layer_box.addItem(name, name)
        self.layer_box.setCurrentIndex(max(0, self.layer_box.findData(keep)) if keep in names else 0)
        self.layer_box.blockSignals(False)

    def apply(self, settings) -> None:
        """Put the choice into pipeline Settings."""
        settings.cam_method = self.method()
        settings.cam_layer = self.layer()

    def choose(self, method: str, layer: str | None = None) -> None:
        """Select a method (any spelling cams.method_key reads) and a layer by name."""
        self.layer_box.setCurrentIndex(max(0, self.layer_box.findData(layer)) if layer else 0)
        self.method_box.setCurrentIndex(self.method_box.findData(cams.method_key(method)))

    def title(self) -> str:
        return f"Why: {cams.METHODS[self.method()]}"

    @Slot()
    def _changed(self) -> None:
        uses_layer = cams.uses_layer(self.method())
        self.layer_box.setEnabled(uses_layer)
        self.layer_label.setEnabled(uses_layer)
        self.changed.emit()
