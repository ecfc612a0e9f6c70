"""Tensor basics (seed 000, "Basic Operations"): type two shapes, pick an operation, read the
result's shape or torch's own error, with the rule that decides. The lecture's cells are listed
with what they give. All of it comes from studio.core.lab.tensors.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core.lab import tensors as ct
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, mono_font, row, title_label

OPERATION_TITLES = {"add": "A + B (elementwise, broadcasting)", "matmul": "torch.matmul(A, B)",
                    "reshape": "A.reshape(B)"}


class TensorsSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.answer: ct.ShapeAnswer | None = None
        self.op_combo = QComboBox()
        for key in ct.OPERATIONS:
            self.op_combo.addItem(OPERATION_TITLES[key], key)
        self.a_edit = QLineEdit("3, 4")
        self.b_edit = QLineEdit("3, 4")
        for edit in (self.a_edit, self.b_edit):
            edit.setMaximumWidth(140)
        self.result_label = QLabel()
        self.result_label.setFont(mono_font(1.0))
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rule_label = QLabel()
        self.rule_label.setWordWrap(True)
        self.rule_label.setFont(mono_font(-0.5))
        self.message = MessageLine()
        self.facts_label = QLabel()
        self.facts_label.setFont(mono_font(-0.5))
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts_label.setWordWrap(True)

        try_box = QGroupBox("Try two shapes")
        tl = QVBoxLayout(try_box)
        tl.addLayout(row("operation", self.op_combo, 12, "A shape", self.a_edit, 8, "B shape", self.b_edit))
        tl.addWidget(self.result_label)
        tl.addWidget(self.rule_label)
        tl.addWidget(self.message)
        facts_box = QGroupBox("The lecture's cells, run here (the lecture “PyTorch basics”, §1.1 Basic Operations)")
        fl = QVBoxLayout(facts_box)
        fl.addWidget(self.facts_label)
        lay = QVBoxLayout(self)
        lay.addWidget(title_label("Shapes, reshape, broadcasting and the matrix product"))
        lay.addWidget(try_box)
        lay.addWidget(facts_box)
        lay.addStretch(1)

        self.op_combo.currentIndexChanged.connect(lambda _i: self._recompute())
        self.a_edit.textChanged.connect(lambda _t: self._recompute())
        self.b_edit.textChanged.connect(lambda _t: self._recompute())
        self.facts_label.setText("\n".join(f"{f.code}\n    → {f.result}" for f in ct.lecture_facts()))
        self._recompute()

    def set_example(self, operation: str, a_shape, b_shape) -> None:
        """Show one operation on two shapes (the lectures' tours call this)."""
        self.op_combo.blockSignals(True)
        self.op_combo.setCurrentIndex(self.op_combo.findData(operation))
        self.op_combo.blockSignals(False)
        for edit, shape in ((self.a_edit, a_shape), (self.b_edit, b_shape)):
            edit.blockSignals(True)
            edit.setText(", ".join(map(str, shape)))
            edit.blockSignals(False)
        self._recompute()

    def _recompute(self) -> None:
        op = self.op_combo.currentData()
        try:
            a, b = ct.parse_shape(self.a_edit.text()), ct.parse_shape(self.b_edit.text())
            self.answer = ct.shape_answer(op, a, b)
        except ConvLabError as exc:
            self.answer = None
            self.result_label.setText("")
            self.rule_label.setText("")
            self.message.error(str(exc))
            return
        ans = self.answer
        self.rule_label.setText(ans.rule)
        if ans.ok:
            self.result_label.setText(f"result shape: torch.Size({list(ans.result_shape)})")
            self.message.ok("The shapes fit.")
        else:
            self.result_label.setText("result: torch refuses")
            self.message.error(f"{ans.error_type}: {ans.error}")
