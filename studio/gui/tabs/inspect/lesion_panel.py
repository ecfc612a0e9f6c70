"""The Kernels tab's lesion experiment: switch off filters of the layer on view and see what is lost.

Tick filters, then "Switch off and compare": the accuracy per class on a fixed set of test
images with and without them, and the answer and saliency map of one picture (the Predict tab's
selected input if there is one, else a test image). "Rank filters" switches each filter off
alone and sorts them by the accuracy they cost, with progress and Cancel. All of it runs off the
GUI thread (gui/concurrency/tasks.run_task) on a private copy of the model
(studio.core.runs.loaded_model.private_copy) through studio.core.inspect.lesion; the model on
view is never changed.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from studio.core.inspect.cams import overlay
from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.tabs.predict.views import ImageView
from studio.gui.widgets.bar_chart import format_probability

_RED, _GREEN = QColor("#b00020"), QColor("#1b7a1b")


def _percent(value: float) -> str:
    return "–" if value is None or np.isnan(value) else f"{100 * value:.1f} %"


class LesionPanel(QWidget):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.loaded = None                 # the model on view (never changed here)
        self.layer: str | None = None
        self.task: Task | None = None
        self.comparison = None             # the last compare result (dict), for tests and the view
        self.ranking = None                # the last studio.core.inspect.lesion.Ranking
        self._lock = threading.Lock()      # one experiment at a time on the private copy
        self._context = None               # (loaded, bundle, private copy, LabelledImages), made in a worker
        self._build_ui()

    # ---------------------------------------------------------------- layout
    def _build_ui(self) -> None:
        self.toggle = QToolButton()
        self.toggle.setText("Lesion experiment: switch filters off")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self._toggled)
        self.body = QWidget()
        self.filter_list = QListWidget()
        self.filter_list.setFlow(QListWidget.Flow.LeftToRight)
        self.filter_list.setWrapping(True)
        self.filter_list.setMaximumHeight(52)
        self.filter_list.setToolTip("The filters to switch off (their output channel becomes 0)")
        buttons = QHBoxLayout()
        self.none_button = QPushButton("None")
        self.none_button.clicked.connect(lambda: self.select_filters([]))
        self.compare_button = QPushButton("Switch off and compare")
        self.compare_button.clicked.connect(self.compare)
        self.rank_button = QPushButton("Rank filters")
        self.rank_button.setToolTip("Switch each filter off alone and sort them by how much accuracy drops")
        self.rank_button.clicked.connect(self.rank)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(200)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        for w in (self.none_button, self.compare_button, self.rank_button, self.bar, self.cancel_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        # Short headers: at 1024 px the two tables share about 300 px and longer ones were cut off.
        self.class_table = self._table(["Class", "Intact", "Lesioned", "Δ points"])
        self.rank_table = self._table(["Filter", "Without", "Drop"])
        self.rank_table.cellDoubleClicked.connect(lambda row, _col: self._rank_row_chosen(row))
        self.before_view, self.after_view = ImageView("Intact"), ImageView("Lesioned")
        for view in (self.before_view, self.after_view):
            view.setMaximumWidth(240)
            view.hide()
        results = QHBoxLayout()
        for w, stretch in ((self.class_table, 3), (self.rank_table, 2), (self.before_view, 2), (self.after_view, 2)):
            results.addWidget(w, stretch)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.filter_list)
        body.addLayout(buttons)
        body.addWidget(self.message)
        body.addLayout(results)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.body)
        self.body.hide()
        self._set_busy(False)

    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setMinimumHeight(180)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    @Slot(bool)
    def _toggled(self, shown: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.body.setVisible(shown)

    # ---------------------------------------------------------------- what the tab tells us
    def set_model(self, loaded, layer: str | None) -> None:
        """The model and the conv layer on view; a new one clears the results (the ticks stay if they fit)."""
        if loaded is self.loaded and layer == self.layer:
            return
        if loaded is not self.loaded:
            self.cancel()
        self.loaded, self.layer = loaded, layer
        count = self._filter_count()
        kept = [f for f in self.selected_filters() if f < count]
        self.filter_list.clear()
        for f in range(count):
            item = QListWidgetItem(str(f))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if f in kept else Qt.CheckState.Unchecked)
            self.filter_list.addItem(item)
        self.toggle.setText(f"Lesion experiment: switch filters of {layer} off" if layer else "Lesion experiment")
        self.comparison = self.ranking = None
        for table in (self.class_table, self.rank_table):
            table.setRowCount(0)
        for view in (self.before_view, self.after_view):
            view.set_image(None)
            view.set_caption("")
            view.hide()   # empty pictures took the tables' room until a comparison fills them
        self._say("")

    def _filter_count(self) -> int:
        from studio.core.inspect.lesion import filter_count

        if self.loaded is None or self.layer is None:
            return 0
        return filter_count(self.loaded.model, self.layer)

    def selected_filters(self) -> list[int]:
        return [i for i in range(self.filter_list.count())
                if self.filter_list.item(i).checkState() == Qt.CheckState.Checked]

    def select_filters(self, filters) -> None:
        wanted = set(filters)
        for i in range(self.filter_list.count()):
            self.filter_list.item(i).setCheckState(Qt.CheckState.Checked if i in wanted else Qt.CheckState.Unchecked)

    # ---------------------------------------------------------------- background work
    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def _set_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.bar.setRange(0, 0)
        for w in (self.compare_button, self.rank_button):
            w.setEnabled(not busy)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "")
        self.message.setText(text)

    @Slot()
    def cancel(self) -> None:
        if self.busy:
            self.task.cancel()
            self.task.running = False
            self._say("Cancelled.")
        self._set_busy(False)

    def _start(self, text: str, experiment, on_done) -> None:
        """experiment(private LoadedModel, LabelledImages, progress, should_stop) runs in a worker."""
        from studio.core.runs.labelled_subset import labelled_subset
        from studio.core.runs.loaded_model import private_copy

        loaded, bundle = self.loaded, self.state.dataset
        if loaded is None or self.layer is None:
            return
        self.cancel()

        def work(progress, should_stop):
            with self._lock:   # a cancelled experiment still running finishes its batch first
                context = self._context
                if context is None or context[0] is not loaded or context[1] is not bundle:
                    context = (loaded, bundle, private_copy(loaded), labelled_subset(loaded, bundle))
                    self._context = context
                return experiment(context[2], context[3], progress, should_stop)

        def done(result) -> None:
            if self.task is task:
                self._set_busy(False)
                on_done(result)

        def failed(message: str, _details: str) -> None:
            if self.task is task:
                self._set_busy(False)
                self._say(message, error=True)

        def progressed(done_: int, total: int) -> None:
            if self.task is task and total > 0:
                self.bar.setRange(0, total)
                self.bar.setValue(done_)

        self._set_busy(True)
        self._say(text)
        task = run_task(work, done, failed, progressed, owner=self)
        self.task = task

    # ---------------------------------------------------------------- compare
    @Slot()
    def compare(self) -> None:
        filters = self.selected_filters()
        if not filters:
            self._say("Tick the filters to switch off first.", error=True)
            return
        layer, item, (method, cam_layer) = self.layer, self.picture_item(), self._cam_choice()

        def experiment(private, subset, progress, should_stop):
            from studio.core.inspect import lesion

            before, after = lesion.compare(private.model, layer, filters, subset.images, subset.labels,
                                           len(subset.classes), should_stop)
            x, picture, name = _picture(private, subset, item)
            change = lesion.image_change(private, x, layer, filters, method=method, cam_layer=cam_layer)
            return {"before": before, "after": after, "change": change, "picture": picture, "name": name,
                    "filters": filters, "layer": layer, "classes": subset.classes, "subset": subset.description}

        self._start(f"Measuring {layer} without filter(s) {', '.join(map(str, filters))}…", experiment,
                    self._show_comparison)

    def _show_comparison(self, result: dict) -> None:
        before, after = result["before"], result["after"]
        if before.cancelled or after.cancelled:
            return
        self.comparison = result
        classes = result["classes"]
        self.class_table.setRowCount(len(classes))
        for row, name in enumerate(classes):
            a, b = before.per_class[row], after.per_class[row]
            change = b - a
            cells = [name, _percent(a), _percent(b), "–" if np.isnan(change) else f"{100 * change:+.1f}"]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 3 and not np.isnan(change) and abs(change) > 1e-9:
                    cell.setForeground(_RED if change < 0 else _GREEN)
                self.class_table.setItem(row, col, cell)
        filters = ", ".join(map(str, result["filters"]))
        self._say(f"{result['layer']} without filter(s) {filters}: accuracy {_percent(before.overall)} → "
                  f"{_percent(after.overall)} on {result['subset']} (the current model; double-click a ranked "
                  "filter to try it alone).")
        change = result["change"]
        for view, cam, top in ((self.before_view, change.before_cam, change.before),
                               (self.after_view, change.after_cam, change.after)):
            view.show()
            view.set_image(overlay(result["picture"], cam, 0.5) if cam is not None else result["picture"])
            view.set_caption(f"{result['name']}: {top[0][0]} {format_probability(top[0][1])}"
                             + (f"; map for '{change.explained}'" if cam is not None else ""))

    # ---------------------------------------------------------------- rank
    @Slot()
    def rank(self) -> None:
        layer = self.layer

        def experiment(private, subset, progress, should_stop):
            from studio.core.inspect.lesion import rank_filters

            ranking = rank_filters(private.model, layer, subset.images, subset.labels, len(subset.classes),
                                   progress=progress, should_stop=should_stop)
            return ranking, subset.description

        self._start(f"Ranking the filters of {layer}…", experiment, self._show_ranking)

    def _show_ranking(self, outcome) -> None:
        ranking, description = outcome
        self.ranking = ranking
        self.rank_table.setRowCount(len(ranking.ranks))
        for row, r in enumerate(ranking.ranks):
            cells = [str(r.filter), _percent(r.accuracy), f"{100 * r.drop:.1f} points"]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if col == 2 and r.drop > 0:
                    cell.setForeground(_RED)
                self.rank_table.setItem(row, col, cell)
        done = f"{len(ranking.ranks)} of {self._filter_count()} filters (cancelled)" if ranking.cancelled else \
            "every filter"
        best = f"; filter {ranking.ranks[0].filter} matters most" if ranking.ranks else ""
        self._say(f"{ranking.layer}: {done} switched off one at a time, on {description}; intact accuracy "
                  f"{_percent(ranking.baseline)}{best}.")

    def _rank_row_chosen(self, row: int) -> None:
        if self.ranking is not None and row < len(self.ranking.ranks):
            self.select_filters([self.ranking.ranks[row].filter])
            self.compare()

    # ---------------------------------------------------------------- the picture
    def picture_item(self):
        """The Predict tab's selected input (an InputItem, plain data) when it was built and has one."""
        holder = getattr(self.window(), "tabs_by_key", {}).get("predict")
        predict = getattr(holder, "widget", None)
        index = getattr(predict, "detail_index", None)
        items = getattr(predict, "items", [])
        return items[index] if index is not None and index < len(items) else None

    def _cam_choice(self) -> tuple[str, str | None]:
        holder = getattr(self.window(), "tabs_by_key", {}).get("predict")
        settings = getattr(getattr(holder, "widget", None), "settings", None)
        return ("gradcam", None) if settings is None else (settings.cam_method, None)


def _picture(private, subset, item):
    """(input, display picture, name): the Predict tab's input prepared as it prepares it, else test image 0."""
    from studio.core.errors import ImageDecodeError
    from studio.core.inspect import pipeline
    from studio.core.pixels import denormalize

    if item is not None:
        try:
            prepared = pipeline.prepare(private, pipeline.decode(item), pipeline.settings_for(private), item.invert)
            return prepared.tensor, prepared.display, item.name
        except ImageDecodeError:
            pass   # the file went away since: a test image will do
    x = subset.images[:1]
    shown = denormalize(x, private.mean, private.std)[0]
    return x, (shown[..., 0] if shown.shape[-1] == 1 else shown), "test image 0"
