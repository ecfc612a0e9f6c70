"""Hardest examples on a real 2-epoch LeNet-5 run: sorted by loss, filtered, clicked into Predict."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from studio.core.inspect.hardest import image_losses
from studio.core.runs import load_checkpoint
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.activations import ActivationsTab
from studio.gui.tabs.inspect.hardest import TILE_LIMIT, HardestView
from studio.gui.tabs.predict.tab import PredictTab


class Host(QWidget):
    """The window's part the image actions use: tab(key) and show_tab(key)."""

    def __init__(self, state, view=HardestView, key="hardest"):
        super().__init__()
        self.state = state
        self.tabs = QTabWidget()
        self.pages = {key: view(state), "predict": PredictTab(state), "activations": ActivationsTab(state)}
        for key, page in self.pages.items():
            self.tabs.addTab(page, key)
        QVBoxLayout(self).addWidget(self.tabs)

    def tab(self, key):
        return self.pages.get(key)

    def show_tab(self, key):
        self.tabs.setCurrentWidget(self.pages[key])
        return self.pages[key]


@pytest.fixture
def host(qtbot, run):
    run_dir, bundle, cfg = run
    state = StudioState(cfg)
    state.set_dataset(bundle)
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    host = Host(state)
    qtbot.addWidget(host, before_close_func=lambda _w: wait_for_all_tasks())
    host.resize(1100, 760)
    host.show()
    view = host.pages["hardest"]
    view.set_evaluation(state.model, bundle.test, "test")    # no result: the view evaluates
    qtbot.waitUntil(lambda: view.result is not None and not view.busy and view.grid.count() > 0, timeout=60_000)
    return host


def test_sorted_by_loss_with_grad_cam(qtbot, host):
    view = host.pages["hardest"]
    losses = image_losses(view.result)
    shown = [h.index for h in view.shown]
    assert len(shown) == TILE_LIMIT == view.grid.count()
    assert list(losses[shown]) == sorted(losses, reverse=True)[:TILE_LIMIT]
    assert all(view.cams.get(i) is not None for i in shown)          # Grad-CAM of every tile on screen
    r = view.result
    first = view.shown[0]
    assert view.grid.captions[0].startswith(f"{first.true} → {first.pred}")
    assert first.confidence == pytest.approx(r.probs[first.index].max())


def test_filters_by_true_and_predicted_class(qtbot, host):
    view = host.pages["hardest"]
    r = view.result
    view.true_filter.setCurrentIndex(view.true_filter.findData(7))
    assert view.shown and all(h.true == 7 for h in view.shown)
    assert len(view.shown) == min(TILE_LIMIT, int((r.y_true == 7).sum()))
    view.mistakes.setChecked(True)
    assert all(h.true == 7 and h.pred != 7 for h in view.shown)
    view.true_filter.setCurrentIndex(0)
    view.mistakes.setChecked(False)
    pred = int(np.bincount(r.y_pred).argmax())
    view.pred_filter.setCurrentIndex(view.pred_filter.findData(pred))
    assert view.shown and all(h.pred == pred for h in view.shown)
    qtbot.waitUntil(lambda: not view.busy, timeout=30_000)


def test_clicking_a_tile_opens_that_image_in_predict_and_activations(qtbot, host):
    view = host.pages["hardest"]
    third = view.shown[2]
    centre = view.grid.tile_rect(2).center()
    qtbot.mouseClick(view.grid.canvas, Qt.MouseButton.LeftButton, pos=centre)
    predict = host.pages["predict"]
    assert host.tabs.currentWidget() is predict
    assert len(predict.items) == 1 and f"test image #{third.index}" in predict.items[0].name
    qtbot.waitUntil(lambda: predict.results[0] is not None and predict.detail is not None, timeout=30_000)
    classes = view._classes()
    assert predict.results[0].label == classes[third.pred]        # the same answer as the evaluation
    activations = host.pages["activations"]
    assert activations.source.currentIndex() == 0 and activations.test_index.value() == third.index
    qtbot.waitUntil(lambda: not predict.is_busy(), timeout=30_000)


def test_marks_need_a_folder_dataset(qtbot, host):
    view = host.pages["hardest"]
    assert "folder datasets" in view.fixes_label.text() and not view.retrain_button.isEnabled()
    view.actions._menu(view.grid.tile_rect(0).center())
    menu = view.actions.last_menu
    entries = {a.text(): a for a in menu.actions()}
    assert entries["Explain in Predict"].isEnabled() and not entries["Exclude from training"].isEnabled()
    menu.close()
