"""Kernels tab on a LeNet-5 trained for two epochs on the bundled MNIST sample (a real run folder)."""

import numpy as np
import pytest
import torch

from studio.core.inspect.kernels import get_kernels, rgb_tiles
from studio.core.models import build_model
from studio.core.runs import LoadedModel, load_checkpoint, load_epoch_snapshot, save_epoch_snapshot
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.kernels import KernelsTab
from studio.gui.concurrency.tasks import wait_for_all_tasks


def trained_state(run):
    run_dir, bundle, cfg = run
    state = StudioState(cfg)
    state.set_dataset(bundle)
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    return state


def show_tab(qtbot, state):
    tab = KernelsTab(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(900, 600)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def test_without_a_model_the_tab_says_what_to_do(qtbot, monkeypatch):
    monkeypatch.setattr("studio.gui.tabs.inspect.demo.demo_source", lambda: None)   # no demo bundled
    monkeypatch.setattr("studio.gui.tabs.inspect.demo._loaded", {})
    tab = show_tab(qtbot, StudioState())
    assert tab.is_empty()
    assert "Train a model, open a run, or import a checkpoint" in tab.empty_label.text()


def test_one_tile_per_filter_for_every_conv_layer(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    names = [tab.layer_box.itemData(i) for i in range(tab.layer_box.count())]
    assert names == ["features.0", "features.3"]
    for i, name in enumerate(names):
        tab.layer_box.setCurrentIndex(i)
        weights = get_kernels(state.model.model, name)
        assert tab.grid.count() == weights.shape[0]
        assert tab.channel.maximum() == weights.shape[1] - 1
        np.testing.assert_array_equal(tab.weights, weights)
    assert not tab.rgb_mode and not tab.colorbar.isHidden()  # gray input: diverging map and colour bar


def test_hover_text_gives_index_and_values(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    tab.layer_box.setCurrentIndex(1)
    tab.channel.setValue(4)
    text = tab.grid.tooltip(7)
    w = get_kernels(state.model.model, "features.3")[7, 4]
    assert text.startswith("filter 7, input channel 4")
    assert f"{w[0, 0]:+.3f}" in text and f"{w[4, 4]:+.3f}" in text
    # the tooltip is what the canvas shows when the mouse rests on tile 7
    assert tab.grid.index_at(tab.grid.tile_rect(7).center()) == 7


def test_set_epoch_scrubs_through_kept_kernels(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    tab.set_epoch(state.run_dir, 0)   # issue 13.12: the random initial weights, saved before training
    initial = load_epoch_snapshot(state.run_dir, 0)["kernels"]["features.0"]
    np.testing.assert_array_equal(tab.weights, initial)
    assert "epoch 0" in tab.info.text() and "random initial weights" in tab.info.text()
    tab.set_epoch(state.run_dir, 1)
    first = load_epoch_snapshot(state.run_dir, 1)["kernels"]["features.0"]
    np.testing.assert_array_equal(tab.weights, first)
    assert "after epoch 1" in tab.info.text()
    tab.set_epoch(state.run_dir, 2)   # the model's own epoch
    np.testing.assert_array_equal(tab.weights, get_kernels(state.model.model, "features.0"))
    assert "(epoch 2)" in tab.info.text()
    assert not np.array_equal(first, tab.weights)   # training changed them
    tab.set_epoch(None, None)   # no timeline: the current model
    np.testing.assert_array_equal(tab.weights, get_kernels(state.model.model, "features.0"))


def test_one_colour_scale_across_epochs_epoch_zero_included(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    peak = max(float(np.abs(load_epoch_snapshot(state.run_dir, e)["kernels"]["features.0"]).max()) for e in (0, 1, 2))
    for epoch in (0, 1, 2):
        tab.set_epoch(state.run_dir, epoch)
        assert tab.colorbar.value_range() == pytest.approx((-peak, peak))   # the same scale on every epoch
        assert f"over every epoch, ±{peak:.3g}" in tab.info.text()


def test_a_hidden_tab_catches_up_when_shown(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    tab.hide()
    tab.set_epoch(state.run_dir, 1)
    assert not np.array_equal(tab.weights, load_epoch_snapshot(state.run_dir, 1)["kernels"]["features.0"])
    tab.show()
    np.testing.assert_array_equal(tab.weights, load_epoch_snapshot(state.run_dir, 1)["kernels"]["features.0"])


def test_layers_missing_from_a_snapshot_fall_back_to_the_current_model(qtbot, run, tmp_path):
    state = trained_state(run)
    run_dir = tmp_path / "run"
    for epoch in (1, 2):
        kept = load_epoch_snapshot(state.run_dir, epoch)
        save_epoch_snapshot(run_dir, epoch, kept["confusion"], {"features.0": kept["kernels"]["features.0"]})
    state.set_run(run_dir)
    tab = show_tab(qtbot, state)
    tab.layer_box.setCurrentIndex(1)
    tab.set_epoch(run_dir, 1)
    np.testing.assert_array_equal(tab.weights, get_kernels(state.model.model, "features.3"))
    assert "kept no kernels of features.3" in tab.info.text()


def test_a_new_model_refreshes_the_tiles(qtbot, run):
    state = trained_state(run)
    tab = show_tab(qtbot, state)
    loaded = state.model
    model = build_model("lenet5", (1, 28, 28), 10).eval()
    model.load_state_dict(loaded.model.state_dict())
    with torch.no_grad():
        model.features[0].weight.mul_(2)
    newer = LoadedModel(model=model, model_name="lenet5", model_options={}, classes=loaded.classes,
                        input_shape=loaded.input_shape, mean=loaded.mean, std=loaded.std, epoch=3)
    state.set_model(newer)
    state.epochEnded.emit(None)
    np.testing.assert_allclose(tab.weights, 2 * get_kernels(loaded.model, "features.0"))


def test_first_layer_of_an_rgb_model_shows_colour_tiles(qtbot):
    model = build_model("cifar-cnn", (3, 32, 32), 10).eval()
    state = StudioState()
    state.set_model(LoadedModel(model=model, model_name="cifar-cnn", model_options={}, classes=list("abcdefghij"),
                                input_shape=(3, 32, 32), mean=(0.5,) * 3, std=(0.25,) * 3))
    tab = show_tab(qtbot, state)
    assert tab.rgb_mode and tab.grid.count() == 32 and tab.colorbar.isHidden()
    expected = np.clip(rgb_tiles(get_kernels(model, "conv_layer.0"))[5] * 255 + 0.5, 0, 255).astype(np.uint8)
    image = tab.grid.images[5]
    assert (image.width(), image.height()) == (3, 3)
    assert image.pixelColor(2, 1).getRgb()[:3] == tuple(int(v) for v in expected[1, 2])
    assert "R:" in tab.grid.tooltip(5) and "B:" in tab.grid.tooltip(5)
    tab.colour.setChecked(False)   # the same layer, one input channel at a time
    assert not tab.rgb_mode and tab.grid.count() == 32 and tab.channel.maximum() == 2
    tab.layer_box.setCurrentIndex(1)
    assert tab.grid.count() == 64 and tab.channel.maximum() == 31 and tab.colour.isHidden()
