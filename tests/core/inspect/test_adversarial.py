"""Adversarial examples (seed 001): FGSM and the basic iterative method, in 0..1 pixel units."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from studio.core.data import load_dataset
from studio.core.pixels import denormalize, prepare_batch
from studio.core.errors import StudioError
from studio.core.inspect.adversarial import AdversarialResult, fgsm, smallest_flipping_eps
from studio.core.paths import DEMO_MODELS
from studio.core.runs import load_checkpoint


@pytest.fixture(scope="module")
def demo():
    return load_checkpoint(DEMO_MODELS / "lenet5-mnist-sample.pt")


@pytest.fixture(scope="module")
def digits(demo):
    """The first test digit of each class, as model input, with its label."""
    test = load_dataset("mnist-sample").test
    labels = test.labels.numpy()
    picks = [int(np.flatnonzero(labels == c)[0]) for c in range(10)]
    return [(prepare_batch(test.images[i:i + 1], demo.input_shape, demo.mean, demo.std), int(labels[i]))
            for i in picks]


def attack(demo, x, **kwargs) -> AdversarialResult:
    return fgsm(demo.model, x, mean=demo.mean, std=demo.std, classes=demo.classes, **kwargs)


def pixels_of(demo, x) -> torch.Tensor:
    return x * torch.tensor(demo.std).view(1, -1, 1, 1) + torch.tensor(demo.mean).view(1, -1, 1, 1)


@pytest.mark.parametrize("eps,steps", [(0.005, 1), (0.05, 1), (0.1, 4)])
def test_no_pixel_moves_more_than_eps_and_all_stay_in_0_1(demo, digits, eps, steps):
    x, _ = digits[3]
    result = attack(demo, x, eps=eps, steps=steps)
    assert result.max_abs_change <= eps + 1e-6
    assert result.max_abs_change == pytest.approx(eps, abs=1e-6)   # the sign step uses the whole budget
    assert result.perturbation.shape == (28, 28, 1) and result.perturbation.dtype == np.float32
    assert result.adversarial.shape == x.shape
    before, after = pixels_of(demo, x), pixels_of(demo, result.adversarial)
    assert float((after - before).abs().max()) <= eps + 1e-5
    assert float(after.min()) >= -1e-6 and float(after.max()) <= 1 + 1e-6
    np.testing.assert_allclose(result.perturbation[..., 0], (after - before)[0, 0].numpy(), atol=1e-5)


def test_seed_001_budget_is_not_enough_for_lenet_but_a_larger_one_flips_every_digit(demo, digits):
    """An MNIST digit has 784 pixels against ImageNet's 150,528: 0.005 barely moves LeNet, 0.2 fools it."""
    for x, label in digits:
        small = attack(demo, x, eps=0.005)
        assert small.before[0][0] == str(label)
        assert small.after[0][1] < small.before[0][1] or small.flipped   # the step goes the right way
        big = attack(demo, x, eps=0.2, steps=5, k=3)
        assert big.flipped, f"digit {label} survived eps 0.2: {big.after}"
        assert big.after[0][0] != str(label) and big.max_abs_change <= 0.2 + 1e-6


def test_iterative_method_needs_a_smaller_eps_than_one_step(demo, digits):
    x, _ = digits[0]
    one = smallest_flipping_eps(demo.model, x, mean=demo.mean, std=demo.std, steps=1, high=0.3, tolerance=0.01)
    many = smallest_flipping_eps(demo.model, x, mean=demo.mean, std=demo.std, steps=8, high=0.3, tolerance=0.01)
    assert one is not None and many is not None
    assert many <= one


def test_targeted_attack_reaches_its_class(demo, digits):
    x, label = digits[7]
    result = attack(demo, x, target=3, eps=0.25, steps=10)
    assert result.target == 3 and result.target_reached and result.after[0][0] == "3"
    assert result.before[0][0] == "7" and result.flipped


def test_eps_zero_changes_nothing(demo, digits):
    x, _ = digits[5]
    result = attack(demo, x, eps=0.0, steps=3)
    assert result.max_abs_change == 0.0 and not result.flipped
    assert not result.perturbation.any()
    torch.testing.assert_close(result.adversarial, x, atol=1e-6, rtol=0)
    assert result.before == result.after


def test_model_is_left_as_it_was(demo, digits):
    model = demo.model
    x, _ = digits[2]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    for training in (True, False):
        model.train(training)
        attack(demo, x, eps=0.1, steps=2)
        assert model.training is training
        assert all(m.training is training for m in model.modules())
        assert all(p.grad is None for p in model.parameters())
    model.eval()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_existing_parameter_gradients_are_not_touched(demo, digits):
    model = demo.model
    x, _ = digits[1]
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    try:
        attack(demo, x, eps=0.1)
        assert all(torch.equal(p.grad, torch.full_like(p, 0.5)) for p in model.parameters())
    finally:
        for p in model.parameters():
            p.grad = None


def test_works_inside_inference_mode_and_with_frozen_parameters(demo, digits):
    x, _ = digits[4]
    expected = attack(demo, x, eps=0.05)
    for p in demo.model.parameters():
        p.requires_grad_(False)
    try:
        with torch.inference_mode():
            result = attack(demo, x.clone(), eps=0.05)
    finally:
        for p in demo.model.parameters():
            p.requires_grad_(True)
    torch.testing.assert_close(result.adversarial, expected.adversarial)


def test_colour_model_with_per_channel_normalisation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    mean, std = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
    pixels = torch.rand(1, 3, 16, 16)
    pixels[0, 0, 0, 0], pixels[0, 1, 0, 0] = 0.0, 1.0    # at the edges of 0..1: clamping must hold
    x = (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    result = fgsm(model, x, eps=0.03, mean=mean, std=std)
    assert result.perturbation.shape == (16, 16, 3)
    assert result.max_abs_change <= 0.03 + 1e-6
    back = denormalize(result.adversarial, mean, std)[0].astype(np.float32) / 255
    assert np.abs(back - pixels[0].permute(1, 2, 0).numpy()).max() <= 0.03 + 1 / 255
    assert result.adversarial_pixels.min() >= 0 and result.adversarial_pixels.max() <= 1


@pytest.mark.parametrize("kwargs", [dict(eps=-0.1), dict(eps=1.5), dict(eps=float("nan")), dict(steps=0),
                                    dict(target=10), dict(target=-1), dict(label=12)])
def test_bad_arguments_are_clear_errors(demo, digits, kwargs):
    x, _ = digits[0]
    with pytest.raises(StudioError):
        attack(demo, x, **kwargs)
