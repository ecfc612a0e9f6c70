"""Softmax and cross-entropy (seed 001, lines 118-177): edit logits, see probabilities and loss.

The probabilities come from torch.softmax and the loss from F.cross_entropy (which takes the
raw logits, as nn.CrossEntropyLoss does in seed 001); -log(p_c) computed from the shown
probability is written beside it. The -log(p) curve carries the lecture's points
(p = 0.1 gives 2.3, p = 0.9 gives 0.1, p = 1 gives 0) and the current true-class probability.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from studio.core.lab import autograd as ca
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, make_plot, mono_font, row
from studio.gui.widgets.heatmap_grid import HeatmapGrid

DEFAULT_LOGITS = (2.0, 1.0, 0.1)   # with true class 2, p_c ≈ 0.1: the lecture's "2.3" point
DEFAULT_TARGET = 2


class SoftmaxSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._logits = np.asarray(DEFAULT_LOGITS, dtype=np.float64)
        self.result: ca.SoftmaxCE | None = None
        self._build()
        self._recompute()

    def _build(self) -> None:
        self.classes_spin = QSpinBox()
        self.classes_spin.setRange(2, 10)
        self.classes_spin.setValue(len(self._logits))
        self.target_spin = QSpinBox()
        self.target_spin.setRange(0, len(self._logits) - 1)
        self.target_spin.setValue(DEFAULT_TARGET)
        self.reset_button = QPushButton("Reset logits")
        self.logits_grid = HeatmapGrid(cell_width=62, cell_height=30)
        self.exp_grid = HeatmapGrid(editable=False, cell_width=62, cell_height=30)
        self.probs_grid = HeatmapGrid(editable=False, cell_width=62, cell_height=30)
        self.formula = QLabel("softmax(x)_i = e^x_i / Σ_j e^x_j        loss = −log(p_c), c = the true class")
        self.formula.setFont(mono_font())
        self.sum_label = QLabel()
        self.sum_label.setFont(mono_font(-0.5))
        self.sum_label.setWordWrap(True)
        self.loss_label = QLabel()
        self.loss_label.setFont(mono_font(1.5))
        self.loss_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = MessageLine()
        self.pred_label = QLabel()
        self.message = MessageLine()

        self.bar_plot = make_plot("probabilities (orange: true class)", "class", "p")
        self.bar_plot.setYRange(0, 1, padding=0.02)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.bar_plot.addItem(self.bars)
        self.nll_plot = make_plot("cross-entropy −log(p_c) (the lecture)", "p_c", "loss")
        p, nll = ca.neg_log_curve()
        self.nll_plot.plot(p, nll, pen=pg.mkPen("#1f77b4", width=2))
        self.nll_plot.setYRange(0, 5.5, padding=0)
        self.nll_plot.setXRange(0, 1.02, padding=0)
        finite = [(x, y) for x, y in ca.LECTURE_CE_POINTS if np.isfinite(y)]
        self.lecture_points = pg.ScatterPlotItem([x for x, _ in finite], [y for _, y in finite], size=9,
                                                 brush=pg.mkBrush("#2ca02c"), pen=pg.mkPen("#1a5e1a"))
        self.nll_plot.addItem(self.lecture_points)
        # Where each lecture label sits (x, y, anchor) so that none covers another or the curve.
        places = {0.0: (0.025, 4.9, (0, 0.5)), 0.1: (0.12, 2.45, (0, 1)), 0.9: (0.9, 0.6, (1, 1)),
                  1.0: (1.0, 0.15, (1, 1))}
        for x, y in ca.LECTURE_CE_POINTS:
            text = "p = 0 → ∞" if not np.isfinite(y) else f"p = {x:g} → {y:g}"
            px, py, anchor = places.get(x, (x, y, (0, 1)))
            label = pg.TextItem(text, color="#1a5e1a", anchor=anchor)
            label.setPos(px, py)
            self.nll_plot.addItem(label)
        self.current_point = pg.ScatterPlotItem(size=13, brush=pg.mkBrush("#ff8c00"), pen=pg.mkPen("#a35a00"))
        self.nll_plot.addItem(self.current_point)

        edit_box = QGroupBox("Logits → softmax → cross-entropy")
        el = QVBoxLayout(edit_box)
        el.addLayout(row("classes", self.classes_spin, "true class c", self.target_spin, self.reset_button))
        for title, grid in (("logits x (type to edit)", self.logits_grid), ("e^x", self.exp_grid),
                            ("p = softmax(x)", self.probs_grid)):
            el.addWidget(QLabel(title))
            el.addWidget(grid)
        el.addWidget(self.formula)
        el.addWidget(self.sum_label)
        el.addWidget(self.loss_label)
        el.addWidget(self.check_label)
        el.addWidget(self.pred_label)
        el.addWidget(self.message)
        el.addStretch(1)

        plots = QVBoxLayout()
        plots.addWidget(self.bar_plot, 1)
        plots.addWidget(self.nll_plot, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(edit_box, 1)
        lay.addLayout(plots, 1)

        self.classes_spin.valueChanged.connect(self._on_classes_changed)
        self.target_spin.valueChanged.connect(lambda _v: self._recompute())
        self.logits_grid.cellEdited.connect(self._on_logit_edited)
        self.logits_grid.invalidInput.connect(self.message.error)
        self.reset_button.clicked.connect(self.reset)

    # ------------------------------------------------------------------ reactions
    def logits(self) -> np.ndarray:
        return self._logits.copy()

    def set_logits(self, values) -> None:
        self._logits = np.asarray(values, dtype=np.float64)
        self.classes_spin.blockSignals(True)
        self.classes_spin.setValue(len(self._logits))
        self.classes_spin.blockSignals(False)
        self.target_spin.setMaximum(len(self._logits) - 1)
        self._recompute()

    def reset(self) -> None:
        self.set_logits(DEFAULT_LOGITS)
        self.target_spin.setValue(DEFAULT_TARGET)

    def _on_classes_changed(self, k: int) -> None:
        old = self._logits
        new = np.zeros(k)
        new[:min(k, len(old))] = old[:k]
        self.target_spin.setMaximum(k - 1)
        self._logits = new
        self._recompute()

    def _on_logit_edited(self, _r: int, c: int, value: float) -> None:
        if abs(value) > 1000:
            self.message.error("Keep logits between −1000 and 1000.")
            self._recompute()
            return
        self._logits[c] = value
        self._recompute()

    def _recompute(self) -> None:
        try:
            r = ca.softmax_cross_entropy(self._logits, self.target_spin.value())
        except ConvLabError as exc:
            self.message.error(str(exc))
            return
        self.message.clear_message()
        self.result = r
        labels = [str(i) for i in range(len(r.logits))]
        self.logits_grid.set_values(r.logits, col_labels=labels, row_labels=["x"])
        self.exp_grid.set_values(r.exps, col_labels=labels, row_labels=["e^x"])
        self.probs_grid.set_values(r.probs, levels=(-1.0, 1.0), col_labels=labels, row_labels=["p"])
        for g in (self.logits_grid, self.exp_grid, self.probs_grid):
            g.set_highlight([(0, r.target)])
        total = float(np.sum(r.exps))
        c, p = r.target, float(r.probs[r.target])
        self.sum_label.setText(f"Σ e^x = {total:.6g};  p_{c} = e^{r.logits[c]:g} / {total:.6g} = {p:.4f};"
                               f"  Σ p = {float(np.sum(r.probs)):.4f}")
        self.loss_label.setText(f"loss = −log(p_{c}) = −log({p:.4f}) = {r.neg_log_p:.4f}")
        agree = abs(r.loss - r.neg_log_p) <= 1e-9 * max(1.0, abs(r.loss))
        check = f"F.cross_entropy(logits, target={c}) = {r.loss:.4f}"
        (self.check_label.ok if agree else self.check_label.error)(
            f"{'✓' if agree else '✗'} {check}" + (" (the same, computed from the logits)" if agree else ""))
        right = r.predicted == r.target
        self.pred_label.setText(f"argmax p = class {r.predicted}: "
                                + ("the prediction is right." if right else "the prediction is wrong."))
        colours = [pg.mkBrush("#ff8c00") if i == r.target else pg.mkBrush("#1f77b4") for i in range(len(r.probs))]
        self.bars.setOpts(x=np.arange(len(r.probs)), height=r.probs, width=0.6, brushes=colours)
        self.bar_plot.setXRange(-0.6, len(r.probs) - 0.4, padding=0)
        self.bar_plot.getPlotItem().getAxis("bottom").setTicks([[(i, str(i)) for i in range(len(r.probs))]])
        self.current_point.setData([p], [min(r.neg_log_p, 5.4)])
