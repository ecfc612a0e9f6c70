"""The learning-rate finder: the suggestion rules on made-up curves, the range test on a real model."""

import numpy as np
import pytest
import torch
from torch import nn

from studio.core.config.train_config import TrainConfig
from studio.core.engine.lr_finder import (
    MINIMUM_DIV10,
    STEEPEST,
    SmoothedLoss,
    exponential_lrs,
    find_lr,
    range_test,
    suggest,
)


def _curve(lrs, centre, depth=2.0, width=0.5):
    """A loss that falls by `depth` around log10(lr) = centre (a smooth step down)."""
    x = np.log10(lrs)
    return 2.5 - depth / (1 + np.exp(-(x - centre) / width))


def test_exponential_schedule_spans_the_range_evenly_on_a_log_scale():
    lrs = exponential_lrs(1e-7, 10, 9)
    assert lrs[0] == pytest.approx(1e-7) and lrs[-1] == pytest.approx(10)
    assert np.allclose(np.diff(np.log10(lrs)), 1.0)
    with pytest.raises(ValueError):
        exponential_lrs(1, 0.1, 10)


def test_smoothing_is_bias_corrected_like_fastai():
    smoother = SmoothedLoss(beta=0.98)
    assert smoother.update(2.0) == pytest.approx(2.0)   # not 0.04: the correction removes the pull to zero
    assert smoother.update(2.0) == pytest.approx(2.0)
    assert smoother.update(4.0) == pytest.approx((0.98 * 0.0792 + 0.02 * 4.0) / (1 - 0.98 ** 3))


def test_steepest_descent_is_found_where_the_loss_falls_fastest():
    lrs = exponential_lrs(1e-7, 10, 200)
    chosen = suggest(lrs, _curve(lrs, centre=-3))
    assert chosen.method == STEEPEST
    assert chosen.lr == pytest.approx(1e-3, rel=0.15)
    assert chosen.steepest_lr == chosen.lr


def test_minimum_over_ten_is_reported_beside_it():
    lrs = exponential_lrs(1e-7, 10, 200)
    losses = _curve(lrs, centre=-3) + np.where(lrs > 1e-1, 20 * (np.log10(lrs) + 1), 0)   # blows up past 0.1
    chosen = suggest(lrs, losses)
    assert chosen.min_loss_lr_div10 == pytest.approx(1e-2, rel=0.15)
    assert chosen.method == STEEPEST and chosen.lr == pytest.approx(1e-3, rel=0.15)


def test_a_fall_after_the_minimum_is_not_a_place_to_train():
    lrs = exponential_lrs(1e-7, 10, 200)
    losses = _curve(lrs, centre=-3, depth=1.0)
    spike = np.log10(lrs) > 0
    losses[spike] = 6.0 - 3.0 * (np.log10(lrs[spike]))   # a spike, then a steep fall back
    chosen = suggest(lrs, losses)
    assert chosen.lr == pytest.approx(1e-3, rel=0.15)


def test_a_loss_that_never_falls_gets_minimum_over_ten_and_says_so():
    lrs = exponential_lrs(1e-7, 10, 100)
    chosen = suggest(lrs, np.linspace(2.3, 3.0, 100))   # rises from the start
    assert chosen.method == MINIMUM_DIV10
    assert chosen.steepest_lr is None
    assert chosen.lr == chosen.min_loss_lr_div10 == pytest.approx(lrs[10] / 10)


def test_a_short_curve_that_diverged_early_still_gets_a_suggestion():
    lrs = exponential_lrs(1e-3, 10, 100)[:6]
    assert suggest(lrs, [2.3, 2.0, 1.5, 1.2, 1.1, 9.0]).lr is not None
    assert suggest([], []).lr is None


def _tiny_problem(seed=0):
    torch.manual_seed(seed)
    x = torch.randn(96, 2)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    batches = lambda: iter([(x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)])
    return model, batches


def test_model_and_optimiser_come_back_exactly_as_they_went_in():
    model, batches = _tiny_problem()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for x, y in batches():   # an optimiser with state (moments, step counts) to restore
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer_before = optimizer.state_dict()
    moments_before = [s["exp_avg"].clone() for s in optimizer_before["state"].values()]

    result = range_test(model, optimizer, batches, nn.CrossEntropyLoss(), num_iter=40)

    assert len(result.lrs) >= 10   # it trained (an epoch of 3 batches, cycled)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)   # weights and BatchNorm statistics
    assert not model.training
    state = optimizer.state_dict()
    assert state["param_groups"][0]["lr"] == 3e-3
    assert all(torch.equal(a, s["exp_avg"]) for a, s in zip(moments_before, state["state"].values()))


def test_restored_even_when_the_test_is_cancelled():
    model, batches = _tiny_problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    calls = []
    result = range_test(model, optimizer, batches, nn.CrossEntropyLoss(), num_iter=50,
                        should_stop=lambda: len(calls) >= 5, progress=lambda done, total: calls.append(done))
    assert result.stopped == "cancelled"
    assert len(result.lrs) == 5 and calls == [1, 2, 3, 4, 5]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_a_diverging_loss_ends_the_test_early():
    model, batches = _tiny_problem()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    result = range_test(model, optimizer, batches, nn.CrossEntropyLoss(), start_lr=1e-2, end_lr=1e6, num_iter=200)
    assert result.stopped == "diverged"
    assert len(result.lrs) < 200


def test_find_lr_on_lenet5_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = find_lr(TrainConfig(dataset="mnist-sample", model="lenet5"), num_iter=60)
    assert 20 <= len(result.lrs) == len(result.losses) == len(result.smoothed) <= 60   # it may diverge early
    assert result.suggested_lr is not None and result.min_loss_lr_div10 is not None
    assert list(tmp_path.iterdir()) == []
    runs = tmp_path / "runs"   # CNN_STUDIO_RUNS_DIR of the test (tests/conftest.py)
    assert not runs.exists() or not any(runs.iterdir())


def test_find_lr_restores_a_model_handed_in():
    from studio.core.models import build_model

    model = build_model("lenet5", (1, 28, 28), 10, {})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    find_lr(TrainConfig(dataset="mnist-sample", model="lenet5", device="cpu"), model=model, num_iter=30)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
