"""What the four inspection tabs (model, kernels, activations, evaluation) share.

InspectTab gives each of them the same frame: an empty-state message while there is nothing
to show, one background task at a time with a progress bar and a Cancel button, errors shown
in place, and work deferred until the tab is actually visible (a hidden tab must not spend
the CPU that training needs). The epoch on view comes from the window's timeline (timeline_epochs.py).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QStackedWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from studio.gui.concurrency.tasks import Task, run_task

EMPTY_MODEL_TEXT = "No model yet.\nTrain a model, open a run, or import a checkpoint."

# Forward hooks are per module, not per thread: two hooked forward passes over the same model
# at once (torchinfo here, activation capture there) would record each other's layers.
inspect_lock = threading.Lock()


def guarded(method: Callable) -> Callable:
    """For a tab's signal handlers: an exception becomes a message in the tab, never a traceback."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the tab shows it and lives on
            self.show_error(str(exc) if _is_studio_error(exc) else f"{type(exc).__name__}: {exc}")
            return None

    return wrapper


class TaskStrip(QWidget):
    """A progress bar with a Cancel button, and a message line for errors and notes."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.message)
        self.set_busy(False)
        self.message.hide()

    def set_busy(self, busy: bool, text: str = "") -> None:
        for w in (self.label, self.bar, self.cancel_button):
            w.setVisible(busy)
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy indicator until the first progress report

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def show_message(self, text: str, *, error: bool = False, details: str = "") -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)
        self.message.setToolTip(details[-4000:] if details else "")
        self.message.setVisible(bool(text))


class InspectTab(QWidget):
    """Base of the inspection tabs: `content` holds the tab's widgets; subclasses implement refresh()."""

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.task: Task | None = None
        self._stale = True
        self.empty_label = QLabel(EMPTY_MODEL_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("font-size: 15px; color: #666666;")
        self.content = QWidget()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.content)
        self.strip = TaskStrip()
        self.strip.cancelRequested.connect(self.cancel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.strip)

    # -- what subclasses implement ---------------------------------------------------------
    def refresh(self) -> None:
        """Recompute what the tab shows from the state (called when visible and stale)."""

    # -- empty state -----------------------------------------------------------------------
    def show_empty(self, text: str = EMPTY_MODEL_TEXT) -> None:
        self.empty_label.setText(text)
        self.stack.setCurrentWidget(self.empty_label)

    def show_content(self) -> None:
        self.stack.setCurrentWidget(self.content)

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty_label

    # -- deferred refresh --------------------------------------------------------------------
    def mark_stale(self) -> None:
        """The state changed: refresh now if the tab is on screen, else when it is shown."""
        self._stale = True
        if self.isVisible():
            self._refresh_now()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._refresh_now()

    def _refresh_now(self) -> None:
        self._stale = False
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - whatever goes wrong, the tab says so and lives on
            self.show_error(f"{type(exc).__name__}: {exc}" if not _is_studio_error(exc) else str(exc))

    # -- background work -----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, text: str, fn: Callable[[Callable, Callable], Any], on_done: Callable[[Any], None]) -> Task:
        """Run fn(progress, should_stop) off the GUI thread; one task per tab, the newest wins."""
        self.cancel(quiet=True)
        self.strip.show_message("")
        self.strip.set_busy(True, text)

        def work(progress: Callable, should_stop: Callable) -> Any:
            # Superseded before a pool thread was free (a student scrolling through inputs): skip it.
            return None if should_stop() else fn(progress, should_stop)

        # The task is owned by this tab: once the tab is gone, none of these runs.
        def done(result: Any) -> None:
            if self.task is not task:
                return
            self.strip.set_busy(False)
            try:
                on_done(result)
            except Exception as exc:  # noqa: BLE001
                self.show_error(str(exc) if _is_studio_error(exc) else f"{type(exc).__name__}: {exc}")

        def failed(message: str, details: str) -> None:
            if self.task is task:
                self.strip.set_busy(False)
                self.show_error(message, details)

        def progress(done_: int, total: int) -> None:
            if self.task is task:
                self.strip.set_progress(done_, total)

        task = run_task(work, done, failed, progress, owner=self)
        self.task = task
        return task

    def cancel(self, quiet: bool = False) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
            self.task.running = False
            if not quiet:
                self.strip.show_message("Cancelled.")
        self.strip.set_busy(False)

    def show_error(self, message: str, details: str = "") -> None:
        self.strip.show_message(message, error=True, details=details)

    def show_note(self, message: str) -> None:
        self.strip.show_message(message)


def _is_studio_error(exc: BaseException) -> bool:
    from studio.core.errors import StudioError

    return isinstance(exc, StudioError)


class ClassItem(QTableWidgetItem):
    """A class name that sorts by the class's index (0, 1, …, 9, 10), not alphabetically."""

    def __init__(self, name: str, index: int):
        super().__init__(name)
        self.index = index

    def __lt__(self, other) -> bool:
        return self.index < getattr(other, "index", -1)
