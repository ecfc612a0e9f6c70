"""The text `print(model)` shows, as the lectures' notebooks printed it.

Recent torch versions add `bias=True` to a BatchNorm layer's line ("affine=True, bias=True,
track_running_stats=True"); the notebooks were run before that and print without it. The text
here drops that one addition, so a student can put it beside the notebook line for line.
"""

from __future__ import annotations

import re

from torch import nn

_BN_BIAS = re.compile(r"(BatchNorm\dd\([^)]*affine=True), bias=True")


def lecture_repr(module: nn.Module) -> str:
    """`print(module)`'s text in the lectures' torch format (see the module docstring)."""
    return _BN_BIAS.sub(r"\1", repr(module))


def model_text(name: str, input_shape=(3, 32, 32), num_classes: int = 10, options: dict | None = None) -> str:
    """`print(model)` for a registered model built for `input_shape` (C, H, W); no weights are allocated."""
    import torch

    from studio.core.models import build_model

    with torch.device("meta"):
        model = build_model(name, tuple(input_shape), num_classes, options)
    return lecture_repr(model)
