"""A horizontal bar chart of class probabilities: label, bar, percentage, one row each.

Painted with QPainter instead of pyqtgraph so that the class names stay crisp, never
overlap and are elided rather than clipped when the panel is narrow.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

_ROW_GAP = 4
_PAD = 6


class BarChart(QWidget):
    """set_items([(label, value 0..1), ...]): the first row is drawn highlighted."""

    def __init__(self, parent=None, *, placeholder: str = "No prediction yet"):
        super().__init__(parent)
        self._items: list[tuple[str, float]] = []
        self._placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)

    # ---------------------------------------------------------------- data

    def set_items(self, items) -> None:
        self._items = [(str(label), max(0.0, min(1.0, float(value)))) for label, value in items]
        self.setAccessibleDescription("; ".join(f"{l}: {v:.1%}" for l, v in self._items))
        self.updateGeometry()
        self.update()

    def items(self) -> list[tuple[str, float]]:
        return list(self._items)

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def clear(self) -> None:
        self.set_items([])

    # ---------------------------------------------------------------- geometry

    def _row_height(self) -> int:
        return QFontMetrics(self.font()).height() + 6

    def sizeHint(self) -> QSize:
        rows = max(3, len(self._items))
        return QSize(320, 2 * _PAD + rows * (self._row_height() + _ROW_GAP))

    def minimumSizeHint(self) -> QSize:
        # Every row stays readable: the chart is never squeezed below its rows' height.
        rows = max(3, len(self._items))
        return QSize(180, 2 * _PAD + rows * (self._row_height() + _ROW_GAP))

    # ---------------------------------------------------------------- painting

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        if not self._items:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)
            return
        metrics = QFontMetrics(self.font())
        width = self.width() - 2 * _PAD
        label_w = min(max(metrics.horizontalAdvance(l) for l, _ in self._items) + 8, int(width * 0.42))
        bold = self.font()
        bold.setBold(True)
        value_w = max(QFontMetrics(bold).horizontalAdvance(t) for t in ("100.0 %", ">99.9 %", "<0.1 %")) + 12
        bar_w = max(10, width - label_w - value_w)
        row_h = min(self._row_height(), max(10, (self.height() - 2 * _PAD) // len(self._items) - _ROW_GAP))
        highlight = palette.color(QPalette.ColorRole.Highlight)
        other = QColor(highlight)
        other.setAlpha(110)
        track = palette.color(QPalette.ColorRole.Mid)
        track.setAlpha(50)
        y = _PAD
        for i, (label, value) in enumerate(self._items):
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.setPen(text_color)
            font = painter.font()
            font.setBold(i == 0)
            painter.setFont(font)
            painter.drawText(QRectF(_PAD, y, label_w - 8, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            x0 = _PAD + label_w
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(QRectF(x0, y + 2, bar_w, row_h - 4), 3, 3)
            painter.setBrush(highlight if i == 0 else other)
            if value > 0:
                painter.drawRoundedRect(QRectF(x0, y + 2, max(2.0, bar_w * value), row_h - 4), 3, 3)
            painter.setPen(text_color)
            painter.drawText(QRectF(x0 + bar_w + 6, y, value_w, row_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, format_probability(value))
            y += row_h + _ROW_GAP
        painter.end()


def format_probability(value: float) -> str:
    """One decimal, but never a rounded 0 % or 100 %: a network is never that sure."""
    if 0 < value < 0.0005:
        return "<0.1 %"
    if 0.9995 <= value < 1:
        return ">99.9 %"
    return f"{100 * value:.1f} %"
