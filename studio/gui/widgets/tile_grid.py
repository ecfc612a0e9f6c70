"""A scrollable grid of small image tiles with captions, hover tooltips and a click signal.

Kernels, feature maps and test images are shown as tiles. A layer can have hundreds of
them, so the grid paints every tile in one widget (only the visible ones) instead of making a
QLabel per tile, and builds tooltips lazily when a callable is given.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QScrollArea, QSizePolicy, QToolTip, QWidget

from studio.gui.widgets.heatmap import to_qimage

pg.setConfigOptions(imageAxisOrder="row-major")

Tooltips = Sequence[str] | Callable[[int], str] | None


class _TileCanvas(QWidget):
    def __init__(self, grid: "TileGrid"):
        super().__init__()
        self.grid = grid
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.MinimumExpanding)

    def paintEvent(self, event) -> None:
        g = self.grid
        p = QPainter(self)
        p.fillRect(event.rect(), self.palette().base())
        if not g.images:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(QRect(0, 0, self.width(), max(self.height(), 60)), Qt.AlignmentFlag.AlignCenter
                       | Qt.TextFlag.TextWordWrap, g.placeholder)
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, g.smooth)
        fm = p.fontMetrics()
        for i in g.visible_indices(event.rect()):
            self._paint_tile(p, fm, i)
        p.end()

    def _paint_tile(self, p: QPainter, fm: QFontMetrics, i: int) -> None:
        g = self.grid
        cell = g.tile_rect(i)
        img: QImage = g.images[i]
        s = min(cell.width() / img.width(), cell.height() / img.height())
        w, h = max(1, int(img.width() * s)), max(1, int(img.height() * s))
        target = QRect(cell.left() + (cell.width() - w) // 2, cell.top() + (cell.height() - h) // 2, w, h)
        p.drawImage(target, img)
        border = QColor("#ff8c00") if i == g.selected else QColor("#b0b0b0")
        p.setPen(QPen(border, 3 if i == g.selected else 1))
        p.drawRect(target.adjusted(0, 0, -1, -1) if i != g.selected else target.adjusted(-2, -2, 1, 1))
        if g.captions:
            color = g.caption_colors[i] if g.caption_colors else None
            p.setPen(QColor(color) if color else self.palette().windowText().color())
            text_rect = QRect(cell.left() - g.spacing // 2, cell.bottom() + 2, cell.width() + g.spacing,
                              g.caption_height())
            lines = [fm.elidedText(t, Qt.TextElideMode.ElideRight, text_rect.width())
                     for t in g.captions[i].split("\n")]
            p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "\n".join(lines))

    def event(self, ev) -> bool:
        if ev.type() == QEvent.Type.ToolTip:
            i = self.grid.index_at(ev.pos())
            text = self.grid.tooltip(i) if i is not None else ""
            if text:
                QToolTip.showText(ev.globalPos(), text, self)
            else:
                QToolTip.hideText()
                ev.ignore()
            return True
        return super().event(ev)

    def mouseMoveEvent(self, event) -> None:
        i = self.grid.index_at(event.position().toPoint())
        self.grid.tileHovered.emit(-1 if i is None else i)

    def mousePressEvent(self, event) -> None:
        i = self.grid.index_at(event.position().toPoint())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.grid.select(i)
            self.grid.tileClicked.emit(i)


class TileGrid(QScrollArea):
    """Tiles flow left to right and wrap; the grid scrolls vertically."""

    tileClicked = Signal(int)
    tileHovered = Signal(int)   # -1 when over no tile

    def __init__(self, parent: QWidget | None = None, *, tile_size: int = 64, spacing: int = 8,
                 placeholder: str = ""):
        super().__init__(parent)
        self.tile_size = tile_size
        self.spacing = spacing
        self.placeholder = placeholder
        self.images: list[QImage] = []
        self.captions: list[str] = []
        self.caption_colors: list[str | None] = []
        self._tooltips: Tooltips = None
        self.selected: int | None = None
        self.smooth = False
        self.canvas = _TileCanvas(self)
        self.setWidget(self.canvas)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumSize(120, 100)

    # -- content --------------------------------------------------------------------------
    def set_tiles(self, images: Sequence[np.ndarray], captions: Sequence[str] | None = None,
                  caption_colors: Sequence[str | None] | None = None, tooltips: Tooltips = None,
                  smooth: bool = False) -> None:
        """images: uint8 (H, W) or (H, W, 3) arrays; captions may have two lines."""
        self.images = [to_qimage(im) for im in images]
        self.captions = list(captions) if captions else []
        self.caption_colors = list(caption_colors) if caption_colors else []
        self._tooltips = tooltips
        self.smooth = smooth
        self.selected = None
        self._relayout()

    def clear(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self.set_tiles([])

    def count(self) -> int:
        return len(self.images)

    def set_tile_size(self, px: int) -> None:
        self.tile_size = max(8, int(px))
        self._relayout()

    def select(self, i: int | None) -> None:
        self.selected = i
        self.canvas.update()

    def tooltip(self, i: int) -> str:
        if self._tooltips is None:
            return self.captions[i] if self.captions else f"tile {i}"
        if callable(self._tooltips):
            return self._tooltips(i)
        return self._tooltips[i]

    # -- geometry -------------------------------------------------------------------------
    def caption_height(self) -> int:
        if not self.captions:
            return 0
        lines = max(t.count("\n") + 1 for t in self.captions)
        return lines * QFontMetrics(self.canvas.font()).height() + 2

    def columns(self) -> int:
        width = self.viewport().width() - self.spacing
        return max(1, width // (self.tile_size + self.spacing))

    def _pitch(self) -> tuple[int, int]:
        return self.tile_size + self.spacing, self.tile_size + self.caption_height() + self.spacing

    def tile_rect(self, i: int) -> QRect:
        """The square a tile's image fits into, in canvas coordinates."""
        cols = self.columns()
        px, py = self._pitch()
        row, col = divmod(i, cols)
        return QRect(self.spacing + col * px, self.spacing + row * py, self.tile_size, self.tile_size)

    def index_at(self, pos: QPoint) -> int | None:
        px, py = self._pitch()
        col = (pos.x() - self.spacing) // px
        row = (pos.y() - self.spacing) // py
        if col < 0 or row < 0 or col >= self.columns():
            return None
        i = row * self.columns() + col
        if i >= len(self.images):
            return None
        cell = self.tile_rect(i).adjusted(0, 0, 0, self.caption_height())
        return i if cell.contains(pos) else None

    def visible_indices(self, rect: QRect) -> range:
        if not self.images:
            return range(0)
        cols = self.columns()
        _, py = self._pitch()
        first = max(0, (rect.top() - self.spacing) // py) * cols
        last = ((rect.bottom() - self.spacing) // py + 1) * cols
        return range(first, min(len(self.images), last))

    def _relayout(self) -> None:
        rows = -(-len(self.images) // self.columns()) if self.images else 0
        _, py = self._pitch()
        self.canvas.setMinimumHeight(max(60, self.spacing + rows * py))
        self.canvas.updateGeometry()
        self.canvas.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(4 * (self.tile_size + self.spacing) + 24, 2 * (self.tile_size + self.spacing) + 40)
