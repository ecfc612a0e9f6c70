"""A scroll area that gives its page the viewport's size, never less than the page's minimum size.

Unlike setWidgetResizable(True) it ignores height-for-width: a page of word-wrapped labels asks
for a tall height at its minimum width, which scrolled half the Lab out of sight. A page wider
or taller than the window scrolls, instead of its minimum size growing the window past the
screen's edge.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, QTimer
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class FitScrollArea(QScrollArea):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._fit_timer = QTimer(self)   # a child: it dies with the area, so its timeout never finds it gone
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._fit()

    def eventFilter(self, watched, event) -> bool:
        # The page's minimum size changes with its content (another Lab section, longer text).
        if event.type() == QEvent.Type.LayoutRequest and watched is self.widget():
            self._fit_timer.start()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        widget = self.widget()
        if widget is None:
            return
        hint = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        viewport = self.maximumViewportSize()
        width = max(viewport.width(), hint.width())
        height = max(viewport.height(), hint.height())
        if width > viewport.width():  # a horizontal scroll bar takes its height from the page
            height = max(viewport.height() - self.horizontalScrollBar().sizeHint().height(), hint.height())
        if height > viewport.height() and width == viewport.width():
            width = max(viewport.width() - self.verticalScrollBar().sizeHint().width(), hint.width())
        if widget.size() != QSize(width, height):
            widget.resize(width, height)
