"""Compare tab: two runs, or two epochs of one run, on the same held-out images.

Pick A and B (a run and an epoch whose weights it kept, or its best model); both are evaluated
in the background on their run's own data (core/engine/epoch_eval: a run retrained with fixes is
matched image by image by file) and compared (core/inspect/compare): the change of the confusion
matrix (green: better, red: worse), each class's accuracy before and after, and the images whose
answer flipped right -> wrong and wrong -> right. A click on an image opens it in Predict and
Activations; a right-click fixes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from studio.gui.tabs.inspect.common import InspectTab
from studio.gui.tabs.inspect.image_actions import ImageActions, image_ref
from studio.gui.widgets.heatmap import HeatmapView
from studio.gui.widgets.tile_grid import TileGrid

BETTER, WORSE = "#1a7f37", "#c62828"
BEST = -1   # the epoch entry for a run's best checkpoint
LEGEND = ("B − A. Green: better (more images right on the diagonal, fewer mistakes off it); red: worse. "
          "Click an image on the right to explain it.")


def _read_runs(progress, should_stop):
    from studio.core.paths import runs_dir
    from studio.core.runs import list_runs
    from studio.core.runs.snapshots import snapshot_epochs

    return [(info.path, info.name, snapshot_epochs(info.path)) for info in list_runs(runs_dir())]


def delta_colours(delta: np.ndarray) -> np.ndarray:
    """(K, K, 3) RGB: green where B is better than A, red where worse, white where equal."""
    k = delta.shape[0]
    good = np.where(np.eye(k, dtype=bool), delta, -delta).astype(np.float64)
    scale = max(1.0, float(np.abs(good).max()))
    t = np.clip(np.abs(good) / scale, 0, 1)[..., None]
    target = np.where((good > 0)[..., None], np.array([46, 160, 67]), np.array([214, 39, 40]))
    return np.rint(255 * (1 - t) + target * t).astype(np.uint8)


class RunEpochPicker(QWidget):
    """A run and one of its kept epochs (or its best model)."""

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs: list[tuple[Path, str, list[int]]] = []
        self.run, self.epoch = QComboBox(), QComboBox()
        self.run.setMinimumContentsLength(14)
        self.run.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run.currentIndexChanged.connect(self._run_changed)
        self.epoch.currentIndexChanged.connect(self.changed)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        label = QLabel(f"<b>{title}</b>")
        label.setMinimumWidth(16)
        lay.addWidget(label)
        lay.addWidget(self.run, 1)
        lay.addWidget(QLabel("epoch"))
        lay.addWidget(self.epoch)

    def set_runs(self, runs) -> None:
        keep = self.choice()
        self.runs = list(runs)
        self.run.blockSignals(True)
        self.run.clear()
        for path, name, _epochs in self.runs:
            self.run.addItem(name, str(path))
        self.run.blockSignals(False)
        self._run_changed()
        if keep[0] is not None:
            self.select(*keep)

    def _run_changed(self, *_args) -> None:
        i = self.run.currentIndex()
        epochs = self.runs[i][2] if 0 <= i < len(self.runs) else []
        self.epoch.blockSignals(True)
        self.epoch.clear()
        self.epoch.addItem("best", BEST)
        for e in epochs:
            self.epoch.addItem(str(e), e)
        self.epoch.blockSignals(False)
        self.changed.emit()

    def select(self, run_dir, epoch: int | None) -> None:
        i = self.run.findData(str(run_dir))
        if i >= 0:
            self.run.setCurrentIndex(i)
        j = self.epoch.findData(BEST if epoch is None else int(epoch))
        if j >= 0:
            self.epoch.setCurrentIndex(j)

    def choice(self) -> tuple[Path | None, int | None]:
        data = self.run.currentData()
        epoch = self.epoch.currentData()
        return (Path(data) if data else None), (None if epoch in (None, BEST) else int(epoch))

    def kept(self) -> list[int]:
        i = self.run.currentIndex()
        return self.runs[i][2] if 0 <= i < len(self.runs) else []


class CompareTab(InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.a = self.b = self.comparison = None   # EpochEval, EpochEval, Comparison
        self.flips: dict[str, np.ndarray] = {"rw": np.zeros(0, np.int64), "wr": np.zeros(0, np.int64)}
        self._defaults_for: Path | None = None
        self._build_ui()
        state.runChanged.connect(self.mark_stale)

    def _build_ui(self) -> None:
        self.pick_a, self.pick_b = RunEpochPicker("A"), RunEpochPicker("B")
        self.split_choice = QComboBox()
        self.split_choice.addItem("Test split", "test")
        self.split_choice.addItem("Validation split", "val")
        self.compare_button = QPushButton("Compare")
        self.compare_button.clicked.connect(self.compare_chosen)
        self.summary = QLabel("Choose two runs, or two epochs of one run, and click Compare.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.delta = HeatmapView(cmap="coolwarm", show_colorbar=False, placeholder="No comparison yet.")
        self.delta.setMinimumSize(300, 280)
        self.delta.readout_format = self._readout
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Class", "Accuracy A", "Accuracy B", "Change"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grids = {"rw": TileGrid(tile_size=64, spacing=14), "wr": TileGrid(tile_size=64, spacing=14)}
        for kind, grid in self.grids.items():
            ImageActions(grid, lambda i, k=kind: self._ref_at(k, i), self._classes, self.state)
        self.pages = QTabWidget()
        self.pages.addTab(self.grids["rw"], "Right → wrong")
        self.pages.addTab(self.grids["wr"], "Wrong → right")
        self.pages.addTab(self.table, "Per-class accuracy")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel("<b>Confusion matrix change</b>"))
        lv.addWidget(self.delta, 1)
        legend = QLabel(LEGEND)
        legend.setWordWrap(True)
        lv.addWidget(legend)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.pages)
        split.setSizes([460, 560])
        pickers = QGridLayout()   # A over B: side by side they made the tab wider than a 1024-px screen
        pickers.addWidget(self.pick_a, 0, 0)
        pickers.addWidget(self.split_choice, 0, 1)
        pickers.addWidget(self.pick_b, 1, 0)
        pickers.addWidget(self.compare_button, 1, 1)
        pickers.setColumnStretch(0, 1)
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(pickers)
        lay.addWidget(self.summary)
        lay.addWidget(split, 1)

    # -- runs to choose from -----------------------------------------------------------------
    def refresh(self) -> None:
        self.show_content()
        self.start("Reading the runs…", _read_runs, self._runs_read)

    def _runs_read(self, runs) -> None:
        if runs is None:
            return
        self.pick_a.set_runs(runs)
        self.pick_b.set_runs(runs)
        current = Path(self.state.run_dir) if self.state.run_dir is not None else None
        if current is not None and current != self._defaults_for:
            self._defaults_for = current   # two epochs of the run on view: its first trained epoch, and its best
            self.pick_a.select(current, None)
            kept = [e for e in self.pick_a.kept() if e > 0]
            self.pick_a.select(current, kept[0] if kept else None)
            self.pick_b.select(current, None)
        if not runs:
            self.summary.setText("No runs yet: train one (twice, or for a few epochs) to compare.")

    # -- comparing ---------------------------------------------------------------------------
    def compare_chosen(self) -> None:
        (run_a, epoch_a), (run_b, epoch_b) = self.pick_a.choice(), self.pick_b.choice()
        if run_a is None or run_b is None:
            self.show_note("Choose a run for A and for B.")
            return
        self.compare(run_a, epoch_a, run_b, epoch_b, self.split_choice.currentData())

    def compare(self, run_a, epoch_a: int | None, run_b, epoch_b: int | None, which: str = "test") -> None:
        """Evaluate run_a after epoch_a and run_b after epoch_b (None: their best) and show the change."""

        def work(progress, should_stop):
            from studio.core.engine.epoch_eval import evaluate_epoch
            from studio.core.inspect.compare import compare_results

            cache: dict = {}   # A and B's models are their own copies: no other tab's hooks, no lock needed
            a = evaluate_epoch(run_a, epoch_a, which=which, cache=cache, should_stop=should_stop,
                               progress=lambda d, t: progress(d, 2 * t))
            b = evaluate_epoch(run_b, epoch_b, which=which, cache=cache, should_stop=should_stop,
                               progress=lambda d, t: progress(t + d, 2 * t))
            if a.result.cancelled or b.result.cancelled:
                return None
            if list(a.loaded.classes) != list(b.loaded.classes):
                from studio.core.errors import StudioError

                raise StudioError("A and B tell apart different classes: compare runs of the same dataset.")
            return a, b, compare_results(a.result, b.result, keys_a=a.keys, keys_b=b.keys,
                                         num_classes=len(a.loaded.classes))

        self.start("Evaluating A and B…", work, self._show)

    def set_epoch(self, epoch: int) -> None:
        """The timeline's epoch: B becomes the run on view at that epoch (A stays), compared when shown."""
        if self.state.run_dir is not None and epoch in self.pick_b.kept():
            self.pick_b.select(self.state.run_dir, epoch)
            if self.isVisible() and self.a is not None:
                self.compare_chosen()

    # -- showing -----------------------------------------------------------------------------
    def _classes(self) -> list[str]:
        return list(self.a.loaded.classes) if self.a is not None else []

    def _show(self, outcome) -> None:
        if outcome is None:
            return
        self.a, self.b, self.comparison = outcome
        c, classes = self.comparison, self._classes()
        delta = c.confusion_delta
        self.delta.cell_format = lambda v: f"{int(v):+d}" if v else "0"
        self.delta.set_data(delta.astype(np.float64), rgb=delta_colours(delta), x_labels=classes, y_labels=classes,
                            x_title="Predicted class", y_title="True class", annotate=len(classes) <= 20)
        self.flips = {"rw": c.right_to_wrong, "wr": c.wrong_to_right}
        self._fill_table()
        for kind in ("rw", "wr"):
            self._fill_grid(kind)
        self.pages.setTabText(0, f"Right → wrong ({len(c.right_to_wrong)})")
        self.pages.setTabText(1, f"Wrong → right ({len(c.wrong_to_right)})")
        self.summary.setText(self._summary())

    def _summary(self) -> str:
        a, b, c = self.a, self.b, self.comparison
        change = 100 * (c.accuracy_b - c.accuracy_a)
        colour = BETTER if change > 0 else WORSE if change < 0 else "#444444"
        notes = []
        if c.unmatched_a or c.unmatched_b:
            notes.append(f"{c.unmatched_a} images only in A, {c.unmatched_b} only in B (excluded by fixes?)")
        if len(c.relabelled):
            notes.append(f"{len(c.relabelled)} relabelled between A and B")
        return (f"<b>A</b> {a.title}: {c.accuracy_a:.2%} &nbsp; <b>B</b> {b.title}: {c.accuracy_b:.2%} "
                f"(<span style='color:{colour}'>{change:+.2f} points</span>) on {c.matched:,} {b.split_name} images: "
                f"<span style='color:{WORSE}'>{len(c.right_to_wrong)} right → wrong</span>, "
                f"<span style='color:{BETTER}'>{len(c.wrong_to_right)} wrong → right</span>"
                + (f". {'; '.join(notes)}." if notes else "."))

    def _fill_table(self) -> None:
        c, classes = self.comparison, self._classes()
        self.table.setRowCount(len(classes))
        for i, name in enumerate(classes):
            a, b, d = c.class_accuracy_a[i], c.class_accuracy_b[i], c.class_accuracy_delta[i]
            cells = [name] + ["–" if np.isnan(v) else f"{v:.1%}" for v in (a, b)] + \
                ["–" if np.isnan(d) else f"{100 * d:+.1f} points"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 3 and not np.isnan(d) and d:
                    item.setForeground(QColor(BETTER if d > 0 else WORSE))
                self.table.setItem(i, col, item)

    def _fill_grid(self, kind: str) -> None:
        from studio.core.pixels import display_image

        c, classes, a, b = self.comparison, self._classes(), self.a, self.b
        positions = self.flips[kind]
        pictures, captions, tips = [], [], []
        for p in positions:
            ia, ib = int(c.index_a[p]), int(c.index_b[p])
            pictures.append(display_image(b.split.images[ib].numpy()))
            truth = classes[int(b.result.y_true[ib])]
            pa, pb = classes[int(a.result.y_pred[ia])], classes[int(b.result.y_pred[ib])]
            captions.append(f"true {truth}\n{pa} → {pb}")
            tips.append(f"{b.keys[ib] if b.keys else f'{b.split_name} image #{ib}'}\ntrue {truth}\n"
                        f"A ({a.title}): {pa} ({a.result.probs[ia].max():.0%})\n"
                        f"B ({b.title}): {pb} ({b.result.probs[ib].max():.0%})")
        colour = WORSE if kind == "rw" else BETTER
        self.grids[kind].placeholder = "No image flipped this way."
        self.grids[kind].set_tiles(pictures, captions=captions, caption_colors=[colour] * len(pictures),
                                   tooltips=tips)

    def _ref_at(self, kind: str, i: int):
        positions = self.flips[kind]
        if self.b is None or not 0 <= i < len(positions):
            return None
        b = self.b
        return image_ref(self.state, b.split, int(self.comparison.index_b[positions[i]]), b.split_name,
                         self._classes(), b.result, b.keys)

    def _readout(self, row: int, col: int, value: float | None) -> str:
        c, classes = self.comparison, self._classes()
        if c is None:
            return ""
        a, b = int(c.confusion_a[row, col]), int(c.confusion_b[row, col])
        return f"true {classes[row]}, predicted {classes[col]}: {a} in A, {b} in B ({b - a:+d})"
