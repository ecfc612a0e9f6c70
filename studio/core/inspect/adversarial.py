"""Adversarial examples (seed 001): a change too small to see that makes the network answer wrong.

"After perturbing the image slightly (every pixel is in the range [0, 1] and changed by at most
0.005), the network now returns class 'airliner' with high confidence." `fgsm` makes such a change
with the fast gradient sign method (Goodfellow, Shlens and Szegedy, 2015): one step of size eps
in the direction of the sign of the loss gradient, in PIXEL units, so eps means exactly what it
means in the seed: no pixel of the 0..1 image moves by more than eps. With steps > 1 it is the
basic iterative method (Kurakin, Goodfellow and Bengio, 2017): several smaller signed steps, each
followed by a projection back into the eps box around the original pixels and into [0, 1].

Untargeted (target=None) the step climbs the cross-entropy of the class the network answers
(or of `label`, the true class, when given): away from it. Targeted it descends the
cross-entropy of the target class: towards it.

The model is only read: its train/eval flags are restored, and the gradient is taken with
`torch.autograd.grad` with respect to the pixels alone, so no parameter's `.grad` is created or
changed (a model being trained is not disturbed).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.core.errors import ModelError, StudioError
from studio.core.inspect._common import as_batch, eval_mode
from studio.core.inspect.predict import probabilities, rank_probabilities

# Step size of the iterative method, as a multiple of eps / steps: larger than 1 so that pixels
# whose gradient sign changes between steps can still reach the edge of the eps box (Madry et
# al. 2018 use 2.5). The projection keeps every pixel within eps whatever the step size.
ITERATIVE_STEP_FACTOR = 2.5


@dataclass
class AdversarialResult:
    """What an attack did to one image.

    adversarial: the attacked model input, normalised like `x` (1, C, H, W), detached.
    perturbation: adversarial minus original, in 0..1 pixel units, float32 (H, W, C).
    max_abs_change: the largest |perturbation| over all pixels (<= eps).
    before / after: top-k (class name, probability), most probable first.
    flipped: the network's answer (its top class) changed.
    """

    adversarial: torch.Tensor
    perturbation: np.ndarray
    max_abs_change: float
    before: list[tuple[str, float]]
    after: list[tuple[str, float]]
    flipped: bool
    eps: float = 0.0
    steps: int = 1
    target: int | None = None        # the class steered towards, or None (untargeted)
    attacked: int = 0                # untargeted: the class steered away from (answer or true label)
    before_index: int = 0            # the network's answer before ...
    after_index: int = 0             # ... and after
    adversarial_pixels: np.ndarray | None = None   # (H, W, C) float32 in 0..1, exact (not rounded to 1/255)

    @property
    def target_reached(self) -> bool | None:
        return None if self.target is None else self.after_index == self.target


def fgsm(model: nn.Module, x, target: int | None = None, eps: float = 0.005, *,
         mean: Sequence[float] = (0.0,), std: Sequence[float] = (1.0,), steps: int = 1,
         step_size: float | None = None, label: int | None = None, classes: Sequence[str] | None = None,
         k: int = 5) -> AdversarialResult:
    """Attack the first image of x, a normalised model input (1, C, H, W) (or (C, H, W)).

    mean/std: the per-channel normalisation of x (0..1 pixel units); pixels = x * std + mean.
    eps: the largest change of any pixel, in 0..1 units (seed 001: 0.005). steps: 1 is FGSM;
    more is the basic iterative method with step size `step_size` (default
    ITERATIVE_STEP_FACTOR * eps / steps) and projection onto the eps box after every step.
    target: a class index to steer towards, or None to steer away from `label` (default: the
    class the network answers). classes: names for the top-k lists (default "0", "1", ...).
    """
    eps, steps = _check_budget(eps, steps, step_size)
    x = as_batch(model, x)[:1]
    with torch.inference_mode(False):
        x = x.detach().clone()   # a normal tensor even if x was made in inference mode
        shift, scale = _stats(mean, std, x)
        original = ((x * scale + shift).clamp(0.0, 1.0)).detach()
        probs_before = probabilities(model, x)[0]
        num_classes = len(probs_before)
        names = _names(classes, num_classes)
        before_index = int(np.argmax(probs_before))
        if target is not None:
            target = _class_index(target, num_classes, "Target class")
        attacked = before_index if label is None else _class_index(label, num_classes, "Label")
        towards = target if target is not None else attacked
        sign = -1.0 if target is not None else 1.0   # descend towards the target, climb away from the answer

        alpha = eps if steps == 1 else (step_size if step_size is not None else ITERATIVE_STEP_FACTOR * eps / steps)
        pixels = original.clone()
        y = torch.tensor([towards], device=x.device)
        if eps > 0:
            with eval_mode(model), torch.enable_grad():
                for _ in range(steps):
                    grad = _pixel_gradient(model, pixels, y, shift, scale)
                    pixels = pixels + sign * alpha * grad.sign()
                    pixels = torch.min(torch.max(pixels, original - eps), original + eps).clamp(0.0, 1.0).detach()
            adversarial = ((pixels - shift) / scale).detach()
        else:
            adversarial = x   # exactly the input: no round trip through pixel units

    probs_after = probabilities(model, adversarial)[0]
    after_index = int(np.argmax(probs_after))
    delta = (pixels - original)[0].permute(1, 2, 0).cpu().numpy().astype(np.float32)
    return AdversarialResult(
        adversarial=adversarial, perturbation=delta, max_abs_change=float(np.abs(delta).max(initial=0.0)),
        before=rank_probabilities(probs_before, names, k), after=rank_probabilities(probs_after, names, k),
        flipped=after_index != before_index, eps=eps, steps=steps, target=target, attacked=attacked,
        before_index=before_index, after_index=after_index,
        adversarial_pixels=pixels[0].permute(1, 2, 0).cpu().numpy().astype(np.float32))


def smallest_flipping_eps(model: nn.Module, x, *, mean, std, steps: int = 1, target: int | None = None,
                          high: float = 0.25, tolerance: float = 1e-3) -> float | None:
    """The smallest eps (to within `tolerance`, by bisection) whose attack changes the answer
    (or, with a target, reaches it); None if even `high` does not.

    FGSM's success is not strictly monotone in eps, so this is the edge bisection finds
    between a failing and a succeeding eps, not a proof that nothing smaller works.
    """
    def works(eps: float) -> bool:
        result = fgsm(model, x, target, eps, mean=mean, std=std, steps=steps, k=1)
        return result.target_reached if target is not None else result.flipped

    if not works(high):
        return None
    low = 0.0
    while high - low > tolerance:
        middle = (low + high) / 2
        if works(middle):
            high = middle
        else:
            low = middle
    return high


# ---------------------------------------------------------------- helpers

def _pixel_gradient(model: nn.Module, pixels: torch.Tensor, y: torch.Tensor, shift, scale) -> torch.Tensor:
    """d cross-entropy / d pixels, without touching any parameter's .grad."""
    leaf = pixels.detach().requires_grad_(True)
    try:
        scores = model((leaf - shift) / scale)
    except RuntimeError as exc:
        raise ModelError(f"The model cannot run on input of shape {tuple(leaf.shape)}: {exc}") from exc
    if not isinstance(scores, torch.Tensor) or scores.ndim != 2:
        raise ModelError("An adversarial attack needs a classifier that outputs one score per class.")
    # float64 softmax: a very confident answer (p = 1 - 1e-12) still has a gradient to follow.
    loss = F.cross_entropy(scores.double(), y)
    (grad,) = torch.autograd.grad(loss, leaf, allow_unused=True)
    if grad is None:
        raise ModelError("The model's output does not depend on its input, so it cannot be attacked.")
    return grad


def _check_budget(eps, steps, step_size) -> tuple[float, int]:
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise StudioError(f"eps must be a number of 0..1 pixel units, got {eps!r}.") from None
    if not math.isfinite(eps) or not 0.0 <= eps <= 1.0:
        raise StudioError(f"eps is a change of pixel values in 0..1, so it must be between 0 and 1, got {eps}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 10_000:
        raise StudioError(f"steps must be a whole number from 1 to 10000, got {steps!r}.")
    if step_size is not None and (not math.isfinite(float(step_size)) or float(step_size) <= 0):
        raise StudioError(f"The step size must be a positive number, got {step_size!r}.")
    return eps, int(steps)


def _stats(mean, std, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """mean and std as (1, C, 1, 1) tensors for x; one value is used for every channel."""
    channels = x.shape[1]
    mean = [float(v) for v in mean]
    std = [float(v) for v in std]
    if len(mean) not in (1, channels) or len(std) not in (1, channels):
        raise ModelError(f"The normalisation has {len(mean)} means and {len(std)} stds for a "
                         f"{channels}-channel input.")
    if any(not math.isfinite(s) or s <= 0 for s in std):
        raise ModelError(f"Normalisation stds must be positive, got {std}.")
    shift = torch.tensor(mean, dtype=x.dtype, device=x.device).expand(channels).view(1, channels, 1, 1)
    scale = torch.tensor(std, dtype=x.dtype, device=x.device).expand(channels).view(1, channels, 1, 1)
    return shift, scale


def _names(classes, num_classes: int) -> list[str]:
    if classes is None:
        return [str(i) for i in range(num_classes)]
    if len(classes) != num_classes:
        raise ModelError(f"The model outputs {num_classes} scores but {len(classes)} class names were given.")
    return [str(c) for c in classes]


def _class_index(value, num_classes: int, what: str) -> int:
    try:
        idx = operator.index(value)
    except TypeError:
        idx = -1
    if isinstance(value, bool) or not 0 <= idx < num_classes:
        raise StudioError(f"{what} {value!r} is out of range: the model has {num_classes} classes.")
    return idx
