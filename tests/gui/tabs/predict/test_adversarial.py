"""The Predict tab's Adversarial panel (seed 001): attack the selected digit, see before and after."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget

from studio.core.data import load_dataset
from studio.gui.state import StudioState
from studio.gui.tabs.predict.tab import PredictTab
from studio.gui.tabs.predict.adversarial import (DEFAULT_EPS, NO_TARGET, AdversarialPanel,
                                                 perturbation_picture)
from studio.gui.concurrency.tasks import wait_for_all_tasks

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def seven(tmp_path_factory):
    test = load_dataset("mnist-sample").test
    index = int(np.flatnonzero(test.labels.numpy() == 7)[0])
    path = tmp_path_factory.mktemp("digits") / "seven.png"
    Image.fromarray(test.images[index, 0].numpy()).save(path)
    return path


@pytest.fixture
def tab(qtbot, seven):
    widget = PredictTab(StudioState())
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitUntil(lambda: widget.model is not None and not widget.is_busy(), timeout=WAIT_MS)
    widget.add_paths([seven])
    qtbot.waitUntil(lambda: widget.detail is not None and not widget.is_busy(), timeout=WAIT_MS)
    yield widget
    assert wait_for_all_tasks(WAIT_MS)


def attacked(qtbot, tab: PredictTab) -> AdversarialPanel:
    panel = tab.adversarial
    panel.attack_button.click()
    qtbot.waitUntil(lambda: panel.outcome is not None and not panel.is_busy() and not tab.is_busy(),
                    timeout=WAIT_MS)
    return panel


def test_panel_sits_beside_the_explanation_with_seed_001_defaults(tab):
    panel = tab.adversarial
    tabs = panel.parentWidget()
    while not isinstance(tabs, QTabWidget):   # the panel scrolls inside its tab
        tabs = tabs.parentWidget()
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Explain", "Adversarial"]
    assert panel.eps() == pytest.approx(DEFAULT_EPS) and panel.steps_spin.value() == 1
    assert panel.target_combo.itemText(0) == NO_TARGET
    assert [panel.target_combo.itemText(i) for i in range(1, 11)] == [str(d) for d in range(10)]
    assert panel.attack_button.isEnabled()
    assert "seven.png" in panel.verdict.text()


def test_slider_and_spin_box_agree(tab):
    panel = tab.adversarial
    panel.set_eps(0.2)
    assert panel.slider_to_eps(panel.eps_slider.value()) == pytest.approx(0.2, rel=0.01)
    panel.eps_slider.setValue(panel.eps_to_slider(0.05))
    assert panel.eps() == pytest.approx(0.05, rel=0.01)
    panel.eps_slider.setValue(panel.eps_slider.maximum())
    assert panel.eps() == pytest.approx(panel.eps_spin.maximum())


def test_seed_001_budget_holds_on_lenet_then_a_larger_one_flips(qtbot, tab):
    tab.resize(1000, 640)
    panel = attacked(qtbot, tab)
    result = panel.outcome.result
    assert result.max_abs_change <= DEFAULT_EPS + 1e-6 and not result.flipped
    assert panel.verdict.text().startswith("<b>Held</b>")
    assert panel.before_chart.items()[0][0] == "7"

    panel.set_eps(0.2)
    panel.steps_spin.setValue(5)
    panel = attacked(qtbot, tab)
    result = panel.outcome.result
    assert result.flipped and result.max_abs_change <= 0.2 + 1e-6
    assert panel.verdict.text().startswith("<b>Flipped</b>")
    assert panel.before_chart.items()[0][0] == "7" and panel.after_chart.items()[0][0] != "7"
    for view in (panel.input_view, panel.perturbation_view, panel.adversarial_view):
        assert view.has_image() and (view.image().width(), view.image().height()) == (28, 28)
    assert "×2.5" in panel.perturbation_view.caption()
    assert panel.adversarial_view.caption().startswith(f"after: {result.after[0][0]}")
    # issue 13.12: all ten bars and the whole caption are on screen, in a window that stays small
    tabs = panel.parentWidget()
    while not isinstance(tabs, QTabWidget):
        tabs = tabs.parentWidget()
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=WAIT_MS)
    assert len(panel.after_chart.items()) == 10
    assert panel.after_chart.height() >= panel.after_chart.minimumSizeHint().height()
    # attacking no longer makes the window taller: the panel scrolls, the explanation sets the height
    assert tabs.minimumSizeHint().height() <= tab.details.minimumSizeHint().height() + tabs.tabBar().height() + 12
    view = panel.adversarial_view
    view.resize(150, view.height())
    wrapped = view.fontMetrics().boundingRect(0, 0, 142, 10_000, int(Qt.TextFlag.TextWordWrap), view.caption())
    assert wrapped.height() > 2 * view.fontMetrics().height()     # three lines at this width …
    assert view.caption_height() >= wrapped.height()              # … and room for all three
    # The tab's own explanation is untouched by the attack.
    assert tab.detail.topk[0][0] == "7" and tab.details.chart.items()[0][0] == "7"


def test_targeted_attack_from_the_combo(qtbot, tab):
    panel = tab.adversarial
    panel.set_eps(0.25)
    panel.steps_spin.setValue(10)
    panel.target_combo.setCurrentText("3")
    assert panel.target() == 3
    panel = attacked(qtbot, tab)
    assert panel.outcome.result.target_reached
    assert panel.after_chart.items()[0][0] == "3" and "target <b>3</b> reached" in panel.verdict.text()


def test_clearing_drops_the_result_and_a_running_attack(qtbot, tab):
    panel = attacked(qtbot, tab)
    panel.attack_button.click()
    tab.clear()
    qtbot.waitUntil(lambda: not panel.is_busy() and not tab.is_busy(), timeout=WAIT_MS)
    assert panel.outcome is None and not panel.attack_button.isEnabled()
    assert not panel.input_view.has_image() and panel.after_chart.items() == []


def test_showing_the_result_of_another_picture_is_avoided(qtbot, tab, seven):
    panel = attacked(qtbot, tab)
    tab.add_paths([seven])          # a second row, selected when added: the old result is not about it
    qtbot.waitUntil(lambda: len(tab.items) == 2 and tab.detail_index == 1 and not tab.is_busy(), timeout=WAIT_MS)
    assert panel.outcome is None and panel.attack_button.isEnabled()
    tab.select_row(0)
    assert panel.outcome is None    # results are not kept per picture: press Attack again


def test_perturbation_picture_scales_to_its_range():
    delta = np.zeros((2, 2, 1), np.float32)
    delta[0, 0, 0], delta[1, 1, 0] = 0.005, -0.005
    picture, magnification = perturbation_picture(delta)
    assert magnification == pytest.approx(100)
    assert picture.shape == (2, 2, 3) and picture.dtype == np.uint8
    assert picture[0, 0, 0] > picture[0, 0, 2]            # brighter: red
    assert picture[1, 1, 2] > picture[1, 1, 0]            # darker: blue
    assert (picture[0, 1] > 240).all()                     # unchanged: white
    rgb, m = perturbation_picture(np.full((1, 1, 3), -0.01, np.float32))
    assert m == pytest.approx(50) and (rgb == 0).all()      # colour images: mid-grey is unchanged
    still, m = perturbation_picture(np.zeros((2, 2, 3), np.float32))
    assert m == 0 and (still == 128).all()


def test_the_adversarial_page_settles_at_every_width_after_an_attack(qtbot, tab):
    """The pictures scale with the width: a vertical scroll bar that came and went made Qt resize the page
    back and forth inside one event until the stack overflowed (the window crashed after Attack at 1280x800)."""
    from PySide6.QtWidgets import QApplication, QScrollArea

    panel = attacked(qtbot, tab)
    tabs = panel.parentWidget()
    while not isinstance(tabs, QTabWidget):
        tabs = tabs.parentWidget()
    tabs.setCurrentIndex(1)
    scroll = tabs.currentWidget()
    assert isinstance(scroll, QScrollArea)
    assert scroll.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOn
    for width in range(900, 1400, 9):
        tab.resize(width, 700)
        QApplication.processEvents()
    assert panel.isVisible()
