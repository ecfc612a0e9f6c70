"""The hardest examples: the held-out images the model gets most wrong (fastai's plot_top_losses).

An image's loss is the cross-entropy of its true class, -log p(true), from the probabilities an
evaluation kept (core/engine/evaluate.EvalResult or anything with y_true, y_pred and probs). The
ranking is cheap numpy and can be redone for every filter; Grad-CAM, the costly part, is computed
for the few images on screen only. No Qt, no data loading: the caller evaluates, this ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

_FLOOR = 1e-12   # p(true) of 0 in float32: a finite, very large loss rather than inf


@dataclass(frozen=True)
class HardExample:
    index: int          # the image's position in the evaluated split
    true: int
    pred: int
    loss: float         # -log p(true)
    confidence: float   # p(pred): how sure the model was of its answer
    p_true: float       # p(true)

    @property
    def wrong(self) -> bool:
        return self.true != self.pred


def image_losses(result) -> np.ndarray:
    """(N,) cross-entropy of each image's true class."""
    probs = np.asarray(result.probs, dtype=np.float64)
    y_true = np.asarray(result.y_true, dtype=np.int64)
    if len(y_true) == 0:
        return np.zeros(0)
    return -np.log(np.clip(probs[np.arange(len(y_true)), y_true], _FLOOR, 1.0))


def rank_hardest(result, *, true_class: int | None = None, pred_class: int | None = None,
                 mistakes_only: bool = False, limit: int | None = None,
                 losses: np.ndarray | None = None) -> list[HardExample]:
    """Images by loss, highest first (ties: the earlier image first), filtered by true and predicted class.

    `losses` may be passed when already computed (image_losses), so refiltering costs no log.
    """
    y_true = np.asarray(result.y_true, dtype=np.int64)
    y_pred = np.asarray(result.y_pred, dtype=np.int64)
    probs = np.asarray(result.probs)
    losses = image_losses(result) if losses is None else np.asarray(losses)
    keep = np.ones(len(y_true), dtype=bool)
    if true_class is not None:
        keep &= y_true == true_class
    if pred_class is not None:
        keep &= y_pred == pred_class
    if mistakes_only:
        keep &= y_true != y_pred
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(-losses[idx], kind="stable")]
    if limit is not None:
        idx = idx[:max(0, int(limit))]
    return [HardExample(index=int(i), true=int(y_true[i]), pred=int(y_pred[i]), loss=float(losses[i]),
                        confidence=float(probs[i, y_pred[i]]), p_true=float(probs[i, y_true[i]])) for i in idx]


def grad_cams(loaded, images: torch.Tensor, classes: Sequence[int], *,
              progress: Callable[[int, int], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> list[np.ndarray | None]:
    """Grad-CAM (H, W, 0..1, at the model's input size) of each uint8 image (N, C, H, W) for the class
    given beside it (the predicted one: what made the model say so). None where Grad-CAM cannot be
    computed for this model, or after a stop."""
    from studio.core.errors import StudioError
    from studio.core.inspect.saliency import grad_cam
    from studio.core.pixels import prepare_batch

    cams: list[np.ndarray | None] = []
    for i, cls in enumerate(classes):
        if should_stop and should_stop():
            cams += [None] * (len(classes) - i)
            break
        x = prepare_batch(images[i:i + 1], loaded.input_shape, loaded.mean, loaded.std)
        try:
            cams.append(np.asarray(grad_cam(loaded.model, x, class_idx=int(cls)), dtype=np.float32))
        except (StudioError, RuntimeError, ValueError, TypeError):
            cams.append(None)
        if progress:
            progress(i + 1, len(classes))
    return cams
