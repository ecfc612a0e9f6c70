"""The Lectures panel: the five lectures as guided tours, beside Settings and Runs.

Pick a lecture, walk its steps (Previous / Next, or click one in the list); each step shows an
explanation, where it is in the lecture, and the lecture's printed numbers next to the studio's
with a check mark. "Open" emits openRequested(action) with the step's plain-dict action; the
window sets the studio up (studio/gui/lectures/actions.py). The numbers are computed off the GUI
thread, once per step. The panel remembers the last step shown (studio.core.lectures.progress).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.lectures import all_tours, describe_action, progress
from studio.core.lectures.tours import show

OK_COLOUR, BAD_COLOUR = "#1b7a32", "#b3261e"


def _label(text: str = "", *, wrap: bool = True, style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if style:
        label.setStyleSheet(style)
    return label


class LecturesPanel(QWidget):
    openRequested = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tours = all_tours()
        self.tour_index = 0
        self.step_index = 0
        self._results: dict[tuple[int, int], list] = {}
        self._pending: set[tuple[int, int]] = set()
        self._tasks: list = []
        self._build()
        saved = progress.current_tour()
        self.select_tour(next((i for i, t in enumerate(self.tours) if t.number == saved), 0),
                         progress.last_step(saved))

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.tour_combo = QComboBox()
        for tour in self.tours:
            self.tour_combo.addItem(f"{tour.number} · {tour.title.removeprefix('Lecture: ')}", tour.number)
            self.tour_combo.setItemData(self.tour_combo.count() - 1, f"{tour.title} ({tour.notebook})",
                                        Qt.ItemDataRole.ToolTipRole)
        self.tour_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.tour_combo.setMinimumContentsLength(16)
        self.step_list = QListWidget()
        self.step_list.setWordWrap(True)
        self.title = _label(style="font-size: 14px; font-weight: 600;")
        self.source = _label(style="color: #555555;")
        self.explanation = _label()
        self.view_label = _label(style="color: #555555;")
        # Rich text, not a table: it wraps in a narrow panel and keeps each number beside its label.
        self.checks = _label()
        self.checks.setTextFormat(Qt.TextFormat.RichText)
        self.checks.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.checks_area = QScrollArea()
        self.checks_area.setWidget(self.checks)
        self.checks_area.setWidgetResizable(True)
        self.checks_area.setFrameShape(QFrame.Shape.NoFrame)
        self.checks_note = _label(style="color: #555555;")
        self.prev_button = QPushButton("◀ Previous")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Set the studio up to show this step")
        font = self.open_button.font()
        font.setBold(True)
        self.open_button.setFont(font)
        self.next_button = QPushButton("Next ▶")

        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.title)
        dl.addWidget(self.source)
        dl.addWidget(self.explanation)
        dl.addWidget(self.view_label)
        dl.addWidget(self.checks_area, 1)
        dl.addWidget(self.checks_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.prev_button)
        buttons.addWidget(self.open_button, 1)
        buttons.addWidget(self.next_button)
        dl.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.step_list)
        split.addWidget(detail)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([160, 480])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.tour_combo)
        lay.addWidget(split, 1)

        self.tour_combo.currentIndexChanged.connect(lambda i: self.select_tour(i, progress.last_step(
            self.tours[i].number)))
        self.step_list.currentRowChanged.connect(self._row_changed)
        self.prev_button.clicked.connect(lambda: self.select_step(self.step_index - 1))
        self.next_button.clicked.connect(lambda: self.select_step(self.step_index + 1))
        self.open_button.clicked.connect(self.open_current)

    # ------------------------------------------------------------ navigation
    @property
    def tour(self):
        return self.tours[self.tour_index]

    @property
    def step(self):
        return self.tour.steps[self.step_index]

    def select_tour(self, index: int, step: int = 0) -> None:
        self.tour_index = max(0, min(index, len(self.tours) - 1))
        self.tour_combo.blockSignals(True)
        self.tour_combo.setCurrentIndex(self.tour_index)
        self.tour_combo.blockSignals(False)
        self.step_list.blockSignals(True)
        self.step_list.clear()
        for i, s in enumerate(self.tour.steps):
            self.step_list.addItem(f"{self.tour.number}.{i + 1}  {s.title}")
        self.step_list.blockSignals(False)
        self.select_step(step)

    def select_step(self, index: int) -> None:
        self.step_index = max(0, min(index, len(self.tour.steps) - 1))
        self.step_list.blockSignals(True)
        self.step_list.setCurrentRow(self.step_index)
        self.step_list.blockSignals(False)
        self._show_step()
        progress.remember(self.tour.number, self.step_index)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.select_step(row)

    def open_current(self) -> None:
        self.openRequested.emit(dict(self.step.action))

    # ------------------------------------------------------------ the step
    def _show_step(self) -> None:
        step, n = self.step, len(self.tour.steps)
        self.title.setText(f"{self.tour.number}.{self.step_index + 1}  {step.title}")
        self.source.setText(f"In the lecture: {step.source}")
        self.explanation.setText(step.explanation)
        self.view_label.setText(f"Open shows: {describe_action(step.action)}")
        self.prev_button.setEnabled(self.step_index > 0)
        self.next_button.setEnabled(self.step_index < n - 1)
        self.checks_area.setVisible(bool(step.checks))
        key = (self.tour_index, self.step_index)
        if not step.checks:
            self.checks_note.setText("This step has no printed numbers to check: open it and explore.")
            return
        results = self._results.get(key)
        self._fill_checks(step.checks, results)
        if results is None:
            self.checks_note.setText("Computing the studio's numbers…")
            if self.isVisible():      # hidden (a closed side tab, the window still loading): no work yet
                self._compute(key)
        else:
            self._note_results(results)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        key = (self.tour_index, self.step_index)
        if self.step.checks and key not in self._results:
            self._compute(key)

    def _fill_checks(self, checks, results) -> None:
        """One block per number: a ✓ or ✗, its label, then the lecture's value and the studio's."""
        blocks = []
        for row, check in enumerate(checks):
            result = results[row] if results else None
            if result is None:
                mark, studio = "<span style='color:#555555'>…</span>", "…"
            else:
                colour = OK_COLOUR if result.ok else BAD_COLOUR
                mark = f"<span style='color:{colour}; font-weight:600'>{'✓' if result.ok else '✗'}</span>"
                studio = html.escape(result.error or show(result.studio_value))
            blocks.append(f"<p style='margin:0 0 6px 0'>{mark} <b>{html.escape(check.label)}</b><br>"
                          f"&nbsp;&nbsp;lecture: {html.escape(show(check.lecture_value))}<br>"
                          f"&nbsp;&nbsp;studio: {studio}</p>")
        self.checks.setText("".join(blocks))

    def _note_results(self, results) -> None:
        agree = sum(1 for r in results if r.ok)
        colour = OK_COLOUR if agree == len(results) else BAD_COLOUR
        self.checks_note.setText(f"<span style='color:{colour}'>{agree} of {len(results)} numbers agree with "
                                 "the lecture.</span>")

    def _compute(self, key: tuple[int, int]) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        from studio.core.lectures import run_step
        from studio.gui.concurrency.tasks import run_task

        step = self.tours[key[0]].steps[key[1]]
        self._tasks.append(run_task(lambda progress_, should_stop: run_step(step),
                                    on_done=lambda results, key=key: self._computed(key, results),
                                    on_error=lambda message, details, key=key: self._failed(key, message),
                                    owner=self))   # results never reach a deleted panel

    def _computed(self, key: tuple[int, int], results) -> None:
        self._tasks[:] = [t for t in self._tasks if t.running]
        self._pending.discard(key)
        self._results[key] = results
        if key == (self.tour_index, self.step_index):
            self._fill_checks(self.step.checks, results)
            self._note_results(results)

    def _failed(self, key: tuple[int, int], message: str) -> None:
        self._pending.discard(key)
        if key == (self.tour_index, self.step_index):
            self.checks_note.setText(f"<span style='color:{BAD_COLOUR}'>The numbers could not be computed: "
                                     f"{message}</span>")

    def results(self, tour_index: int, step_index: int):
        """The computed check results of a step, or None while they are being computed."""
        return self._results.get((tour_index, step_index))

    def shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
