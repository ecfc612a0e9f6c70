"""Class probabilities and the top-k guesses for an image (seed 000's prediction grid, seed 001's VGG16 demo)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect._common import as_batch, eval_mode


def probabilities(model: nn.Module, x) -> np.ndarray:
    """Softmax probabilities (N, K) as float32, in eval mode; the model's train/eval flags are restored."""
    x = as_batch(model, x)
    with eval_mode(model), torch.inference_mode():
        try:
            scores = model(x)
        except RuntimeError as exc:
            raise ModelError(f"The model cannot run on input of shape {tuple(x.shape)}: {exc}") from exc
        if not isinstance(scores, torch.Tensor) or scores.ndim != 2:
            raise ModelError("Expected the model to output one score per class, shaped (N, K).")
        return torch.softmax(scores.float(), dim=1).cpu().numpy()


def topk(model: nn.Module, x, classes: Sequence[str] | None, k: int = 5) -> list[tuple[str, float]]:
    """The k most probable classes of the first image, most probable first, as (class name, probability)."""
    probs = probabilities(model, as_batch(model, x)[:1])[0]
    if classes is None:
        classes = [str(i) for i in range(len(probs))]
    return rank_probabilities(probs, classes, k)


def rank_probabilities(probs, classes: Sequence[str], k: int = 5) -> list[tuple[str, float]]:
    """One row of probabilities -> the k most probable (class name, probability), most probable first.

    The one ranking every answer goes through (CLI, Predict tab, Activations, adversarial
    before/after): ties keep the class order, so the same probabilities always read the same.
    """
    probs = np.asarray(probs, dtype=np.float64).reshape(-1)
    if len(classes) != len(probs):
        raise ModelError(f"The model outputs {len(probs)} scores but {len(classes)} class names were given.")
    k = max(1, min(int(k), len(probs)))
    order = np.argsort(-probs, kind="stable")[:k]
    return [(str(classes[i]), float(probs[i])) for i in order]
