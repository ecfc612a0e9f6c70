"""A readable error dialog: one sentence up front, the traceback behind "Show Details...".

Dialogs are shown non-modally (open(), never exec()), so an error raised while training, or
inside a test, never blocks the event loop; the app keeps running behind them.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core.errors import StudioError

MAX_OPEN_DIALOGS = 5   # an error raised on every repaint must not bury the screen in dialogs

_open_dialogs: list["ErrorDialog"] = []


class ErrorDialog(QMessageBox):
    def __init__(self, message: str, details: str = "", *, title: str = "CNN Studio",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(title)
        self.setText(message)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if details:
            self.setDetailedText(details)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.finished.connect(self._forget)

    def _forget(self, _result: int = 0) -> None:
        if self in _open_dialogs:
            _open_dialogs.remove(self)


def show_error(parent: QWidget | None, message: str, details: str = "",
               title: str = "CNN Studio") -> ErrorDialog | None:
    """Open a non-modal error dialog; None when too many are open already (the error is still printed)."""
    if len(_open_dialogs) >= MAX_OPEN_DIALOGS:
        return None
    dialog = ErrorDialog(message, details, title=title, parent=parent)
    _open_dialogs.append(dialog)
    dialog.open()
    return dialog


def open_dialogs() -> list[ErrorDialog]:
    """The error dialogs now showing (tests read this)."""
    return list(_open_dialogs)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(message, details) for a dialog: a StudioError is the user's problem and needs no traceback."""
    if isinstance(exc, StudioError):
        return str(exc), ""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"Something went wrong inside CNN Studio.\n\n{message}", details
