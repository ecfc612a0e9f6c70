"""Every step of every tour: each check's studio value equals the number the lecture printed.

The lecture values are typed here from the notebooks in /work/shared/seeds (never read back
from the studio's constants), with the precision the notebook printed them at.
"""

from __future__ import annotations

import pytest

from studio.core.errors import StudioError
from studio.core.lectures import agrees, all_tours, describe_action, get_tour, run_check

SEED001_CONV_LAYER = """Sequential(
(0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(2): ReLU(inplace=True)
(3): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(4): ReLU(inplace=True)
(5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
(6): Conv2d(64, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(7): BatchNorm2d(128, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(8): ReLU(inplace=True)
(9): Conv2d(128, 128, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(10): ReLU(inplace=True)
(11): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
(12): Dropout2d(p=0.05, inplace=False)
(13): Conv2d(128, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(14): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
(15): ReLU(inplace=True)
(16): Conv2d(256, 256, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
(17): ReLU(inplace=True)
(18): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
)"""

SEED004_MODEL = """CIFAR10Model(
  (feature_extractor): Sequential(
    (0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
    (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))
    (5): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (6): ReLU()
    (7): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (8): AdaptiveAvgPool2d(output_size=(1, 1))
  )
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (classifier): Sequential(
    (0): Linear(in_features=64, out_features=10, bias=True)
  )
)"""

# (lecture, check label) -> (the value as the lecture printed or stated it, the printed precision)
LECTURE = {
    (0, "x = torch.tensor(0.): shape and dtype"): ("x.shape=torch.Size([]), x.dtype=torch.float32", 0),
    (0, "M = torch.tensor([[1., 2.], [3., 4.]]): shape and dtype"):
        ("M.shape=torch.Size([2, 2]), M.dtype=torch.float32", 0),
    (0, "M1 = M.to(device, dtype=torch.int64): dtype"): ("M1.dtype=torch.int64", 0),
    (0, "M2 = M1.reshape(1, 4): shape"): ("M2.shape=torch.Size([1, 4])", 0),
    (0, "C = A + B with A, B of 3×4: C.shape"): ("torch.Size([3, 4])", 0),
    (0, "D = torch.matmul(A, B.T): D.shape"): ("torch.Size([3, 3])", 0),
    (0, "autograd gradient equals the hand-derived one"): (True, 0),
    (0, "learned L, k, x0"): ([10.11, 1.84, 5.09], 0.005),
    (0, "LoG kernel side for σ = 5"): (31, 0),
    (0, "LoG kernel side for σ = 10"): (61, 0),
    (0, "32×32×3 with 16 filters of 3×3×3 → H×W×C"): ([30, 30, 16], 0),
    (0, "32×32×64, 2×2 window, stride 2 → H×W×C"): ([16, 16, 64], 0),
    (0, "maps before flattening (C, H, W)"): ([256, 6, 6], 0),
    (0, "batch size, learning rate, epochs"): ([64, 0.001, 10], 0),
    (1, "out₁, out₂"): ([4.25, 2.5], 0.005),
    (1, "output"): ([[133, 75], [100, 101]], 0),
    (1, "−log(p) for p = 0.1, 0.9, 1"): ([2.3, 0.1, 0], 0.05),
    (1, "5×5 input plus the extra zero row and column"): ([6, 6], 0),
    (1, "5×5 input, 2×2 window, stride 2 → output"): ([3, 3], 0),
    (1, "inputs to the FC layer per map (7 × 7)"): (49, 0),
    (1, "sides after conv, pool, conv, pool"): ([28, 14, 14, 7], 0),
    (1, "'same' padding for kernels 3, 5, 7"): ([1, 2, 3], 0),
    (1, "mean and std per channel"): ([[0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]], 0.00005),
    (1, "dummy_output.shape after conv_layer"): ("torch.Size([1, 256, 4, 4])", 0),
    (1, "flattened shape"): ("torch.Size([1, 4096])", 0),
    (1, "num trainable weights"): (5852170, 0),
    (1, "model size (MB)"): (22.33, 0.005),
    (1, "print(model.conv_layer)"): (SEED001_CONV_LAYER, 0),
    (1, "the log line of epoch 1"): (("Epoch: 1 | Loss: 1.5168 | Training accuracy: 56.276% | "
                                      "Test accuracy: 57.460% | Epoch Time: 61.60 secs"), 0),
    (1, "batch size, learning rate, epochs"): ([128, 1e-4, 20], 0),
    (1, "first conv layer's weight shape"): ([32, 3, 3, 3], 0),
    (2, "padding='same'"): ([5, 10, 15, 20, 25, 30, 35, 40, 25], 0),
    (2, "padding='valid'"): ([10, 15, 20, 25, 30, 35, 40], 0),
    (2, "padding=2, stride=2"): ([2, 10, 20, 30, 40, 18], 0),
    (2, "'same' output shape"): ([5, 5], 0),
    (2, "'valid' output shape"): ([3, 3], 0),
    (2, "'same' padding p for k = 3"): ([1], 0),
    (2, "padding 1, stride 2 output shape"): ([3, 3], 0),
    (2, "per-layer formulas"):
        (["(3 × 3 × 3 + 1) × 8", "(8 × 3 × 3 + 1) × 16", "(1024 + 1) × 32", "(32 + 1) × 10"], 0),
    (2, "per layer"): ([224, 1168, 32800, 330], 0),
    (2, "total"): ("224 + 1168 + 32800 + 330 = 34522", 0),
    (2, "parameters of PytorchCNN(3, [8, 16], 3, [32], 10, 32, 32)"): (34522, 0),
    (3, "output shapes of conv 1, block 1, conv 2, block 2, conv 3, block 3"):
        ([[1, 32, 32, 32], [1, 32, 16, 16], [1, 64, 16, 16], [1, 64, 8, 8], [1, 128, 8, 8], [1, 128, 4, 4]], 0),
    (3, "flattened feature vector (128 * 4 * 4)"): ([1, 2048], 0),
    (3, "batch size, learning rate, epochs"): ([100, 0.001, 10], 0),
    (3, "normalisation mean and std"): ([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], 0),
    (4, "'same' padding p for k = 3"): ([1], 0),
    (4, "conv_1d_1 (same)"): ([5, 10, 15, 20, 25, 30, 35, 40, 25], 0),
    (4, "conv_1d_2 (valid)"): ([10, 15, 20, 25, 30, 35, 40], 0),
    (4, "conv_1d_3 (padding 2, stride 2)"): ([2, 10, 20, 30, 40, 18], 0),
    (4, "'valid' output shape"): ([3, 3], 0),
    (4, "print(model)"): (SEED004_MODEL, 0),
    (4, "Param # of Conv2d, BatchNorm2d, Conv2d, BatchNorm2d"): ([896, 64, 18496, 128], 0),
    (4, "output shapes (conv 1, pool 1, conv 2, pool 2, global pool)"):
        ([[3, 32, 30, 30], [3, 32, 15, 15], [3, 64, 13, 13], [3, 64, 6, 6], [3, 64, 1, 1]], 0),
    (4, "the ten printed losses"):
        ([2.8423, 1.0186, 0.3171, 0.1235, 0.0634, 0.0399, 0.0284, 0.0215, 0.0168, 0.0133], 0.00005),
}

CHECKS = [(tour.number, i, check) for tour in all_tours() for i, step in enumerate(tour.steps)
          for check in step.checks]


def test_five_tours_numbered_like_the_seeds():
    assert [t.number for t in all_tours()] == [0, 1, 2, 3, 4]
    assert [t.notebook[:3] for t in all_tours()] == ["000", "001", "002", "003", "004"]
    assert get_tour(1).title == "Lecture: CNN basics on CIFAR-10"
    with pytest.raises(StudioError, match="0 to 4"):
        get_tour(7)


def test_every_check_has_its_lecture_value_typed_here():
    labels = [(tour, check.label) for tour, _i, check in CHECKS]
    assert len(labels) == len(set(labels)), "two checks of one tour share a label"
    assert set(labels) == set(LECTURE)


@pytest.mark.parametrize("tour, step, check", CHECKS, ids=[f"{t}.{i + 1} {c.label}" for t, i, c in CHECKS])
def test_check_reproduces_the_lecture(tour, step, check):
    expected, precision = LECTURE[(tour, check.label)]
    assert agrees(expected, check.lecture_value, precision), "the tour misquotes the lecture"
    result = run_check(check)
    assert result.error == ""
    assert agrees(expected, result.studio_value, precision), (expected, result.studio_value)
    assert result.ok


def test_every_step_has_words_a_source_and_a_view():
    views = {"lab", "model", "train", "kernels", "activations", "predict", "evaluation", "data"}
    for tour in all_tours():
        assert len(tour.steps) >= 5
        for step in tour.steps:
            assert len(step.explanation) > 60 and step.source and step.title
            assert step.action["view"] in views
            assert describe_action(step.action).startswith(step.action["view"])


def test_cifar10_steps_say_they_run_on_the_bundled_sample():
    for tour in all_tours():
        for step in tour.steps:
            if step.action["view"] == "train" and "preset" in step.action:
                assert step.action["dataset"] == "cifar10-sample"
                assert "bundled CIFAR-10 sample" in step.explanation


def test_a_wrong_studio_value_is_a_cross_not_an_exception():
    from studio.core.lectures import Check

    assert not run_check(Check("off by one", 34522, lambda: 34523)).ok
    broken = run_check(Check("raises", 1, lambda: 1 / 0))
    assert not broken.ok and "ZeroDivisionError" in broken.error
    assert agrees("a\n  b", "a\nb") and not agrees([1, 2], [1, 2, 3]) and agrees(2.3, 2.302585, 0.05)
