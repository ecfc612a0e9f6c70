"""The settings panel's input widgets, made from rows of the field table, and the wheel guard."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from studio.core.config.fields import Field


class LadderSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (learning rate, weight decay): steps go 1-2-5-10.

    It shows compact numbers (0.001, 5e-05) and accepts typed scientific notation.
    """

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False, parent=None):
        super().__init__(parent)
        self.allow_zero = allow_zero
        self.setDecimals(10)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        self._min_positive = minimum
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def textFromValue(self, value: float) -> str:
        return "0" if value == 0 else f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            float(stripped)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            ok = all(ch in "0123456789.eE+-" for ch in stripped)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = self._next(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def _next(self, value: float, up: bool) -> float:
        if value <= 0:
            return self._min_positive if up else 0.0
        ladder = []
        decade = math.floor(math.log10(value)) - 1
        for d in range(decade, decade + 3):
            ladder += [m * 10.0 ** d for m in (1, 2, 5)]
        if up:
            return next(v for v in ladder if v > value * (1 + 1e-9))
        below = [v for v in ladder if v < value * (1 - 1e-9)]
        if not below or below[-1] < self._min_positive:
            return 0.0 if self.allow_zero else self._min_positive
        return below[-1]


class DoublingSpinBox(QSpinBox):
    """Batch size: the arrows double and halve."""

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = value * 2 if steps > 0 else max(1, value // 2)
        self.setValue(value)


def hint_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def compact_combo(minimum_length: int = 12) -> QComboBox:
    """A combo whose long item titles do not widen the panel."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(minimum_length)
    return combo


def make_input(f: Field) -> QWidget:
    """The widget the field's hint names, with its range, step and help; augmentations get their spin box."""
    if f.widget == "combo":
        widget = compact_combo(10)
        for value in f.choices:
            widget.addItem(f.titles.get(value, value), value)
            widget.setItemData(widget.count() - 1, f.titles.get(value, value), Qt.ItemDataRole.ToolTipRole)
    elif f.widget == "check":
        widget = QCheckBox(f.label)
    elif f.widget == "ladder":
        low, high = f.widget_range
        widget = LadderSpinBox(low or 1e-6, high, allow_zero=low == 0)
    else:
        widget = _spin(f)
    widget.setToolTip(f.help[0].upper() + f.help[1:] + ".")
    return widget


def _spin(f: Field) -> QSpinBox | QDoubleSpinBox:
    if f.widget == "doubling":
        spin: QSpinBox | QDoubleSpinBox = DoublingSpinBox()
    elif f.kind is int:
        spin = QSpinBox()
    else:
        spin = QDoubleSpinBox()
        spin.setDecimals(f.decimals)
    low, high = f.widget_range or (f.low, f.high)
    spin.setRange(low, high)
    if f.step:
        spin.setSingleStep(f.step)
    if f.suffix:
        spin.setSuffix(f.suffix)
    if f.special:
        spin.setSpecialValueText(f.special)
    if f.widget == "augment":
        spin.setValue(f.switch_on)
        spin.setMaximumWidth(80)
    return spin


def show_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        if widget.findData(value) < 0:  # a hand-edited config's value: shown as it is, for validate() to name
            widget.addItem(str(value), value)
        widget.setCurrentIndex(widget.findData(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    else:
        widget.setValue(value)


def read_value(widget: QWidget, kind: type) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return bool(widget.isChecked())
    return kind(widget.value())


class WheelGuard(QObject):
    """The mouse wheel over a spin box or combo that does not have the keyboard focus scrolls the panel
    instead of changing the value: scrolling past a setting must never change it. A click (or Tab)
    gives the input focus, and then the wheel edits it as usual."""

    def __init__(self, area: QAbstractScrollArea):
        super().__init__(area)
        self._area = area

    def guard(self, root: QWidget) -> None:
        for widget in (*root.findChildren(QAbstractSpinBox), *root.findChildren(QComboBox)):
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone never takes the focus
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            QApplication.sendEvent(self._area.verticalScrollBar(), event)
            return True
        return False
