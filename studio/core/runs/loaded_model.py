"""A model ready for inspection or prediction, with what it needs to read pixels."""

from __future__ import annotations

import copy
import dataclasses
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


def private_copy(loaded: LoadedModel) -> LoadedModel:
    """A copy of a LoadedModel whose network no other user touches (their hooks stay theirs).

    Rebuilt from the zoo and the state dict when possible (cheap, no stray hooks); a model the
    zoo cannot rebuild is deep-copied with its hooks cleared.
    """
    from studio.core.errors import StudioError
    from studio.core.models import build_model

    try:
        model = build_model(loaded.model_name, tuple(loaded.input_shape), len(loaded.classes),
                            loaded.model_options or {})
        model.load_state_dict(loaded.model.state_dict())
    except (StudioError, RuntimeError, KeyError, TypeError):
        model = copy.deepcopy(loaded.model)
        for module in model.modules():
            module._forward_hooks.clear()
            module._forward_pre_hooks.clear()
            module._backward_hooks.clear()
    model.eval()
    return dataclasses.replace(loaded, model=model)
