"""The Health view: per-layer gradient norms, update/weight ratios and dead ReLU units of a run.

Fed the run's "health" and "health_epoch" records (engine/health.py), live or read from its folder;
one curve per layer, on log axes where the values span decades. A diagnosis finding can ask for a
stretch of a plot to be highlighted (`highlight`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from studio.core.diagnosis.records import layer_matrix
from studio.gui.widgets.metric_plot import PALETTE, MetricPlot

PLOTS = {"grad_norm": ("Gradient norm per layer", "‖grad‖"),
         "update_ratio": ("Update / weight (≈1e-3: healthy)", "‖Δw‖ / ‖w‖"),
         "dead": ("Dead ReLU units per layer", "% of units")}


class HealthView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plots = {key: MetricPlot(title, unit) for key, (title, unit) in PLOTS.items()}
        for key in ("grad_norm", "update_ratio"):
            self.plots[key].set_log_y(True)
        self.plots["dead"].set_y_mode("fixed", 0, 100)
        self.note = QLabel("Health records appear here as a run trains: every few steps the gradient norm and "
                           "the relative size of each layer's update; after each epoch the share of ReLU units "
                           "that stay at zero for a whole held-out batch.")
        self.note.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.plots["grad_norm"], 0, 0)
        grid.addWidget(self.plots["update_ratio"], 0, 1)
        grid.addWidget(self.plots["dead"], 1, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.layers_label = QLabel()   # one colour key for all three plots: per-plot legends hid the curves
        self.layers_label.setWordWrap(True)
        layout.addWidget(self.note)
        layout.addWidget(self.layers_label)
        layout.addLayout(grid, 1)
        self._regions: list[tuple[MetricPlot, pg.LinearRegionItem]] = []
        self.records: list[dict] = []

    def clear(self) -> None:
        self.records = []
        self.clear_highlight()
        for plot in self.plots.values():
            plot.clear_curves()

    def set_records(self, records: list[dict]) -> None:
        """Draw these health records (the whole run so far; cheap: a few hundred points per layer)."""
        self.records = list(records)
        steps = [r for r in self.records if r.get("event") == "health"]
        epochs = [r for r in self.records if r.get("event") == "health_epoch"]
        for key in ("grad_norm", "update_ratio"):
            weights, x, values = layer_matrix(steps, "layers", key, "x")
            self._draw(self.plots[key], weights, x, values)
        layers, x, values = layer_matrix(epochs, "relu_layers", "dead_fraction", "epoch")
        self._draw(self.plots["dead"], layers, x, 100 * values, symbol="o")
        for plot in self.plots.values():
            plot.legend.setVisible(False)
            plot.update_y_range()
        self.layers_label.setText(_key_text("Weights", weights)
                                  + "&nbsp;&nbsp;&nbsp;" + _key_text("ReLUs", layers))

    def _draw(self, plot: MetricPlot, layers: list[str], x: np.ndarray, values: np.ndarray, symbol=None) -> None:
        for i, layer in enumerate(layers):
            plot.add_curve(layer, color=PALETTE[i % len(PALETTE)], width=1.5, symbol=symbol, name=layer)
            y = values[:, i]
            if plot.is_log_y():
                y = np.where(y > 0, y, np.nan)   # a zero has no logarithm: a gap, not a crash
            plot.set_data(layer, x, y)

    def highlight(self, spec: dict) -> bool:
        """Shade spec["x"] (epochs) on spec["plot"] when it is one of these plots; True if shown."""
        plot = self.plots.get(spec.get("plot", ""))
        if plot is None:
            return False
        self.clear_highlight()
        low, high = (list(spec.get("x") or [0, 0]) + [0, 0])[:2]
        region = pg.LinearRegionItem(values=(float(low), float(max(high, low + 0.05))), movable=False,
                                     brush=pg.mkBrush(255, 200, 0, 60))
        plot.addItem(region)
        self._regions.append((plot, region))
        return True

    def clear_highlight(self) -> None:
        for plot, region in self._regions:
            plot.removeItem(region)
        self._regions = []


def _key_text(what: str, layers: list[str]) -> str:
    """'Weights: ■ features.0 ■ features.3 …' in the curves' colours (rich text)."""
    if not layers:
        return ""
    keys = " ".join(f"<span style='color:{pg.mkColor(PALETTE[i % len(PALETTE)]).name()}'>■</span>&nbsp;{name}"
                    for i, name in enumerate(layers))
    return f"<b>{what}:</b> {keys}"
