"""Evaluate a model on a split: loss, accuracy, confusion matrix and every prediction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.inspect.metrics import confusion_matrix


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    confusion: np.ndarray        # K x K, rows = true class
    y_true: np.ndarray           # (N,) int64
    y_pred: np.ndarray           # (N,) int64
    probs: np.ndarray            # (N, K) float32 softmax probabilities
    cancelled: bool = False


def evaluate(model: torch.nn.Module, split, input_shape, mean, std, *, batch_size: int = 256,
             device: str | torch.device = "cpu", progress: Callable[[int, int], None] | None = None,
             should_stop: Callable[[], bool] | None = None, num_classes: int | None = None,
             channels_last: bool = False) -> EvalResult:
    """Run the whole split once in eval mode; images are read in order, never augmented."""
    from studio.core.data.batches import BatchLoader

    loader = BatchLoader(split, batch_size, shuffle=False, input_shape=input_shape, mean=mean, std=std,
                         device=device, channels_last=channels_last)
    was_training = model.training
    model.eval()
    losses, preds, probs = [], [], []
    cancelled = False
    try:
        with torch.inference_mode():
            for i, (x, y) in enumerate(loader):
                if should_stop and should_stop():
                    cancelled = True
                    break
                logits = model(x).float()
                losses.append(F.cross_entropy(logits, y, reduction="sum").item())
                p = torch.softmax(logits, dim=1)
                probs.append(p.cpu().numpy())
                preds.append(p.argmax(dim=1).cpu().numpy())
                if progress:
                    progress(i + 1, len(loader))
    finally:
        model.train(was_training)
    seen = sum(len(p) for p in preds)
    y_true = split.labels[:seen].numpy().astype(np.int64)
    y_pred = np.concatenate(preds).astype(np.int64) if preds else np.zeros(0, np.int64)
    k = num_classes or (probs[0].shape[1] if probs else 0)
    cm = confusion_matrix(y_true, y_pred, k)
    return EvalResult(loss=sum(losses) / max(seen, 1), accuracy=float((y_true == y_pred).mean()) if seen else 0.0,
                      confusion=cm, y_true=y_true, y_pred=y_pred,
                      probs=np.concatenate(probs).astype(np.float32) if probs else np.zeros((0, k), np.float32),
                      cancelled=cancelled)
