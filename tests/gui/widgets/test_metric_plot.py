"""MetricPlot: a log-scale toggle that changes the axis mode and is remembered, the window's palette, legends."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette

from studio.gui.widgets.metric_plot import DARK, LIGHT, MetricPlot

pytestmark = pytest.mark.usefixtures("no_thread_left")


def test_the_log_toggle_changes_the_axis_mode_and_the_range_in_decades(qtbot):
    plot = MetricPlot("Loss", "cross-entropy")
    qtbot.addWidget(plot)
    plot.set_y_mode("sticky", include_zero=True)
    plot.add_curve("loss", color="#1f77b4")
    plot.set_data("loss", np.arange(1, 6), np.array([2.0, 0.5, 0.1, 0.02, 0.005]))
    action = plot.enable_log_toggle("test/log_loss")
    plot.update_y_range()
    assert not plot.getPlotItem().getAxis("left").logMode
    assert plot.getPlotItem().getViewBox().viewRange()[1][0] <= 0.0          # linear, from zero
    action.trigger()                                                          # the context-menu entry
    assert plot.is_log_y() and plot.getPlotItem().getAxis("left").logMode
    low, high = plot.getPlotItem().getViewBox().viewRange()[1]
    assert low < np.log10(0.005) and np.log10(2.0) < high < 1.5              # decades around the data
    from studio.gui.window.persistence import open_settings

    assert open_settings().value("test/log_loss") in (True, "true")   # under the test's own settings folder
    plot.set_log_y(False)
    assert not plot.getPlotItem().getAxis("left").logMode and not action.isChecked()


def test_the_log_setting_is_remembered_by_the_next_plot(qtbot):
    first = MetricPlot("LR", "lr")
    qtbot.addWidget(first)
    first.enable_log_toggle("test/log_lr").setChecked(True)
    second = MetricPlot("LR", "lr")
    qtbot.addWidget(second)
    second.enable_log_toggle("test/log_lr")
    assert second.is_log_y() and second.getPlotItem().getAxis("left").logMode


def test_pyqtgraphs_own_log_switch_keeps_the_toggle_in_step(qtbot):
    plot = MetricPlot("Loss", "loss")
    qtbot.addWidget(plot)
    action = plot.enable_log_toggle()
    plot.getPlotItem().ctrl.logYCheck.setChecked(True)
    assert plot.is_log_y() and action.isChecked()


def test_plots_follow_a_dark_palette(qtbot):
    plot = MetricPlot("Accuracy", "%")
    qtbot.addWidget(plot)
    assert plot.theme == "light" and plot.backgroundBrush().color() == QColor(LIGHT["background"])
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#dddddd"))
    plot.setPalette(dark)
    assert plot.theme == "dark" and plot.backgroundBrush().color() == QColor(DARK["background"])
    axis = plot.getPlotItem().getAxis("left")
    assert axis.textPen().color() == QColor(DARK["text"])
    plot.add_curve("a", color="#ff7f0e", name="train")
    label = plot.legend.items[0][1]
    assert QColor(label.opts["color"]).name() == QColor(DARK["title"]).name()


def test_legend_markers_take_the_curve_colour_before_any_point_arrives(qtbot):
    plot = MetricPlot("Accuracy", "%")
    qtbot.addWidget(plot)
    curve = plot.add_curve("test", color="#ff7f0e", symbol="o", name="test")
    opts = curve.scatter.opts
    assert QColor(opts["brush"].color()).name() == "#ff7f0e"
    assert QColor(opts["pen"].color()).name() == "#ff7f0e"


def test_a_plot_without_named_curves_draws_no_legend_box_over_its_last_point(qtbot):
    # The empty legend's translucent box sat in the top-right corner, over the last epoch-time point.
    plot = MetricPlot("Epoch time", "seconds")
    qtbot.addWidget(plot)
    plot.add_curve("time", color="#9467bd", symbol="s")
    assert not plot.legend.isVisible()
    plot.add_curve("named", color="#1f77b4", name="run a")
    assert plot.legend.isVisible()
    plot.clear_curves()
    assert not plot.legend.isVisible()


def test_a_short_log_axis_labels_only_1_2_5_times_a_power_of_ten(qtbot):
    """Under two decades pyqtgraph labels 0.2, 0.3, ... 0.9 at one level: on a small plot they overprinted."""
    import math

    plot = MetricPlot("Gradient norm", "norm")
    qtbot.addWidget(plot)
    plot.set_log_y(True)
    axis = plot.getPlotItem().getAxis("left")
    values = [v for _, level in axis.tickValues(math.log10(0.15), math.log10(6), 90) for v in level]
    assert sorted(round(10 ** v, 6) for v in values) == [0.2, 0.5, 1.0, 2.0, 5.0]
    plot.set_log_y(False)
    linear = [v for _, level in axis.tickValues(0.0, 10.0, 90) for v in level]
    assert 3.0 in linear or 4.0 in linear or 6.0 in linear   # a linear axis keeps its ticks
