"""Activations tab: what every layer makes of one input image (seed 001's layer_outputs / filter_outputs).

Pick a test image, a sample photo or any image file (or drop one on the tab). The top grid shows
each layer's output averaged over its channels; clicking a layer shows every channel's map
below, with the value range; clicking a map lays it over the input at the input's scale. The
window's timeline picks the epoch (set_epoch): the model of that epoch comes from the run's weight
snapshots, loaded in the background and kept for a few epochs.
"""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSlider,
                               QSpinBox, QSplitter, QStackedWidget, QVBoxLayout, QWidget)

from studio.core.images import IMAGE_SUFFIXES
from studio.core.inspect.activations import upsample
from studio.core.inspect.pipeline import ActivationResult, compute_activations, photo_activations
from studio.gui.tabs.inspect.common import InspectTab, guarded, inspect_lock
from studio.gui.tabs.inspect.demo import DemoFallback, model_caption
from studio.gui.tabs.inspect.timeline_epochs import EpochTarget, epoch_title, epoch_weights
from studio.gui.widgets.heatmap import HeatmapView, colorize, format_value, value_range
from studio.gui.widgets.tile_grid import TileGrid

if TYPE_CHECKING:
    import torch

MAP_CMAP = "viridis"   # matplotlib's imshow default, as in the seed's plots


OVERVIEW_HINT = "Every layer's output, averaged over its channels. Click a layer."


def sample_photos() -> list[Path]:
    from studio.core.paths import RESOURCES

    folder = Path(RESOURCES) / "images"
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


class ActivationsTab(EpochTarget, DemoFallback, InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.result: ActivationResult | None = None
        self.layer: str | None = None          # the layer whose maps are in the detail grid
        self.channel: int | None = None        # the map laid over the input (None: the layer mean)
        self._file: Path | None = None
        self._detail_levels: list[tuple[float, float]] = []
        self._build_ui()
        self.setAcceptDrops(True)
        state.modelChanged.connect(self.mark_stale)
        state.datasetChanged.connect(self._dataset_changed)
        if state.dataset is not None:   # built after the dataset loaded (tabs are built when first shown)
            self._dataset_changed()

    # -- layout ------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.source = QComboBox()
        self.source.addItems(["Test image", "Sample photo", "Image file"])
        self.source.currentIndexChanged.connect(self._source_changed)
        self.test_index = QSpinBox()
        self.test_index.setMaximum(0)
        self.test_index.valueChanged.connect(self._input_changed)
        self.test_label = QLabel()
        self.photo = QComboBox()
        for p in sample_photos():
            self.photo.addItem(p.name, str(p))
        self.photo.currentIndexChanged.connect(self._input_changed)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._open_file)
        self.file_label = QLabel("or drop an image file on this tab")
        self.file_label.setWordWrap(True)
        self.source_pages = QStackedWidget()
        for widgets in ((QLabel("Index:"), self.test_index, self.test_label), (self.photo,),
                        (self.open_button, self.file_label)):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            for w in widgets:
                row.addWidget(w)
            row.addStretch(1)
            self.source_pages.addWidget(page)

        self.overlay = HeatmapView(cmap=MAP_CMAP, placeholder="")
        self.overlay.setMinimumSize(280, 260)
        self.overlay.readout_format = self._overlay_readout
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.valueChanged.connect(self._draw_overlay)
        self.prediction = QLabel()
        self.prediction.setWordWrap(True)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.overlay_note = QLabel()
        self.overlay_note.setWordWrap(True)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Input:"))
        row.addWidget(self.source, 1)
        lv.addLayout(row)
        lv.addWidget(self.source_pages)
        lv.addWidget(self.model_label)
        lv.addWidget(self.overlay, 1)
        orow = QHBoxLayout()
        orow.addWidget(QLabel("Map opacity:"))
        orow.addWidget(self.opacity, 1)
        lv.addLayout(orow)
        lv.addWidget(self.overlay_note)
        lv.addWidget(self.prediction)

        self.overview_label = QLabel(OVERVIEW_HINT)
        self.overview_label.setWordWrap(True)
        self.overview = TileGrid(tile_size=92, placeholder="")
        self.overview.tileClicked.connect(self._layer_clicked)
        self.detail_label = QLabel("Click a layer above to see the map of each of its filters.")
        self.detail_label.setWordWrap(True)
        self.shared_scale = QCheckBox("One colour scale for all maps")
        self.shared_scale.setToolTip("Off: each map uses its own range (like matplotlib's imshow in the lecture “CNN basics”)")
        self.shared_scale.toggled.connect(self._fill_detail)
        self.detail = TileGrid(tile_size=72, placeholder="")
        self.detail.tileClicked.connect(self._map_clicked)

        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(0, 0, 0, 0)
        tv.addWidget(self.overview_label)
        tv.addWidget(self.overview, 1)
        bottom = QWidget()
        bv = QVBoxLayout(bottom)
        bv.setContentsMargins(0, 0, 0, 0)
        drow = QHBoxLayout()
        drow.addWidget(self.detail_label, 1)
        drow.addWidget(self.shared_scale)
        bv.addLayout(drow)
        bv.addWidget(self.detail, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setSizes([300, 360])

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([430, 850])
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    # -- choosing the input ---------------------------------------------------------------------
    def _dataset_changed(self) -> None:
        n = len(self.state.dataset.test) if self.state.dataset is not None else 0
        self.test_index.blockSignals(True)
        self.test_index.setMaximum(max(0, n - 1))
        self.test_index.blockSignals(False)
        if self.source.currentIndex() == 0:
            self.mark_stale()

    def _source_changed(self, index: int) -> None:
        self.source_pages.setCurrentIndex(index)
        self._input_changed()

    def _input_changed(self, *_args) -> None:
        self.mark_stale()

    def set_epoch(self, run_dir, epoch) -> None:
        """Show the layers of the model of `epoch` of the run `run_dir`; (None, None): the current model."""
        if self.store_epoch(run_dir, epoch):
            self.mark_stale()

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif "
                                              "*.webp *.tif *.tiff);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path: str | Path, dropped: int = 1) -> None:
        """Use an image file as the input (from the Open dialog or a drop of `dropped` files)."""
        self._file = Path(path)
        self.file_label.setText(self._file.name if dropped <= 1 else
                                f"{self._file.name}: the first of the {dropped} files dropped (one at a time here)")
        if self.source.currentIndex() != 2:
            self.source.setCurrentIndex(2)   # triggers the refresh
        else:
            self._input_changed()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.load_file(files[0], dropped=len(files))
            event.acceptProposedAction()

    def _input_pixels(self) -> tuple[torch.Tensor | None, str]:
        """A chosen test image as (1, C, H, W) uint8 (files are decoded in the worker), or why there is none."""
        kind = self.source.currentIndex()
        if kind == 0:
            bundle = self.state.dataset
            if bundle is None or len(bundle.test) == 0:
                return None, "Load a dataset to pick a test image, or choose a sample photo."
            loaded, _demo = self.model_or_demo()
            if loaded is not None and list(bundle.classes) != list(loaded.classes):
                return None, (f"The test images are {bundle.name}'s, but this model tells apart other classes "
                              f"({', '.join(list(loaded.classes)[:5])}{', …' if len(loaded.classes) > 5 else ''}): "
                              "choose a sample photo or an image file, or load the model's dataset in the settings.")
            i = min(self.test_index.value(), len(bundle.test) - 1)
            label = bundle.classes[int(bundle.test.labels[i])]
            self.test_label.setText(f"of {len(bundle.test)}, class {label}")
            return bundle.test.images[i:i + 1].clone(), f"Test image {i} (class {label})"
        return None, ""

    def _input_path(self) -> Path | None:
        kind = self.source.currentIndex()
        if kind == 1:
            data = self.photo.currentData()
            return Path(data) if data else None
        if kind == 2:
            return self._file
        return None

    # -- computing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        loaded, demo = self.model_or_demo()
        if loaded is None:
            if not self.start_demo_load():
                self.show_empty()
            return
        self.show_content()
        epoch, run_dir = (None if demo else self.timeline_epoch(loaded)), self.state.run_dir
        caption = model_caption(loaded, demo, run_dir)
        if epoch is not None:
            caption = f"Model: {loaded.model_name} of run {run_dir.name} at {epoch_title(epoch)}."
        self.model_label.setText(caption)
        if self.state.dataset is not None and self.test_index.maximum() != len(self.state.dataset.test) - 1:
            self.test_index.blockSignals(True)
            self.test_index.setMaximum(max(0, len(self.state.dataset.test) - 1))
            self.test_index.blockSignals(False)
        if self.source.currentIndex() == 0 and self.state.dataset is None and self.photo.count():
            self.source.setCurrentIndex(1)   # no test images: start from a photo (re-enters refresh)
            return
        pixels, source = self._input_pixels()
        path = self._input_path()
        if pixels is None and path is None:
            self.cancel(quiet=True)
            self._clear_views()   # never leave another model's or input's maps on screen
            self.show_note(source or "Choose an image file, or drop one on this tab.")
            return

        def work(progress, should_stop):
            model, shown = (loaded, None) if epoch is None else epoch_weights(run_dir, epoch)
            if pixels is not None:
                return compute_activations(model, pixels, source, lock=inspect_lock), shown
            return photo_activations(model, path, lock=inspect_lock), shown

        def done(outcome) -> None:
            result, shown = outcome
            if epoch is not None and shown != epoch:
                self.model_label.setText(f"Model: {loaded.model_name} of run {run_dir.name} at "
                                         f"{epoch_title(epoch, shown)}.")
            self._show(result)

        what = "" if epoch is None else f" at epoch {epoch}"
        self.start(f"Computing activations{what}…", work, done)

    def _clear_views(self) -> None:
        self.result = None
        self.layer = self.channel = None
        self.overview.clear("")
        self.detail.clear("")
        self.overlay.clear("")
        self.prediction.setText("")
        self.overlay_note.setText("")
        self.overview_label.setText(OVERVIEW_HINT)

    def _show(self, result: ActivationResult) -> None:
        self.result = result
        names = result.spatial_layers
        tiles, captions = [], []
        for n in names:
            tiles.append(colorize(result.means[n], MAP_CMAP))
            c, h, w = np.shape(result.acts[n])[1:]
            captions.append(f"{n}\n{result.types.get(n, '')}\n{c}×{h}×{w}")
        self.overview.set_tiles(tiles, captions=captions, tooltips=self._overview_tooltip, smooth=False)
        self.overview_label.setText(f"{result.source}: every layer's output averaged over its channels "
                                    f"({len(names)} layers with maps). Click a layer.")
        if result.prediction:
            self.prediction.setText("Model says: " + ", ".join(f"{c} ({p:.0%})" for c, p in result.prediction))
        else:
            self.prediction.setText("")
        keep = self.layer if self.layer in names else (names[0] if names else None)
        self.layer, self.channel = None, None
        if keep is not None:
            self.show_layer(keep)
        else:
            self.detail.clear("This model has no layers with spatial maps.")
            self._draw_overlay()

    def _overview_tooltip(self, i: int) -> str:
        r = self.result
        n = r.spatial_layers[i]
        lo, hi = value_range(r.acts[n])
        return f"{n} ({r.types.get(n, '')})\noutput {tuple(np.shape(r.acts[n]))}\nvalues {lo:.3g} … {hi:.3g}"

    # -- drilling down ------------------------------------------------------------------------------
    @guarded
    def _layer_clicked(self, i: int) -> None:
        self.show_layer(self.result.spatial_layers[i])

    def show_layer(self, name: str) -> None:
        """Show every channel map of a layer and lay its mean over the input."""
        self.layer, self.channel = name, None
        self.overview.select(self.result.spatial_layers.index(name))
        self._fill_detail()
        self._draw_overlay()

    @guarded
    def _fill_detail(self, *_args) -> None:
        if self.result is None or self.layer is None:
            return
        maps = np.asarray(self.result.acts[self.layer])[0]
        lo, hi = value_range(maps)
        shared = self.shared_scale.isChecked()
        self._detail_levels = [(lo, hi) if shared else value_range(m) for m in maps]
        tiles = [colorize(m, MAP_CMAP, lv) for m, lv in zip(maps, self._detail_levels)]
        n = len(maps)
        side = 128 if n <= 8 else 96 if n <= 32 else 72 if n <= 64 else 48 if n <= 256 else 36
        self.detail.set_tile_size(side)
        self.detail.set_tiles(tiles, captions=[str(i) for i in range(len(maps))] if side >= 48 else None,
                              tooltips=self._detail_tooltip)
        c, h, w = maps.shape
        self.detail_label.setText(f"<b>{self.layer}</b> ({self.result.types.get(self.layer, '')}): {c} maps of "
                                  f"{h}×{w}; values {format_value(lo)} … {format_value(hi)}. Click a map to lay "
                                  f"it over the input.")
        if self.channel is not None and self.channel < c:
            self.detail.select(self.channel)

    def _detail_tooltip(self, i: int) -> str:
        m = np.asarray(self.result.acts[self.layer])[0, i]
        return (f"{self.layer}, channel {i}\nvalues {m.min():.3g} … {m.max():.3g}, mean {m.mean():.3g}\n"
                f"{(m > 0).mean():.0%} of positions active (> 0)")

    @guarded
    def _map_clicked(self, i: int) -> None:
        self.channel = i
        self.detail.select(i)
        self._draw_overlay()

    def current_map(self) -> np.ndarray | None:
        if self.result is None or self.layer is None:
            return None
        if self.channel is None:
            return self.result.means[self.layer]
        return np.asarray(self.result.acts[self.layer])[0, self.channel]

    @guarded
    def _draw_overlay(self, *_args) -> None:
        r = self.result
        if r is None:
            return
        base = r.input_rgb.astype(np.float32)
        m = self.current_map()
        if m is None:
            self.overlay.set_data(None, rgb=r.input_rgb, title="input")
            return
        h, w = base.shape[:2]
        up = upsample(m, (h, w))
        levels = value_range(m)
        alpha = self.opacity.value() / 100.0
        blend = (1 - alpha) * base + alpha * colorize(up, MAP_CMAP, levels).astype(np.float32)
        what = "mean of all channels" if self.channel is None else f"channel {self.channel}"
        self.overlay.set_data(up, rgb=np.clip(blend, 0, 255).astype(np.uint8), levels=levels,
                              title=f"{self.layer}: {what}")
        self.overlay_note.setText(f"The {m.shape[0]}×{m.shape[1]} map is stretched to the {h}×{w} input: one "
                                  f"map pixel covers {h / m.shape[0]:.3g}×{w / m.shape[1]:.3g} input pixels.")

    def _overlay_readout(self, row: int, col: int, value: float | None) -> str:
        m = self.current_map()
        if m is None or value is None:
            return f"input pixel ({col}, {row})"
        h, w = self.result.input_rgb.shape[:2]
        mr, mc = int(row * m.shape[0] / h), int(col * m.shape[1] / w)
        return f"input pixel x={col}, y={row} → map cell ({mc}, {mr}) = {format_value(float(m[mr, mc]))}"
