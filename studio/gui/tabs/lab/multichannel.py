"""Multichannel convolution at any size (seed 000's 32x32x3 -> 30x30x16): the editable grid of the
Correlation section stops at 12x14 cells and 4 channels, so this section shows a summary: shapes,
the output-size formula with the numbers, a few output cells written out, and every input and
output channel as a thumbnail. The numbers come from studio.core.lab.multichannel.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.lab import multichannel as cm
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, mono_font, row, title_label
from studio.gui.widgets.heatmap import colorize, value_range
from studio.gui.widgets.tile_grid import TileGrid

PHOTO = "chelsea.png"


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setValue(value)
    return spin


def _photo() -> np.ndarray | None:
    from studio.core.errors import StudioError
    from studio.core.images import decode_image
    from studio.core.paths import RESOURCES

    try:
        return decode_image(RESOURCES / "images" / PHOTO, mode="RGB")
    except (StudioError, OSError):
        return None


class MultichannelSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: cm.MultichannelResult | None = None
        self._photo = _photo()
        L = cm.LECTURE
        self.h_spin = _spin(1, cm.MAX_SIDE, L["height"])
        self.w_spin = _spin(1, cm.MAX_SIDE, L["width"])
        self.cin_spin = _spin(1, cm.MAX_CHANNELS, L["in_channels"])
        self.cout_spin = _spin(1, cm.MAX_CHANNELS, L["out_channels"])
        self.k_spin = _spin(1, 31, L["kernel"])
        self.pad_spin = _spin(0, 31, L["padding"])
        self.stride_spin = _spin(1, 16, L["stride"])
        self.source_combo = QComboBox()
        self.source_combo.addItem(f"photo ({PHOTO}, resized)", "photo")
        self.source_combo.addItem("random numbers", "noise")
        self.lecture_button = QPushButton("Lecture example (32×32×3 → 30×30×16)")
        self.shapes_label = QLabel()
        self.shapes_label.setWordWrap(True)
        self.shapes_label.setFont(mono_font())
        self.formula_label = QLabel()
        self.formula_label.setFont(mono_font(-0.5))
        self.formula_label.setWordWrap(True)
        self.cells_label = QLabel()
        self.cells_label.setFont(mono_font(-0.5))
        self.cells_label.setWordWrap(True)
        for label in (self.shapes_label, self.formula_label, self.cells_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = MessageLine()
        self.inputs = TileGrid(tile_size=64, placeholder="No input.")
        self.outputs = TileGrid(tile_size=64, placeholder="No output.")
        self.inputs.setMaximumHeight(110)

        summary = QGroupBox("Summary (every cell would not fit on a screen)")
        sl = QVBoxLayout(summary)
        sl.addWidget(self.shapes_label)
        sl.addWidget(self.formula_label)
        sl.addWidget(QLabel("A few output cells, summed over the input channels:"))
        sl.addWidget(self.cells_label)
        sl.addWidget(self.message)
        sl.addStretch(1)
        pictures = QVBoxLayout()
        pictures.addWidget(title_label("Input channels"))
        pictures.addWidget(self.inputs)
        pictures.addWidget(title_label("Output channels, one per filter (F.conv2d)"))
        pictures.addWidget(self.outputs, 1)
        body = QHBoxLayout()
        body.addWidget(summary, 3)
        body.addLayout(pictures, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(title_label("Multichannel convolution at any size (the lecture “PyTorch basics”, CNN building blocks)"))
        lay.addLayout(row("input H", self.h_spin, "W", self.w_spin, "channels", self.cin_spin, 8,
                          "filters", self.cout_spin, "kernel", self.k_spin, "padding", self.pad_spin,
                          "stride", self.stride_spin))
        lay.addLayout(row("input", self.source_combo, 8, self.lecture_button))
        lay.addLayout(body, 1)

        for spin in (self.h_spin, self.w_spin, self.cin_spin, self.cout_spin, self.k_spin, self.pad_spin,
                     self.stride_spin):
            spin.valueChanged.connect(lambda _v: self.recompute())
        self.source_combo.currentIndexChanged.connect(lambda _i: self.recompute())
        self.lecture_button.clicked.connect(lambda: self.set_sizes(**cm.LECTURE))
        self.recompute()

    def set_sizes(self, height: int, width: int, in_channels: int, out_channels: int, kernel: int,
                  padding: int = 0, stride: int = 1) -> None:
        """Set every size at once (one recompute); the lectures' tours call this."""
        values = ((self.h_spin, height), (self.w_spin, width), (self.cin_spin, in_channels),
                  (self.cout_spin, out_channels), (self.k_spin, kernel), (self.pad_spin, padding),
                  (self.stride_spin, stride))
        for spin, value in values:
            spin.blockSignals(True)
            spin.setValue(int(value))
            spin.blockSignals(False)
        self.recompute()

    def recompute(self) -> None:
        photo = self._photo if self.source_combo.currentData() == "photo" else None
        try:
            x = cm.demo_input(self.h_spin.value(), self.w_spin.value(), self.cin_spin.value(), photo)
            self.result = cm.run_multichannel(x, self.cout_spin.value(), self.k_spin.value(),
                                              self.pad_spin.value(), self.stride_spin.value())
        except ConvLabError as exc:
            self.result = None
            self.message.error(str(exc))
            self.outputs.clear("No output.")
            return
        r = self.result
        self.message.note(f"{r.weight.shape[0]} filters × ({r.weight.shape[1]}×{r.weight.shape[2]}×"
                          f"{r.weight.shape[3]} + 1 bias) = {r.params:,} parameters")
        self.shapes_label.setText(r.shapes_text)
        self.formula_label.setText(r.formula)
        self.cells_label.setText("\n".join(text for _pos, text, _v in r.cells))
        self.inputs.set_tiles([colorize(c, "gray", (0.0, 1.0)) for c in r.input],
                              [f"in {i}" for i in range(len(r.input))])
        # Each map on its own range: one filter's bias would otherwise wash out the others.
        self.outputs.set_tiles([colorize(o, "gray", value_range(o)) for o in r.output],
                               [f"out {i}" for i in range(len(r.output))],
                               tooltips=lambda i: f"output channel {i}: {r.output[i].min():.3g} … "
                                                 f"{r.output[i].max():.3g} (each tile on its own grey scale)")
