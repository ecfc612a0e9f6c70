"""The Kernels tab's lesion panel on a LeNet-5 trained for two epochs (a real run), driven with clicks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QThreadPool

from studio.core.inspect.pipeline import InputItem
from studio.core.runs import load_checkpoint
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.kernels import KernelsTab

WAIT_MS = 60_000


@pytest.fixture
def tab(qtbot, run):
    run_dir, bundle, cfg = run
    state = StudioState(cfg)
    state.set_dataset(bundle)
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    widget = KernelsTab(state)
    qtbot.addWidget(widget, before_close_func=lambda _w: wait_for_all_tasks())
    widget.resize(1100, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.lesion.toggle.click()
    return widget


def test_the_panel_follows_the_layer_on_view(tab):
    panel = tab.lesion
    assert panel.body.isVisible() and panel.filter_list.count() == 6 and "features.0" in panel.toggle.text()
    tab.layer_box.setCurrentIndex(1)
    assert panel.layer == "features.3" and panel.filter_list.count() == 16


def test_switching_off_every_first_layer_filter_shows_chance_per_class(qtbot, tab):
    panel = tab.lesion
    weights = tab.state.model.model.features[0].weight.detach().clone()
    panel.select_filters(range(6))
    assert panel.before_view.isHidden() and panel.after_view.isHidden()   # no empty pictures taking room
    panel.compare_button.click()
    assert panel.busy and panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=WAIT_MS)
    before, after = panel.comparison["before"], panel.comparison["after"]
    assert before.overall > 0.8 and 0.05 <= after.overall <= 0.15
    assert panel.class_table.rowCount() == 10
    changes = [panel.class_table.item(r, 3).text() for r in range(10)]
    assert sum(text.startswith("-") for text in changes) >= 8
    assert "→" in panel.message.text() and not panel.busy
    assert panel.before_view.has_image() and panel.after_view.has_image()
    assert not panel.before_view.isHidden() and not panel.after_view.isHidden()
    assert panel.before_view.caption().startswith("test image 0:")
    torch.testing.assert_close(tab.state.model.model.features[0].weight, weights)   # the user's model untouched


def test_ranking_fills_the_table_and_a_double_click_tries_one_filter(qtbot, tab):
    panel = tab.lesion
    panel.rank_button.click()
    qtbot.waitUntil(lambda: panel.ranking is not None, timeout=WAIT_MS)
    assert panel.rank_table.rowCount() == 6 and not panel.ranking.cancelled
    drops = [r.drop for r in panel.ranking.ranks]
    assert drops == sorted(drops, reverse=True)
    assert "every filter" in panel.message.text()
    panel.rank_table.cellDoubleClicked.emit(0, 0)
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=WAIT_MS)
    assert panel.comparison["filters"] == [panel.ranking.ranks[0].filter]
    assert panel.comparison["after"].overall == pytest.approx(panel.ranking.ranks[0].accuracy)


def test_cancel_stops_a_ranking_and_shows_nothing_of_it(qtbot, tab):
    panel = tab.lesion
    tab.layer_box.setCurrentIndex(1)
    panel.rank_button.click()
    assert panel.busy
    panel.cancel_button.click()
    assert not panel.busy and panel.message.text() == "Cancelled." and panel.rank_button.isEnabled()
    assert QThreadPool.globalInstance().waitForDone(WAIT_MS)
    qtbot.wait(50)   # let any queued delivery through: a cancelled task delivers nothing
    assert panel.ranking is None and panel.rank_table.rowCount() == 0


def test_the_predict_tabs_picture_is_used_when_there_is_one(qtbot, tab, tmp_path, monkeypatch, run):
    _run_dir, bundle, _cfg = run
    path = tmp_path / "mine.png"
    Image.fromarray(bundle.test.images[5, 0].numpy()).save(path)
    panel = tab.lesion
    monkeypatch.setattr(panel, "picture_item", lambda: InputItem(name="mine.png", path=str(path)))
    panel.select_filters([0, 1])
    panel.compare_button.click()
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=WAIT_MS)
    assert panel.comparison["name"] == "mine.png" and panel.after_view.caption().startswith("mine.png:")
    assert np.asarray(panel.comparison["picture"]).shape[:2] == (28, 28)


def test_nothing_ticked_says_so(tab):
    tab.lesion.compare_button.click()
    assert not tab.lesion.busy and "Tick the filters" in tab.lesion.message.text()
