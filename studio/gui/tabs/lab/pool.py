"""Pooling on a small grid (seed 001, lines 205-250): max, mean and Lp pooling, step by step.

The grid, kernel, stride, padding, ceil_mode and the lecture's extra zero row and column go
to studio.core.lab.pool.pool, which calls F.max_pool2d / F.avg_pool2d / F.lp_pool2d and
also works every window out by hand. The shown input carries the padding (−∞ for max
pooling, 0 for mean pooling), the lecture's zeros, and any cells a ceil_mode window hangs
over ("·"); the stepper frames one window at a time and writes its computation out.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFrame, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from studio.core.lab import pool as cpool
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, mono_font, note_label, row, title_label
from studio.gui.widgets.heatmap_grid import SECONDARY, HeatmapGrid


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class PoolSection(QWidget):
    """Public widgets are attributes so tests can drive them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._x = cpool.LECTURE_GRID.copy()
        self._result: cpool.PoolResult | None = None
        self._step = 0
        self._loading = False
        self._build()
        self.load_lecture_example()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.kind_combo = QComboBox()
        for key in cpool.KINDS:
            self.kind_combo.addItem(cpool.KIND_TITLES[key], key)
        self.p_spin = QDoubleSpinBox()
        self.p_spin.setRange(0.5, 10.0)
        self.p_spin.setSingleStep(0.5)
        self.p_spin.setDecimals(1)
        self.p_spin.setValue(2.0)
        self.p_spin.setToolTip("the p of Lp pooling: (Σ V^p)^(1/p)")
        self.p_label = QLabel("p")
        self.kernel_spin = _spin(1, 6, 2, "window size (square)")
        self.stride_spin = _spin(1, 6, 2, "how far the window moves")
        self.padding_spin = _spin(0, 3, 0, "PyTorch's padding on every side (at most half the kernel)")
        self.ceil_check = QCheckBox("ceil_mode")
        self.ceil_check.setToolTip("round the output size up: the last window may hang over the edge")
        self.extra_check = QCheckBox("lecture's extra zero row && column")
        self.extra_check.setToolTip("the lecture “CNN basics”: one row and one column of zeros at the bottom and the right "
                                    "(F.pad), so a 5×5 input becomes 6×6")
        self.cip_check = QCheckBox("count_include_pad")
        self.cip_check.setChecked(True)
        self.cip_check.setToolTip("avg_pool2d: count the padding zeros in the divisor")
        self.rows_spin = _spin(1, 10, 5, "input rows")
        self.cols_spin = _spin(1, 10, 5, "input columns")
        self.lecture_button = QPushButton("Lecture example")
        self.lecture_button.setToolTip("the lecture “CNN basics”'s 5×5 → 6×6 → 3×3 with 2×2 max pooling, stride 2")

        settings = QGroupBox("Pooling settings")
        sl = QVBoxLayout(settings)
        sl.addLayout(row("type", self.kind_combo, self.p_label, self.p_spin, 10, "kernel", self.kernel_spin,
                         "stride", self.stride_spin, "padding", self.padding_spin, 10, self.ceil_check,
                         self.cip_check))
        sl.addLayout(row("input", self.rows_spin, QLabel("×"), self.cols_spin, 10, self.extra_check, 10,
                         self.lecture_button))

        self.input_grid = HeatmapGrid(cell_width=52, cell_height=36)
        self.output_grid = HeatmapGrid(editable=False, cell_width=60, cell_height=36)
        self.input_title = title_label("Input (type to edit)")
        self.output_title = title_label("Output")
        self.legend = note_label()
        grids = QHBoxLayout()
        grids.setSpacing(20)
        for title, grid in ((self.input_title, self.input_grid), (self.output_title, self.output_grid)):
            col = QVBoxLayout()
            col.setSpacing(3)
            col.addWidget(title)
            col.addWidget(grid)
            col.addStretch(1)
            grids.addLayout(col)
        grids.addStretch(1)
        grids_widget = QWidget()
        gl = QVBoxLayout(grids_widget)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addLayout(grids)
        gl.addWidget(self.legend)
        gl.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(grids_widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.formula_label = QLabel()
        self.formula_label.setFont(mono_font())
        self.shape_label = QLabel()
        self.shape_label.setFont(mono_font())
        self.shape_label.setWordWrap(True)
        self.size_label = QLabel()
        self.size_label.setFont(mono_font(-0.5))
        self.size_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.call_label = QLabel()
        self.call_label.setFont(mono_font(-0.5))
        self.call_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = MessageLine()
        self.source_label = note_label(
            "The lecture “CNN basics” (lines 221-247): pooling applies max, mean or l_p over each window; a 2×2 window "
            "with stride [2, 2] takes a 5×5 input to 3×3, after an extra column and row of zeros make it "
            "6×6 (the zeros are invisible to max pooling). The grid is the lecture “Padding, stride, dilation”'s torch.arange(1, 26)."
        )
        self.hint_label = note_label(
            "Try: untick the lecture's zeros and tick ceil_mode: the same 3×3, PyTorch's way of letting the "
            "last window hang over the edge. Padding 1 instead pads every side (−∞ for max pooling). "
            "Mean pooling divides by the window's cells; Lp with p = 1 sums them, and a large p tends to the max."
        )
        size_box = QGroupBox("Formula and output size")
        fl = QVBoxLayout(size_box)
        for w in (self.formula_label, self.shape_label, self.size_label, self.call_label, self.message,
                  self.source_label, self.hint_label):
            fl.addWidget(w)
        fl.addStretch(1)

        self.first_button = QPushButton("|◀ First")
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.step_label = QLabel()
        self.equation_label = QLabel()
        self.equation_label.setWordWrap(True)
        self.equation_label.setFont(mono_font(0.5))
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = MessageLine()
        step_box = QGroupBox("Step through the windows (or click an output cell)")
        stl = QVBoxLayout(step_box)
        stl.addLayout(row(self.first_button, self.prev_button, self.next_button, self.step_label))
        stl.addWidget(self.equation_label)
        stl.addWidget(self.check_label)
        stl.addStretch(1)

        right = QVBoxLayout()
        right.addWidget(step_box, 1)
        right.addWidget(size_box, 2)
        middle = QHBoxLayout()
        middle.addWidget(scroll, 1)
        middle.addLayout(right, 1)
        lay = QVBoxLayout(self)
        lay.addWidget(settings)
        lay.addLayout(middle, 1)

        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        for spin in (self.kernel_spin, self.stride_spin, self.padding_spin, self.p_spin):
            spin.valueChanged.connect(self._on_settings_changed)
        for check in (self.ceil_check, self.extra_check, self.cip_check):
            check.toggled.connect(self._on_settings_changed)
        for spin in (self.rows_spin, self.cols_spin):
            spin.valueChanged.connect(self._on_size_changed)
        self.lecture_button.clicked.connect(self.load_lecture_example)
        self.input_grid.cellEdited.connect(self._on_input_edited)
        self.input_grid.invalidInput.connect(self.message.error)
        self.output_grid.cellClicked.connect(self._on_output_clicked)
        self.first_button.clicked.connect(lambda: self.go_to_step(0))
        self.prev_button.clicked.connect(lambda: self.go_to_step(self._step - 1))
        self.next_button.clicked.connect(lambda: self.go_to_step(self._step + 1))
        self._update_kind_widgets()

    # ------------------------------------------------------------------ state
    def settings(self) -> cpool.PoolSettings:
        return cpool.PoolSettings(kind=self.kind_combo.currentData(), kernel=self.kernel_spin.value(),
                                  stride=self.stride_spin.value(), padding=self.padding_spin.value(),
                                  ceil_mode=self.ceil_check.isChecked(), p=self.p_spin.value(),
                                  extra=1 if self.extra_check.isChecked() else 0,
                                  count_include_pad=self.cip_check.isChecked())

    def result(self) -> cpool.PoolResult | None:
        return self._result

    def input_array(self) -> np.ndarray:
        return self._x.copy()

    def set_input(self, values) -> None:
        x = np.asarray(values, dtype=np.float64)
        self._x = x.copy()
        self._loading = True
        self.rows_spin.setValue(x.shape[0])
        self.cols_spin.setValue(x.shape[1])
        self._loading = False
        self._recompute()

    def load_lecture_example(self) -> None:
        st = cpool.LECTURE_SETTINGS
        self._loading = True
        try:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(st.kind))
            self.kernel_spin.setValue(st.kernel)
            self.stride_spin.setValue(st.stride)
            self.padding_spin.setValue(st.padding)
            self.ceil_check.setChecked(st.ceil_mode)
            self.extra_check.setChecked(bool(st.extra))
            self.cip_check.setChecked(st.count_include_pad)
            self.p_spin.setValue(st.p)
        finally:
            self._loading = False
        self._step = 0
        self.set_input(cpool.LECTURE_GRID)

    # ------------------------------------------------------------------ reactions
    def _on_kind_changed(self, _index: int) -> None:
        self._update_kind_widgets()
        self._on_settings_changed()

    def _update_kind_widgets(self) -> None:
        kind = self.kind_combo.currentData()
        self.p_spin.setVisible(kind == "lp")
        self.p_label.setVisible(kind == "lp")
        self.cip_check.setVisible(kind == "avg")
        self.padding_spin.setEnabled(kind != "lp")
        if kind == "lp" and self.padding_spin.value():
            self._loading = True
            self.padding_spin.setValue(0)     # F.lp_pool2d has no padding argument
            self._loading = False
        self.padding_spin.setToolTip("F.lp_pool2d has no padding argument" if kind == "lp"
                                     else "PyTorch's padding on every side (at most half the kernel)")

    def _on_settings_changed(self, *_args) -> None:
        if not self._loading:
            self._recompute()

    def _on_size_changed(self, _v: int) -> None:
        if self._loading:
            return
        h, w = self.rows_spin.value(), self.cols_spin.value()
        new = np.zeros((h, w))
        hh, ww = min(h, self._x.shape[0]), min(w, self._x.shape[1])
        new[:hh, :ww] = self._x[:hh, :ww]
        self._x = new
        self._recompute()

    def _on_input_edited(self, r: int, c: int, value: float) -> None:
        res = self._result
        off = res.offset if res is not None else 0
        i, j = r - off, c - off
        if 0 <= i < self._x.shape[0] and 0 <= j < self._x.shape[1]:
            self._x[i, j] = value
        self._recompute()

    def _on_output_clicked(self, r: int, c: int) -> None:
        if self._result is not None:
            self.go_to_step(r * self._result.output.shape[1] + c)

    def _recompute(self) -> None:
        st = self.settings()
        try:
            res = cpool.pool(self._x, st)
        except ConvLabError as exc:
            self._result = None
            self.message.error(str(exc))
            self.output_grid.set_values(np.zeros((0, 0)))
            self.shape_label.setText("")
            self.size_label.setText("")
            self.call_label.setText("")
            self.equation_label.setText("")
            self.check_label.clear_message()
            self.step_label.setText("")
            self._show_input_only()
            return
        self.message.clear_message()
        self._result = res
        self._show_grids(res)
        formula = cpool.LECTURE_FORMULAS[st.kind].replace("^p", f"^{st.p:g}").replace("1/p", f"1/{st.p:g}")
        self.formula_label.setText(f"{cpool.KIND_TITLES[st.kind]}:  out = {formula} over each window")
        self.shape_label.setText(cpool.describe_shapes(res))
        th, tw = res.tensor.shape
        lines = cpool.size_formula("H", th, st.kernel, st.stride, st.padding, st.ceil_mode)
        if tw != th:
            lines += cpool.size_formula("W", tw, st.kernel, st.stride, st.padding, st.ceil_mode)
        else:
            lines = [ln.replace("H_out", "H_out = W_out", 1) for ln in lines]
        self.size_label.setText("\n".join(lines))
        self.call_label.setText(res.call)
        same = np.allclose(res.stepper_output(), res.output, rtol=1e-12, atol=1e-12, equal_nan=True)
        n = len(res.windows)
        (self.check_label.ok if same else self.check_label.error)(
            f"{'✓' if same else '✗'} the {n} windows worked out by hand "
            f"{'equal' if same else 'differ from'} {res.call.splitlines()[-1].split('(')[0]}'s output")
        if np.isnan(res.output).any():
            self.message.note("NaN: V^p of a negative number with a non-integer p (torch.pow) has no real value.")
        self.go_to_step(self._step)

    def _show_input_only(self) -> None:
        self.input_grid.set_values(self._x)

    def _show_grids(self, res: cpool.PoolResult) -> None:
        cat = res.category
        frozen = cat != cpool.INPUT
        shown = np.where(np.isfinite(res.shown), res.shown, 0.0)
        off = res.offset
        labels_r = [str(i - off) if 0 <= i - off < res.tensor.shape[0] else "" for i in range(cat.shape[0])]
        labels_c = [str(j - off) if 0 <= j - off < res.tensor.shape[1] else "" for j in range(cat.shape[1])]
        self.input_grid.set_values(shown, frozen=frozen, row_labels=labels_r, col_labels=labels_c)
        # Texts the numbers cannot say: −∞ padding of max pooling, nothing past the edge.
        self.input_grid.blockSignals(True)
        try:
            for (r, c), k in np.ndenumerate(cat):
                if k == cpool.OVER:
                    self.input_grid.item(r, c).setText("·")
                elif k == cpool.PAD and res.settings.kind == "max":
                    self.input_grid.item(r, c).setText("−∞")
        finally:
            self.input_grid.blockSignals(False)
        self.output_grid.set_values(res.output)
        parts = ["grey italics: not typed in"]
        if res.settings.extra:
            parts.append("the lecture's zero row and column at the bottom/right (F.pad)")
        if res.settings.padding:
            parts.append("PyTorch's padding: " + ("−∞, never the max" if res.settings.kind == "max"
                                                  else "zeros" + ("" if res.settings.count_include_pad
                                                                  else ", left out of the divisor")))
        if (cat == cpool.OVER).any():
            parts.append("· = past the edge, where a ceil_mode window hangs over (ignored)")
        self.legend.setText(";  ".join(parts) + ".")

    # ------------------------------------------------------------------ stepper
    def window_count(self) -> int:
        return 0 if self._result is None else len(self._result.windows)

    def current_window(self) -> cpool.PoolWindow | None:
        if self._result is None or not self._result.windows:
            return None
        return self._result.windows[self._step]

    def go_to_step(self, index: int) -> None:
        n = self.window_count()
        if n == 0:
            return
        self._step = max(0, min(index, n - 1))
        win = self._result.windows[self._step]
        self.input_grid.set_highlight(win.cells)
        self.output_grid.set_highlight([win.out_rc], SECONDARY)
        torch_value = float(self._result.output[win.out_rc])
        agree = (np.isnan(torch_value) and np.isnan(win.value)) or abs(torch_value - win.value) <= 1e-12 * max(
            1.0, abs(torch_value))
        fn = self._result.call.splitlines()[-1].split("(")[0]
        self.equation_label.setText(f"{win.text}\n{fn} gives {torch_value:.6g}  {'✓' if agree else '✗'}")
        self.step_label.setText(f"window {self._step + 1} of {n}: output {win.out_rc}")
        self.first_button.setEnabled(self._step > 0)
        self.prev_button.setEnabled(self._step > 0)
        self.next_button.setEnabled(self._step < n - 1)
