"""The Training tab's Health page and diagnosis: a past run's records drawn, a finding's buttons clicked,
and a live run in the window feeding both."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from studio.gui.state import StudioState
from studio.gui.tabs.training import TrainingTab
from tests.core.diagnosis.test_rules import flat_run


def buttons(tab, prefix):
    return [b for b in tab.diagnosis.findChildren(QPushButton) if b.text().startswith(prefix)]


def test_a_past_run_shows_its_diagnosis_and_health(qtbot, tmp_path):
    state = StudioState()
    tab = TrainingTab(state)
    qtbot.addWidget(tab)
    tab.show()
    tab.show_run(flat_run(tmp_path / "run"))
    assert tab.diagnosis.isVisible()
    assert tab.diagnosis.findings[0]["code"] == "lr_too_low"
    assert "fell" in tab.diagnosis.findings[0]["text"] or "did not fall" in tab.diagnosis.findings[0]["text"]

    tab.pages.setCurrentWidget(tab.health_view)
    qtbot.waitUntil(lambda: tab.health_view.plots["grad_norm"].point_count("conv") == 15, timeout=5_000)
    assert tab.health_view.plots["update_ratio"].point_count("fc") == 15
    assert tab.health_view.plots["dead"].point_count("relu1") == 3
    # One colour key above the plots: per-plot legends covered the curves of a 1024-px window.
    assert not any(plot.legend.isVisible() for plot in tab.health_view.plots.values())
    key = tab.health_view.layers_label.text()
    assert all(name in key for name in ("conv", "fc", "relu1"))

    qtbot.mouseClick(buttons(tab, "Show")[0], Qt.MouseButton.LeftButton)
    assert tab.pages.currentIndex() == 0 and tab._region is not None     # the loss plot, shaded
    qtbot.mouseClick(buttons(tab, "Apply")[0], Qt.MouseButton.LeftButton)
    assert state.config.lr == pytest.approx(1e-3)                        # the next run's setting
    tab.clear()
    assert not tab.diagnosis.isVisible() and tab._region is None


def test_a_finding_about_a_health_plot_highlights_it_on_the_health_page(qtbot):
    tab = TrainingTab(StudioState())
    qtbot.addWidget(tab)
    tab.show()
    tab.highlight({"plot": "dead", "x": [1.0, 2.0], "layers": ["relu1"]})
    assert tab.pages.currentWidget() is tab.health_view
    assert tab.health_view._regions


@pytest.mark.slow
def test_a_live_run_in_the_window_feeds_the_health_page_and_the_diagnosis(qtbot):
    from tests.gui.window.test_main_window import close_window, finish, make_window

    window = make_window(qtbot, epochs=1, batch_size=128)
    window.start_training()
    finish(qtbot, window)
    history = window.training_tab.live
    qtbot.waitUntil(lambda: any(r["event"] == "health_epoch" for r in history.health), timeout=30_000)
    assert sum(r["event"] == "health" for r in history.health) >= 2
    qtbot.waitUntil(lambda: bool(window.training_tab.diagnosis.findings), timeout=30_000)
    from studio.core.diagnosis import diagnose_run

    shown = [f["code"] for f in window.training_tab.diagnosis.findings]
    assert shown == [f.code for f in diagnose_run(window.state.run_dir)]   # live = read back from the folder
    close_window(qtbot, window)


def test_a_suggestion_waits_for_the_run_to_end(qtbot, tmp_path):
    state = StudioState()
    tab = TrainingTab(state)
    qtbot.addWidget(tab)
    tab.show()
    tab.show_run(flat_run(tmp_path / "run"))
    messages = []
    state.statusMessage.connect(messages.append)
    state.set_training_state("running")
    qtbot.mouseClick(buttons(tab, "Apply")[0], Qt.MouseButton.LeftButton)
    assert state.config.lr != pytest.approx(1e-3) and "once it has ended" in messages[-1]
