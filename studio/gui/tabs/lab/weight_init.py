"""Weight initialisation (seed 002 lines 495-499, seed 004 lines 266-271) next to PyTorch's default.

Pick a layer (the lectures' layers are presets) and a scheme; a real nn.Conv2d / nn.Linear /
nn.Conv1d is built (and, for the lecture's He schemes, re-initialised with nn.init), and the
histograms of its weights and biases are drawn against the formulas' bounds: PyTorch's
±1/√fan_in in orange, the lecture's He-uniform ±√(6/fan_in) in green, He-normal's density in
purple. All maths lives in studio.core.lab.weight_init.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from studio.core.lab import weight_init as ci
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, make_plot, mono_font, note_label, row

BINS = 80
PYTORCH_COLOUR = "#e07000"
HE_COLOUR = "#1b7a32"
NORMAL_COLOUR = "#7b3fa0"
BAR_COLOUR = (31, 119, 180, 150)


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def _vline(colour: str, label: str, style=Qt.PenStyle.SolidLine, y: float = 0.95) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(colour, width=2, style=style), label=label,
                           labelOpts={"position": y, "color": colour, "anchors": [(0.5, 0), (0.5, 0)]})
    return line


class InitSection(QWidget):
    """Public widgets are attributes so tests can drive them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.result: ci.InitResult | None = None
        self._loading = False
        self._build()
        self.load_preset(0)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.preset_combo = QComboBox()
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(48)
        for title, spec in ci.PRESETS:
            self.preset_combo.addItem(f"{title}: {spec.describe()}")
        self.preset_combo.addItem("custom")
        self.kind_combo = QComboBox()
        self.kind_combo.addItems(list(ci.LAYER_KINDS))
        self.in_spin = _spin(1, 4096, 3, "in_channels / in_features")
        self.out_spin = _spin(1, 4096, 32, "out_channels / out_features")
        self.kernel_spin = _spin(1, 11, 3, "kernel size (square for Conv2d)")
        self.kernel_label = QLabel("kernel")
        self.scheme_combo = QComboBox()
        for key in ci.SCHEMES:
            self.scheme_combo.addItem(ci.SCHEME_TITLES[key], key)
        self.draw_button = QPushButton("Build again")
        self.draw_button.setToolTip("a fresh module: new random draws")
        self.layer_label = QLabel()
        self.layer_label.setFont(mono_font(0.5))
        self.formula_label = QLabel()
        self.formula_label.setFont(mono_font(-0.5))
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label = QLabel()
        self.stats_label.setFont(mono_font(-0.5))
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = MessageLine()
        self.message = MessageLine()
        self.source_label = note_label(
            "The lecture “Convolution in PyTorch” (lines 495-499) and the lecture “Padding, stride, dilation” (lines 266-271): weights \"Kaiming/He\": "
            "U(−√(6/n_in), √(6/n_in)) [default] or N(0, 2/n_in); biases initialised to zero. "
            "PyTorch's actual default for Conv and Linear layers is kaiming_uniform_ with a = √5, i.e. "
            "U(±1/√fan_in), √6 ≈ 2.45 times narrower (variance 1/(3·fan_in) instead of 2/fan_in), and its "
            "biases are U(±1/√fan_in), not zero. The He schemes are nn.init.kaiming_uniform_ / "
            "kaiming_normal_(nonlinearity='relu') with nn.init.zeros_ for the bias."
        )

        box = QGroupBox("Layer and scheme")
        bl = QVBoxLayout(box)
        bl.addLayout(row("preset", self.preset_combo))
        bl.addLayout(row("layer", self.kind_combo, "in", self.in_spin, "out", self.out_spin, self.kernel_label,
                         self.kernel_spin))
        bl.addLayout(row("scheme", self.scheme_combo, self.draw_button))
        bl.addWidget(self.layer_label)
        bl.addWidget(self.formula_label)
        bl.addWidget(self.stats_label)
        bl.addWidget(self.check_label)
        bl.addWidget(self.message)
        bl.addWidget(self.source_label)
        bl.addStretch(1)

        self.weight_plot = make_plot("weights of the fresh module", "value", "count")
        self.weight_curve = self.weight_plot.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                                  brush=pg.mkBrush(*BAR_COLOUR), pen=pg.mkPen("#1f77b4", width=1))
        self.expect_curve = self.weight_plot.plot([], [], pen=pg.mkPen(NORMAL_COLOUR, width=2))
        self.lines = {
            "pt-": _vline(PYTORCH_COLOUR, "−1/√n"), "pt+": _vline(PYTORCH_COLOUR, "+1/√n"),
            "he-": _vline(HE_COLOUR, "−√(6/n)", Qt.PenStyle.DashLine, 0.85),
            "he+": _vline(HE_COLOUR, "+√(6/n)", Qt.PenStyle.DashLine, 0.85),
        }
        for line in self.lines.values():
            self.weight_plot.addItem(line)
        self.bias_plot = make_plot("biases", "value", "count")
        self.bias_curve = self.bias_plot.plot([0, 1], [0], stepMode="center", fillLevel=0,
                                              brush=pg.mkBrush(*BAR_COLOUR), pen=pg.mkPen("#1f77b4", width=1))
        self.bias_lines = (_vline(PYTORCH_COLOUR, "−1/√n"), _vline(PYTORCH_COLOUR, "+1/√n"))
        for line in self.bias_lines:
            self.bias_plot.addItem(line)

        plots = QVBoxLayout()
        plots.addWidget(self.weight_plot, 2)
        plots.addWidget(self.bias_plot, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(box, 4)
        lay.addLayout(plots, 5)
        for plot in (self.weight_plot, self.bias_plot):
            plot.getPlotItem().getAxis("bottom").enableAutoSIPrefix(False)

        self.preset_combo.currentIndexChanged.connect(self.load_preset)
        self.kind_combo.currentIndexChanged.connect(self._on_layer_edited)
        for spin in (self.in_spin, self.out_spin, self.kernel_spin):
            spin.valueChanged.connect(self._on_layer_edited)
        self.scheme_combo.currentIndexChanged.connect(lambda _i: self.redraw())
        self.draw_button.clicked.connect(self.redraw)

    # ------------------------------------------------------------------ state
    def spec(self) -> ci.LayerSpec:
        return ci.LayerSpec(self.kind_combo.currentText(), self.in_spin.value(), self.out_spin.value(),
                            self.kernel_spin.value())

    def scheme(self) -> str:
        return self.scheme_combo.currentData()

    def load_preset(self, index: int) -> None:
        if index >= len(ci.PRESETS):
            return                       # "custom": keep the sizes shown
        spec = ci.PRESETS[index][1]
        self._loading = True
        try:
            self.preset_combo.setCurrentIndex(index)
            self.kind_combo.setCurrentText(spec.kind)
            self.in_spin.setValue(spec.n_in)
            self.out_spin.setValue(spec.n_out)
            self.kernel_spin.setValue(spec.kernel)
        finally:
            self._loading = False
        self.redraw()

    def set_scheme(self, key: str) -> None:
        self.scheme_combo.setCurrentIndex(self.scheme_combo.findData(key))

    def _on_layer_edited(self, *_args) -> None:
        if self._loading:
            return
        spec = self.spec()
        match = [i for i, (_t, s) in enumerate(ci.PRESETS) if s == spec or
                 (s.kind == spec.kind == "Linear" and (s.n_in, s.n_out) == (spec.n_in, spec.n_out))]
        self._loading = True
        self.preset_combo.setCurrentIndex(match[0] if match else len(ci.PRESETS))
        self._loading = False
        self.redraw()

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        spec = self.spec()
        conv = spec.kind != "Linear"
        self.kernel_spin.setVisible(conv)
        self.kernel_label.setVisible(conv)
        try:
            r = ci.initialise(spec, self.scheme())
        except ConvLabError as exc:
            self.result = None
            self.message.error(str(exc))
            return
        self.message.clear_message()
        self.result = r
        n = r.fan_in
        e = r.expect
        self.layer_label.setText(f"{spec.describe()}: weight {tuple(r.weight_shape)}, bias ({spec.n_out},)")
        self.formula_label.setText("\n".join(ci.formula_lines(spec)))

        # One x range for every scheme, so the widths compare: the widest is He-normal's ±3σ.
        span = 1.1 * max(ci.he_uniform_bound(n), 3 * ci.he_normal_std(n))
        counts, edges = ci.histogram(r.weight, -span, span, BINS)
        outside = int(np.sum(np.abs(r.weight) > span))
        self.weight_curve.setData(edges, counts)
        width = edges[1] - edges[0]
        if e.weight_kind == "normal":
            xs = np.linspace(-span, span, 300)
            pdf = np.exp(-0.5 * (xs / e.weight_std) ** 2) / (e.weight_std * math.sqrt(2 * math.pi))
            self.expect_curve.setData(xs, r.weight.size * width * pdf)
        else:
            b = e.weight_bound
            level = r.weight.size * width / (2 * b)
            self.expect_curve.setData([-b, -b, b, b], [0, level, level, 0])
        pt, he = ci.pytorch_bound(n), ci.he_uniform_bound(n)
        for key, x in (("pt-", -pt), ("pt+", pt), ("he-", -he), ("he+", he)):
            self.lines[key].setValue(x)
        self.weight_plot.setXRange(-span, span, padding=0)
        self.weight_plot.getPlotItem().setTitle(
            f"{r.weight.size:,} weights; purple: the scheme's density", color="#202020",
            size="10pt")
        self.weight_plot.enableAutoRange(axis="y")

        bspan = 1.5 / math.sqrt(n)
        bcounts, bedges = ci.histogram(r.bias, -bspan, bspan, 30)
        self.bias_curve.setData(bedges, bcounts)
        self.bias_lines[0].setValue(-1 / math.sqrt(n))
        self.bias_lines[1].setValue(1 / math.sqrt(n))
        self.bias_plot.setXRange(-bspan, bspan, padding=0)
        self.bias_plot.getPlotItem().setTitle(
            f"{r.bias.size} biases: " + ("U(±1/√fan_in)" if e.bias_bound else "all zero (lecture)"),
            color="#202020", size="10pt")

        w = r.weight
        self.stats_label.setText(
            f"weights: min {w.min():+.5f}  max {w.max():+.5f}  mean {w.mean():+.5f}\n"
            f"         std {w.std():.5f}  (expected {'σ' if e.weight_kind == 'normal' else 'b/√3'} = "
            f"{e.weight_std:.5f})\n"
            f"biases:  min {r.bias.min():+.5f}  max {r.bias.max():+.5f}\n"
            f"torch's _calculate_fan_in_and_fan_out: fan_in = {r.torch_fan_in}"
            + (f";  {outside} weights beyond the plot" if outside else ""))
        if e.weight_kind == "uniform":
            ok = r.within_bounds() and r.torch_fan_in == n
            text = (f"every weight lies in [−{e.weight_bound:.5f}, {e.weight_bound:.5f}]"
                    + (f" and every bias in [−{e.bias_bound:.5f}, {e.bias_bound:.5f}]" if e.bias_bound
                       else "; every bias is 0"))
        else:
            frac = float(np.mean(np.abs(w) <= 3 * e.weight_std))
            ok = r.within_bounds() and r.torch_fan_in == n
            text = (f"{100 * frac:.1f}% of the weights lie within ±3σ = ±{3 * e.weight_std:.5f} "
                    f"(a normal distribution: 99.7%); every bias is 0")
        (self.check_label.ok if ok else self.check_label.error)(("✓ " if ok else "✗ ") + text)
