"""Lesion experiments: switch off filters of a conv layer and measure what the network loses.

A filter is switched off by zeroing its weights and its bias, so its output channel is 0 for
every input (a BatchNorm after it then outputs its constant shift: the channel carries no
information about the image either way). The change is made in place and undone on leaving
`switched_off`, so the functions here take a model that nobody else uses at the same time: a
private copy (studio.core.runs.loaded_model.private_copy); the
user's model is never touched.

Accuracy is measured on a fixed set of labelled, already prepared images (N, C, H, W) in
batches under torch.inference_mode: ranking the 6 filters of LeNet-5's first layer on the
500 test digits of mnist-sample is 7 passes over them (bench/lesion_speed.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.inspect._common import eval_mode, model_device, resolve_module

BATCH = 500


@dataclass
class Accuracy:
    """How many of each class the model gets right."""

    per_class: np.ndarray          # (K,) fraction right per true class; nan for a class with no images
    counts: np.ndarray             # (K,) images per class
    overall: float
    predictions: np.ndarray        # (N,) predicted class per image
    cancelled: bool = False


@dataclass
class FilterRank:
    filter: int
    accuracy: float                # overall accuracy with this filter switched off
    drop: float                    # baseline accuracy minus that


@dataclass
class Ranking:
    layer: str
    baseline: float
    ranks: list[FilterRank] = field(default_factory=list)   # largest drop first
    cancelled: bool = False


@dataclass
class ImageChange:
    """One picture's answer and explanation with and without the lesion (the same class is explained)."""

    before: list[tuple[str, float]]
    after: list[tuple[str, float]]
    before_cam: np.ndarray | None
    after_cam: np.ndarray | None
    explained: str                 # the class both maps explain: the unlesioned model's answer
    cam_note: str = ""


def conv_layer(model: nn.Module, layer: str) -> nn.Conv2d:
    module = resolve_module(model, layer)
    if not isinstance(module, nn.Conv2d):
        raise ModelError(f"Layer {layer!r} is a {type(module).__name__}, not a convolution: it has no filters "
                         "to switch off.")
    return module


def filter_count(model: nn.Module, layer: str) -> int:
    return int(conv_layer(model, layer).out_channels)


def _checked_filters(conv: nn.Conv2d, layer: str, filters: Sequence[int]) -> list[int]:
    chosen = sorted({int(f) for f in filters})
    bad = [f for f in chosen if not 0 <= f < conv.out_channels]
    if bad:
        raise ModelError(f"Layer {layer!r} has filters 0 to {conv.out_channels - 1}; there is no filter {bad[0]}.")
    return chosen


@contextmanager
def switched_off(model: nn.Module, layer: str, filters: Sequence[int]) -> Iterator[nn.Module]:
    """The model with these output channels of conv `layer` zeroed; the weights come back afterwards."""
    conv = conv_layer(model, layer)
    chosen = _checked_filters(conv, layer, filters)
    index = torch.tensor(chosen, dtype=torch.long, device=conv.weight.device)
    with torch.no_grad():
        weight = conv.weight[index].clone()
        bias = conv.bias[index].clone() if conv.bias is not None else None
        conv.weight[index] = 0
        if bias is not None:
            conv.bias[index] = 0
    try:
        yield model
    finally:
        with torch.no_grad():
            conv.weight[index] = weight
            if bias is not None:
                conv.bias[index] = bias


def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, num_classes: int, *,
             batch_size: int = BATCH, should_stop: Callable[[], bool] | None = None) -> Accuracy:
    """Per-class and overall accuracy on prepared images (float N x C x H x W) and labels (N,)."""
    device = model_device(model)
    predictions: list[torch.Tensor] = []
    cancelled = False
    with eval_mode(model), torch.inference_mode():
        for start in range(0, len(images), batch_size):
            if should_stop is not None and should_stop():
                cancelled = True
                break
            batch = images[start:start + batch_size].to(device)
            predictions.append(model(batch).argmax(dim=1).cpu())
    predicted = torch.cat(predictions).numpy() if predictions else np.zeros(0, np.int64)
    truth = labels[:len(predicted)].cpu().numpy()
    counts = np.bincount(truth, minlength=num_classes)[:num_classes]
    right = np.bincount(truth[predicted == truth], minlength=num_classes)[:num_classes]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(counts > 0, right / np.maximum(counts, 1), np.nan)
    overall = float((predicted == truth).mean()) if len(truth) else float("nan")
    return Accuracy(per_class=per_class, counts=counts, overall=overall, predictions=predicted, cancelled=cancelled)


def compare(model: nn.Module, layer: str, filters: Sequence[int], images: torch.Tensor, labels: torch.Tensor,
            num_classes: int, should_stop: Callable[[], bool] | None = None) -> tuple[Accuracy, Accuracy]:
    """(without the lesion, with it) on the same images."""
    before = accuracy(model, images, labels, num_classes, should_stop=should_stop)
    with switched_off(model, layer, filters):
        after = accuracy(model, images, labels, num_classes, should_stop=should_stop)
    return before, after


def rank_filters(model: nn.Module, layer: str, images: torch.Tensor, labels: torch.Tensor, num_classes: int, *,
                 progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> Ranking:
    """Every filter of `layer` switched off alone: the accuracy drop it causes, largest first.

    A cancelled ranking keeps the filters measured so far (cancelled=True).
    """
    count = filter_count(model, layer)
    baseline = accuracy(model, images, labels, num_classes, should_stop=should_stop)
    ranking = Ranking(layer=layer, baseline=baseline.overall, cancelled=baseline.cancelled)
    if progress is not None:
        progress(1, count + 1)
    for f in range(count):
        if ranking.cancelled or (should_stop is not None and should_stop()):
            ranking.cancelled = True
            break
        with switched_off(model, layer, [f]):
            result = accuracy(model, images, labels, num_classes, should_stop=should_stop)
        if result.cancelled:
            ranking.cancelled = True
            break
        ranking.ranks.append(FilterRank(filter=f, accuracy=result.overall, drop=baseline.overall - result.overall))
        if progress is not None:
            progress(f + 2, count + 1)
    ranking.ranks.sort(key=lambda r: (-r.drop, r.filter))
    return ranking


def image_change(loaded, x: torch.Tensor, layer: str, filters: Sequence[int], *, method: str = "gradcam",
                 cam_layer: str | None = None, k: int = 3) -> ImageChange:
    """Top-k and the saliency map of one prepared input (1, C, H, W), without and with the lesion.

    `loaded.model` is lesioned in place for the second pass (pass a private copy). Both maps explain
    the class the intact model answers, so they show where its evidence went.
    """
    from studio.core.inspect.pipeline import explanation
    from studio.core.inspect.predict import probabilities, rank_probabilities

    probs = np.asarray(probabilities(loaded.model, x))[0]
    target = int(np.argmax(probs))
    before_cam, note = explanation(loaded, x, target, method, cam_layer)
    with switched_off(loaded.model, layer, filters):
        after_probs = np.asarray(probabilities(loaded.model, x))[0]
        after_cam, _ = explanation(loaded, x, target, method, cam_layer)
    return ImageChange(before=rank_probabilities(probs, loaded.classes, k),
                       after=rank_probabilities(after_probs, loaded.classes, k),
                       before_cam=before_cam, after_cam=after_cam, explained=str(loaded.classes[target]),
                       cam_note=note)
