"""A small grid of numbers, each cell coloured by its value, optionally editable.

The Convolution Lab shows signals, kernels, outputs and products as grids a student can read
and type into. Cells are coloured with the studio's diverging map (zero is neutral), so the
sign and size of every number are visible at a glance. Some cells can be "frozen": shown in
grey italics and not editable (the padding around an input). Highlighted cells get a thick
frame (the window of the sliding kernel), drawn by a delegate on top of the normal cell.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QSizePolicy, QStyledItemDelegate, QStyleOptionViewItem,
                               QTableWidget, QTableWidgetItem, QWidget)

from studio.core.lab.conv import format_number
from studio.gui.widgets.heatmap import lookup_table, value_range

FROZEN_BG = QColor("#e4e4e4")
FROZEN_FG = QColor("#7a7a7a")
HIGHLIGHT = QColor("#ff8c00")      # the window / taps
SECONDARY = QColor("#1b9e3a")      # the output cell being computed
_HL_ROLE = Qt.ItemDataRole.UserRole + 1


class _FrameDelegate(QStyledItemDelegate):
    """Paints the cell normally, then a coloured frame if the cell is highlighted."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        colour = index.data(_HL_ROLE)
        if colour is not None:
            painter.save()
            painter.setPen(QPen(QColor(colour), 3))
            painter.drawRect(option.rect.adjusted(1, 1, -2, -2))
            painter.restore()


class HeatmapGrid(QTableWidget):
    """A numeric grid with heat-map colours.

    set_values(array) shows a 2-D array (a 1-D array is one row). Editing a cell emits
    cellEdited(row, col, value) with the parsed number; text that is not a number is
    rejected (the old value comes back) and invalidInput(message) is emitted instead.
    """

    cellEdited = Signal(int, int, float)
    invalidInput = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, editable: bool = True, cell_width: int = 46,
                 cell_height: int = 28, digits: int = 4, cmap: str = "coolwarm"):
        super().__init__(parent)
        self._editable = editable
        self._values = np.zeros((0, 0))
        self._frozen = np.zeros((0, 0), dtype=bool)
        self._digits = digits
        self._cmap = cmap
        self._cell = QSize(cell_width, cell_height)
        self._updating = False
        self.setItemDelegate(_FrameDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setMinimumSectionSize(12)
        self.horizontalHeader().setDefaultSectionSize(cell_width)
        self.verticalHeader().setDefaultSectionSize(cell_height)
        font = self.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 0.5))
        self.setFont(font)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self.itemChanged.connect(self._on_item_changed)

    # -- data ------------------------------------------------------------------------------
    def set_values(self, values: np.ndarray, frozen: np.ndarray | None = None,
                   levels: tuple[float, float] | None = None,
                   row_labels: Iterable[str] | None = None, col_labels: Iterable[str] | None = None) -> None:
        """Show values (2-D, or 1-D as a single row); frozen cells are grey and read-only."""
        v = np.asarray(values, dtype=np.float64)
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2:
            raise ValueError(f"HeatmapGrid shows 1-D or 2-D arrays, got shape {v.shape}")
        fz = np.zeros(v.shape, dtype=bool) if frozen is None else np.asarray(frozen, dtype=bool).reshape(v.shape)
        self._values, self._frozen = v.copy(), fz
        live = v[~fz] if (~fz).any() else v
        # Symmetric about zero, so zero is always the neutral colour and signs read at a glance.
        lo, hi = levels if levels is not None else value_range(live, symmetric=True)
        self._updating = True
        try:
            self.setRowCount(v.shape[0])
            self.setColumnCount(v.shape[1])
            for r in range(v.shape[0]):
                for c in range(v.shape[1]):
                    self._fill(r, c, v[r, c], fz[r, c], lo, hi)
            self.setHorizontalHeaderLabels(list(col_labels) if col_labels is not None
                                           else [str(i) for i in range(v.shape[1])])
            self.setVerticalHeaderLabels(list(row_labels) if row_labels is not None
                                         else [str(i) for i in range(v.shape[0])])
        finally:
            self._updating = False
        self.updateGeometry()

    def _fill(self, r: int, c: int, value: float, frozen: bool, lo: float, hi: float) -> None:
        item = self.item(r, c)
        if item is None:
            item = QTableWidgetItem()
            self.setItem(r, c, item)
        item.setText(format_number(value, self._digits))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        item.setData(_HL_ROLE, None)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        font = QFont(self.font())
        if frozen:
            item.setBackground(QBrush(FROZEN_BG))
            item.setForeground(QBrush(FROZEN_FG))
            font.setItalic(True)
        else:
            bg = self._colour(value, lo, hi)
            item.setBackground(QBrush(bg))
            dark = 0.299 * bg.red() + 0.587 * bg.green() + 0.114 * bg.blue() < 140
            item.setForeground(QBrush(QColor("white") if dark else QColor("#1a1a1a")))
            if self._editable:
                flags |= Qt.ItemFlag.ItemIsEditable
        item.setFont(font)
        item.setFlags(flags)

    def _colour(self, value: float, lo: float, hi: float) -> QColor:
        if not np.isfinite(value):
            return QColor(128, 128, 128)
        t = 0.5 if hi <= lo else (value - lo) / (hi - lo)
        # Keep to the inner 80 % of the map: the darkest ends make black text hard to read.
        t = 0.1 + 0.8 * min(1.0, max(0.0, t))
        rgb = lookup_table(self._cmap)[int(round(t * 255))]
        return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]))

    def values(self) -> np.ndarray:
        """The numbers shown (frozen cells included), as a float array."""
        return self._values.copy()

    def frozen(self) -> np.ndarray:
        return self._frozen.copy()

    def cell_text(self, row: int, col: int) -> str:
        item = self.item(row, col)
        return item.text() if item is not None else ""

    # -- highlighting ----------------------------------------------------------------------
    def set_highlight(self, cells: Iterable[tuple[int, int]], colour: QColor = HIGHLIGHT,
                      clear: bool = True) -> None:
        """Frame these cells (row, col); by default the previous frames go away."""
        if clear:
            self.clear_highlight()
        self._updating = True      # setData fires itemChanged; a frame is not an edit
        try:
            for r, c in cells:
                item = self.item(r, c)
                if item is not None:
                    item.setData(_HL_ROLE, colour)
        finally:
            self._updating = False
        self.viewport().update()

    def clear_highlight(self) -> None:
        self._updating = True
        try:
            for r in range(self.rowCount()):
                for c in range(self.columnCount()):
                    item = self.item(r, c)
                    if item is not None and item.data(_HL_ROLE) is not None:
                        item.setData(_HL_ROLE, None)
        finally:
            self._updating = False
        self.viewport().update()

    def highlighted(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.rowCount()) for c in range(self.columnCount())
                if self.item(r, c) is not None and self.item(r, c).data(_HL_ROLE) is not None]

    # -- editing ---------------------------------------------------------------------------
    def edit_cell(self, row: int, col: int, text: str) -> None:
        """Type text into a cell as a user would (used by tests and keyboard shortcuts)."""
        item = self.item(row, col)
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEditable:
            item.setText(text)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        r, c = item.row(), item.column()
        text = item.text().strip().replace("−", "-").replace(",", ".")
        try:
            value = float(text)
            if not np.isfinite(value):
                raise ValueError
        except ValueError:
            self._updating = True
            item.setText(format_number(self._values[r, c], self._digits))
            self._updating = False
            self.invalidInput.emit(f"{text!r} is not a number; type a number such as 2 or -0.5.")
            return
        if value == self._values[r, c]:
            return             # the same number again (or a change that was not an edit)
        self._values[r, c] = value
        self.cellEdited.emit(r, c, value)

    # -- size ------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        # Exactly the cells plus headers, so a small grid does not sit in a sea of white.
        vh, hh = self.verticalHeader(), self.horizontalHeader()
        w = (vh.sizeHint().width() if vh.isVisible() or not self.isVisible() else 0) + hh.length()
        h = (hh.sizeHint().height() if hh.isVisible() or not self.isVisible() else 0) + vh.length()
        return QSize(max(40, w + 2 * self.frameWidth() + 1), max(30, h + 2 * self.frameWidth() + 1))

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        return QSize(min(hint.width(), 160), min(hint.height(), 90))
