"""Kernels on a photo: a grayscale photo through a chosen or hand-edited kernel, then pooling.

Seed 000 runs its Laplacian-of-Gaussian kernels (σ = 5 and 10) over a photo with a Python
loop and with F.conv2d, times both, and max-pools the result with an 8×8 window, stride 8.
This section does the same with any preset or edited kernel. Large kernels on a full photo
take seconds even in F.conv2d (a 61×61 LoG on 640×427), so those filters and the slow loop
run on the thread pool and report back through studio.gui.concurrency.tasks (results reach the GUI thread
by signal); small ones are computed at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QProgressBar, QPushButton, QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget)

from studio.core.lab import kernels as ck
from studio.core.lab.conv import ConvLabError
from studio.core.errors import StudioError
from studio.core.images import decode_image
from studio.core.paths import RESOURCES
from studio.gui.tabs.lab.common import MessageLine, note_label, row, title_label
from studio.gui.concurrency.tasks import Task, run_task
from studio.gui.widgets.drop_zone import accepts_drag, paths_from_mime
from studio.gui.widgets.heatmap import HeatmapView
from studio.gui.widgets.heatmap_grid import HeatmapGrid

pg.setConfigOptions(imageAxisOrder="row-major")

SAMPLES = ("chelsea.png", "coffee.png", "astronaut.png", "horse.png", "rocket.jpg")
MAX_SIDE = 1024            # dropped photos are shrunk to this on the long side
MAX_GRID = 15              # larger kernels are shown as a heat map only
SYNC_MACS = 60_000_000     # filters cheaper than this run at once in the GUI thread
LOOP_SIZES = (("loop on a 128 px copy", 128), ("loop on a 256 px copy", 256), ("loop on the full photo", 0))


class PhotoSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: np.ndarray | None = None     # float32 gray 0..1
        self._image_name = ""
        self._kernel = ck.make_kernel("log", sigma=2.0)
        self._result: np.ndarray | None = None
        self._generation = 0
        self._filter_task: Task | None = None
        self._timing_task: Task | None = None
        self.setAcceptDrops(True)
        self._build()
        self.load_sample(SAMPLES[0])

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.photo_combo = QComboBox()
        for name in SAMPLES:
            self.photo_combo.addItem(name, str(RESOURCES / "images" / name))
        self.open_button = QPushButton("Open…")
        self.preset_combo = QComboBox()
        for p in ck.PRESETS:
            self.preset_combo.addItem(p.title, p.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, p.note, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.addItem("Custom (edit the grid)", "custom")
        self.sigma_slider = QSlider(Qt.Orientation.Horizontal)
        self.sigma_slider.setRange(1, 20)            # σ = value / 2: 0.5 .. 10 as in seed 000
        self.sigma_slider.setValue(4)
        self.sigma_slider.setTracking(False)         # recompute on release: big σ means a big kernel
        self.sigma_label = QLabel()
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 15)
        self.size_spin.setSingleStep(2)
        self.size_spin.setValue(5)
        self.flip_check = QCheckBox("True convolution (flip the kernel)")
        self.kernel_grid = HeatmapGrid(cell_width=44, cell_height=24, digits=2)
        self.kernel_note = QLabel()
        self.kernel_note.setWordWrap(True)
        self.kernel_view = HeatmapView(cmap="coolwarm", show_colorbar=True)
        self.kernel_view.setMinimumHeight(170)

        left = QVBoxLayout()
        left.addWidget(title_label("Photo"))
        left.addLayout(row(self.photo_combo, self.open_button))
        hint = note_label("…or drop an image file anywhere on this page.")
        left.addWidget(hint)
        left.addWidget(title_label("Kernel"))
        left.addWidget(self.preset_combo)
        left.addLayout(row("σ", self.sigma_slider, self.sigma_label, stretch=False))
        left.addLayout(row("size", self.size_spin))
        left.addWidget(self.flip_check)
        left.addWidget(self.kernel_grid, 2)
        left.addWidget(self.kernel_note)
        left.addWidget(self.kernel_view, 2)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(340)

        self.input_view = HeatmapView(cmap="gray", show_colorbar=False)
        self.result_view = HeatmapView(cmap="gray", show_colorbar=True)
        self.pool_view = HeatmapView(cmap="gray", show_colorbar=True)
        for v in (self.input_view, self.result_view, self.pool_view):
            v.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.pool_kind = QComboBox()
        self.pool_kind.addItem("max pooling (F.max_pool2d)", "max")
        self.pool_kind.addItem("average pooling (F.avg_pool2d)", "avg")
        self.pool_k = QSpinBox()
        self.pool_k.setRange(1, 512)
        self.pool_k.setValue(8)
        self.pool_s = QSpinBox()
        self.pool_s.setRange(1, 512)
        self.pool_s.setValue(8)
        self.pool_label = QLabel()
        self.pool_label.setWordWrap(True)
        pool_box = QGroupBox("Pooling the result (kernel 8, stride 8, as in the lecture)")
        pl = QVBoxLayout(pool_box)
        pl.addLayout(row(self.pool_kind))
        pl.addLayout(row("kernel", self.pool_k, "stride", self.pool_s))
        pl.addWidget(self.pool_label)

        self.loop_size = QComboBox()
        for text, side in LOOP_SIZES:
            self.loop_size.addItem(text, side)
        self.time_button = QPushButton("Time the Python loop vs F.conv2d")
        self.timing_bar = QProgressBar()
        self.timing_bar.setMaximumHeight(14)
        self.timing_bar.setTextVisible(False)
        self.timing_bar.hide()
        self.timing_label = QLabel("The lecture times its convolve_gray loop against F.conv2d (%%time).")
        self.timing_label.setWordWrap(True)
        self.timing_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        timing_box = QGroupBox("Naive loop vs F.conv2d")
        tl = QVBoxLayout(timing_box)
        tl.addLayout(row(self.loop_size))   # two rows: side by side they made the Lab too wide for 1280 pixels
        tl.addLayout(row(self.time_button))
        tl.addWidget(self.timing_bar)
        tl.addWidget(self.timing_label)

        self.status = MessageLine()
        right = QGridLayout()
        right.addWidget(self.input_view, 0, 0)
        right.addWidget(self.result_view, 0, 1)
        right.addWidget(self.pool_view, 1, 0)
        side = QVBoxLayout()
        side.addWidget(pool_box)
        side.addWidget(timing_box)
        side.addWidget(self.status)
        side.addStretch(1)
        right.addLayout(side, 1, 1)
        right.setRowStretch(0, 3)
        right.setRowStretch(1, 2)
        right.setColumnStretch(0, 1)
        right.setColumnStretch(1, 1)

        lay = QHBoxLayout(self)
        lay.addWidget(left_widget)
        lay.addLayout(right, 1)

        self.photo_combo.currentIndexChanged.connect(lambda _i: self.load_path(self.photo_combo.currentData()))
        self.open_button.clicked.connect(self._on_open)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self.sigma_slider.valueChanged.connect(self._on_preset_changed)
        self.sigma_slider.sliderMoved.connect(lambda v: self.sigma_label.setText(f"{v / 2:g}"))
        self.size_spin.valueChanged.connect(self._on_size_changed)
        self.flip_check.toggled.connect(lambda _on: self._schedule_filter())
        self.kernel_grid.cellEdited.connect(self._on_kernel_edited)
        self.kernel_grid.invalidInput.connect(self.status.error)
        for w in (self.pool_k, self.pool_s):
            w.valueChanged.connect(lambda _v: self._update_pool())
        self.pool_kind.currentIndexChanged.connect(lambda _i: self._update_pool())
        self.time_button.clicked.connect(self.start_timing)
        self._on_preset_changed()

    # ------------------------------------------------------------------ the photo
    def load_sample(self, name: str) -> None:
        self.photo_combo.setCurrentIndex(SAMPLES.index(name))
        self.load_path(str(RESOURCES / "images" / name))

    def load_path(self, path: str) -> bool:
        """Decode a photo as grayscale; on failure keep the old one and say why."""
        try:
            gray = decode_image(path, mode="L")
        except StudioError as exc:
            self.status.error(str(exc))
            return False
        image = ck.to_gray_float(gray)
        note = ""
        if max(image.shape) > MAX_SIDE:
            image = ck.downscale(image, MAX_SIDE)
            note = f" (shrunk to {image.shape[1]}×{image.shape[0]})"
        self._image, self._image_name = image, Path(path).name
        self.status.clear_message()
        self.input_view.set_data(image, levels=(0.0, 1.0),
                                 title=f"{self._image_name}, grayscale {image.shape[1]}×{image.shape[0]}{note}")
        self._schedule_filter()
        return True

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "",
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp)")
        if path:
            self.load_path(path)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt name
        accepts_drag(event)

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        accepts_drag(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = paths_from_mime(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.load_path(paths[0])

    # ------------------------------------------------------------------ the kernel
    def sigma(self) -> float:
        return self.sigma_slider.value() / 2

    def kernel(self) -> np.ndarray:
        return self._kernel.copy()

    def _on_preset_changed(self, *_args) -> None:
        key = self.preset_combo.currentData()
        preset = next((p for p in ck.PRESETS if p.key == key), None)
        uses_sigma = preset is not None and preset.uses_sigma
        uses_size = key == "custom" or (preset is not None and preset.uses_size)
        self.sigma_slider.setEnabled(uses_sigma)
        self.size_spin.setEnabled(uses_size)
        self.sigma_label.setText(f"{self.sigma():g}")
        if key == "custom":
            self._show_kernel("Custom: type numbers into the grid.")
            self._schedule_filter()
            return
        try:
            self._kernel = ck.make_kernel(key, sigma=self.sigma(), size=self.size_spin.value())
        except ConvLabError as exc:
            self.status.error(str(exc))
            return
        self._show_kernel(preset.note)
        self._schedule_filter()

    def _on_size_changed(self, size: int) -> None:
        if self.preset_combo.currentData() == "custom":
            # Keep the old kernel centred in the new size.
            new = np.zeros((size, size), dtype=np.float32)
            old = self._kernel
            n = min(size, old.shape[0])
            a, b = (size - n) // 2, (old.shape[0] - n) // 2
            new[a:a + n, a:a + n] = old[b:b + n, b:b + n]
            self._kernel = new
            self._show_kernel("Custom: type numbers into the grid.")
            self._schedule_filter()
        else:
            self._on_preset_changed()

    def _on_kernel_edited(self, r: int, c: int, value: float) -> None:
        self._kernel = self._kernel.copy()
        self._kernel[r, c] = value
        if self.preset_combo.currentData() != "custom":
            self.preset_combo.blockSignals(True)
            self.preset_combo.setCurrentIndex(self.preset_combo.findData("custom"))
            self.preset_combo.blockSignals(False)
            self.size_spin.setEnabled(True)
            self.sigma_slider.setEnabled(False)
        self._show_kernel("Custom: edited by hand.")
        self._schedule_filter()

    def _show_kernel(self, note: str) -> None:
        k = self._kernel
        small = max(k.shape) <= MAX_GRID
        self.kernel_grid.setVisible(small)
        if small:
            self.kernel_grid.set_values(k)
            self._fit_kernel_columns()
        else:
            note += f" {k.shape[0]}×{k.shape[1]} is too big to edit here: shown as a heat map."
        self.kernel_note.setText(f"{k.shape[0]}×{k.shape[1]} kernel, sum {k.sum():.3g}. {note}")
        lim = float(np.max(np.abs(k))) or 1.0
        self.kernel_view.set_data(k, levels=(-lim, lim), title="kernel (blue < 0 < red)",
                                  annotate=max(k.shape) <= 7)

    def _fit_kernel_columns(self) -> None:
        """Columns as wide as the widest number, so a Gaussian's 0.037 reads whole, not as "0.0…"."""
        grid = self.kernel_grid
        metrics = grid.fontMetrics()
        texts = [grid.cell_text(r, c) for r in range(grid.rowCount()) for c in range(grid.columnCount())]
        width = max([metrics.horizontalAdvance(t) for t in texts] + [24]) + 12
        for c in range(grid.columnCount()):
            grid.horizontalHeader().resizeSection(c, width)
        grid.updateGeometry()

    # ------------------------------------------------------------------ filtering
    def _schedule_filter(self) -> None:
        """Filter the photo now if cheap, else on the thread pool (the newest request wins)."""
        if self._image is None:
            return
        self._generation += 1
        gen, image, kernel, flip = self._generation, self._image, self._kernel.copy(), self.flip_check.isChecked()
        if self._filter_task is not None:
            self._filter_task.cancel()
            self._filter_task = None
        if image.size * kernel.size <= SYNC_MACS:
            try:
                self._show_result(gen, ck.filter_image(image, kernel, flip))
            except ConvLabError as exc:
                self.status.error(str(exc))
            return
        self.result_view.clear(f"F.conv2d with a {kernel.shape[0]}×{kernel.shape[1]} kernel: computing…")
        self._filter_task = run_task(lambda _progress, _stop: ck.filter_image(image, kernel, flip),
                                     on_done=lambda out: self._show_result(gen, out),
                                     on_error=self._on_filter_error, owner=self)

    def _on_filter_error(self, message: str, _details: str) -> None:
        self.status.error(message)

    def is_busy(self) -> bool:
        return any(t is not None and t.running for t in (self._filter_task, self._timing_task))

    def _show_result(self, generation: int, out: np.ndarray) -> None:
        if generation != self._generation:
            return            # an older request finished after a newer one started
        self._filter_task = None
        self._result = out
        flipped = " (kernel flipped)" if self.flip_check.isChecked() else ""
        k = self._kernel.shape
        self.result_view.set_data(out, title=f"F.conv2d{flipped}, {k[0]}×{k[1]} kernel → "
                                             f"{out.shape[1]}×{out.shape[0]}")
        self._update_pool()

    def result(self) -> np.ndarray | None:
        return None if self._result is None else self._result.copy()

    def _update_pool(self) -> None:
        if self._result is None:
            return
        kind, k, s = self.pool_kind.currentData(), self.pool_k.value(), self.pool_s.value()
        h, w = self._result.shape
        try:
            pooled = ck.pool(self._result, kind, k, s)
        except ConvLabError as exc:
            self.pool_view.clear(str(exc))
            self.pool_label.setText(str(exc))
            return
        self._pooled = pooled
        self.pool_view.set_data(pooled, title=f"{kind} pool {k}/{k} stride {s} → {pooled.shape[1]}×{pooled.shape[0]}")
        self.pool_label.setText(ck.pool_output_text(h, k, s, "H") + "\n" + ck.pool_output_text(w, k, s, "W"))

    def pooled(self) -> np.ndarray | None:
        return getattr(self, "_pooled", None)

    # ------------------------------------------------------------------ timing
    def start_timing(self) -> None:
        if self._image is None or (self._timing_task is not None and self._timing_task.running):
            return
        side = self.loop_size.currentData()
        image = ck.downscale(self._image, side) if side else self._image
        kernel = self._kernel.copy()
        self._timing_side = side
        self.time_button.setEnabled(False)
        self.timing_bar.setRange(0, image.shape[0])
        self.timing_bar.setValue(0)
        self.timing_bar.show()
        self.timing_label.setText(f"Running the Python loop over {image.shape[1]}×{image.shape[0]} pixels…")
        self._timing_task = run_task(
            lambda progress, stop: ck.time_loop_vs_torch(image, kernel, stop, progress),
            on_done=self._on_timing_done, on_error=self._on_timing_error,
            on_progress=self._on_timing_progress, owner=self)

    def _on_timing_progress(self, done: int, _total: int) -> None:
        self.timing_bar.setValue(done)

    def _on_timing_done(self, result) -> None:
        self.time_button.setEnabled(True)
        self.timing_bar.hide()
        self._timing_task = None
        if result is None:
            self.timing_label.setText("Stopped.")
            return
        self.timing_result = result
        why = (" The loop ran on a downscaled copy so it finishes quickly; F.conv2d ran on the same copy."
               if self._timing_side else "")
        self.timing_label.setText(result.summary() + "." + why +
                                  " The loop flips the kernel (true convolution), so F.conv2d was given "
                                  "the flipped kernel.")

    def _on_timing_error(self, message: str, _details: str) -> None:
        self.time_button.setEnabled(True)
        self.timing_bar.hide()
        self._timing_task = None
        self.timing_label.setText(message)

    def cancel_work(self) -> None:
        for t in (self._filter_task, self._timing_task):
            if t is not None:
                t.cancel()
