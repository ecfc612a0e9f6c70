"""Counting parameters: seed 002's table for a small conv + linear stack, checked against torch.

The student sets the arguments of seed 002's PytorchCNN (input size, conv channels, kernel
sizes, hidden sizes, outputs); the section builds the real module and writes, per layer, the
weights and biases with the lecture's formula and numbers, then the total next to
sum(p.numel() for p in model.parameters()).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.lab import params as cp
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, mono_font

COLUMNS = ("Layer", "Type", "Output shape", "Weights", "Biases", "Parameters")


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class ParamsSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._loading = False
        self.table_data: cp.ParamTable | None = None
        self._build()
        self.load_preset("seed002")

    def _build(self) -> None:
        self.preset_combo = QComboBox()
        for p in cp.PRESETS:
            self.preset_combo.addItem(p.title, p.key)
        self.in_channels_spin = _spin(1, 64, 3)
        self.height_spin = _spin(1, 512, 32)
        self.width_spin = _spin(1, 512, 32)
        self.conv_edit = QLineEdit()
        self.conv_edit.setPlaceholderText("e.g. 8, 16")
        self.kernel_edit = QLineEdit()
        self.kernel_edit.setPlaceholderText("one per conv layer, or one for all")
        self.hidden_edit = QLineEdit()
        self.hidden_edit.setPlaceholderText("empty: no hidden layer")
        self.outputs_spin = _spin(1, 1000, 10)
        self.bn_check = QCheckBox("BatchNorm2d after each conv")
        self.show_all = QCheckBox("Show layers without parameters")
        self.show_all.setChecked(True)

        form_box = QGroupBox("PytorchCNN (the lecture, lines 576-624)")
        form = QFormLayout(form_box)
        form.addRow("Example", self.preset_combo)
        size = QHBoxLayout()
        for w, t in ((self.in_channels_spin, "channels"), (self.height_spin, "×"), (self.width_spin, "")):
            size.addWidget(w)
            if t:
                size.addWidget(QLabel(t))
        form.addRow("Input", size)
        form.addRow("Conv channels", self.conv_edit)
        form.addRow("Kernel sizes", self.kernel_edit)
        form.addRow("Hidden sizes", self.hidden_edit)
        form.addRow("Outputs", self.outputs_spin)
        form.addRow("", self.bn_check)
        form.addRow("", self.show_all)
        explain = QLabel("Each conv block is Conv2d(padding = k // 2) → ReLU → MaxPool2d(2); then Flatten, "
                         "Linear + ReLU per hidden size, and a Linear to the outputs.\n\n"
                         "Conv: (c_in × k × k + 1) × c_out\nLinear: (d + 1) × h\n"
                         "BatchNorm: γ and β, 2 × C (running mean/var are buffers, not parameters)")
        explain.setWordWrap(True)
        explain.setStyleSheet("color: #444444;")
        self.module_text = QPlainTextEdit()
        self.module_text.setReadOnly(True)
        self.module_text.setFont(mono_font(-1))
        left = QVBoxLayout()
        left.addWidget(form_box)
        left.addWidget(explain)
        left.addWidget(QLabel("The module (print(model)):"))
        left.addWidget(self.module_text, 1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(420)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS)):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.total_label = QLabel()
        self.total_label.setFont(mono_font(1))
        self.total_label.setWordWrap(True)
        self.total_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.check_label = MessageLine()
        self.message = MessageLine()
        right = QVBoxLayout()
        right.addWidget(self.table, 1)
        right.addWidget(self.total_label)
        right.addWidget(self.check_label)
        right.addWidget(self.message)

        lay = QHBoxLayout(self)
        lay.addWidget(left_widget)
        lay.addLayout(right, 1)

        self.preset_combo.currentIndexChanged.connect(
            lambda _i: self.load_preset(self.preset_combo.currentData()))
        for w in (self.in_channels_spin, self.height_spin, self.width_spin, self.outputs_spin):
            w.valueChanged.connect(self._recompute)
        for w in (self.conv_edit, self.kernel_edit, self.hidden_edit):
            w.textChanged.connect(self._recompute)
        self.bn_check.toggled.connect(self._recompute)
        self.show_all.toggled.connect(self._recompute)

    def load_preset(self, key: str) -> None:
        preset = next(p for p in cp.PRESETS if p.key == key)
        r = preset.recipe
        self._loading = True
        try:
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(key))
            self.in_channels_spin.setValue(r.in_channels)
            self.height_spin.setValue(r.height)
            self.width_spin.setValue(r.width)
            self.conv_edit.setText(", ".join(map(str, r.conv_channels)))
            self.kernel_edit.setText(", ".join(map(str, r.kernel_sizes)))
            self.hidden_edit.setText(", ".join(map(str, r.hidden_sizes)))
            self.outputs_spin.setValue(r.n_output)
            self.bn_check.setChecked(r.batchnorm)
        finally:
            self._loading = False
        self._preset = preset
        self._recompute()

    def recipe(self) -> cp.CnnRecipe:
        return cp.CnnRecipe(
            in_channels=self.in_channels_spin.value(),
            conv_channels=cp.parse_int_list(self.conv_edit.text(), "conv channels", allow_empty=True),
            kernel_sizes=cp.parse_int_list(self.kernel_edit.text(), "kernel sizes"),
            hidden_sizes=cp.parse_int_list(self.hidden_edit.text(), "hidden sizes", allow_empty=True),
            n_output=self.outputs_spin.value(), height=self.height_spin.value(), width=self.width_spin.value(),
            batchnorm=self.bn_check.isChecked())

    def _recompute(self, *_args) -> None:
        if self._loading:
            return
        try:
            recipe = self.recipe()
            model, table = cp.recipe_table(recipe)
        except ConvLabError as exc:
            self.message.error(str(exc))
            self.check_label.clear_message()
            return
        self.message.clear_message()
        self.table_data = table
        self.module_text.setPlainText(str(model))
        rows = [r for r in table.rows if r.has_params or self.show_all.isChecked()]
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            shape = "[" + ", ".join(map(str, r.output_shape)) + "]"
            cells = (r.name, r.kind, shape, r.weights_formula, r.biases_formula, r.total_formula)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not r.has_params:
                    item.setForeground(QBrush(QColor("#8a8a8a")))
                elif j == len(cells) - 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, j, item)
        self.total_label.setText(f"Total parameters: {table.total_formula}")
        check = f"sum(p.numel() for p in model.parameters()) = {table.numel_total:,}"
        if table.matches:
            expected = self._preset.expected_total if recipe == self._preset.recipe else None
            extra = f"; the lecture “Convolution in PyTorch” prints {expected:,}" if expected else ""
            self.check_label.ok(f"✓ {check}: the formulas account for every parameter{extra}.")
        else:
            self.check_label.error(f"✗ {check}, but the formulas give {table.total:,}.")
