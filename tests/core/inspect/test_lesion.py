"""Lesion experiments (studio.core.inspect.lesion) on the bundled LeNet-5 and its test digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.errors import ModelError, StudioError
from studio.core.inspect import cams, lesion
from studio.core.paths import DEMO_MODELS
from studio.core.runs import load_checkpoint
from studio.core.runs.labelled_subset import labelled_subset
from studio.core.runs.loaded_model import private_copy


@pytest.fixture(scope="module")
def demo():
    return load_checkpoint(min(DEMO_MODELS.glob("*.pt")))


@pytest.fixture(scope="module")
def subset(demo):
    return labelled_subset(demo)


def test_the_subset_is_the_models_test_split_prepared(demo, subset):
    assert subset.description == "500 test images of mnist-sample"
    assert subset.images.shape == (500, 1, 28, 28) and subset.images.dtype == torch.float32
    assert np.bincount(subset.labels.numpy()).tolist() == [50] * 10
    small = labelled_subset(demo, limit=100)
    assert len(small.labels) == 100 and torch.equal(small.labels, labelled_subset(demo, limit=100).labels)
    assert len(set(small.labels.tolist())) == 10   # spread over the split, not its first rows


def test_large_inputs_take_fewer_images(demo, monkeypatch):
    monkeypatch.setattr("studio.core.runs.labelled_subset.MAX_BYTES", 4 * 28 * 28 * 64)
    assert len(labelled_subset(demo).labels) == 64


def test_zeroing_every_filter_of_the_first_layer_drops_accuracy_to_chance(demo, subset):
    private = private_copy(demo)
    before, after = lesion.compare(private.model, "features.0", range(6), subset.images, subset.labels, 10)
    assert before.overall > 0.95
    assert 0.05 <= after.overall <= 0.15                     # chance on ten balanced classes
    assert np.nanmax(after.per_class) == 1.0 and np.nansum(after.per_class) == 1.0   # one constant answer
    assert before.per_class.shape == (10,) and before.counts.tolist() == [50] * 10


def test_the_weights_come_back_and_the_users_model_is_never_touched(demo, subset):
    original = {k: v.clone() for k, v in demo.model.state_dict().items()}
    private = private_copy(demo)
    with lesion.switched_off(private.model, "features.3", [0, 5, 15]) as model:
        assert (model.features[3].weight[[0, 5, 15]] == 0).all() and (model.features[3].bias[[0, 5, 15]] == 0).all()
        assert (model.features[3].weight[1] != 0).any()
    for key, value in private.model.state_dict().items():
        torch.testing.assert_close(value, original[key])
    for key, value in demo.model.state_dict().items():
        torch.testing.assert_close(value, original[key])


def test_ranking_measures_every_filter_and_sorts_by_the_drop(demo, subset):
    private = private_copy(demo)
    seen = []
    ranking = lesion.rank_filters(private.model, "features.0", subset.images, subset.labels, 10,
                                  progress=lambda done, total: seen.append((done, total)))
    assert sorted(r.filter for r in ranking.ranks) == list(range(6)) and not ranking.cancelled
    drops = [r.drop for r in ranking.ranks]
    assert drops == sorted(drops, reverse=True) and drops[0] > 0.01
    top = ranking.ranks[0]
    _, alone = lesion.compare(private.model, "features.0", [top.filter], subset.images, subset.labels, 10)
    assert alone.overall == pytest.approx(top.accuracy)
    assert seen[-1] == (7, 7)


def test_a_cancelled_ranking_keeps_what_it_measured(demo, subset):
    private = private_copy(demo)
    calls = []
    ranking = lesion.rank_filters(private.model, "features.0", subset.images, subset.labels, 10,
                                  progress=lambda d, t: calls.append(d), should_stop=lambda: len(calls) >= 3)
    assert ranking.cancelled and len(ranking.ranks) == 2


def test_the_picture_changes_answer_and_map(demo, subset):
    private = private_copy(demo)
    change = lesion.image_change(private, subset.images[:1], "features.0", range(6))
    assert change.before[0][0] == str(int(subset.labels[0]))
    assert change.after != change.before and change.explained == change.before[0][0]
    assert change.before_cam.shape == (28, 28)
    assert not cams.has_hooks(private.model)


def test_hostile_layer_and_filter_names(demo, subset):
    private = private_copy(demo)
    with pytest.raises(ModelError, match="no layer named"):
        lesion.rank_filters(private.model, "features.9", subset.images, subset.labels, 10)
    with pytest.raises(ModelError, match="not a convolution"):
        lesion.filter_count(private.model, "classifier.0")
    with pytest.raises(ModelError, match="there is no filter 6"), lesion.switched_off(private.model, "features.0", [6]):
        pass


def test_a_model_without_its_dataset_says_what_to_load(demo):
    stray = private_copy(demo)
    stray.checkpoint = {}
    with pytest.raises(StudioError, match="which dataset"):
        labelled_subset(stray)
