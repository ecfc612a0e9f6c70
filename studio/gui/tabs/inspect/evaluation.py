"""Evaluation tab: accuracy, loss, confusion matrix, per-class scores and predictions on the test split.

The confusion matrix is seed 001's (rows: true class, columns: predicted) but every cell can
be clicked to see its images, most confident first. The prediction grid is seed 000's, true
and predicted labels in green or red. The window's timeline picks the epoch (set_epoch): the
matrix kept for that epoch shows at once, then the model of that epoch (its weight snapshot) is
evaluated in the background for the scores and the images; results are kept per epoch. Before any
model exists the tab evaluates the demo model (on its dataset, mnist-sample), and says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from studio.core.inspect import metrics
from studio.core.inspect.metrics import cell_indices
from studio.core.pixels import display_image
from studio.gui.tabs.inspect.common import ClassItem, InspectTab, guarded, inspect_lock
from studio.gui.tabs.inspect.demo import DemoFallback, model_caption
from studio.gui.tabs.inspect.hardest import HardestView
from studio.gui.tabs.inspect.image_actions import ImageActions, evaluation_image
from studio.gui.tabs.inspect.timeline_epochs import LRU, EpochTarget, epoch_title, epoch_weights
from studio.gui.widgets.heatmap import HeatmapView
from studio.gui.widgets.tile_grid import TileGrid

RIGHT, WRONG = "#1a7f37", "#c62828"   # seed 000's green and red, dark enough to read on white
GRID_LIMIT = 60
CELL_HINT = "Click a cell of the matrix to see its images, the most confident first."


class EvaluationTab(EpochTarget, DemoFallback, InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.result = None              # EvalResult on view: the current model's, or the timeline epoch's
        self.split_name, self.split = "test", None   # the images `result` was computed on
        self._model_result = None       # the current model's EvalResult on the chosen split
        self._result_for = None         # the LoadedModel it belongs to
        self._epoch_results = LRU(24)   # (run, epoch, split) -> (EvalResult, epoch of the weights used)
        self._evaluating = None         # the key of the evaluation under way
        self._shown_weights: int | None = None   # the epoch whose weights gave `result` (nearest kept)
        self._loaded = None             # the model on view: the state's, or the demo model
        self._demo = False
        self.cm: np.ndarray | None = None
        self.shown_epoch: int | None = None   # None: the current model's evaluation
        self.cell: tuple[int, int] | None = None
        self.cell_images: np.ndarray = np.zeros(0, dtype=np.int64)
        self.grid_images: np.ndarray = np.zeros(0, dtype=np.int64)
        self._epoch_records: dict[int, dict] = {}
        self._snapshots: dict[tuple[str, int], dict] = {}
        self._build_ui()
        state.modelChanged.connect(self.mark_stale)
        state.datasetChanged.connect(self._dataset_changed)
        state.runChanged.connect(self._run_changed)
        state.epochEnded.connect(self._epoch_ended)
        state.trainingStateChanged.connect(self._training_state_changed)

    # -- layout ---------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.eval_button = QPushButton("Evaluate on the test set")
        self.eval_button.clicked.connect(self.evaluate)
        self.split_choice = QComboBox()   # test by default; val: the run's own held-out images
        self.split_choice.addItem("Test split", "test")
        self.split_choice.addItem("Validation split", "val")
        self.split_choice.currentIndexChanged.connect(self._split_changed)
        self.summary = QLabel()
        self.summary.setStyleSheet("font-size: 14px;")
        # Wrapping: on one line, "Accuracy … on 500 test images (current model, epoch 4) (trained on …)"
        # was the tab's minimum width and pushed the window past a 1280-pixel screen.
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.mode = QComboBox()
        self.mode.addItems(["Counts", "Normalised by row (recall)"])
        self.mode.currentIndexChanged.connect(self._draw_matrix)

        self.matrix = HeatmapView(cmap="blues", placeholder="No confusion matrix yet.")
        self.matrix.setMinimumSize(300, 300)   # a 10x10 matrix reads at 25 px a cell; wider clipped a 1024-px screen
        self.matrix.cellClicked.connect(self.show_cell)
        self.matrix.readout_format = self._matrix_readout
        self.confused = QListWidget()
        self.confused.setMaximumHeight(130)
        self.confused.itemClicked.connect(self._confused_clicked)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.matrix, 1)
        lv.addWidget(QLabel("Most confused pairs (true → predicted):"))
        lv.addWidget(self.confused)

        self.cell_label = QLabel(CELL_HINT)
        self.cell_label.setWordWrap(True)
        self.cell_grid = TileGrid(tile_size=64, placeholder="")
        cell_page = QWidget()
        cv = QVBoxLayout(cell_page)
        cv.addWidget(self.cell_label)
        cv.addWidget(self.cell_grid, 1)

        self.prf = QTableWidget(0, 5)
        self.prf.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1", "Support"])
        self.prf.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.prf.verticalHeader().setVisible(False)
        self.prf.setAlternatingRowColors(True)
        self.prf.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.prf.setSortingEnabled(True)
        self.prf.sortByColumn(0, Qt.SortOrder.AscendingOrder)   # class order until a header is clicked

        self.grid_filter = QComboBox()
        self.grid_filter.addItems(["All test images", "Mistakes only", "Correct only"])
        self.grid_filter.currentIndexChanged.connect(self._fill_prediction_grid)
        self.pred_grid = TileGrid(tile_size=72, spacing=14, placeholder="")
        grid_page = QWidget()
        gv = QVBoxLayout(grid_page)
        grow = QHBoxLayout()
        grow.addWidget(QLabel(f"Show {GRID_LIMIT} at random from:"))
        grow.addWidget(self.grid_filter)
        grow.addStretch(1)
        gv.addLayout(grow)
        gv.addWidget(self.pred_grid, 1)

        self.pages = QTabWidget()
        self.pages.addTab(cell_page, "Images of a cell")
        self.pages.addTab(self.prf, "Per-class precision / recall / F1")
        self.pages.addTab(grid_page, "Prediction grid")
        self.hardest = HardestView(self.state)
        self.pages.addTab(self.hardest, "Hardest examples")
        for grid, shown in ((self.cell_grid, "cell_images"), (self.pred_grid, "grid_images")):
            ImageActions(grid, lambda i, s=shown: evaluation_image(self, getattr(self, s), i), self._classes, self.state)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.pages)
        split.setSizes([560, 520])
        top = QHBoxLayout()
        top.addWidget(self.eval_button)
        top.addWidget(self.split_choice)
        top.addWidget(self.summary, 1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.mode)
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(split, 1)

    # -- state ------------------------------------------------------------------------------------
    def _forget_results(self) -> None:
        self.result = self._model_result = None
        self._epoch_results.clear()

    def _dataset_changed(self) -> None:
        self._forget_results()
        self.mark_stale()

    def _split_changed(self) -> None:
        self.eval_button.setText(f"Evaluate on the {self.split_choice.currentText().split()[0].lower()} set")
        self._forget_results()
        self.mark_stale()

    def _chosen_split(self, loaded):
        """(name, Split) to evaluate on; the validation split is carved as the model's run carved it."""
        from studio.core.data.split import run_split

        which = self.split_choice.currentData()
        config = (getattr(loaded, "checkpoint", None) or {}).get("config")
        split = run_split(self.state.dataset, which, config if isinstance(config, dict) else None)
        if split is None:
            self.show_note("This model's run held out no validation split (val_fraction 0): showing the test split.")
            return "test", self.state.dataset.test
        return ("validation" if which == "val" else "test"), split

    def _run_changed(self) -> None:
        self._snapshots.clear()
        self._epoch_records.clear()
        self._epoch_results.clear()
        self.mark_stale()

    def set_epoch(self, run_dir, epoch) -> None:
        """Show `epoch` of the run `run_dir` (the timeline's choice); (None, None): the current model."""
        if self.store_epoch(run_dir, epoch):
            self.mark_stale()

    def _view_epoch(self) -> int | None:
        """The timeline's epoch when it is not the current model's; None for the current model."""
        return None if self._demo else self.timeline_epoch(self._loaded)

    def _wanted_key(self, epoch: int | None):
        split = self.split_choice.currentData()
        return ("model", split) if epoch is None else (str(self.state.run_dir), epoch, split)

    def _feed_hardest(self, model, result) -> None:
        """Hardest examples rank the images of the result on view (of the timeline's epoch), once per result."""
        if result is not None and model is not None and self.hardest.result is not result:
            self.hardest.set_evaluation(model, *reversed(self._chosen_split(self._loaded)), result)

    def _epoch_ended(self, event) -> None:
        epoch = getattr(event, "epoch", None)   # a resumed run may have rewritten this epoch's snapshot
        self._snapshots = {k: v for k, v in self._snapshots.items() if k[1] != epoch}
        self._epoch_records.clear()
        self.mark_stale()

    def _training_state_changed(self, _value: str) -> None:
        self.mark_stale()

    def _classes(self) -> list[str]:
        return list(self._loaded.classes)

    def refresh(self) -> None:
        loaded, self._demo = self.model_or_demo()
        self._loaded = loaded
        if loaded is None:
            if not self.start_demo_load():
                self.show_empty()
            return
        self.show_content()
        if self._result_for is not loaded:
            self._model_result = None
        self._load_epochs()
        epoch = self._view_epoch()
        if epoch is None:
            self.result, self._shown_weights = self._model_result, None
            self._feed_hardest(loaded, self.result)
        else:
            self.result, self._shown_weights, model = self._epoch_results.get(self._wanted_key(epoch)) or (None,) * 3
            self._feed_hardest(model, self.result)
        live = self.state.training_state == "running"
        under_way = self.busy and self._evaluating == self._wanted_key(epoch)
        if self.result is None and not under_way and not live and self._can_evaluate():
            self.evaluate()
        elif self.result is None and live:
            self.cancel(quiet=True)
            self.show_note("While training runs, the matrix of each finished epoch is shown; the model is "
                           "evaluated when training pauses or ends, or when you click Evaluate.")
        self._display()

    def _trained_on(self) -> str | None:
        checkpoint = getattr(self._loaded, "checkpoint", None) or {}
        config = checkpoint.get("config") if isinstance(checkpoint, dict) else None
        name = config.get("dataset") if isinstance(config, dict) else None
        return name if isinstance(name, str) else None

    def _can_evaluate(self) -> bool:
        bundle, loaded = self.state.dataset, self._loaded
        trained_on = self._trained_on()
        wanted = f" ({trained_on})" if trained_on else ""
        if bundle is None:
            self.show_note(f"Load the model's dataset{wanted} to evaluate it on its test split.")
            return False
        if len(bundle.classes) != len(loaded.classes):
            self.show_error(f"The model predicts {len(loaded.classes)} classes but the dataset "
                            f"'{bundle.name}' has {len(bundle.classes)}: load the dataset it was trained on{wanted}.")
            return False
        if list(bundle.classes) != list(loaded.classes):
            shown = ", ".join(list(loaded.classes)[:5]) + (", …" if len(loaded.classes) > 5 else "")
            self.show_error(f"The loaded dataset '{bundle.name}' is not this model's: the model tells apart other "
                            f"classes ({shown}). Choose the dataset it was trained on{wanted} in the settings "
                            "to evaluate it.")
            return False
        return True

    def evaluate(self) -> None:
        """Evaluate the model on view on the whole test split, in the background."""
        loaded = self._loaded
        if loaded is None or not self._can_evaluate():
            return
        name, split = self._chosen_split(loaded)
        epoch, run_dir = self._view_epoch(), self.state.run_dir
        key = self._wanted_key(epoch)

        def work(progress, should_stop):
            from studio.core.engine.evaluate import evaluate

            model, shown = (loaded, None) if epoch is None else epoch_weights(run_dir, epoch)
            with inspect_lock:   # another tab's hooks on this model must not see these batches
                return evaluate(model.model, split, tuple(model.input_shape), model.mean, model.std,
                                progress=progress, should_stop=should_stop,
                                num_classes=len(model.classes)), shown, model

        def done(outcome) -> None:
            result, shown, model = outcome
            self._evaluating = None
            if result.cancelled:
                return
            if epoch is None:
                self._model_result, self._result_for = result, loaded
            else:
                self._epoch_results.put(key, (result, shown, model))
            if key == self._wanted_key(self._view_epoch()):
                self.result, self._shown_weights = result, shown
                self.split_name, self.split = name, split
                self._display()
            self._feed_hardest(model, result)

        what = "the current model" if epoch is None else f"the model of epoch {epoch}"
        self._evaluating = key
        self.start(f"Evaluating {what} on {len(split):,} {name} images…", work, done)

    # -- epochs ----------------------------------------------------------------------------------
    def _load_epochs(self) -> None:
        if self.state.run_dir is not None and not self._demo and not self._epoch_records:
            from studio.core.runs import epoch_records

            try:
                self._epoch_records = {int(r["epoch"]): r for r in epoch_records(Path(self.state.run_dir))}
            except Exception:  # noqa: BLE001 - the loss line is a nicety; the matrix still shows
                self._epoch_records = {}

    @guarded
    def _dataset_note(self) -> str:
        """A warning when the test images are not from the data the model was trained on."""
        trained_on = self._trained_on()
        bundle = self.state.dataset
        if trained_on and bundle is not None and trained_on != bundle.name:
            return f" &nbsp; <span style='color:#b00020'>(trained on {trained_on}, tested on {bundle.name})</span>"
        return ""

    def _demo_line(self) -> str:
        return f"<br>{model_caption(self._loaded, True)}" if self._demo else ""

    def _snapshot_cm(self, epoch: int) -> np.ndarray | None:
        key = (str(self.state.run_dir), epoch)
        if key not in self._snapshots:
            from studio.core.runs import load_epoch_snapshot

            self._snapshots[key] = load_epoch_snapshot(Path(self.state.run_dir), epoch)
        cm = self._snapshots[key].get("confusion")
        return None if cm is None else np.asarray(cm, dtype=np.int64)

    # -- showing -------------------------------------------------------------------------------
    def _display(self) -> None:
        """Show the evaluation on view (the current model's or the timeline epoch's), else the kept matrix."""
        loaded, epoch = self._loaded, self._view_epoch()
        self.shown_epoch = epoch
        if self.result is not None:
            self.cm = self.result.confusion
            n = int(self.cm.sum())
            if epoch is None:
                which = "the demo model" if self._demo else "current model"
                which += f", epoch {loaded.epoch}" if getattr(loaded, "epoch", 0) else ""
            else:
                which = epoch_title(epoch, self._shown_weights)
            self.summary.setText(f"<b>Accuracy</b> {self.result.accuracy:.2%} &nbsp; <b>Loss</b> "
                                 f"{self.result.loss:.4f} &nbsp; on {n:,} {self.split_name} images ({which})"
                                 + self._dataset_note() + self._demo_line())
        elif self.split_choice.currentData() == "test" and self.state.run_dir is not None and not self._demo:
            # not evaluated (yet, or not while training runs): the matrix the run kept for this epoch
            epoch = getattr(loaded, "epoch", 0) if epoch is None else epoch
            try:
                cm = self._snapshot_cm(epoch)
            except Exception as exc:  # noqa: BLE001
                self.show_error(str(exc))
                cm = None
            if cm is None:   # epoch 0 kept no matrix: its evaluation shows when it is done
                self.summary.setText(f"Evaluating the model at {epoch_title(epoch)}…")
                return
            self.cm = cm
            record = self._epoch_records.get(epoch, {})
            loss = f" &nbsp; <b>Loss</b> {record['test_loss']:.4f}" if "test_loss" in record else ""
            self.summary.setText(f"<b>Accuracy</b> {metrics.accuracy(cm):.2%}{loss} &nbsp; on {int(cm.sum()):,} "
                                 f"test images after epoch {epoch}")
        else:
            return
        if self.cell is not None and not all(0 <= v < len(self.cm) for v in self.cell):
            self._forget_cell()   # a cell of another run's matrix (more classes than this one has)
        self._draw_matrix()
        self._fill_prf()
        self._fill_confused()
        self._fill_prediction_grid()
        if self.cell is not None:
            self.show_cell(*self.cell)

    @guarded
    def _draw_matrix(self, *_args) -> None:
        if self.cm is None:
            return
        classes = self._classes()
        normalised = self.mode.currentIndex() == 1
        values = metrics.normalize_rows(self.cm) if normalised else self.cm.astype(np.float64)
        levels = (0.0, 1.0) if normalised else (0.0, float(max(1, self.cm.max())))
        self.matrix.cell_format = (lambda v: f"{v:.0%}" if v >= 0.005 else "0") if normalised else \
            (lambda v: str(int(v)))
        self.matrix.set_data(values, levels=levels, x_labels=classes, y_labels=classes,
                             x_title="Predicted class", y_title="True class", annotate=len(classes) <= 20)
        if self.cell is not None:
            self.matrix.select(self.cell)

    def _matrix_readout(self, row: int, col: int, value: float | None) -> str:
        classes = self._classes()
        count = int(self.cm[row, col])
        total = int(self.cm[row].sum())
        share = f" ({count / total:.1%} of the {total} images of class {classes[row]})" if total else ""
        return f"true {classes[row]}, predicted {classes[col]}: {count} images{share}. Click to see them."

    def _fill_prf(self) -> None:
        classes = self._classes()
        prf = metrics.per_class_prf(self.cm)
        self.prf.setSortingEnabled(False)
        self.prf.setRowCount(len(classes))
        for i, name in enumerate(classes):
            cells = [ClassItem(name, i)]
            for key in ("precision", "recall", "f1"):
                item = QTableWidgetItem()
                item.setData(Qt.ItemDataRole.DisplayRole, round(float(prf[key][i]), 3))
                cells.append(item)
            support = QTableWidgetItem()
            support.setData(Qt.ItemDataRole.DisplayRole, int(prf["support"][i]))
            cells.append(support)
            for c, item in enumerate(cells):
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.prf.setItem(i, c, item)
        self.prf.setSortingEnabled(True)

    def _fill_confused(self) -> None:
        classes = self._classes()
        self.confused.clear()
        for true, pred, count in metrics.most_confused(self.cm, classes, 8):
            item = QListWidgetItem(f"{true} → {pred}: {count}")
            item.setData(Qt.ItemDataRole.UserRole, (classes.index(true), classes.index(pred)))
            self.confused.addItem(item)
        if not self.confused.count():
            self.confused.addItem("No mistakes.")

    def _confused_clicked(self, item: QListWidgetItem) -> None:
        cell = item.data(Qt.ItemDataRole.UserRole)
        if cell:
            self.show_cell(*cell)

    def _forget_cell(self) -> None:
        self.cell = None
        self.cell_images = np.zeros(0, dtype=np.int64)
        self.cell_grid.clear("")
        self.cell_label.setText(CELL_HINT)
        self.matrix.select(None)

    # -- images -----------------------------------------------------------------------------------
    @guarded
    def show_cell(self, true: int, pred: int) -> None:
        """Show the test images of one (true, predicted) cell, most confident first."""
        classes = self._classes()
        self.cell = (true, pred)
        self.matrix.select(self.cell)
        self.pages.setCurrentIndex(0)
        if self.result is None:
            self.cell_images = np.zeros(0, dtype=np.int64)
            self.cell_grid.clear("")
            self.cell_label.setText(f"{int(self.cm[true, pred])} images were {classes[true]} predicted as "
                                    f"{classes[pred]} after epoch {self.shown_epoch}. The images show once this "
                                    "epoch's model is evaluated (click Evaluate while training runs).")
            return
        idx = cell_indices(self.result, true, pred)
        self.cell_images = idx
        split = self.split
        conf = self.result.probs[idx, pred]
        self.cell_grid.set_tiles([display_image(split.images[i].numpy()) for i in idx],
                                 captions=[f"{c:.0%}" for c in conf],
                                 tooltips=[f"test image #{i}\ntrue {classes[true]}, predicted {classes[pred]} "
                                           f"with {c:.1%}" for i, c in zip(idx, conf)])
        verdict = "correct" if true == pred else "mistakes"
        self.cell_label.setText(f"<b>True {classes[true]}, predicted {classes[pred]}</b> ({verdict}): "
                                f"{len(idx)} images, the most confident first (caption: the model's confidence).")

    @guarded
    def _fill_prediction_grid(self, *_args) -> None:
        r = self.result
        if r is None or self.state.dataset is None:
            self.grid_images = np.zeros(0, dtype=np.int64)
            self.pred_grid.clear("The prediction grid needs this model's evaluation: click Evaluate.")
            return
        classes = self._classes()
        keep = np.ones(len(r.y_true), dtype=bool)
        if self.grid_filter.currentIndex() == 1:
            keep = r.y_true != r.y_pred
        elif self.grid_filter.currentIndex() == 2:
            keep = r.y_true == r.y_pred
        # A fixed random sample, like one shuffled test batch in seed 000 (splits are often sorted by class).
        idx = np.flatnonzero(keep)
        if len(idx) > GRID_LIMIT:
            idx = idx[np.sort(np.random.default_rng(0).choice(len(idx), GRID_LIMIT, replace=False))]
            idx = idx[np.random.default_rng(1).permutation(GRID_LIMIT)]
        self.grid_images = idx
        split = self.split
        captions, colours, tips = [], [], []
        for i in idx:
            t, p = int(r.y_true[i]), int(r.y_pred[i])
            captions.append(f"True: {classes[t]}\nPred: {classes[p]}")
            colours.append(RIGHT if t == p else WRONG)
            tips.append(f"test image #{i}\ntrue {classes[t]}\npredicted {classes[p]} ({r.probs[i, p]:.1%})")
        self.pred_grid.set_tiles([display_image(split.images[i].numpy()) for i in idx], captions=captions,
                                 caption_colors=colours, tooltips=tips)

