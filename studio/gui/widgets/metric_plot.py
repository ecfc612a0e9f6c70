"""A live metric plot: curves created once, fed whole numpy arrays from growing buffers.

The pyqtgraph recipe for plots that update while data streams in (scrollingPlots.py,
PlotSpeedTest.py): never add items per point; keep the history in a preallocated array that
doubles when full, and hand the curve a view of it with setData() from a timer. Peak
downsampling and clip-to-view keep a curve of a hundred thousand batches cheap to redraw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QColor, QPalette, QPen
from PySide6.QtWidgets import QGraphicsItem

pg.setConfigOptions(imageAxisOrder="row-major")

# The plots' two looks, chosen by the window's palette (theme_for): the same as the window around them.
LIGHT = {"background": "#ffffff", "title": "#202020", "text": "#303030", "axis": "#505050", "grid_alpha": 0.15,
         "legend": (255, 255, 255, 200)}
DARK = {"background": "#1e1f22", "title": "#e6e6e6", "text": "#c8c8c8", "axis": "#8a8a8a", "grid_alpha": 0.25,
        "legend": (40, 42, 46, 210)}


def theme_for(palette: QPalette) -> str:
    """"dark" when the palette's window colour is dark (a dark desktop theme, or the app's own)."""
    return "dark" if palette.color(QPalette.ColorRole.Window).lightness() < 128 else "light"


def _settings():
    from studio.gui.window.persistence import open_settings   # the app's one settings file (tests: a temp one)

    return open_settings()


def _settings_bool(key: str) -> bool:
    value = _settings().value(key, False)
    return value is True or str(value).lower() in ("true", "1")


# Colour-blind-friendly defaults (matplotlib's tab10): run i of an overlay gets PALETTE[i % 10].
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


class GrowingBuffer:
    """Named float64 columns that grow by appending; storage doubles when full (amortised O(1))."""

    def __init__(self, columns: Sequence[str], capacity: int = 1024):
        self.columns = tuple(columns)
        self._data = np.full((len(self.columns), max(16, capacity)), np.nan)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, **arrays: Iterable[float]) -> None:
        """Append equal-length arrays, one per column; a missing column gets NaN."""
        arrays = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in arrays.items()}
        unknown = set(arrays) - set(self.columns)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        size = max((len(a) for a in arrays.values()), default=0)
        if size == 0:
            return
        self._reserve(self._n + size)
        for i, name in enumerate(self.columns):
            values = arrays.get(name)
            self._data[i, self._n:self._n + size] = np.nan if values is None else values
        self._n += size

    def append(self, **values: float) -> None:
        self.extend(**{k: [v] for k, v in values.items()})

    def column(self, name: str) -> np.ndarray:
        """A read-only view of the filled part of a column (no copy)."""
        view = self._data[self.columns.index(name), :self._n]
        view.flags.writeable = False
        return view

    def last(self, name: str, default: float = float("nan")) -> float:
        return float(self._data[self.columns.index(name), self._n - 1]) if self._n else default

    def clear(self) -> None:
        self._n = 0

    def truncate(self, n: int) -> None:
        """Keep the first n rows (a resumed run redoes the epoch it was stopped in)."""
        self._n = max(0, min(self._n, int(n)))

    def _reserve(self, size: int) -> None:
        capacity = self._data.shape[1]
        if size <= capacity:
            return
        while capacity < size:
            capacity *= 2
        grown = np.full((len(self.columns), capacity), np.nan)
        grown[:, :self._n] = self._data[:, :self._n]
        self._data = grown


def nice_bounds(low: float, high: float) -> tuple[float, float]:
    """Round bounds around [low, high] on a 1-2-5 grid a tenth of the span wide (stable as data trickles in)."""
    span = high - low
    if not np.isfinite(span) or span <= 0:
        span = abs(high) or 1.0
    raw = span / 5
    magnitude = 10 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    lo, hi = float(np.floor(low / step) * step), float(np.ceil(high / step) * step)
    if hi - lo < step:  # a flat line still gets a visible band around it
        lo, hi = lo - step, hi + step
    elif hi - high < 0.25 * step:  # nor does the top of the data sit on the frame
        hi += step
    return float(lo), float(hi)


def make_pen(color: str, width: float = 1.0, alpha: int = 255, dash: bool = False) -> QPen:
    qcolor = QColor(color)
    qcolor.setAlpha(alpha)
    pen = pg.mkPen(qcolor, width=width)
    if dash:
        pen.setStyle(Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    return pen


class MetricPlot(pg.PlotWidget):
    """One titled plot whose curves are addressed by key; export() writes PNG or SVG."""

    def __init__(self, title: str, y_label: str, x_label: str = "epoch", parent=None, legend_corner: str = "top"):
        super().__init__(parent=parent, background=LIGHT["background"])
        self.title = title
        item = self.getPlotItem()
        for side, label in (("left", y_label), ("bottom", x_label)):
            item.getAxis(side).enableAutoSIPrefix(False)  # "seconds (x0.001)" confuses more than it saves
        self._labels = {"left": y_label, "bottom": x_label}
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.setMenuEnabled(True)
        # Axis labels (and the grid, which the axes draw) are the costly part of a repaint: text.
        # Cached as pixmaps, they are redrawn only when their range changes, not with every curve update.
        for side in ("left", "bottom", "top", "right"):
            item.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # Curves that rise (accuracy) keep their legend at the bottom, curves that fall (loss) at the top.
        offset = (-8, 8) if legend_corner == "top" else (-8, -8)
        _thin_log_ticks(item.getAxis("left"))
        self.legend = item.addLegend(offset=offset)
        self.legend.setVisible(False)
        self.setMinimumSize(220, 160)
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._y_mode = "auto"            # "auto" (pyqtgraph), "sticky" (nice bounds, rarely changed), "fixed"
        self._y_range: tuple[float, float] | None = None
        self._y_include_zero = False
        self._user_zoomed = False
        self._log_y = False
        self._log_key: str | None = None
        self.log_action = None
        item.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        # pyqtgraph's own Plot Options > Transforms > Log Y works too: keep the sticky range in step with it.
        item.ctrl.logYCheck.toggled.connect(self._log_mode_changed)
        self._fills: list[pg.FillBetweenItem] = []
        self.theme = ""
        self.apply_theme(theme_for(self.palette()))

    # ------------------------------------------------------------ look

    def apply_theme(self, name: str) -> None:
        """"dark" or "light": background, axes, grid, title and legend in the window's colours."""
        if name == self.theme:
            return
        self.theme = name
        colours = DARK if name == "dark" else LIGHT
        self.setBackground(colours["background"])
        item = self.getPlotItem()
        item.setTitle(self.title, color=colours["title"], size="11pt")
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(colours["axis"]))
            axis.setTextPen(pg.mkPen(colours["text"]))
            item.setLabel(side, self._labels[side], color=colours["text"])
        item.showGrid(x=True, y=True, alpha=colours["grid_alpha"])
        self.legend.setLabelTextColor(colours["title"])
        self.legend.setBrush(pg.mkBrush(colours["legend"]))
        self.legend.setPen(pg.mkPen(colours["axis"]))
        for sample, label in self.legend.items:
            label.setText(label.text, color=colours["title"])

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        # Qt sends palette changes from inside the base constructor too, before the legend exists.
        if "legend" in self.__dict__ and event.type() in (QEvent.Type.PaletteChange,
                                                           QEvent.Type.ApplicationPaletteChange):
            self.apply_theme(theme_for(self.palette()))

    # ------------------------------------------------------------ log scale

    def enable_log_toggle(self, settings_key: str | None = None) -> QAction:
        """Offer "Log scale" in the plot's context menu, remembered under settings_key in QSettings."""
        self._log_key = settings_key
        self.log_action = QAction("Log scale (y axis)", self)
        self.log_action.setCheckable(True)
        self.log_action.toggled.connect(self.set_log_y)
        menu = self.getPlotItem().getViewBox().menu
        menu.insertAction(menu.actions()[0] if menu.actions() else None, self.log_action)
        if settings_key and _settings_bool(settings_key):
            self.set_log_y(True)
        return self.log_action

    def set_log_y(self, on: bool) -> None:
        on = bool(on)
        if on == self._log_y:
            return
        self._log_y = on
        item = self.getPlotItem()
        item.ctrl.logYCheck.setChecked(on)      # pyqtgraph's own switch: it calls setLogMode
        item.setLogMode(y=on)
        if self.log_action is not None and self.log_action.isChecked() != on:
            self.log_action.setChecked(on)
        if self._log_key:
            _settings().setValue(self._log_key, on)
        self._y_range = None
        self.update_y_range()

    def is_log_y(self) -> bool:
        return self._log_y

    def _log_mode_changed(self, on: bool) -> None:
        self.set_log_y(on)

    # ------------------------------------------------------------ curves

    def add_curve(self, key: str, *, color: str, width: float = 1.5, alpha: int = 255, dash: bool = False,
                  symbol: str | None = None, name: str | None = None) -> pg.PlotDataItem:
        """Create the curve once; later calls with the same key return it unchanged."""
        if key in self._curves:
            return self._curves[key]
        kwargs = {}
        if symbol:
            kwargs = dict(symbol=symbol, symbolSize=6, symbolPen=make_pen(color), symbolBrush=pg.mkBrush(color))
        curve = self.getPlotItem().plot(pen=make_pen(color, width, alpha, dash), name=name, connect="finite",
                                        **kwargs)
        if symbol:
            # The legend draws a marker from the scatter's own options, which pyqtgraph fills only when the
            # first point arrives: a live run's legend showed grey markers until then (issue 13.12).
            curve.scatter.setPen(make_pen(color), update=False)
            curve.scatter.setBrush(pg.mkBrush(color), update=False)
            curve.scatter.setSize(6, update=False)
            curve.scatter.setSymbol(symbol, update=False)
        self._curves[key] = curve
        self.legend.setVisible(bool(self.legend.items))
        return curve

    def add_fill(self, key1: str, key2: str, color: str, alpha: int = 50) -> pg.FillBetweenItem:
        """Shade the area between two curves (it follows them as they change)."""
        qcolor = QColor(color)
        qcolor.setAlpha(alpha)
        fill = pg.FillBetweenItem(self._curves[key1], self._curves[key2], brush=pg.mkBrush(qcolor))
        fill.setZValue(-10)
        self.getPlotItem().addItem(fill)
        self._fills.append(fill)
        return fill

    def set_data(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        self._curves[key].setData(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))

    # ------------------------------------------------------------ ranges

    def set_x_span(self, low: float, high: float) -> None:
        """A fixed x range (a run's whole length): the axis is not redrawn as points arrive."""
        self.getPlotItem().enableAutoRange(x=False)
        self.getPlotItem().setXRange(low, max(high, low + 1e-9), padding=0.04)

    def auto_x(self) -> None:
        self.getPlotItem().enableAutoRange(x=True)

    def set_y_mode(self, mode: str, low: float | None = None, high: float | None = None,
                   include_zero: bool = False) -> None:
        """'auto': pyqtgraph auto-range; 'fixed': low..high; 'sticky': round bounds that change only when the
        data leaves them (call update_y_range after new data), so the axis is rarely redrawn."""
        self._y_mode = mode
        self._y_include_zero = include_zero
        self._y_range = None
        item = self.getPlotItem()
        if mode == "auto":
            item.enableAutoRange(y=True)
        else:
            item.enableAutoRange(y=False)
            if mode == "fixed":
                item.setYRange(low, high, padding=0.02)

    def update_y_range(self) -> None:
        if self._y_mode != "sticky":
            return
        vb = self.getPlotItem().getViewBox()
        if vb.autoRangeEnabled()[1]:       # the "A" button: the user hands the range back
            self._user_zoomed = False
            vb.enableAutoRange(y=False)
            self._y_range = None
        if self._user_zoomed:
            return
        bounds = self._data_y_bounds()
        if bounds is None:
            return
        low, high = bounds
        if self._log_y:
            # In log mode the view box works in decades: whole decades around the data, never zero.
            nice = (float(np.floor(low)), float(np.ceil(high)) + (0.0 if np.ceil(high) > high else 0.25))
            if nice[1] - nice[0] < 1:
                nice = (nice[0] - 0.5, nice[1] + 0.5)
        else:
            if self._y_include_zero:
                low, high = min(low, 0.0), max(high, 0.0)
            nice = nice_bounds(low, high)
        if self._y_range is None or nice != self._y_range:
            self._y_range = nice
            self.getPlotItem().setYRange(*nice, padding=0.02)

    def _data_y_bounds(self) -> tuple[float, float] | None:
        lows, highs = [], []
        for curve in self._curves.values():
            y = curve.yData
            if y is None or not len(y):
                continue
            finite = y[np.isfinite(y)]
            if self._log_y:
                finite = np.log10(finite[finite > 0])
            if len(finite):
                lows.append(float(finite.min()))
                highs.append(float(finite.max()))
        return (min(lows), max(highs)) if lows else None

    def _on_manual_range(self, *_args) -> None:
        self._user_zoomed = True

    def has_curve(self, key: str) -> bool:
        return key in self._curves

    def curve_keys(self) -> list[str]:
        return list(self._curves)

    def point_count(self, key: str) -> int:
        """How many points the curve holds (tests and the benchmark read this)."""
        curve = self._curves.get(key)
        if curve is None or curve.xData is None:
            return 0
        return int(len(curve.xData))

    def clear_curves(self) -> None:
        for fill in self._fills:
            self.getPlotItem().removeItem(fill)
        self._fills.clear()
        for curve in self._curves.values():
            self.getPlotItem().removeItem(curve)
        self._curves.clear()
        self.legend.clear()
        self.legend.setVisible(False)       # an empty legend would still draw its frame

    # ------------------------------------------------------------ export

    def export(self, path: str | Path) -> Path:
        """Write the plot as .png (at twice the on-screen size) or .svg, chosen by the suffix."""
        import pyqtgraph.exporters as exporters

        path = Path(path)
        suffix = path.suffix.lower()
        # Auto-ranging waits for the next paint; a plot exported before it is ever shown needs it now.
        self.getPlotItem().getViewBox().prepareForPaint()
        if suffix == ".svg":
            _patch_svg_close_path()
            exporter = exporters.SVGExporter(self.getPlotItem())
        elif suffix == ".png":
            exporter = exporters.ImageExporter(self.getPlotItem())
            exporter.parameters()["width"] = max(2 * self.width(), 800)
        else:
            from studio.core.errors import StudioError

            raise StudioError(f"Plots export as .png or .svg, not '{suffix or path.name}'.")
        path.parent.mkdir(parents=True, exist_ok=True)
        exporter.export(str(path))
        return path


_svg_patched = False


def _patch_svg_close_path() -> None:
    """pyqtgraph 0.14's SVG exporter chokes on the 'Z' (close path) that Qt >= 6.8 writes in path data.

    Its coordinate fix-up expects every token of a path's d attribute to be "x,y" and raises
    ValueError on "Z" (pyqtgraph issue #3485). Qt's closed paths already end on their first
    point, so dropping the Z tokens before the fix-up draws the same picture.
    """
    global _svg_patched
    if _svg_patched:
        return
    import sys

    module = sys.modules["pyqtgraph.exporters.SVGExporter"]
    original = module.correctCoordinates

    def correct_coordinates(node, defs, item, options=None):
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            tokens = [t for t in d.split() if t not in ("Z", "z")]
            if len(tokens) != len(d.split()):
                path.setAttribute("d", " ".join(tokens))
        return original(node, defs, item, options)

    module.correctCoordinates = correct_coordinates
    _svg_patched = True


def _thin_log_ticks(axis) -> None:
    """On a log axis spanning under two decades pyqtgraph labels every 2..9 tick at one level, and on a
    short plot they print over each other: label only 1, 2 and 5 times a power of ten there."""
    every_tick = axis.tickValues

    def tick_values(low, high, size):
        levels = every_tick(low, high, size)
        if not axis.logMode:
            return levels
        return [(spacing, [v for v in values if _mantissa(v) in (1, 2, 5)]) if len(values) * 14 > size
                else (spacing, values) for spacing, values in levels]

    axis.tickValues = tick_values


def _mantissa(log_value: float) -> int:
    """The leading digit of 10 ** log_value."""
    return int(round(10 ** (log_value - np.floor(log_value + 1e-9))))
