"""A tab whose content is built the first time it is shown, inside a scroll area.

Building every tab up front costs seconds the student spends looking at the first one; a tab
that is never opened is never built. The built widget sits in a FitScrollArea: a page larger
than the window scrolls instead of growing the window past the screen's edge.
"""

from __future__ import annotations

import traceback
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.gui.widgets.fit_scroll_area import FitScrollArea


def make_tab(factory: Callable[[], QWidget], title: str) -> QWidget:
    """factory(), or a label saying why it failed: one broken tab must not take the studio down."""
    try:
        return factory()
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc()
        label = QLabel(f"The {title} tab could not be built:\n{type(exc).__name__}: {exc}")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        return label


class LazyTab(QWidget):
    built = Signal(QWidget)   # the content, once built

    def __init__(self, factory: Callable[[], QWidget], title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._factory = factory
        self._title = title
        self.widget: QWidget | None = None
        self.scroll = FitScrollArea()
        self._build_timer = QTimer(self)
        self._build_timer.setSingleShot(True)
        self._build_timer.setInterval(0)
        self._build_timer.timeout.connect(self.build)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    def build(self) -> QWidget:
        if self.widget is None:
            self.widget = make_tab(self._factory, self._title)
            self.scroll.setWidget(self.widget)
            self.built.emit(self.widget)
        return self.widget

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.widget is None:
            self._build_timer.start()   # after the tab bar has switched: the click feels instant
