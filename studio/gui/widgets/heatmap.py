"""A heat map / image view with class-name axes, a colour bar, cell labels and a hover readout.

One painted widget serves the confusion matrix, a single activation map and a map laid over
its input photo. It is drawn with QPainter rather than a pyqtgraph plot so that axis labels can
be rotated and every cell can carry its count, which a matrix of class names needs.

Colour maps live here too (`lookup_table`, `colorize`), so every view in the studio maps
values to colours the same way; `ColorBar` is the stand-alone bar for the tile grids.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QImage, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major")

# matplotlib's anchor colours for the two maps the lectures use by name (seed 001 'Blues',
# seed 000 'coolwarm'); pyqtgraph bundles viridis & co. but not these.
_ANCHORS = {
    "blues": [(247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
              (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107)],
    "coolwarm": [(59, 76, 192), (98, 130, 234), (141, 176, 254), (184, 208, 249), (221, 221, 221),
                 (245, 196, 173), (244, 154, 123), (222, 96, 77), (180, 4, 38)],
    "gray": [(0, 0, 0), (255, 255, 255)],
}
DIVERGING = "coolwarm"
_LUTS: dict[str, np.ndarray] = {}


def lookup_table(name: str) -> np.ndarray:
    """(256, 3) uint8 colours of a named map: blues, coolwarm, gray or a pyqtgraph map (viridis...)."""
    if name not in _LUTS:
        if name in _ANCHORS:
            anchors = np.array(_ANCHORS[name], dtype=np.float64)
            at = np.linspace(0, 1, len(anchors))
            t = np.linspace(0, 1, 256)
            lut = np.stack([np.interp(t, at, anchors[:, c]) for c in range(3)], axis=1)
        else:
            lut = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)
        _LUTS[name] = np.clip(np.round(lut), 0, 255).astype(np.uint8)
    return _LUTS[name]


def value_range(values: np.ndarray, symmetric: bool = False) -> tuple[float, float]:
    """Finite min and max (or -m..m around zero); a flat array gets a range of width 1."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    if symmetric:
        m = max(abs(lo), abs(hi)) or 1.0
        return (-m, m)
    if hi <= lo:
        return (lo - 0.5, hi + 0.5)
    return (lo, hi)


def colorize(values: np.ndarray, cmap: str = "viridis", levels: tuple[float, float] | None = None) -> np.ndarray:
    """A 2-D float array as (H, W, 3) uint8 colours; NaN and inf show as mid grey."""
    values = np.asarray(values, dtype=np.float32)
    lo, hi = levels if levels is not None else value_range(values)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    finite = np.isfinite(values)
    idx = np.clip((np.where(finite, values, lo) - lo) * scale, 0, 255).astype(np.uint8)
    rgb = lookup_table(cmap)[idx]
    rgb[~finite] = 128
    return rgb


def to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W) or (H, W, 3) -> a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    if rgb.ndim == 2:
        return QImage(rgb.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def format_value(v: float) -> str:
    if not np.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"


def title_placement(fm, title: str, image: QRectF, width: int) -> tuple[QRectF, str]:
    """Where a heatmap's title goes: centred over the image when it fits there, else over the whole
    canvas, elided at worst. (Centred over a small image, a long title was cut off at both ends of the
    canvas: ".conv2d, 13×13 kernel → 451×30".)"""
    text = fm.elidedText(title, Qt.TextElideMode.ElideRight, max(10, width - 4))
    if fm.horizontalAdvance(text) <= image.width():
        return QRectF(image.left(), 2, image.width(), fm.height() + 4), text
    return QRectF(2, 2, max(10, width - 4), fm.height() + 4), text


def paint_colorbar(p: QPainter, bar: QRect, cmap: str, lo: float, hi: float, ticks: int = 5) -> None:
    """A vertical gradient (high at the top) with tick labels to its right."""
    lut = lookup_table(cmap)
    grad = QLinearGradient(bar.left(), bar.bottom(), bar.left(), bar.top())
    for i in range(0, 256, 15):
        grad.setColorAt(i / 255, QColor(*lut[i]))
    grad.setColorAt(1.0, QColor(*lut[255]))
    p.fillRect(bar, grad)
    p.setPen(QPen(QColor("#666666")))
    p.drawRect(bar)
    fm = p.fontMetrics()
    p.setPen(QPen(QColor("#202020")))
    for k in range(ticks):
        t = k / (ticks - 1)
        y = int(bar.bottom() - t * bar.height())
        p.drawLine(bar.right() + 1, y, bar.right() + 3, y)
        text = format_value(lo + t * (hi - lo))
        p.drawText(QRect(bar.right() + 8, y - fm.height() // 2, 80, fm.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


class ColorBar(QWidget):
    """A stand-alone vertical colour bar with its value range, for views that are not heat maps."""

    def __init__(self, parent: QWidget | None = None, cmap: str = "viridis"):
        super().__init__(parent)
        self._cmap = cmap
        self._range = (0.0, 1.0)
        self._title = ""
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(120)
        self.setMaximumHeight(420)  # a bar as tall as a big window is hard to read against small tiles

    def set_range(self, lo: float, hi: float, cmap: str | None = None, title: str | None = None) -> None:
        self._range = (float(lo), float(hi))
        if cmap:
            self._cmap = cmap
        if title is not None:
            self._title = title
        self.update()

    def value_range(self) -> tuple[float, float]:
        return self._range

    def sizeHint(self) -> QSize:
        return QSize(84, 300)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        fm = p.fontMetrics()
        top = fm.height() + 8 if self._title else 6
        if self._title:
            p.drawText(QRect(0, 0, self.width(), fm.height() + 4), Qt.AlignmentFlag.AlignCenter, self._title)
        bar = QRect(6, top + fm.height() // 2, 16, max(20, self.height() - top - fm.height() - 6))
        paint_colorbar(p, bar, self._cmap, *self._range)
        p.end()


class _Canvas(QWidget):
    """The painted part of HeatmapView; geometry maths lives here so clicks and paint agree."""

    def __init__(self, view: "HeatmapView"):
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)
        self.setMinimumSize(160, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- geometry -------------------------------------------------------------------------
    def _margins(self) -> tuple[int, int, int, int, bool]:
        """left, top, right, bottom margins and whether x labels are rotated."""
        v = self.view
        fm = QFontMetrics(self.font())
        left = 6 + (fm.height() + 4 if v.y_title else 0)
        if v.y_labels:
            left += max(fm.horizontalAdvance(s) for s in v.y_labels) + 6
        right = 8 + (96 if v.show_colorbar and v.values is not None else 0)
        top = 8 + (fm.height() + 4 if v.title else 0)
        bottom = 6 + (fm.height() + 4 if v.x_title else 0)
        rotated = False
        if v.x_labels:
            widest = max(fm.horizontalAdvance(s) for s in v.x_labels)
            cols = max(1, v.shape()[1])
            rough_cell = (self.width() - left - right) / cols
            rotated = widest + 4 > rough_cell
            bottom += int(widest * 0.72) + fm.height() if rotated else fm.height() + 4
        return left, top, right, bottom, rotated

    def image_rect(self) -> QRectF:
        """Where the image is drawn: as large as fits, pixels square."""
        h, w = self.view.shape()
        left, top, right, bottom, _ = self._margins()
        avail_w = max(10, self.width() - left - right)
        avail_h = max(10, self.height() - top - bottom)
        if not w or not h:
            return QRectF(left, top, avail_w, avail_h)
        s = min(avail_w / w, avail_h / h)
        return QRectF(left, top, w * s, h * s)

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        h, w = self.view.shape()
        r = self.image_rect()
        if not w or not r.contains(QPointF(pos)):
            return None
        col = int((pos.x() - r.left()) / r.width() * w)
        row = int((pos.y() - r.top()) / r.height() * h)
        return min(row, h - 1), min(col, w - 1)

    def cell_rect(self, row: int, col: int) -> QRectF:
        h, w = self.view.shape()
        r = self.image_rect()
        cw, ch = r.width() / w, r.height() / h
        return QRectF(r.left() + col * cw, r.top() + row * ch, cw, ch)

    # -- painting -------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        v = self.view
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base())
        if v.image is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, v.placeholder)
            p.end()
            return
        rect = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, v.smooth)
        p.drawImage(rect, v.image)
        p.setPen(QPen(QColor("#808080")))
        p.drawRect(rect)
        if v.annotate:
            self._paint_cell_text(p)
        if v.selected is not None:
            p.setPen(QPen(QColor("#ff8c00"), 3))
            p.drawRect(self.cell_rect(*v.selected))
        self._paint_axes(p, rect)
        if v.show_colorbar and v.values is not None:
            bar = QRect(int(rect.right()) + 16, int(rect.top()) + 6, 16, max(30, int(rect.height()) - 12))
            paint_colorbar(p, bar, v.cmap, *v.levels)
        p.end()

    def _paint_cell_text(self, p: QPainter) -> None:
        v = self.view
        h, w = v.shape()
        fm = p.fontMetrics()
        text_values = v.text_values if v.text_values is not None else v.values
        r = self.image_rect()   # once: its margins measure every label, and this runs per cell
        cw, ch = r.width() / w, r.height() / h
        for row in range(h):
            for col in range(w):
                cell = QRectF(r.left() + col * cw, r.top() + row * ch, cw, ch)
                text = v.cell_format(text_values[row, col])
                if fm.horizontalAdvance(text) > cell.width() - 2 or fm.height() > cell.height():
                    continue
                rgb = v.rgb[row, col].astype(float)
                dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140
                p.setPen(QColor("white") if dark else QColor("#202020"))
                p.drawText(cell, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_axes(self, p: QPainter, rect: QRectF) -> None:
        v = self.view
        fm = p.fontMetrics()
        p.setPen(QPen(self.palette().windowText().color()))
        left, top, right, bottom, rotated = self._margins()
        if v.title:
            box, text = title_placement(fm, v.title, rect, self.width())
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        if v.y_labels:
            for row, text in enumerate(v.y_labels):
                c = self.cell_rect(row, 0)
                p.drawText(QRectF(0, c.top(), rect.left() - 6, c.height()),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        if v.x_labels:
            for col, text in enumerate(v.x_labels):
                c = self.cell_rect(0, col)
                x = c.center().x()
                if rotated:
                    p.save()
                    p.translate(x + fm.ascent() / 3, rect.bottom() + 6)
                    p.rotate(45)
                    p.drawText(0, fm.ascent() // 2, text)
                    p.restore()
                else:
                    p.drawText(QRectF(c.left() - 40, rect.bottom() + 3, c.width() + 80, fm.height()),
                               Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        if v.x_title:
            p.drawText(QRectF(rect.left(), self.height() - fm.height() - 4, rect.width(), fm.height() + 2),
                       Qt.AlignmentFlag.AlignCenter, v.x_title)
        if v.y_title:
            p.save()
            p.translate(4 + fm.ascent(), rect.center().y())
            p.rotate(-90)
            p.drawText(QRectF(-rect.height() / 2, -fm.ascent(), rect.height(), fm.height()),
                       Qt.AlignmentFlag.AlignCenter, v.y_title)
            p.restore()

    # -- mouse ----------------------------------------------------------------------------
    def mouseMoveEvent(self, event) -> None:
        self.view._hover(self.cell_at(event.position().toPoint()))

    def leaveEvent(self, event) -> None:
        self.view._hover(None)

    def mousePressEvent(self, event) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.view.cellClicked.emit(*cell)


class HeatmapView(QWidget):
    """Shows a 2-D array (colour-mapped) or an RGB image, with axes, colour bar and readout.

    set_data(values) colour-maps a float array; set_data(values, rgb=...) shows a ready-made
    picture (an overlay) while the readout and colour bar still speak about `values`.
    """

    cellClicked = Signal(int, int)   # row, column of the clicked cell
    cellHovered = Signal(int, int)   # -1, -1 when the mouse leaves the image

    def __init__(self, parent: QWidget | None = None, *, cmap: str = "viridis", show_colorbar: bool = True,
                 placeholder: str = ""):
        super().__init__(parent)
        self.cmap = cmap
        self.show_colorbar = show_colorbar
        self.placeholder = placeholder
        self.values: np.ndarray | None = None
        self.text_values: np.ndarray | None = None
        self.rgb: np.ndarray | None = None
        self.image: QImage | None = None
        self.levels = (0.0, 1.0)
        self.x_labels: list[str] = []
        self.y_labels: list[str] = []
        self.x_title = self.y_title = self.title = ""
        self.annotate = False
        self.smooth = False
        self.selected: tuple[int, int] | None = None
        self.cell_format: Callable[[float], str] = format_value
        self.readout_format: Callable[[int, int, float | None], str] | None = None
        self.canvas = _Canvas(self)
        self.readout = QLabel(" ")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.readout)

    def set_data(self, values: np.ndarray | None, *, rgb: np.ndarray | None = None,
                 levels: tuple[float, float] | None = None, cmap: str | None = None,
                 x_labels: Sequence[str] = (), y_labels: Sequence[str] = (), x_title: str = "",
                 y_title: str = "", title: str = "", annotate: bool = False, text_values: np.ndarray | None = None,
                 smooth: bool = False) -> None:
        """Show `values` (2-D) colour-mapped, or `rgb` (H, W[, 3] uint8) as given."""
        if cmap:
            self.cmap = cmap
        self.values = None if values is None else np.asarray(values, dtype=np.float64)
        if self.values is not None and self.values.ndim != 2:
            raise ValueError(f"a heat map needs a 2-D array, got shape {self.values.shape}")
        self.levels = levels if levels is not None else (
            value_range(self.values) if self.values is not None else (0.0, 1.0))
        if rgb is None and self.values is not None:
            rgb = colorize(self.values, self.cmap, self.levels)
        self.rgb = None if rgb is None else np.ascontiguousarray(rgb, dtype=np.uint8)
        if self.rgb is not None and self.rgb.ndim == 2:
            self.rgb = np.repeat(self.rgb[:, :, None], 3, axis=2)
        self.image = None if self.rgb is None else to_qimage(self.rgb)
        self.text_values = text_values
        self.x_labels, self.y_labels = list(x_labels), list(y_labels)
        self.x_title, self.y_title, self.title = x_title, y_title, title
        self.annotate, self.smooth = annotate, smooth
        self.selected = None
        self.canvas.update()

    def clear(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self.values = self.rgb = self.image = self.text_values = None
        self.selected = None
        self.readout.setText(" ")
        self.canvas.update()

    def shape(self) -> tuple[int, int]:
        if self.rgb is None:
            return (0, 0)
        return self.rgb.shape[0], self.rgb.shape[1]

    def select(self, cell: tuple[int, int] | None) -> None:
        self.selected = cell
        self.canvas.update()

    def cell_center(self, row: int, col: int) -> QPoint:
        """Canvas coordinates of a cell's centre (for tests and keyboard navigation)."""
        return self.canvas.cell_rect(row, col).center().toPoint()

    def _hover(self, cell: tuple[int, int] | None) -> None:
        if cell is None:
            self.readout.setText(" ")
            self.cellHovered.emit(-1, -1)
            return
        row, col = cell
        value = None if self.values is None else float(self.values[row, col])
        if self.readout_format:
            text = self.readout_format(row, col, value)
        else:
            text = f"row {row}, column {col}" + ("" if value is None else f": {format_value(value)}")
        self.readout.setText(text)
        self.cellHovered.emit(row, col)
