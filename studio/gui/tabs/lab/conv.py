"""Correlation and convolution on small editable grids, with a sliding-window stepper.

The section holds the input (C_in, *spatial) and the kernel (C_out, C_in/groups, *kernel) as
numpy arrays, hands them with the settings to studio.core.lab.conv.run_conv (F.conv1d /
F.conv2d underneath) and shows the padded input, the kernel and the output as heat-map grids.
The stepper walks the shown output channel one position at a time: the input cells under the
window get a frame, the products appear in their own grid, and the sum is written out.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QBoxLayout, QButtonGroup, QComboBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QRadioButton, QScrollArea, QSpinBox, QVBoxLayout,
                               QWidget)

from studio.core.lab import conv as convlab
from studio.core.lab.conv import ConvLabError, ConvResult, ConvSettings, LectureExample
from studio.gui.tabs.lab.common import MessageLine, mono_font, note_label, row, title_label
from studio.gui.tabs.lab.conv_stepper import StepperMixin
from studio.gui.widgets.heatmap_grid import HeatmapGrid

DEFAULT_EXAMPLE = "2d-edge-same"
PLAY_INTERVAL_MS = 600


def _spin(lo: int, hi: int, value: int, tip: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


def _resize(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """a cut or zero-extended to shape (top-left corner kept)."""
    out = np.zeros(shape)
    common = tuple(slice(0, min(x, y)) for x, y in zip(a.shape, shape))
    out[common] = a[common]
    return out


class ConvSection(StepperMixin, QWidget):
    """Correlation/convolution lab. Public widgets are attributes so tests can drive them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._dims = 2
        self._x = np.zeros((1, 5, 5))
        self._w = np.zeros((1, 1, 3, 3))
        self._example: LectureExample | None = None
        self._pristine = False
        self._result: ConvResult | None = None
        self._step = 0
        self._loading = False
        self._build()
        self.load_example(DEFAULT_EXAMPLE)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.example_combo = QComboBox()
        for ex in convlab.EXAMPLES:
            self.example_combo.addItem(ex.title, ex.key)
            self.example_combo.setItemData(self.example_combo.count() - 1, ex.source, Qt.ItemDataRole.ToolTipRole)
        # Not AdjustToContents: the longest example title made the section wider than a 1280-pixel screen.
        self.example_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.example_combo.setMinimumContentsLength(30)
        self.corr_radio = QRadioButton("Cross-correlation (what nn.Conv2d computes)")
        self.conv_radio = QRadioButton("Convolution (kernel flipped)")
        self.corr_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.corr_radio)
        group.addButton(self.conv_radio)

        self.padding_combo = QComboBox()
        self.padding_combo.addItems(["same", "valid", "number"])
        self.padding_spin = _spin(0, 10, 1, "cells of padding on every side")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(convlab.PADDING_MODES))
        self.mode_combo.setToolTip("padding_mode of nn.Conv2d: what the padding cells contain")
        self.stride_spin = _spin(1, 6, 1, "how far the window moves between outputs")
        self.dilation_spin = _spin(1, 6, 1, "spacing between the kernel's taps")
        self.groups_spin = _spin(1, 4, 1, "groups: each output channel sees C_in/groups input channels")
        self.in_ch_spin = _spin(1, 4, 1, "input channels")
        self.out_ch_spin = _spin(1, 4, 1, "output channels (number of kernels)")
        self.rows_spin = _spin(1, 12, 5, "input rows")
        self.cols_spin = _spin(1, 14, 5, "input columns (length in 1D)")
        self.krows_spin = _spin(1, 7, 3, "kernel rows")
        self.kcols_spin = _spin(1, 7, 3, "kernel columns (length in 1D)")
        self.out_view_spin = _spin(0, 0, 0, "which output channel the grids and the stepper show")
        self.slice_view_spin = _spin(0, 0, 0, "which input channel of that output channel's group to show")

        settings = QGroupBox("Layer settings")
        grid = QGridLayout(settings)
        grid.setHorizontalSpacing(10)
        grid.addLayout(row("padding", self.padding_combo, self.padding_spin, 8, "mode", self.mode_combo, 8,
                           "stride", self.stride_spin, 8, "dilation", self.dilation_spin, 8,
                           "groups", self.groups_spin), 0, 0)
        self.rows_label = QLabel("×")
        grid.addLayout(row("input size", self.rows_spin, self.rows_label, self.cols_spin, 8,
                           "kernel", self.krows_spin, QLabel("×"), self.kcols_spin, 8,
                           "channels in", self.in_ch_spin, "out", self.out_ch_spin, 8,
                           "show output channel", self.out_view_spin, "input", self.slice_view_spin), 1, 0)

        self.input_grid = HeatmapGrid()
        self.kernel_grid = HeatmapGrid()
        self.flipped_grid = HeatmapGrid(editable=False)
        self.output_grid = HeatmapGrid(editable=False)
        self.products_grid = HeatmapGrid(editable=False)
        self.input_title = title_label("Input")
        self.kernel_title = title_label("Kernel")
        self.flipped_title = title_label("Flipped kernel (what is applied)")
        self.output_title = title_label("Output")

        self.grids_box = QHBoxLayout()
        self.grids_box.setSpacing(14)
        for title, widgets in ((self.input_title, [self.input_grid]),
                               (self.kernel_title, [self.kernel_grid, self.flipped_title, self.flipped_grid]),
                               (self.output_title, [self.output_grid])):
            col = QVBoxLayout()
            col.setSpacing(3)
            col.addWidget(title)
            for w in widgets:
                col.addWidget(w)
            col.addStretch(1)
            self.grids_box.addLayout(col)
        self.grids_box.addStretch(1)
        grids_widget = QWidget()
        grids_widget.setLayout(self.grids_box)
        scroll = QScrollArea()
        scroll.setWidget(grids_widget)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)

        # formula and checks
        self.shape_label = QLabel()
        self.shape_label.setFont(mono_font())
        self.shape_label.setWordWrap(True)
        self.shape_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula_label = QLabel()
        self.formula_label.setFont(mono_font(-0.5))
        self.formula_label.setWordWrap(True)
        self.formula_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = MessageLine()
        self.message_label = MessageLine()
        self.source_label = note_label()
        formula_box = QGroupBox("Output size")
        fl = QVBoxLayout(formula_box)
        fl.addWidget(self.shape_label)
        fl.addWidget(self.formula_label)
        fl.addWidget(self.message_label)
        fl.addWidget(self.check_label)
        fl.addWidget(self.source_label)
        fl.addStretch(1)

        # stepper
        self.reset_button = QPushButton("|◀ First")
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.step_label = QLabel()
        self.step_label.setWordWrap(True)
        self.equation_label = QLabel()
        self.equation_label.setWordWrap(True)
        self.equation_label.setFont(mono_font(-0.5))
        self.equation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.products_title = QLabel("Products (input × kernel, this window)")
        step_box = QGroupBox("Step through the sliding window")
        sl = QVBoxLayout(step_box)
        sl.addLayout(row(self.reset_button, self.prev_button, self.next_button, self.play_button, self.step_label))
        prod_row = QHBoxLayout()
        pcol = QVBoxLayout()
        pcol.addWidget(self.products_title)
        pcol.addWidget(self.products_grid)
        pcol.addStretch(1)
        prod_row.addLayout(pcol)
        prod_row.addWidget(self.equation_label, 1)
        sl.addLayout(prod_row)

        bottom = QHBoxLayout()
        bottom.addWidget(formula_box, 1)
        bottom.addWidget(step_box, 1)

        lay = QVBoxLayout(self)
        lay.addLayout(row("Example", self.example_combo, 16, self.corr_radio, self.conv_radio))
        lay.addWidget(settings)
        lay.addWidget(scroll, 1)
        lay.addLayout(bottom)

        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._on_play_tick)

        self.example_combo.currentIndexChanged.connect(self._on_example_chosen)
        self.corr_radio.toggled.connect(self._on_settings_changed)
        self.padding_combo.currentIndexChanged.connect(self._on_settings_changed)
        for spin in (self.padding_spin, self.stride_spin, self.dilation_spin):
            spin.valueChanged.connect(self._on_settings_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_settings_changed)
        for spin in (self.groups_spin, self.in_ch_spin, self.out_ch_spin):
            spin.valueChanged.connect(self._on_channels_changed)
        for spin in (self.rows_spin, self.cols_spin, self.krows_spin, self.kcols_spin):
            spin.valueChanged.connect(self._on_size_changed)
        self.out_view_spin.valueChanged.connect(self._on_view_changed)
        self.slice_view_spin.valueChanged.connect(self._on_view_changed)
        self.input_grid.cellEdited.connect(self._on_input_edited)
        self.kernel_grid.cellEdited.connect(self._on_kernel_edited)
        for g in (self.input_grid, self.kernel_grid):
            g.invalidInput.connect(self.message_label.error)
        self.reset_button.clicked.connect(lambda: self.go_to_step(0))
        self.prev_button.clicked.connect(lambda: self.go_to_step(self._step - 1))
        self.next_button.clicked.connect(lambda: self.go_to_step(self._step + 1))
        self.play_button.toggled.connect(self._on_play_toggled)

    # ------------------------------------------------------------------ state in/out
    def settings(self) -> ConvSettings:
        choice = self.padding_combo.currentText()
        padding = self.padding_spin.value() if choice == "number" else choice
        return ConvSettings(padding=padding, padding_mode=self.mode_combo.currentText(),
                            stride=self.stride_spin.value(), dilation=self.dilation_spin.value(),
                            groups=self.groups_spin.value(), flip=self.conv_radio.isChecked())

    def result(self) -> ConvResult | None:
        return self._result

    def input_array(self) -> np.ndarray:
        return self._x.copy()

    def weight_array(self) -> np.ndarray:
        return self._w.copy()

    def load_example(self, key: str) -> None:
        ex = convlab.get_example(key)
        self._loading = True
        try:
            self.example_combo.setCurrentIndex(self.example_combo.findData(key))
            self._dims = ex.dims
            self._x = ex.signal.reshape(1, *ex.signal.shape).astype(np.float64)
            self._w = ex.kernel.reshape(1, 1, *ex.kernel.shape).astype(np.float64)
            s = ex.settings
            if isinstance(s.padding, str):
                self.padding_combo.setCurrentText(s.padding)
            else:
                self.padding_combo.setCurrentText("number")
                self.padding_spin.setValue(int(s.padding))
            self.mode_combo.setCurrentText(s.padding_mode)
            self.stride_spin.setValue(s.stride)
            self.dilation_spin.setValue(s.dilation)
            for spin in (self.groups_spin, self.in_ch_spin, self.out_ch_spin):
                spin.setValue(1)
            self.corr_radio.setChecked(True)
            spatial, kernel = ex.signal.shape, ex.kernel.shape
            self.rows_spin.setValue(spatial[0] if ex.dims == 2 else 1)
            self.cols_spin.setValue(spatial[-1])
            self.krows_spin.setValue(kernel[0] if ex.dims == 2 else 1)
            self.kcols_spin.setValue(kernel[-1])
            for spin in (self.rows_spin, self.krows_spin):
                spin.setEnabled(ex.dims == 2)
            # A 1-D signal is one long row: stack the grids so each gets the full width.
            self.grids_box.setDirection(QBoxLayout.Direction.LeftToRight if ex.dims == 2
                                        else QBoxLayout.Direction.TopToBottom)
        finally:
            self._loading = False
        self._example, self._pristine = ex, True
        self._step = 0
        self._recompute()

    # ------------------------------------------------------------------ reactions
    def _on_example_chosen(self, _index: int) -> None:
        if not self._loading:
            self.load_example(self.example_combo.currentData())

    def _on_settings_changed(self, *_args) -> None:
        if not self._loading:
            self._recompute()

    def _on_size_changed(self, *_args) -> None:
        if self._loading:
            return
        if self._dims == 2:
            spatial = (self.rows_spin.value(), self.cols_spin.value())
            kernel = (self.krows_spin.value(), self.kcols_spin.value())
        else:
            spatial, kernel = (self.cols_spin.value(),), (self.kcols_spin.value(),)
        self._x = _resize(self._x, (self._x.shape[0], *spatial))
        self._w = _resize(self._w, (*self._w.shape[:2], *kernel))
        self._pristine = False
        self._recompute()

    def _on_channels_changed(self, *_args) -> None:
        if self._loading:
            return
        c_in, c_out, groups = self.in_ch_spin.value(), self.out_ch_spin.value(), self.groups_spin.value()
        if c_in % groups or c_out % groups:
            self._result = None
            self._show_invalid(f"groups={groups} must divide both the input channels ({c_in}) and the "
                               f"output channels ({c_out}).")
            return
        # New channels start as copies of channel 0 / kernel [0, 0], so nothing appears from nowhere.
        x = np.repeat(self._x[:1], c_in, axis=0)
        x[:min(c_in, self._x.shape[0])] = self._x[:c_in]
        per_group = c_in // groups
        w = np.repeat(np.repeat(self._w[:1, :1], c_out, axis=0), per_group, axis=1)
        keep_o, keep_i = min(c_out, self._w.shape[0]), min(per_group, self._w.shape[1])
        w[:keep_o, :keep_i] = self._w[:keep_o, :keep_i]
        self._x, self._w = x, w
        self._pristine = False
        self._recompute()

    def _on_view_changed(self, *_args) -> None:
        if not self._loading:
            self._step = 0
            self._refresh_views()

    def _on_input_edited(self, r: int, c: int, value: float) -> None:
        pads = self._result.pads if self._result is not None else ((0, 0),) * self._dims
        ch = self._shown_input_channel()
        if self._dims == 2:
            idx = (ch, r - pads[0][0], c - pads[1][0])
        else:
            idx = (ch, c - pads[0][0])
        if all(0 <= i < n for i, n in zip(idx, self._x.shape)):
            self._x[idx] = value
            self._pristine = False
            self._recompute()

    def _on_kernel_edited(self, r: int, c: int, value: float) -> None:
        o, j = self.out_view_spin.value(), self.slice_view_spin.value()
        idx = (o, j, r, c) if self._dims == 2 else (o, j, c)
        self._w[idx] = value
        self._pristine = False
        self._recompute()

    # ------------------------------------------------------------------ compute and show
    def _shown_input_channel(self) -> int:
        per_group = self._w.shape[1]
        groups = max(1, self._x.shape[0] // per_group)
        o = min(self.out_view_spin.value(), self._w.shape[0] - 1)
        group = o // max(1, self._w.shape[0] // groups)
        return group * per_group + min(self.slice_view_spin.value(), per_group - 1)

    def _recompute(self) -> None:
        self.padding_spin.setEnabled(self.padding_combo.currentText() == "number")
        self._set_view_ranges()
        s = self.settings()
        self._update_formula(s)
        try:
            self._result = convlab.run_conv(self._x, self._w, s, dims=self._dims)
        except ConvLabError as exc:
            self._result = None
            self._show_invalid(str(exc))
            return
        self.message_label.clear_message()
        out_shape = self._result.torch_shape
        self.shape_label.setText(f"input {(1, *self._x.shape)}  *  weight {self._w.shape}  →  "
                                 f"output {out_shape}")
        self._step = min(self._step, self._spatial_count() - 1)
        self._refresh_views()
        self._update_check()

    def _set_view_ranges(self) -> None:
        self._loading = True
        try:
            self.out_view_spin.setMaximum(self._w.shape[0] - 1)
            self.slice_view_spin.setMaximum(self._w.shape[1] - 1)
        finally:
            self._loading = False

    def _update_formula(self, s: ConvSettings) -> None:
        names = ("L",) if self._dims == 1 else ("H", "W")
        lines = []
        for axis, name in enumerate(names):
            n, k = self._x.shape[1 + axis], self._w.shape[2 + axis]
            lines.append(convlab.output_size_text(n, k, s.padding, s.stride, s.dilation, name))
        self.formula_label.setText("\n".join(lines))

    def _show_invalid(self, message: str) -> None:
        self.message_label.error(message)
        self.check_label.clear_message()
        self.shape_label.setText(f"input {(1, *self._x.shape)}  *  weight {self._w.shape}  →  output: —")
        self._stop_playing()
        ch = min(self._shown_input_channel(), self._x.shape[0] - 1)
        self.input_grid.set_values(self._x[ch] if self._dims == 2 else self._x[ch][None])
        self.output_grid.setRowCount(0)
        self.output_grid.setColumnCount(0)
        self.products_grid.setRowCount(0)
        self.products_grid.setColumnCount(0)
        self.equation_label.setText("")
        self.step_label.setText("")
        for b in (self.prev_button, self.next_button, self.play_button, self.reset_button):
            b.setEnabled(False)

    def _refresh_views(self) -> None:
        r = self._result
        if r is None:
            return
        o = min(self.out_view_spin.value(), self._w.shape[0] - 1)
        j = min(self.slice_view_spin.value(), self._w.shape[1] - 1)
        ch = self._shown_input_channel()
        frozen = np.ones(r.padded.shape[1:], dtype=bool)
        inner = tuple(slice(b, b + n) for (b, _a), n in zip(r.pads, self._x.shape[1:]))
        frozen[inner] = False
        two_d = (lambda a: a) if self._dims == 2 else (lambda a: a[None])
        self.input_grid.set_values(two_d(r.padded[ch]), frozen=two_d(frozen))
        self.kernel_grid.set_values(two_d(self._w[o, j]))
        flipped = r.settings.flip
        self.flipped_grid.setVisible(flipped)
        self.flipped_title.setVisible(flipped)
        if flipped:
            self.flipped_grid.set_values(two_d(r.weight_used[o, j]))
        self.output_grid.set_values(two_d(r.output[o]))
        multi = self._x.shape[0] > 1 or self._w.shape[0] > 1
        pad_note = "" if not any(a or b for a, b in r.pads) else " (grey: padding)"
        self.input_title.setText(f"Input{f' channel {ch}' if multi else ''}{pad_note}")
        self.kernel_title.setText(f"Kernel w[{o}, {j}]" if multi else "Kernel")
        self.output_title.setText(f"Output{f' channel {o}' if multi else ''}")
        for b in (self.prev_button, self.next_button, self.play_button, self.reset_button):
            b.setEnabled(True)
        self._show_step()

    def _update_check(self) -> None:
        ex = self._example
        s = self.settings()
        if ex is None or not self._pristine:
            self.check_label.note("Your own numbers: the output is F.conv2d's." if self._dims == 2 else
                                  "Your own numbers: the output is F.conv1d's.")
            self.source_label.setText(ex.source if ex else "")
            return
        self.source_label.setText(f"From {ex.source}." + (f" {ex.note}" if ex.note else ""))
        if s != ex.settings:
            self.check_label.note(f"The lecture uses {ex.settings.describe()}"
                                  + ("" if not s.flip else ", with cross-correlation") + ".")
            return
        out = self._result.output[0]
        if ex.expected is not None:
            shown = "[" + ", ".join(convlab.format_number(v) for v in ex.expected.ravel()) + "]"
            if np.array_equal(out, ex.expected):
                self.check_label.ok(f"✓ Same as the lecture prints: {shown}")
            else:
                self.check_label.error(f"✗ The lecture prints {shown}")
        elif ex.expected_cells:
            parts = [f"output{tuple(i)} = {convlab.format_number(v)}" for i, v in ex.expected_cells]
            ok = all(abs(out[tuple(i)] - v) < 1e-9 for i, v in ex.expected_cells)
            (self.check_label.ok if ok else self.check_label.error)(
                ("✓ As in the lecture: " if ok else "✗ The lecture says ") + ", ".join(parts))
        else:
            self.check_label.note("The lecture plots this output without printing it; "
                                  "these are F.conv2d's numbers.")
