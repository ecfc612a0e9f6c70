"""A model ready for inspection or prediction, with what it needs to read pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class LoadedModel:
    """A model ready for inspection or prediction, with what it needs to read pixels."""

    model: torch.nn.Module
    model_name: str
    model_options: dict
    classes: list[str]
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    epoch: int = 0
    source: str = ""
    checkpoint: dict = field(default_factory=dict, repr=False)
