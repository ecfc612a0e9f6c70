"""Activations tab: every layer's output for a test image, a sample photo or a dropped file."""

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio.core.data import load_dataset
from studio.core.inspect.summary import model_summary
from studio.core.models import build_model
from studio.core.paths import RESOURCES
from studio.core.runs import LoadedModel
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.activations import ActivationsTab
from studio.gui.concurrency.tasks import wait_for_all_tasks

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist-sample")


def lenet_state(bundle):
    model = build_model("lenet5", (1, 28, 28), 10).eval()   # random weights: shapes are what is tested
    state = StudioState()
    state.set_dataset(bundle)
    state.set_model(LoadedModel(model=model, model_name="lenet5", model_options={}, classes=bundle.classes,
                                input_shape=(1, 28, 28), mean=bundle.mean, std=bundle.std))
    return state


def show_tab(qtbot, state):
    tab = ActivationsTab(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1100, 700)
    tab.show()
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    return tab


def test_without_a_model_the_tab_says_what_to_do(qtbot, monkeypatch):
    monkeypatch.setattr("studio.gui.tabs.inspect.demo.demo_source", lambda: None)   # no demo bundled
    monkeypatch.setattr("studio.gui.tabs.inspect.demo._loaded", {})
    tab = show_tab(qtbot, StudioState())
    assert tab.is_empty() and "Train a model" in tab.empty_label.text()


def test_each_layer_has_the_shape_the_summary_says(qtbot, mnist):
    state = lenet_state(mnist)
    tab = show_tab(qtbot, state)
    tab.test_index.setValue(7)
    qtbot.waitUntil(lambda: not tab.busy and "Test image 7" in tab.result.source, timeout=30000)
    summary = model_summary(state.model.model, (1, 28, 28))
    leaves = [r for r in summary.rows if r.is_leaf]
    assert list(tab.result.acts) == [r.name for r in leaves]
    for row in leaves:
        assert tuple(tab.result.acts[row.name].shape) == tuple(row.output_shape), row.name
    spatial = [r.name for r in leaves if len(r.output_shape) == 4]
    assert tab.result.spatial_layers == spatial and tab.overview.count() == len(spatial)
    label = mnist.classes[int(mnist.test.labels[7])]
    assert f"class {label}" in tab.test_label.text()


def test_clicking_a_layer_shows_every_filter_and_a_map_overlays_the_input(qtbot, mnist):
    tab = show_tab(qtbot, lenet_state(mnist))
    grid = tab.overview
    qtbot.mouseClick(grid.canvas, Qt.MouseButton.LeftButton, pos=grid.tile_rect(3).center())
    assert tab.layer == "features.3"
    maps = tab.result.acts["features.3"][0]
    assert tab.detail.count() == maps.shape[0] == 16
    lo, hi = maps.min(), maps.max()
    assert f"{lo:.3g}" in tab.detail_label.text() and f"{hi:.3g}" in tab.detail_label.text()
    qtbot.mouseClick(tab.detail.canvas, Qt.MouseButton.LeftButton, pos=tab.detail.tile_rect(5).center())
    assert tab.channel == 5
    np.testing.assert_array_equal(tab.current_map(), maps[5])
    assert tab.overlay.shape() == (28, 28)   # the 10x10 map is shown at the input's scale
    assert tab.overlay.levels == pytest.approx((float(maps[5].min()), float(maps[5].max())))
    tab.shared_scale.setChecked(True)
    assert all(levels == tab._detail_levels[0] for levels in tab._detail_levels)


def test_vgg16_on_a_sample_photo(qtbot):
    model = build_model("vgg16", (3, 224, 224), 10).eval()
    state = StudioState()   # no dataset: the tab starts from a sample photo
    state.set_model(LoadedModel(model=model, model_name="vgg16", model_options={}, classes=[str(i) for i in range(10)],
                                input_shape=(3, 224, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD))
    tab = show_tab(qtbot, state)
    assert tab.source.currentIndex() == 1 and tab.result.source.startswith("Photo ")
    spatial = tab.result.spatial_layers
    assert spatial[:31] == [f"features.{i}" for i in range(31)] and spatial[-1] == "avgpool"
    assert tab.result.acts["features.0"].shape == (1, 64, 224, 224)
    assert tab.result.acts["features.30"].shape == (1, 512, 7, 7)
    assert tab.result.acts["features.0"].min() < 0   # the conv output, not what the in-place ReLU made of it
    assert tab.overlay.shape() == (224, 224)
    tab.show_layer("features.28")
    assert tab.detail.count() == 512


def test_a_dropped_photo_becomes_the_input(qtbot, mnist):
    tab = show_tab(qtbot, lenet_state(mnist))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(RESOURCES / "images" / "horse.png"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    tab.dropEvent(event)
    qtbot.waitUntil(lambda: not tab.busy and "horse.png" in tab.result.source, timeout=30000)
    assert tab.source.currentIndex() == 2
    assert tab.result.input_rgb.shape == (28, 28, 3)   # the photo as the 1x28x28 model sees it


def test_a_broken_file_gives_a_readable_message(qtbot, mnist, tmp_path):
    tab = show_tab(qtbot, lenet_state(mnist))
    before = tab.result
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    tab.load_file(bad)
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    message = tab.strip.message.text()
    assert tab.strip.message.isVisibleTo(tab) and "notes.png" in message and "Traceback" not in message
    assert tab.result is before   # the last good result stays on screen
