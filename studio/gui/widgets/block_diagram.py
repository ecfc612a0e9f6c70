"""A simple block diagram of a network: one coloured box per layer, in order, with arrows.

Boxes flow left to right and wrap into rows like text, so a 40-layer VGG fits a window and a
ResNet scrolls. The colour says what kind of layer it is (convolution, pooling, ...), the box
says its type and output shape; clicking a box emits its index.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QToolTip, QWidget

KIND_COLORS = {
    "input": "#d9d9d9",
    "conv": "#9ecae1",
    "pool": "#a1d99b",
    "norm": "#dadaeb",
    "act": "#fdd0a2",
    "linear": "#bcbddc",
    "dropout": "#f0f0f0",
    "reshape": "#e5e5e5",
    "other": "#fff7bc",
}


@dataclass
class Block:
    title: str          # e.g. "Conv2d 3→32"
    detail: str         # e.g. "32×32×32"
    kind: str           # a key of KIND_COLORS
    tooltip: str = ""


def kind_of(layer_type: str) -> str:
    """Map a module class name to a colour group."""
    t = layer_type.lower()
    if "conv" in t:
        return "conv"
    if "pool" in t:
        return "pool"
    if "norm" in t:
        return "norm"
    if t in ("relu", "relu6", "leakyrelu", "tanh", "sigmoid", "gelu", "silu", "hardswish", "hardsigmoid",
             "elu", "softmax", "mish", "prelu"):
        return "act"
    if "linear" in t:
        return "linear"
    if "dropout" in t:
        return "dropout"
    if t in ("flatten", "unflatten", "identity"):
        return "reshape"
    return "other"


class _DiagramCanvas(QWidget):
    BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 148, 50, 24, 24, 10

    def __init__(self, diagram: "BlockDiagram"):
        super().__init__()
        self.diagram = diagram
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding)

    def columns(self) -> int:
        usable = self.diagram.viewport().width() - 2 * self.MARGIN + self.GAP_X
        return max(1, usable // (self.BOX_W + self.GAP_X))

    def box_rect(self, i: int) -> QRect:
        row, col = divmod(i, self.columns())
        return QRect(self.MARGIN + col * (self.BOX_W + self.GAP_X), self.MARGIN + row * (self.BOX_H + self.GAP_Y),
                     self.BOX_W, self.BOX_H)

    def index_at(self, pos: QPoint) -> int | None:
        for i in range(len(self.diagram.blocks)):
            if self.box_rect(i).contains(pos):
                return i
        return None

    def needed_height(self) -> int:
        n = len(self.diagram.blocks)
        rows = -(-n // self.columns()) if n else 1
        return 2 * self.MARGIN + rows * (self.BOX_H + self.GAP_Y)

    def paintEvent(self, event) -> None:
        d = self.diagram
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(event.rect(), self.palette().base())
        if not d.blocks:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, d.placeholder)
            p.end()
            return
        for i in range(len(d.blocks) - 1):
            self._paint_arrow(p, self.box_rect(i), self.box_rect(i + 1))
        fm = p.fontMetrics()
        for i, block in enumerate(d.blocks):
            r = self.box_rect(i)
            if not r.adjusted(-4, -4, 4, 4).intersects(event.rect()):
                continue
            path = QPainterPath()
            path.addRoundedRect(r, 6, 6)
            p.fillPath(path, QColor(KIND_COLORS.get(block.kind, KIND_COLORS["other"])))
            selected = i == d.selected
            p.setPen(QPen(QColor("#ff8c00") if selected else QColor("#707070"), 3 if selected else 1))
            p.drawPath(path)
            p.setPen(QColor("#1a1a1a"))
            inner = r.adjusted(4, 3, -4, -3)
            title = fm.elidedText(block.title, Qt.TextElideMode.ElideRight, inner.width())
            detail = fm.elidedText(block.detail, Qt.TextElideMode.ElideRight, inner.width())
            p.drawText(inner, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, title)
            p.drawText(inner, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, detail)
        p.end()

    def _paint_arrow(self, p: QPainter, a: QRect, b: QRect) -> None:
        p.setPen(QPen(QColor("#808080"), 1.5))
        if a.top() == b.top():
            start, end = QPointF(a.right(), a.center().y()), QPointF(b.left(), b.center().y())
            p.drawLine(start, end)
        else:  # wrap to the next row: down, back left, down into the box
            mid_y = a.bottom() + self.GAP_Y / 2
            start, end = QPointF(a.center().x(), a.bottom()), QPointF(b.center().x(), b.top())
            p.drawPolyline(QPolygonF([start, QPointF(start.x(), mid_y), QPointF(end.x(), mid_y), end]))
        direction = 1 if a.top() == b.top() else 0
        tip = end
        if direction:
            head = [tip, QPointF(tip.x() - 7, tip.y() - 4), QPointF(tip.x() - 7, tip.y() + 4)]
        else:
            head = [tip, QPointF(tip.x() - 4, tip.y() - 7), QPointF(tip.x() + 4, tip.y() - 7)]
        p.setBrush(QColor("#808080"))
        p.drawPolygon(QPolygonF(head))
        p.setBrush(Qt.BrushStyle.NoBrush)

    def event(self, ev) -> bool:
        if ev.type() == QEvent.Type.ToolTip:
            i = self.index_at(ev.pos())
            if i is not None:
                b = self.diagram.blocks[i]
                QToolTip.showText(ev.globalPos(), b.tooltip or f"{b.title}\n{b.detail}", self)
            else:
                QToolTip.hideText()
            return True
        return super().event(ev)

    def mousePressEvent(self, event) -> None:
        i = self.index_at(event.position().toPoint())
        if i is not None:
            self.diagram.select(i)
            self.diagram.blockClicked.emit(i)


class BlockDiagram(QScrollArea):
    blockClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, placeholder: str = ""):
        super().__init__(parent)
        self.blocks: list[Block] = []
        self.selected: int | None = None
        self.placeholder = placeholder
        self.canvas = _DiagramCanvas(self)
        self.setWidget(self.canvas)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(90)

    def set_blocks(self, blocks: list[Block]) -> None:
        self.blocks = list(blocks)
        self.selected = None
        self._relayout()

    def count(self) -> int:
        return len(self.blocks)

    def select(self, i: int | None) -> None:
        self.selected = i
        if i is not None:
            self.ensureVisible(self.canvas.box_rect(i).center().x(), self.canvas.box_rect(i).center().y(), 10, 40)
        self.canvas.update()

    def _relayout(self) -> None:
        self.canvas.setMinimumHeight(self.canvas.needed_height())
        self.canvas.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(700, 200)
