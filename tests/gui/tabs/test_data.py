"""The Data tab on the real bundled MNIST sample: samples with class names, counts, augmentation preview."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.gui.state import StudioState
from studio.gui.tabs.data import PREVIEW_COUNT, SAMPLE_COLUMNS, SAMPLE_ROWS, DataTab


@pytest.fixture(scope="module")
def mnist():
    from studio.core.data import load_dataset

    return load_dataset("mnist-sample")


@pytest.fixture
def tab(qtbot, mnist):
    state = StudioState(TrainConfig())
    widget = DataTab(state)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    state.set_dataset(mnist)
    return widget


def _set_augment(tab: DataTab, **values) -> None:
    config = copy.deepcopy(tab.state.config)
    config.augment = AugmentConfig(**values)
    tab.state.set_config(config)


def test_samples_show_real_images_with_their_class_names(tab, mnist):
    grid = tab.sample_grid
    assert grid.count() == SAMPLE_ROWS * SAMPLE_COLUMNS
    for i, index in enumerate(tab.sample_indices[:5]):
        label = int(mnist.train.labels[index])
        assert grid.captions()[i] == mnist.classes[label]
        assert np.array_equal(grid.pixels(i), mnist.train.images[index, 0].numpy())
    # Real digits: dark background, bright strokes.
    pixels = grid.pixels(0)
    assert pixels.shape == (28, 28) and pixels.max() > 200 and np.median(pixels) < 30


def test_every_class_appears_in_the_sample(tab, mnist):
    assert set(tab.sample_grid.captions()) == set(mnist.classes)
    labels = mnist.train.labels[tab.sample_indices].tolist()
    assert labels == sorted(labels)                      # shown class by class


def test_show_other_images_draws_a_new_sample(tab):
    first = tab.sample_indices.copy()
    tab.resample_button.click()
    assert not np.array_equal(first, tab.sample_indices)
    assert tab.sample_grid.count() == SAMPLE_ROWS * SAMPLE_COLUMNS


def test_class_counts_match_the_splits(tab, mnist):
    train, test = tab.class_counts()
    assert sum(train) == len(mnist.train) and sum(test) == len(mnist.test)
    heights = tab.train_bars.opts["height"]
    assert list(np.asarray(heights, dtype=int)) == train
    ticks = tab.counts_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == mnist.classes


def test_no_augmentation_shows_the_image_alone(tab):
    assert tab.preview_grid.count() == 1
    assert "No augmentation" in tab.preview_note.text()


def test_switching_augmentations_redraws_the_preview(tab):
    _set_augment(tab, rotation=30.0, translate=0.1)
    grid = tab.preview_grid
    assert grid.count() == PREVIEW_COUNT + 1
    original = grid.pixels(0)
    versions = [grid.pixels(i) for i in range(1, grid.count())]
    assert all(v.shape == original.shape for v in versions)
    assert all(not np.array_equal(v, original) for v in versions)
    assert not np.array_equal(versions[0], versions[1])   # each version has its own parameters
    rotated = versions[0]

    _set_augment(tab, hflip=True)
    flipped = [grid.pixels(i) for i in range(1, grid.count())]
    assert not np.array_equal(flipped[0], rotated)
    # A flip is exact: each version is the original or its mirror image.
    assert all(np.array_equal(v, original) or np.array_equal(v, original[:, ::-1]) for v in flipped)

    _set_augment(tab)
    assert grid.count() == 1


def test_augment_again_and_another_image(tab):
    _set_augment(tab, rotation=40.0)
    before = tab.preview_grid.pixels(1)
    tab.redraw_button.click()
    assert not np.array_equal(before, tab.preview_grid.pixels(1))
    original = tab.preview_grid.pixels(0)
    tab.other_image_button.click()
    assert not np.array_equal(original, tab.preview_grid.pixels(0))


def test_bad_augmentation_settings_are_explained_not_raised(tab):
    _set_augment(tab, scale=1.5)
    assert "scale" in tab.preview_note.text()


def test_dataset_none_means_loading(tab):
    tab.state.set_dataset(None)
    assert tab.sample_grid.count() == 0
    assert "Loading" in tab.info.text()


def test_colour_images_keep_their_channels(qtbot):
    import torch

    from studio.core.data import DatasetBundle, Split

    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.integers(0, 255, (40, 3, 16, 16), dtype=np.uint8))
    labels = torch.arange(40) % 4
    bundle = DatasetBundle(name="toy", classes=["a", "b", "c", "d"], train=Split(images, labels),
                           test=Split(images[:8], labels[:8]), mean=(0.5,) * 3, std=(0.25,) * 3)
    state = StudioState(TrainConfig())
    widget = DataTab(state)
    qtbot.addWidget(widget)
    state.set_dataset(bundle)
    assert widget.sample_grid.pixels(0).shape == (16, 16, 3)
    assert widget.class_counts() == ([10, 10, 10, 10], [2, 2, 2, 2])
