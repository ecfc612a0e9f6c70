"""The Laplacian-of-Gaussian kernel as numbers (seed 000's create_log_kernel), not only as a
heat map: every value in a table, with its size, sum, centre and extremes. The kernel comes from
studio.core.lab.kernels.log_kernel, the same one the "Kernels on a photo" section applies.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.lab.kernels import log_kernel, log_kernel_size
from studio.gui.tabs.lab.common import mono_font, row, title_label
from studio.gui.widgets.heatmap import colorize, value_range


class LogValuesSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kernel: np.ndarray | None = None
        self.sigma_spin = QDoubleSpinBox()
        self.sigma_spin.setRange(0.5, 10.0)
        self.sigma_spin.setSingleStep(0.5)
        self.sigma_spin.setValue(5.0)
        self.sigma_spin.setDecimals(1)
        self.facts = QLabel()
        self.facts.setFont(mono_font())
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget()
        self.table.setFont(mono_font(-1.5))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay = QVBoxLayout(self)
        lay.addWidget(title_label("Laplacian-of-Gaussian kernel values (the lecture “PyTorch basics”, §2.1 Convolution operation)"))
        lay.addLayout(row("σ", self.sigma_spin, 12, QLabel("size 2·⌈3σ⌉ + 1; values × 1000, float32 as the "
                                                           "lecture casts them")))
        lay.addWidget(self.facts)
        lay.addWidget(self.table, 1)
        self.sigma_spin.valueChanged.connect(self.set_sigma)
        self.set_sigma(5.0)

    def set_sigma(self, sigma: float) -> None:
        if abs(self.sigma_spin.value() - sigma) > 1e-9:
            self.sigma_spin.blockSignals(True)
            self.sigma_spin.setValue(sigma)
            self.sigma_spin.blockSignals(False)
        k = log_kernel(float(sigma))
        self.kernel = k
        n = k.shape[0]
        c = n // 2
        self.facts.setText(
            f"σ = {sigma:g}: {log_kernel_size(sigma)}×{log_kernel_size(sigma)} kernel · centre {k[c, c]:.6f} · "
            f"min {k.min():.6f} · max {k.max():.6f} · sum {float(k.astype(np.float64).sum()):.6f}")
        self.table.setRowCount(n)
        self.table.setColumnCount(n)
        labels = [str(i - c) for i in range(n)]
        self.table.setHorizontalHeaderLabels(labels)
        self.table.setVerticalHeaderLabels(labels)
        colours = colorize(k, "coolwarm", value_range(k, symmetric=True))
        for i in range(n):
            for j in range(n):
                item = QTableWidgetItem(f"{1000 * k[i, j]:.2f}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(f"[{i - c}, {j - c}] = {k[i, j]:.8f}")
                item.setBackground(QColor(*(int(v) for v in colours[i, j, :3])))
                self.table.setItem(i, j, item)
        self.table.scrollToItem(self.table.item(c, c), QTableWidget.ScrollHint.PositionAtCenter)
