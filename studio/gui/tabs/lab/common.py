"""Small pieces the Convolution Lab's sections share: message lines, fonts, labelled rows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

OK_COLOUR = "#1b7a32"
ERROR_COLOUR = "#b3261e"
NOTE_COLOUR = "#555555"


def mono_font(delta: float = 0.0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if delta:
        font.setPointSizeF(max(6.0, font.pointSizeF() + delta))
    return font


def note_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A wrapped grey line: where a number comes from in the lectures, or what to try next."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {NOTE_COLOUR};")
    return label


class MessageLine(QLabel):
    """One line (wrapping) for errors in red, checks in green and notes in grey."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.kind = ""

    def _show(self, text: str, colour: str, kind: str) -> None:
        self.kind = kind
        self.setStyleSheet(f"color: {colour};")
        self.setText(text)
        self.setVisible(bool(text))

    def error(self, text: str) -> None:
        self._show(text, ERROR_COLOUR, "error")

    def ok(self, text: str) -> None:
        self._show(text, OK_COLOUR, "ok")

    def note(self, text: str) -> None:
        self._show(text, NOTE_COLOUR, "note")

    def clear_message(self) -> None:
        self._show("", NOTE_COLOUR, "")


def row(*items, stretch: bool = True, spacing: int = 6) -> QHBoxLayout:
    """A horizontal row of widgets; str items become labels."""
    lay = QHBoxLayout()
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(spacing)
    for item in items:
        if isinstance(item, str):
            lay.addWidget(QLabel(item))
        elif isinstance(item, int):
            lay.addSpacing(item)
        else:
            lay.addWidget(item)
    if stretch:
        lay.addStretch(1)
    return lay


def title_label(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def make_plot(title: str = "", x_label: str = "", y_label: str = ""):
    """A light pyqtgraph plot that matches the rest of the window (dark text on white)."""
    import pyqtgraph as pg

    plot = pg.PlotWidget(background="w")
    item = plot.getPlotItem()
    if title:
        item.setTitle(title, color="#202020", size="10pt")
    for name, text in (("bottom", x_label), ("left", y_label)):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen("#505050"))
        axis.setTextPen(pg.mkPen("#202020"))
        if text:
            axis.setLabel(text, color="#202020")
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    return plot
