"""Kernels tab: the learned filters of any conv layer, and how they formed epoch by epoch.

The first layer of an RGB model shows each filter as a colour tile, normalised the way seed 001
does; any other layer shows one input channel's kernels with a diverging colour map (blue
negative, red positive) on one scale for the whole layer, so tiles can be compared. A run keeps
the kernels of every finished epoch (and epoch 0, the random initial weights); the window's
timeline picks the epoch (set_epoch), and a run's kernels share one colour scale over all its epochs,
so their growth shows. Before any model exists the tab shows the demo model's kernels, and says so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QSpinBox, QVBoxLayout,
                               QWidget)

from studio.gui.tabs.inspect.common import InspectTab, guarded
from studio.gui.tabs.inspect.demo import DemoFallback, model_caption
from studio.gui.tabs.inspect.lesion_panel import LesionPanel
from studio.gui.tabs.inspect.timeline_epochs import EpochTarget, epoch_title
from studio.gui.widgets.heatmap import DIVERGING, ColorBar, colorize
from studio.gui.widgets.tile_grid import TileGrid


def kernel_text(k: np.ndarray) -> str:
    """A small kernel's numbers as rows; a large one as its range."""
    if k.shape[0] * k.shape[1] > 49:
        return f"{k.shape[0]}×{k.shape[1]}: min {k.min():.3f}, max {k.max():.3f}, mean {k.mean():.3f}"
    return "\n".join("  ".join(f"{v:+.3f}" for v in row) for row in k)


class KernelsTab(EpochTarget, DemoFallback, InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.weights: np.ndarray | None = None   # (out, in, kh, kw) now on screen
        self.rgb_mode = False
        self._first_rgb = False
        self._note = ""
        self._auto_size = True
        self._layers: list[str] = []
        self._model_seen = None
        self._loaded = None                      # the model on view: the state's, or the demo model
        self._caption = ""
        self._snapshots: dict[tuple[str, int], dict] = {}
        self._peaks: dict[str, float] = {}       # layer -> largest |weight| over the run's epochs
        self._demo = False
        self._build_ui()
        state.modelChanged.connect(self.mark_stale)
        state.runChanged.connect(self._run_changed)
        state.epochEnded.connect(self._epoch_ended)

    def _build_ui(self) -> None:
        self.layer_box = QComboBox()
        self.layer_box.setMinimumContentsLength(24)
        self.layer_box.currentIndexChanged.connect(self._layer_changed)
        self.channel = QSpinBox()
        self.channel.setToolTip("Which input channel's kernels to show: a filter has one kernel per input channel")
        self.channel.valueChanged.connect(self._render)
        self.channel_label = QLabel("Input channel:")
        self.colour = QCheckBox("Colour tiles (RGB)")
        self.colour.setChecked(True)
        self.colour.setToolTip("Show each first-layer filter as one colour image, normalised like the lecture “CNN basics”")
        self.colour.toggled.connect(self._render)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(16, 160)
        self.zoom.setValue(56)
        self.zoom.setMaximumWidth(140)
        self.zoom.setToolTip("Tile size")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.grid = TileGrid(tile_size=56, placeholder="No kernels to show.")
        self.zoom.valueChanged.connect(self.grid.set_tile_size)
        self.colorbar = ColorBar(cmap=DIVERGING)

        top = QHBoxLayout()
        top.addWidget(QLabel("Conv layer:"))
        top.addWidget(self.layer_box, 1)
        top.addWidget(self.channel_label)
        top.addWidget(self.channel)
        top.addWidget(self.colour)
        top.addSpacing(12)
        top.addWidget(QLabel("Size:"))
        top.addWidget(self.zoom)
        body = QHBoxLayout()
        body.addWidget(self.grid, 1)
        body.addWidget(self.colorbar, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.info)
        lay.addLayout(body, 1)
        self.lesion = LesionPanel(self.state)   # switch filters of the layer on view off (lesion_panel.py)
        lay.addWidget(self.lesion)

    # -- state -----------------------------------------------------------------------------
    def _run_changed(self) -> None:
        self._snapshots.clear()
        self._peaks.clear()
        self.mark_stale()

    def _epoch_ended(self, event) -> None:
        # A new snapshot is on disk (a resumed run may have rewritten this epoch's): the scale grows.
        epoch = getattr(event, "epoch", None)
        self._snapshots = {k: v for k, v in self._snapshots.items() if k[1] != epoch}
        self._peaks.clear()
        self.mark_stale()

    def set_epoch(self, run_dir, epoch) -> None:
        """Show the kernels of `epoch` of the run `run_dir` (the timeline's choice); (None, None): the model's."""
        if not self.store_epoch(run_dir, epoch):
            return
        if self._stale or self._loaded is None:
            self.mark_stale()
        elif self.isVisible():
            self._render_layer()
        else:
            self._stale = True

    def refresh(self) -> None:
        loaded, demo = self.model_or_demo()
        self._loaded, self._demo = loaded, demo
        if loaded is None:
            if not self.start_demo_load():
                self.show_empty()
            return
        from studio.core.inspect.kernels import conv_layer_names

        self.show_content()
        self._caption = model_caption(loaded, demo, None if demo else self.state.run_dir)
        self._layers = list(conv_layer_names(loaded.model))
        if not self._layers:
            self.show_empty("This model has no convolution layers.")
            return
        current = self.layer_box.currentData()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for name in self._layers:
            w = self._model_weights(name)
            self.layer_box.addItem(f"{name}  —  {w.shape[0]} filters of {w.shape[1]}×{w.shape[2]}×{w.shape[3]}", name)
        if current in self._layers:
            self.layer_box.setCurrentIndex(self._layers.index(current))
        self.layer_box.blockSignals(False)
        if loaded is not self._model_seen:
            self._model_seen = loaded
            self._peaks.clear()
        self._render_layer()

    def _run_epochs(self, demo: bool = False) -> list[int]:
        if self.state.run_dir is None or demo:
            return []
        from studio.core.runs import read_epoch_snapshots

        return list(read_epoch_snapshots(Path(self.state.run_dir)))

    def _model_weights(self, name: str) -> np.ndarray:
        from studio.core.inspect.kernels import get_kernels

        return np.asarray(get_kernels(self._loaded.model, name), dtype=np.float32)

    def _snapshot(self, epoch: int) -> dict:
        key = (str(self.state.run_dir), epoch)
        if key not in self._snapshots:
            from studio.core.runs import load_epoch_snapshot

            self._snapshots[key] = load_epoch_snapshot(Path(self.state.run_dir), epoch)
        return self._snapshots[key]

    # -- what is shown -----------------------------------------------------------------------
    @guarded
    def _layer_changed(self, _index: int) -> None:
        self.channel.blockSignals(True)
        self.channel.setValue(0)
        self.channel.blockSignals(False)
        self._auto_size = True
        self._render_layer()

    def selected_layer(self) -> str | None:
        return self.layer_box.currentData()

    @guarded
    def _render_layer(self, *_args) -> None:
        name = self.selected_layer()
        if name is None or self._loaded is None:
            return
        self.strip.show_message("")
        loaded = self._loaded
        self.lesion.set_model(loaded, name)
        epoch = None if self._demo else self.timeline_epoch(loaded)
        note = ""
        weights = None
        if epoch is not None:
            try:
                weights = self._snapshot(epoch)["kernels"].get(name)
            except Exception as exc:  # noqa: BLE001 - a damaged snapshot must not hide the current kernels
                self.show_error(str(exc))
            if weights is None:
                note = f"Epoch {epoch} kept no kernels of {name}; showing the current model's."
            else:
                note = (f"Kernels of {name} after epoch {epoch}." if epoch else
                        f"Kernels of {name} at {epoch_title(0)}, before any training.")
        if weights is None:
            weights = self._model_weights(name)
            if not note:
                note = f"Kernels of {name} in the current model" + (
                    f" (epoch {loaded.epoch})." if getattr(loaded, "epoch", 0) else ".")
        self.weights = np.asarray(weights, dtype=np.float32)
        self._note = note
        self._first_rgb = name == self._layers[0] and self.weights.shape[1] == 3
        self.colour.setVisible(self._first_rgb)
        self.channel.setMaximum(max(0, self.weights.shape[1] - 1))
        self._render()

    @guarded
    def _render(self, *_args) -> None:
        w = self.weights
        if w is None:
            return
        out, cin, kh, kw = w.shape
        self.rgb_mode = self._first_rgb and self.colour.isChecked() and cin == 3
        self.channel.setEnabled(not self.rgb_mode)
        self.channel_label.setEnabled(not self.rgb_mode)
        lo_all, hi_all = float(w.min()), float(w.max())
        if self.rgb_mode:
            from studio.core.inspect.kernels import rgb_tiles

            tiles = np.clip(np.asarray(rgb_tiles(w)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
            images = list(tiles)
            self.colorbar.hide()
            scale = "each filter standardised, +0.5, clipped to 0..1 (the lecture “CNN basics”)"
        else:
            c = min(self.channel.value(), cin - 1)
            m = max(abs(lo_all), abs(hi_all)) or 1.0
            scale = f"one colour scale for the layer, ±{m:.3g}"
            peak = self.epochs_peak()
            if peak:   # a run's epochs: one scale for all of them, so the timeline shows growth
                m = peak
                scale = f"one colour scale for the layer over every epoch, ±{m:.3g}"
            images = [colorize(w[i, c], DIVERGING, (-m, m)) for i in range(out)]
            self.colorbar.set_range(-m, m, title="weight")
            self.colorbar.show()
        if self._auto_size:   # a new layer: pick a tile size for its filter count; the slider overrides
            self._auto_size = False
            self.zoom.setValue(96 if out <= 16 else 72 if out <= 64 else 48 if out <= 256 else 32)
        self.grid.set_tiles(images, captions=[str(i) for i in range(out)], tooltips=self._tooltip)
        shown = "colour tiles" if self.rgb_mode else f"input channel {min(self.channel.value(), cin - 1)}"
        self.info.setText(f"{self._epoch_caption()}  {self._note}  {out} filters, {cin} input channel(s), {kh}×{kw}; {shown}; "
                          f"values {lo_all:.3g} … {hi_all:.3g}; {scale}.")

    def _epoch_caption(self) -> str:
        """The model line; on a timeline epoch without the loaded model's epoch, which the note gives."""
        if self._demo or self.timeline_epoch(self._loaded) is None or self.state.run_dir is None:
            return self._caption
        return f"Model: {self._loaded.model_name} of run {self.state.run_dir.name}."

    def epochs_peak(self) -> float:
        """The largest |weight| of the selected layer over the run's kept epochs and the model on view;
        0 when there is no run (the demo model). Computed once per run and layer."""
        name = self.selected_layer()
        if name is None or self._loaded is None:
            return 0.0
        epochs = self._run_epochs(self._demo)
        if len(epochs) < 2:
            return 0.0
        if name not in self._peaks:
            self._peaks[name] = self._peak_over(name, epochs)
        return self._peaks[name]

    def _peak_over(self, name: str, epochs: list[int]) -> float:
        peaks = [float(np.abs(self._model_weights(name)).max(initial=0.0))]
        for epoch in epochs:
            try:
                weights = self._snapshot(epoch)["kernels"].get(name)
            except Exception:  # noqa: BLE001 - a damaged snapshot is reported when it is shown
                weights = None
            if weights is not None:
                peaks.append(float(np.abs(weights).max(initial=0.0)))
        return max(peaks)

    def _tooltip(self, i: int) -> str:
        w = self.weights
        if w is None or i >= w.shape[0]:
            return ""
        if self.rgb_mode:
            parts = [f"filter {i}"] + [f"{ch}:\n{kernel_text(w[i, k])}" for k, ch in enumerate("RGB")]
            return "\n".join(parts)
        c = min(self.channel.value(), w.shape[1] - 1)
        return f"filter {i}, input channel {c}\n{kernel_text(w[i, c])}"
