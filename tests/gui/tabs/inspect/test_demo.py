"""Issue 13.5: before any model exists, Kernels, Activations and Evaluation show the demo model and say so."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.core.data import load_dataset
from studio.core.inspect.kernels import get_kernels
from studio.core.paths import RESOURCES
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.inspect import demo
from studio.gui.tabs.inspect.activations import ActivationsTab
from studio.gui.tabs.inspect.evaluation import EvaluationTab
from studio.gui.tabs.inspect.kernels import KernelsTab

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist-sample")


def shown(qtbot, tab):
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1100, 700)
    tab.show()
    qtbot.waitUntil(lambda: not tab.busy and demo.cached_demo() is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not tab.busy, timeout=WAIT_MS)
    return tab


def test_kernels_of_the_demo_model_from_first_launch(qtbot):
    tab = shown(qtbot, KernelsTab(StudioState()))
    assert not tab.is_empty()
    loaded = demo.cached_demo()
    np.testing.assert_array_equal(tab.weights, get_kernels(loaded.model, "features.0"))
    assert "demo model" in tab.info.text() and "LeNet-5" in tab.info.text()


def test_evaluation_of_the_demo_model_on_its_dataset(qtbot, mnist):
    state = StudioState()
    state.set_dataset(mnist)
    tab = shown(qtbot, EvaluationTab(state))
    qtbot.waitUntil(lambda: tab.result is not None, timeout=WAIT_MS)
    assert int(tab.cm.sum()) == len(mnist.test)
    assert tab.result.accuracy > 0.8 and "demo model" in tab.summary.text()
    # the per-class table lists the classes 0 -> 9 until a header is clicked
    assert [tab.prf.item(i, 0).text() for i in range(10)] == mnist.classes
    total = int(tab.cm[0].sum())
    assert f"of the {total} images of class 0)" in tab._matrix_readout(0, 0, None)   # not "the 50 0 images"


def test_evaluation_says_when_the_loaded_dataset_is_not_the_models(qtbot):
    import torch

    from studio.core.data.bundle import DatasetBundle, Split

    split = Split(torch.zeros((20, 1, 28, 28), dtype=torch.uint8), torch.arange(20) % 10)
    other = DatasetBundle(name="letters", classes=list("abcdefghij"), train=split, test=split,
                          mean=(0.5,), std=(0.25,))
    state = StudioState()
    state.set_dataset(other)
    tab = shown(qtbot, EvaluationTab(state))
    assert tab.result is None
    text = tab.strip.message.text()
    assert "'letters' is not this model's" in text and "mnist-sample" in text


def test_activations_of_the_demo_model_and_a_drop_of_several_files(qtbot, mnist):
    state = StudioState()
    state.set_dataset(mnist)
    tab = shown(qtbot, ActivationsTab(state))
    qtbot.waitUntil(lambda: tab.result is not None and not tab.busy, timeout=WAIT_MS)
    assert "demo model" in tab.model_label.text()
    photos = sorted((RESOURCES / "images").glob("*.png"))[:3]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in photos])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    tab.dropEvent(event)
    qtbot.waitUntil(lambda: not tab.busy and tab.result is not None and photos[0].name in tab.result.source,
                    timeout=WAIT_MS)
    assert "first of the 3 files dropped" in tab.file_label.text()
