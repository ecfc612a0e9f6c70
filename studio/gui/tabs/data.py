"""The Data tab: look at the data first (seed 003).

A grid of sample training images with their class names, the number of images per class in
each split as a bar chart, and an augmentation preview: one image and several augmented
versions of it, drawn by the same augmenter the trainer uses and redrawn whenever the
augmentation switches change.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from studio.gui.widgets.image_grid import ImageGrid
from studio.gui.widgets.metric_plot import PALETTE

pg.setConfigOptions(imageAxisOrder="row-major")

SAMPLE_ROWS, SAMPLE_COLUMNS = 4, 8
PREVIEW_COUNT = 7
MAX_TICK_LABELS = 20


def to_display(images) -> list[np.ndarray]:
    """uint8 tensor (N, C, H, W) -> list of (H, W) or (H, W, 3) uint8 arrays."""
    array = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
    array = np.transpose(array, (0, 2, 3, 1))
    if array.shape[-1] == 1:
        array = array[..., 0]
    return [np.ascontiguousarray(a) for a in array]


def stratified_sample(labels: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `count` indices taking the classes in turn (every class shows), ordered by class."""
    classes = rng.permutation(np.unique(labels))
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in classes}
    chosen: list[int] = []
    while len(chosen) < min(count, len(labels)):
        for c in classes:
            if pools[c] and len(chosen) < count:
                chosen.append(int(pools[c].pop()))
    chosen.sort(key=lambda i: (labels[i], i))
    return np.asarray(chosen, dtype=np.int64)


class DataTab(QWidget):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.bundle = None
        self.sample_indices = np.zeros(0, dtype=np.int64)
        self.preview_index = 0
        self._sample_draw = 0
        self._augment_draw = 0
        self._last_augment = None
        self._build()
        state.datasetChanged.connect(self._on_dataset_changed)
        state.configChanged.connect(self._on_config_changed)
        state.datasetFailed.connect(self.show_failure)
        if state.dataset is not None:
            self.show_dataset(state.dataset)
        elif state.dataset_error:
            self.show_failure(state.dataset_error)

    def _build(self) -> None:
        self.info = QLabel("Loading the dataset…")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        samples_box = QGroupBox("Sample training images")
        self.sample_grid = ImageGrid(SAMPLE_COLUMNS, SAMPLE_ROWS, placeholder="Loading…")
        self.resample_button = QPushButton("Show other images")
        self.resample_button.clicked.connect(self.resample)
        box_layout = QVBoxLayout(samples_box)
        box_layout.addWidget(self.sample_grid, 1)
        box_layout.addWidget(self.resample_button, 0, Qt.AlignmentFlag.AlignRight)

        counts_box = QGroupBox("Images per class")
        self.counts_plot = pg.PlotWidget(background="w")
        item = self.counts_plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.showGrid(y=True, alpha=0.2)
        for side in ("left", "bottom"):
            item.getAxis(side).setPen(pg.mkPen("#505050"))
            item.getAxis(side).setTextPen(pg.mkPen("#303030"))
        item.setLabel("left", "images", color="#303030")
        self.counts_legend = item.addLegend(offset=(-8, 4), labelTextColor="#202020", colCount=2,
                                            brush=pg.mkBrush(255, 255, 255, 220))
        self.train_bars = pg.BarGraphItem(x=[], height=[], width=0.4, brush=PALETTE[0], name="train")
        self.test_bars = pg.BarGraphItem(x=[], height=[], width=0.4, brush=PALETTE[1], name="test")
        item.addItem(self.train_bars)
        item.addItem(self.test_bars)
        self.counts_plot.setMinimumSize(240, 160)
        QVBoxLayout(counts_box).addWidget(self.counts_plot)

        preview_box = QGroupBox("Augmentation preview (switch augmentations on in the settings)")
        self.preview_grid = ImageGrid(PREVIEW_COUNT + 1, 1, placeholder="Loading…")
        self.preview_grid.setMinimumHeight(110)
        self.preview_note = QLabel("")
        self.preview_note.setWordWrap(True)
        self.other_image_button = QPushButton("Another image")
        self.other_image_button.clicked.connect(self.next_preview_image)
        self.redraw_button = QPushButton("Augment again")
        self.redraw_button.clicked.connect(self.redraw_augmentations)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_note, 1)
        buttons.addWidget(self.other_image_button)
        buttons.addWidget(self.redraw_button)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_grid, 1)
        preview_layout.addLayout(buttons)

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(samples_box)
        top.addWidget(counts_box)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setChildrenCollapsible(False)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(preview_box)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        body.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.info)
        layout.addWidget(body, 1)

    # ------------------------------------------------------------ reactions

    @Slot()
    def _on_dataset_changed(self) -> None:
        if self.state.dataset is None:
            self.bundle = None
            self.info.setText(f"Loading {self.state.config.dataset}…")
            self.info.setToolTip("")
            self.sample_grid.clear("Loading…")
            self.preview_grid.clear("Loading…")
            self.train_bars.setOpts(x=[], height=[])
            self.test_bars.setOpts(x=[], height=[])
            return
        self.show_dataset(self.state.dataset)

    @Slot(str)
    def show_failure(self, message: str) -> None:
        """The dataset could not be loaded: say why, in full (plain text: an error may hold '<...>')."""
        self.bundle = None
        self.info.setText(f"<span style='color:#b22222'>The dataset could not be loaded: "
                          f"{html.escape(message)}</span>")
        self.info.setToolTip("")
        self.sample_grid.clear("No dataset")
        self.preview_grid.clear("No dataset")
        self.train_bars.setOpts(x=[], height=[])
        self.test_bars.setOpts(x=[], height=[])

    @Slot()
    def _on_config_changed(self) -> None:
        augment = self.state.config.augment
        if self.bundle is not None and augment != self._last_augment:
            self.update_preview()

    def show_dataset(self, bundle) -> None:
        self.bundle = bundle
        self._sample_draw = 0
        self.preview_index = 0
        self.info.setText(self._describe(bundle))
        self.info.setToolTip(self._skipped_list(bundle))
        self.resample()
        self.update_counts()
        self.update_preview()

    @staticmethod
    def _describe(bundle) -> str:
        c, h, w = bundle.input_shape
        kind = "grayscale" if c == 1 else "colour"
        text = (f"<b>{bundle.name}</b>: {len(bundle.train):,} training and {len(bundle.test):,} test images, "
                f"{kind} {w}×{h} pixels, {len(bundle.classes)} classes.")
        if bundle.source:
            text += f" <span style='color:gray'>{bundle.source}</span>"
        if bundle.skipped:
            text += f"<br><span style='color:#b22222'>{len(bundle.skipped)} file(s) skipped as unreadable, e.g. " \
                    f"{bundle.skipped[0][0]}: {bundle.skipped[0][1]}" \
                    + (" (hover to see them all)" if len(bundle.skipped) > 1 else "") + "</span>"
        return text

    @staticmethod
    def _skipped_list(bundle, limit: int = 40) -> str:
        """Every skipped file and why (the info line names only the first): shown on hover."""
        skipped = list(bundle.skipped or [])
        if not skipped:
            return ""
        lines = [f"{path}: {reason}" for path, reason in skipped[:limit]]
        if len(skipped) > limit:
            lines.append(f"… and {len(skipped) - limit} more")
        return "Skipped as unreadable:\n" + "\n".join(lines)

    # ------------------------------------------------------------ samples and counts

    def resample(self) -> None:
        """Draw another random set of training images (reproducible: draw n uses seed n)."""
        bundle = self.bundle
        if bundle is None or not len(bundle.train):
            return
        rng = np.random.default_rng(self._sample_draw)
        self._sample_draw += 1
        self.sample_indices = stratified_sample(bundle.train.labels.numpy(), SAMPLE_ROWS * SAMPLE_COLUMNS, rng)
        images = to_display(bundle.train.images[self.sample_indices])
        labels = bundle.train.labels[self.sample_indices].tolist()
        self.sample_grid.set_images(images, [bundle.classes[i] for i in labels])

    def class_counts(self) -> tuple[list[int], list[int]]:
        k = len(self.bundle.classes)
        return self.bundle.train.class_counts(k), self.bundle.test.class_counts(k)

    def update_counts(self) -> None:
        train, test = self.class_counts()
        x = np.arange(len(train), dtype=float)
        self.train_bars.setOpts(x=x - 0.2, height=train, width=0.4)
        self.test_bars.setOpts(x=x + 0.2, height=test, width=0.4)
        if not self.counts_legend.items:
            self.counts_legend.addItem(self.train_bars, "train")
            self.counts_legend.addItem(self.test_bars, "test")
        step = max(1, int(np.ceil(len(train) / MAX_TICK_LABELS)))
        ticks = [(i, name) for i, name in enumerate(self.bundle.classes) if i % step == 0]
        self.counts_plot.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.counts_plot.getPlotItem().setXRange(-0.7, len(train) - 0.3, padding=0)
        self.counts_plot.getPlotItem().setYRange(0, max(train + test + [1]) * 1.2, padding=0)  # room for the legend

    # ------------------------------------------------------------ augmentation preview

    def next_preview_image(self) -> None:
        if self.bundle is not None and len(self.sample_indices):
            self.preview_index = (self.preview_index + 1) % len(self.sample_indices)
            self.update_preview()

    def redraw_augmentations(self) -> None:
        self._augment_draw += 1
        self.update_preview()

    def update_preview(self) -> None:
        """The chosen image, then PREVIEW_COUNT versions through the trainer's augmenter."""
        import torch

        from studio.core.data.augment import build_augment
        from studio.core.errors import StudioError

        bundle = self.bundle
        if bundle is None or not len(self.sample_indices):
            return
        augment_cfg = self.state.config.augment
        self._last_augment = augment_cfg
        index = int(self.sample_indices[self.preview_index])
        original = bundle.train.images[index:index + 1]
        name = bundle.classes[int(bundle.train.labels[index])]
        try:
            augment = build_augment(augment_cfg, std=bundle.std)
        except StudioError as exc:
            self.preview_note.setText(str(exc))
            return
        if augment is None:
            self.preview_grid.set_images(to_display(original), [f"original: {name}"])
            self.preview_note.setText("No augmentation is switched on: the model sees each image as it is.")
            return
        batch = original.float().div(255).repeat(PREVIEW_COUNT, 1, 1, 1)
        generator = torch.Generator().manual_seed(1000 + self._augment_draw)
        with torch.no_grad():
            augmented = augment(batch, generator=generator)
        pixels = augmented.clamp(0, 1).mul(255).round().to(torch.uint8)
        images = to_display(original) + to_display(pixels)
        self.preview_grid.set_images(images, [f"original: {name}"] + [f"#{i + 1}" for i in range(PREVIEW_COUNT)])
        self.preview_note.setText("Each version gets its own random flip, crop, rotation, zoom, shift, colour and "
                                  "noise within the limits you set. A new set is drawn every epoch.")
