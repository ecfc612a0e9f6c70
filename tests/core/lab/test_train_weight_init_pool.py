"""The Lab's training, initialisation and pooling maths reproduce the lectures, against verbatim notebook code."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests.core.lab.notebook_code import NotebookPytorchCNN
import torch
import torch.nn.functional as F
from torch import nn

from studio.core.lab import weight_init as ci
from studio.core.lab import pool as cpool
from studio.core.lab import train as ct
from studio.core.lab.conv import ConvLabError

# ------------------------------------------------------------------ the notebooks' classes, verbatim


class NotebookCIFAR10Model(nn.Module):            # seed 004, In [10]
    def __init__(self, in_channels, output_dim):
        super(NotebookCIFAR10Model, self).__init__()
        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels, out_channels=32, kernel_size=3),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            nn.AdaptiveAvgPool2d(output_size=(1, 1))
        )
        self.flatten = nn.Flatten(start_dim=1)
        self.classifier = nn.Sequential(
            nn.Linear(64, output_dim),
        )

    def forward(self, x):
        x = self.feature_extractor(x)
        x = self.flatten(x)
        x = self.classifier(x)
        return x


def _notebook_004_losses() -> list[float]:
    """Seed 004's cells In [2], [11], [12], [14], with its global seed (state restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(42)
        x = torch.randn(3, 3, 32, 32)
        y = torch.tensor([1, 0, 1], dtype=torch.int64)
        model = NotebookCIFAR10Model(x.shape[1], 10)
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        losses = []
        for _epoch in range(10):
            output = model(x)
            loss = criterion(output, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
    return losses


# ------------------------------------------------------------------ one batch by hand


def test_seed_004_loop_prints_the_lecture_losses_exactly():
    state = torch.random.get_rng_state()
    r = ct.one_batch_loop()
    assert torch.equal(torch.random.get_rng_state(), state)      # the global generator is neither read nor advanced
    # seed 004, lines 401-410
    assert r.lines == [
        "epoch   1/10  ->  Loss: 2.8423", "epoch   2/10  ->  Loss: 1.0186", "epoch   3/10  ->  Loss: 0.3171",
        "epoch   4/10  ->  Loss: 0.1235", "epoch   5/10  ->  Loss: 0.0634", "epoch   6/10  ->  Loss: 0.0399",
        "epoch   7/10  ->  Loss: 0.0284", "epoch   8/10  ->  Loss: 0.0215", "epoch   9/10  ->  Loss: 0.0168",
        "epoch  10/10  ->  Loss: 0.0133"]
    assert r.lecture_matches() == [True] * 10 and r.is_lecture_setting
    assert r.n_params == 20234
    assert r.param_order == ["feature_extractor.0.weight", "feature_extractor.0.bias", "feature_extractor.4.weight",
                             "feature_extractor.4.bias", "classifier.0.weight", "classifier.0.bias"]
    # the private generator replays the notebook's global seed draw for draw
    assert r.losses == _notebook_004_losses()


def test_seeded_replay_equals_the_constructors_own_draws_and_leaves_global_state_alone():
    from studio.core.models import build_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        reference = NotebookPytorchCNN(3, [8, 16], 3, [32], 10, 32, 32).state_dict()
    model = build_model("configurable-cnn", (3, 32, 32), 10,
                        {"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]})
    state_after_build = torch.random.get_rng_state()
    ct.seeded_default_init(model, torch.Generator().manual_seed(7))
    assert torch.equal(torch.random.get_rng_state(), state_after_build)
    for key, value in reference.items():
        assert torch.equal(model.state_dict()[key], value), key
    fresh, order = ct.fresh_model("configurable-cnn", (3, 32, 32), 10,
                                  {"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]},
                                  torch.Generator().manual_seed(7))
    assert torch.equal(torch.random.get_rng_state(), state_after_build)
    assert order[0] == "features.0.weight" and len(order) == 8
    for key, value in reference.items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_loop_settings_and_errors():
    r = ct.one_batch_loop(seed=1, steps=3, lr=0.001, optimiser="SGD")
    assert len(r.losses) == 3 and r.lecture_matches() == [None] * 3 and not r.is_lecture_setting
    assert r.lines[0].startswith("epoch   1/3  ->  Loss: ")
    r = ct.one_batch_loop(steps=12)                  # the lecture's setting, two more steps
    assert r.lecture_matches() == [True] * 10 + [None, None]
    with pytest.raises(ConvLabError):
        ct.one_batch_loop(steps=0)
    with pytest.raises(ConvLabError):
        ct.one_batch_loop(lr=-1)
    r = ct.one_batch_loop(steps=5, should_stop=lambda: True)
    assert r.stopped and r.losses == []


def test_seed_002_forward_pass_equals_the_notebook_code():
    r = ct.seed002_forward()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(42)
        X = torch.randn(100, 3, 32, 32)
        y_true = torch.randint(0, 10, (100,))
        pytorch_model = NotebookPytorchCNN(3, [8, 16], 3, [32], 10, 32, 32)
        logits = pytorch_model(X)
        loss = nn.CrossEntropyLoss()(logits, y_true)
        loss.backward()
        grad = pytorch_model.features[0].weight.grad
    assert r.logits.shape == (100, 10) and r.grad.shape == (8, 3, 3, 3) and r.n_params == 34522
    assert np.array_equal(r.labels, y_true.numpy())
    assert np.array_equal(r.logits, logits.detach().numpy())
    assert r.loss == loss.item() and f"{r.loss:.4f}" == "2.2903"
    assert np.array_equal(r.grad, grad.numpy())
    assert r.loss_print == f"loss: {loss.item()}"
    assert r.logits_print == f"Logits:\n{logits}" and r.grad_print == f"gradients for first layer weights:\n{grad}"


# ------------------------------------------------------------------ weight initialisation


def test_init_formulas_and_fan_in():
    conv = ci.LayerSpec("Conv2d", 3, 32, 3)
    assert ci.fan_in(conv) == 27 and ci.fan_in_formula(conv).endswith("3 × 3 × 3 = 27")
    assert ci.pytorch_bound(27) == pytest.approx(1 / math.sqrt(27), rel=1e-12)
    assert ci.he_uniform_bound(27) == pytest.approx(math.sqrt(6 / 27), rel=1e-12)
    assert ci.he_normal_std(27) == pytest.approx(math.sqrt(2 / 27), rel=1e-12)
    assert ci.he_uniform_bound(27) / ci.pytorch_bound(27) == pytest.approx(math.sqrt(6))
    lines = ci.formula_lines(conv)
    assert "1/√27 = 0.19245" in lines[2] and "U(±0.47140)" in lines[4] and "σ = √(2/27) = 0.27217" in lines[5]
    assert ci.fan_in(ci.LayerSpec("Linear", 1024, 32)) == 1024
    assert ci.fan_in(ci.LayerSpec("Conv1d", 4, 2, 5)) == 20
    with pytest.raises(ConvLabError):
        ci.initialise(ci.LayerSpec("Conv2d", 4096, 4096, 11))


@pytest.mark.parametrize("spec", [s for _t, s in ci.PRESETS] + [ci.LayerSpec("Conv1d", 4, 8, 5)])
def test_real_modules_fall_within_the_formula_bounds(spec):
    n = ci.fan_in(spec)
    r = ci.initialise(spec, "pytorch")                       # the constructor's own draws
    assert r.torch_fan_in == n and r.within_bounds()
    assert np.abs(r.weight).max() <= 1 / math.sqrt(n) and np.abs(r.bias).max() <= 1 / math.sqrt(n)
    r = ci.initialise(spec, "he-uniform")
    assert np.abs(r.weight).max() <= math.sqrt(6 / n) and not r.bias.any() and r.within_bounds()
    r = ci.initialise(spec, "he-normal")
    assert not r.bias.any()


def test_large_layers_fill_their_bounds_and_have_the_formula_spread():
    g = torch.Generator().manual_seed(0)
    spec = ci.LayerSpec("Linear", 1024, 256)
    n = 1024
    r = ci.initialise(spec, "pytorch", g)
    assert np.abs(r.weight).max() == pytest.approx(1 / math.sqrt(n), rel=1e-3)
    assert r.weight.std() == pytest.approx(1 / math.sqrt(3 * n), rel=0.01)
    r = ci.initialise(spec, "he-uniform", g)
    assert np.abs(r.weight).max() == pytest.approx(math.sqrt(6 / n), rel=1e-3)
    r = ci.initialise(spec, "he-normal", g)
    assert r.weight.std() == pytest.approx(math.sqrt(2 / n), rel=0.01)
    # with a generator, the default is redrawn exactly as nn.Linear's reset_parameters draws it
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        layer = nn.Linear(64, 10)
    r = ci.initialise(ci.LayerSpec("Linear", 64, 10), "pytorch", torch.Generator().manual_seed(3))
    assert np.array_equal(r.weight, layer.weight.detach().numpy().ravel())
    assert np.array_equal(r.bias, layer.bias.detach().numpy())


# ------------------------------------------------------------------ pooling


def test_lecture_pooling_example_5x5_padded_to_6x6_gives_3x3():
    r = cpool.pool(cpool.LECTURE_GRID, cpool.LECTURE_SETTINGS)   # seed 001, lines 232-247
    assert r.tensor.shape == (6, 6) and r.output.shape == (3, 3)
    assert np.array_equal(r.output, cpool.LECTURE_OUTPUT)
    assert cpool.describe_shapes(r) == "5×5 input + 1 zero row/column (bottom/right) = 6×6 → 3×3 output"
    assert [w.text for w in r.windows][2] == "out[0, 2] = max(5, 0, 10, 0) = 10"
    assert np.array_equal(r.stepper_output(), r.output)
    # without the zeros, ceil_mode=True is PyTorch's way to the same 3x3
    same = cpool.pool(cpool.LECTURE_GRID, cpool.PoolSettings(extra=0, ceil_mode=True))
    assert np.array_equal(same.output, cpool.LECTURE_OUTPUT)
    assert cpool.pool(cpool.LECTURE_GRID, cpool.PoolSettings(extra=0)).output.shape == (2, 2)


def test_mean_and_lp_follow_the_lecture_formulas():
    x = cpool.LECTURE_GRID
    r = cpool.pool(x, cpool.PoolSettings(kind="avg", extra=0))
    assert r.output[0, 0] == (1 + 2 + 6 + 7) / 4
    r = cpool.pool(x, cpool.PoolSettings(kind="lp", p=3.0, extra=0))
    assert r.output[0, 0] == pytest.approx((1 + 8 + 216 + 343) ** (1 / 3), rel=1e-12)
    assert "out[0, 0] = (1^3 + 2^3 + 6^3 + 7^3)^(1/3) = 568^(1/3)" in r.windows[0].text


def test_output_size_formula_matches_torch_and_reads_out():
    for n, k, s, p, c in itertools.product(range(2, 9), range(1, 5), range(1, 4), range(0, 3), (False, True)):
        if 2 * p > k or n + 2 * p < k:
            continue
        shape = F.max_pool2d(torch.zeros(1, 1, n, n), k, s, p, ceil_mode=c).shape[-1]
        assert cpool.output_size(n, k, s, p, c) == shape, (n, k, s, p, c)
    lines = cpool.size_formula("H", 5, 2, 2, 0, False)
    assert lines[0] == "ceil_mode=False  H_out = ⌊(5 + 2·0 − 2)/2⌋ + 1 = ⌊1.5⌋ + 1 = 2   ← in use"
    assert lines[1] == "ceil_mode=True   H_out = ⌈(5 + 2·0 − 2)/2⌉ + 1 = ⌈1.5⌉ + 1 = 3"
    assert "− 1 = 3 (the last window would start in the padding)" in cpool.size_formula("H", 5, 2, 2, 1, True)[1]


def test_stepper_equals_torch_for_every_kind_and_setting():
    rng = np.random.default_rng(0)
    checked = 0
    for kind, (h, w) in itertools.product(cpool.KINDS, [(5, 5), (4, 7)]):
        lo = 0 if kind == "lp" else -5
        x = rng.integers(lo, 9, size=(h, w)).astype(float)
        for k, s, p, c, e, cip, pp in itertools.product([1, 2, 3], [1, 2, 3], [0, 1], [False, True], [0, 1],
                                                        [True, False], [1.0, 2.5]):
            if (kind != "lp" and pp != 1.0) or (kind != "avg" and not cip) or (kind == "lp" and p):
                continue
            st = cpool.PoolSettings(kind, k, s, p, c, pp, e, cip)
            try:
                r = cpool.pool(x, st)
            except ConvLabError:
                continue
            checked += 1
            assert np.allclose(r.stepper_output(), r.output, rtol=1e-12, atol=1e-12, equal_nan=True), st
    assert checked > 300


def test_pool_errors_are_explained():
    with pytest.raises(ConvLabError, match="at most half"):
        cpool.pool(cpool.LECTURE_GRID, cpool.PoolSettings(kernel=2, padding=2))
    with pytest.raises(ConvLabError, match="does not fit"):
        cpool.pool(np.ones((2, 2)), cpool.PoolSettings(kernel=4, extra=0))
    with pytest.raises(ConvLabError, match="no padding"):
        cpool.pool(cpool.LECTURE_GRID, cpool.PoolSettings(kind="lp", padding=1))
