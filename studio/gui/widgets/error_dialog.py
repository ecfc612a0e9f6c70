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
MAX_KEPT_DIALOGS = 50

# Dialogs stay referenced after they close. Dropping the last Python reference of a parentless
# dialog while Qt is closing it (app.quit() closes every window) deletes it under Qt's feet and
# crashes; closed ones are released later, with deleteLater, from show_error.
_dialogs: list["ErrorDialog"] = []


class ErrorDialog(QMessageBox):
    def __init__(self, message: str, details: str = "", *, title: str = "CNN Studio",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Warning)
        self.setWindowTitle(title)
        self.setTextFormat(Qt.TextFormat.PlainText)   # a message may hold '<urlopen error ...>': show it all
        self.setText(message)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if details:
            self.setDetailedText(details)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)


def show_error(parent: QWidget | None, message: str, details: str = "",
               title: str = "CNN Studio") -> ErrorDialog | None:
    """Open a non-modal error dialog; None when too many are open already (the error is still printed)."""
    if len(open_dialogs()) >= MAX_OPEN_DIALOGS:
        return None
    _release_closed()
    dialog = ErrorDialog(message, details, title=title, parent=parent or _main_window())
    _dialogs.append(dialog)
    dialog.open()
    return dialog


def open_dialogs() -> list[ErrorDialog]:
    """The error dialogs now showing (tests read this)."""
    return [d for d in _dialogs if _visible(d)]


def _visible(dialog: ErrorDialog) -> bool:
    try:
        return dialog.isVisible()
    except RuntimeError:  # deleted with its parent window
        return False


def _release_closed() -> None:
    if len(_dialogs) < MAX_KEPT_DIALOGS:
        return
    for dialog in [d for d in _dialogs if not _visible(d)]:
        _dialogs.remove(dialog)
        try:
            dialog.deleteLater()
        except RuntimeError:
            pass


def _main_window() -> QWidget | None:
    """A parent for dialogs raised far from any widget (the excepthook): the visible main window."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication.instance()
    if app is None:
        return None
    active = app.activeWindow()
    if active is not None:
        return active
    return next((w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()), None)


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """(message, details) for a dialog: a StudioError is the user's problem and needs no traceback."""
    if isinstance(exc, StudioError):
        return str(exc), ""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"Something went wrong inside CNN Studio.\n\n{message}", details
