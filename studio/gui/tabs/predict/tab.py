"""Predict tab: drop a photo or a scanned digit and see the answer, why, and how sure.

Inputs come from drops (on this tab, or on any tab: the main window forwards them through
state.filesDropped), the Open buttons, or the clipboard (Ctrl+V). Each becomes a row of the
results table; the selected row is explained beside it: the original, exactly what the
network receives, a saliency map over it (Grad-CAM or another method, cam_controls), and the top-k probabilities. Decoding and
inference run in the background (the tab's job queue) through studio.core.inspect.pipeline,
the same functions `cnn-studio predict` calls, on the tab's own copy of the model. When the
window's timeline is on an earlier epoch of the current run (set_epoch), the current run's model is
that epoch's, from the run's weight snapshots; the model line says which epoch answers.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QItemSelectionModel, Qt, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSplitter, QStackedWidget, QTableView, QVBoxLayout, QWidget)

from studio.core.inspect import pipeline
from studio.core.inspect.kernels import conv_layer_names
from studio.core.inspect.pipeline import Detail, InputItem, ItemResult
from studio.core.runs.loaded_model import private_copy
from studio.core.runs.sources import load_source
from studio.gui.concurrency.serial_queue import JobQueue
from studio.gui.tabs.inspect.timeline_epochs import EpochTarget, epoch_title, epoch_weights
from studio.gui.tabs.predict.model_picker import ModelPicker
from studio.gui.tabs.predict.detail import DetailPanel
from studio.gui.tabs.predict.adversarial import AdversarialPanel, detail_tabs
from studio.gui.tabs.predict.views import ROW_ROLE, ResultsModel, sorting_proxy
from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.widgets.drop_zone import DropZone, accepts_drag, paths_from_mime

CHUNK = 16   # inputs per background job: rows fill in steadily and a new model is never kept waiting
DROP_TEXT = ("<p style='font-size:15px'><b>Drop photos, scanned digits or whole folders here</b></p>"
             "<p>…or use <i>Open images</i>, <i>Open folder</i>, or paste an image with Ctrl+V.</p>"
             "<p>Dropping files on any tab brings you here.</p>")


class PredictTab(EpochTarget, QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.model = None                      # the tab's private LoadedModel (never state.model itself)
        self.settings = None
        self.items: list[InputItem] = []
        self.results: list[ItemResult | None] = []
        self.detail: Detail | None = None
        self.detail_index: int | None = None
        self.source = None
        self._jobs = JobQueue(self)
        self._expanding: list[Task] = []
        self._pasted = 0
        self._user_picked = False
        self._current_stale = False
        self.epoch_note = ""                   # which epoch answers, when the timeline chose one
        self._build_ui()
        self.setAcceptDrops(True)
        state.filesDropped.connect(self.add_paths)
        state.modelChanged.connect(self._state_model_changed)
        state.runChanged.connect(self.picker.refresh)
        self.picker.refresh()
        self.picker.set_current(state.model)
        self.picker.choose_default(state.model is not None)

    # ================================================================ layout

    def _build_ui(self) -> None:
        self.picker = ModelPicker()
        self.picker.sourceChosen.connect(self._source_chosen)
        self.picker.combo.activated.connect(self._mark_user_pick)
        self.picker.open_button.clicked.connect(self._mark_user_pick)

        self.open_button = QPushButton("Open images…")
        self.open_button.clicked.connect(self._open_images)
        self.folder_button = QPushButton("Open folder…")
        self.folder_button.clicked.connect(self._open_folder)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Predict the image on the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.status = QLabel("")
        inputs = QHBoxLayout()
        for button in (self.open_button, self.folder_button, self.paste_button, self.clear_button):
            inputs.addWidget(button)
        inputs.addSpacing(12)
        inputs.addWidget(self.status, 1)

        self.drop_zone = DropZone(DROP_TEXT)
        self.drop_zone.pathsDropped.connect(self.add_paths)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.drop_zone)
        self.stack.addWidget(self._results_panel())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.picker)
        layout.addLayout(inputs)
        layout.addWidget(self.stack, 1)
        paste = QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(self.paste)

    def _results_panel(self) -> QWidget:
        self.table_model = ResultsModel(self)
        self.proxy = sorting_proxy(self.table_model, self)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)   # insertion order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self._export_clicked)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignLeft)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        self.details = DetailPanel()
        self.details.invertClicked.connect(self._invert_clicked)
        self.details.centreToggled.connect(self._centre_toggled)
        self.details.cam_controls.changed.connect(self._cam_changed)
        self.adversarial = AdversarialPanel(self)   # seed 001's adversarial examples, beside the explanation
        splitter.addWidget(detail_tabs(self.details, self.adversarial))
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 5)
        splitter.setSizes([380, 880])
        return splitter

    # ================================================================ model

    @Slot()
    def _mark_user_pick(self) -> None:
        self._user_picked = True

    @Slot(object)
    def _source_chosen(self, source) -> None:
        self.source = source
        self._jobs.reset()
        self.model = None
        self._set_all_pending()
        if source.kind == "current":
            loaded = self.state.model
            if loaded is None:
                self.picker.show_error("The current run has no model yet: train one, or pick another model.")
                return
            epoch, run_dir = self.timeline_epoch(loaded), self.state.run_dir
            if epoch is not None:
                self._jobs.submit(lambda stop: _epoch_copy(run_dir, epoch), self._epoch_loaded, self._model_failed,
                                  tag="load")
                self._update_status()
                return
            self.epoch_note = ""
            self._jobs.submit(lambda stop: private_copy(loaded), self._model_loaded, self._model_failed, tag="load")
        else:
            self._jobs.submit(lambda stop: load_source(source), self._model_loaded, self._model_failed, tag="load")
        self._update_status()

    def set_epoch(self, run_dir, epoch) -> None:
        """Answer with the current run's model of `epoch` (the timeline's choice); (None, None): the current model.

        Only the current run's entry follows the timeline: a demo model or a checkpoint file has one epoch."""
        if not self.store_epoch(run_dir, epoch) or self.source is None or self.source.kind != "current":
            return
        if self.isVisible():
            self._source_chosen(self.source)
        else:
            self._current_stale = True

    def _epoch_loaded(self, outcome) -> None:
        loaded, requested, shown = outcome
        self.epoch_note = epoch_title(requested, shown)
        self._model_loaded(loaded)

    def _model_loaded(self, loaded) -> None:
        self.model = loaded
        self.settings = pipeline.settings_for(loaded, centre=self.details.centre_box.isChecked())
        self.details.cam_controls.set_layers(conv_layer_names(loaded.model))
        self.details.cam_controls.apply(self.settings)
        self.picker.show_loaded(loaded, self.epoch_note)
        self._show_digit_controls()
        self._predict_all()
        self.adversarial.refresh()

    def _model_failed(self, message: str, details: str) -> None:
        self.model = None
        self.picker.show_error(message)
        self.details.show_message("No model to answer: " + message)
        self._update_status()

    @Slot()
    def _state_model_changed(self) -> None:
        self.picker.set_current(self.state.model)
        following = self.source is not None and self.source.kind == "current"
        if self.state.model is None:
            # New run, or the run on view deleted: its model is gone. Answer with the demo model again
            # rather than show "the current run has no model yet" in red (it follows the next run's model).
            self._current_stale = False
            if following and not self._user_picked:
                self.picker.choose_default(False)
            return
        if not following and self._user_picked:
            return
        if not self.isVisible() and following:
            self._current_stale = True   # a hidden tab must not spend the CPU that training needs
            return
        self.picker.choose(self.picker.sources()[0])

    def showEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().showEvent(event)
        if self._current_stale:
            self._current_stale = False
            self.picker.choose(self.picker.sources()[0])

    def load_checkpoint(self, path, model_name: str | None = None) -> None:
        """Use a checkpoint file (what the Open checkpoint button does)."""
        self._user_picked = True
        self.picker.open_checkpoint(Path(path), model_name)

    # ================================================================ inputs

    @Slot(list)
    def add_paths(self, paths) -> None:
        """Files and folders to predict; folders are walked in the background."""
        paths = [str(p) for p in paths]
        if not paths:
            return
        task = run_task(lambda progress, stop: pipeline.expand_paths(paths),
                        on_done=self._expanded, on_error=self._expand_failed, owner=self)
        self._expanding.append(task)
        self._update_status()

    def show_image(self, item: InputItem) -> None:
        """One image handed over by another view (an Evaluation image): predicted, explained, selected."""
        self._add_items([item])

    def _expanded(self, outcome) -> None:
        self._expanding = [t for t in self._expanding if t.running]
        items, note = outcome
        if not items:
            self._update_status("No image files found in what was dropped.")
            return
        self._add_items(items)
        if note:
            self._update_status(note)

    def _expand_failed(self, message: str, details: str) -> None:
        self._expanding = [t for t in self._expanding if t.running]
        self._update_status(f"Could not read what was dropped: {message}")

    def _add_items(self, items: list[InputItem]) -> None:
        start = len(self.items)
        for offset, item in enumerate(items):
            self.items.append(item)
            self.results.append(None)
            self.table_model.append(start + offset, item.name)
        self.stack.setCurrentIndex(1)
        if self.model is not None:
            self._submit_predictions(list(range(start, len(self.items))))
        self.select_row(start)
        self._update_status()

    @Slot()
    def paste(self) -> None:
        """Ctrl+V: file URLs on the clipboard are added as files, an image as a pasted picture."""
        mime = QGuiApplication.clipboard().mimeData()
        paths = paths_from_mime(mime)
        if paths:
            self.add_paths(paths)
            return
        image = QGuiApplication.clipboard().image()
        if mime is None or not mime.hasImage() or image.isNull():
            self._update_status("The clipboard holds no image to paste.")
            return
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")   # through the same decoder as any file
        buffer.close()
        self._pasted += 1
        self._add_items([InputItem(name=f"pasted image {self._pasted}", data=bytes(data.data()))])

    @Slot()
    def _open_images(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", "",
                                                "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;"
                                                "All files (*)")
        self.add_paths(files)

    @Slot()
    def _open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images")
        if folder:
            self.add_paths([folder])

    @Slot()
    def clear(self) -> None:
        self._jobs.reset()
        self.items, self.results = [], []
        self.table_model.removeRows(0, self.table_model.rowCount())
        self.detail, self.detail_index = None, None
        self.stack.setCurrentIndex(0)
        self.details.show_message("")
        if self.source is not None and self.model is None:
            self._source_chosen(self.source)   # a load the reset interrupted
        self._update_status()

    # drops anywhere on the tab ------------------------------------------------------------

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        accepts_drag(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        accepts_drag(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = paths_from_mime(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    # ================================================================ predicting

    def _set_all_pending(self) -> None:
        for i in range(len(self.results)):
            self.results[i] = None
            self.table_model.set_result(i, None)

    def _predict_all(self) -> None:
        self._set_all_pending()
        indices = list(range(len(self.items)))
        self._submit_predictions(indices)
        if self.detail_index is not None:
            self._request_detail(self.detail_index)

    def _submit_predictions(self, indices: list[int]) -> None:
        model, settings = self.model, self.settings
        for start in range(0, len(indices), CHUNK):
            chunk = indices[start:start + CHUNK]
            items = [self.items[i] for i in chunk]
            self._jobs.submit(lambda stop, items=items: pipeline.predict_items(model, items, settings, stop),
                              partial(self._predicted, chunk), self._job_failed, tag="predict")
        self._update_status()

    def _predicted(self, indices: list[int], results: list[ItemResult]) -> None:
        for i, result in zip(indices, results):
            if i < len(self.results):
                self.results[i] = result
                self.table_model.set_result(i, result)
        self._update_status()

    def _job_failed(self, message: str, details: str) -> None:
        self._update_status(f"Prediction failed: {message}")

    def _update_status(self, note: str = "") -> None:
        waiting = sum(r is None for r in self.results) if self.model is not None else 0
        bad = sum(1 for r in self.results if r is not None and r.error)
        parts = []
        if self._expanding and any(t.running for t in self._expanding):
            parts.append("Reading the dropped files…")
        if self.source is not None and self.model is None and self._jobs.pending("load"):
            parts.append("Loading the model…")
        if waiting:
            parts.append(f"Predicting… {len(self.results) - waiting} of {len(self.results)} done")
        elif self.results:
            parts.append(f"{len(self.results)} picture{'s' * (len(self.results) != 1)}"
                         + (f", {bad} could not be used" if bad else ""))
        if note:
            parts.append(note)
        self.status.setText(" · ".join(parts))

    def is_busy(self) -> bool:
        return self._jobs.busy or any(t.running for t in self._expanding)

    # ================================================================ the selected picture

    def select_row(self, index: int) -> None:
        """Select the input with this index (in the order added), whatever the sorting."""
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(ROW_ROLE) == index:
                self.table.selectionModel().setCurrentIndex(
                    self.proxy.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                return

    @Slot(object, object)
    def _row_changed(self, current, previous) -> None:
        if not current.isValid():
            return
        index = self.proxy.index(current.row(), 0).data(ROW_ROLE)
        if index is not None and index != self.detail_index:
            self.detail_index = index
            self._request_detail(index)

    def _request_detail(self, index: int) -> None:
        self.detail = None
        self.details.show_message("Working…" if self.model is not None else "")
        if self.model is None or index >= len(self.items):
            return
        model, settings, item = self.model, self.settings, self.items[index]
        self._jobs.submit(lambda stop: pipeline.explain_item(model, item, settings), partial(self._explained, index),
                          self._job_failed, tag="detail", front=True, replace=True)

    def _explained(self, index: int, detail: Detail) -> None:
        if index != self.detail_index:
            return
        self.detail = detail
        self.details.show_detail(detail, self.model.input_shape, polarity_chosen=self.items[index].invert is not None)

    def _show_digit_controls(self) -> None:
        single = self.model is not None and self.model.input_shape[0] == 1
        self.details.set_digit_controls(single_channel=single, digit=bool(self.settings and self.settings.digit))

    @Slot(bool)
    def _invert_clicked(self, checked: bool) -> None:
        index = self.detail_index
        if index is None or self.model is None:
            return
        self.items[index].invert = checked
        self.results[index] = None
        self.table_model.set_result(index, None)
        self._submit_predictions([index])
        self._request_detail(index)

    @Slot(bool)
    def _centre_toggled(self, checked: bool) -> None:
        if self.settings is not None:
            self.settings.centre = checked
            self._predict_all()

    @Slot()
    def _cam_changed(self) -> None:
        """Another explanation method or layer: only the selected picture's map is recomputed."""
        if self.settings is not None:
            self.details.cam_controls.apply(self.settings)
            if self.detail_index is not None:
                self._request_detail(self.detail_index)

    # ================================================================ export

    @Slot()
    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", "predictions.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        """The table as CSV, in the order it is shown (sorted or not)."""
        rows = []
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0).data(ROW_ROLE)
            result = self.results[index] or ItemResult(message="not predicted yet")
            rows.append((self.items[index].name, result))
        try:
            pipeline.write_csv(Path(path), rows)
        except OSError as exc:
            self._update_status(f"Could not write {Path(path).name}: {exc.strerror or exc}")
            return
        self._update_status(f"Exported {len(rows)} rows to {Path(path).name}")

    def rows(self) -> list[tuple[str, ItemResult | None]]:
        """(name, result) of every input, in the order added."""
        return list(zip((item.name for item in self.items), self.results))


def _epoch_copy(run_dir, epoch: int):
    """The tab's own copy of the run's model at `epoch` (Grad-CAM hooks it): in a worker."""
    loaded, shown = epoch_weights(run_dir, epoch)
    return private_copy(loaded), epoch, shown
