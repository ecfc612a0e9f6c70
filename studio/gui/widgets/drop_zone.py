"""Dropping files and folders: reading paths out of a drag, and a zone that invites one.

`paths_from_mime` is what every drop target uses (the main window, the Predict tab, this
zone), so a drop means the same everywhere: local files and folders, in the order given,
without duplicates. Remote URLs and plain text are ignored rather than guessed at.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout


def paths_from_mime(mime: QMimeData | None) -> list[str]:
    """Local file paths carried by a drag or the clipboard (file URLs only)."""
    if mime is None or not mime.hasUrls():
        return []
    paths: list[str] = []
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            if path and path not in paths:
                paths.append(path)
    return paths


def accepts_drag(event: QDragEnterEvent | QDragMoveEvent) -> bool:
    """Accept the proposed action when the drag carries at least one local file."""
    if paths_from_mime(event.mimeData()):
        event.acceptProposedAction()
        return True
    event.ignore()
    return False


class DropZone(QFrame):
    """A dashed area with a hint; emits pathsDropped(list[str]) when files land on it."""

    pathsDropped = Signal(list)

    def __init__(self, text: str = "Drop images or folders here", parent=None):
        super().__init__(parent)
        self.setObjectName("DropZone")
        self.setAcceptDrops(True)
        self.setMinimumSize(200, 120)
        self._label = QLabel(text, self)
        self._label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(self._label)
        self._set_hover(False)

    def set_text(self, text: str) -> None:
        self._label.setText(text)

    def text(self) -> str:
        return self._label.text()

    def _set_hover(self, hover: bool) -> None:
        color = "palette(highlight)" if hover else "palette(mid)"
        self.setStyleSheet(f"#DropZone {{ border: 2px dashed {color}; border-radius: 10px; }}")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt name
        self._set_hover(accepts_drag(event))

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        accepts_drag(event)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._set_hover(False)
        paths = paths_from_mime(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)
