"""Checking model options that come from the user (GUI fields, CLI flags, JSON configs).

Every check raises ModelError with a sentence that names the model, the option and what
is allowed, so a typo in a config file reads as a message, not as a traceback.
"""

from __future__ import annotations

import copy
from difflib import get_close_matches
from typing import Any

from studio.core.errors import ModelError


def merge_options(model: str, defaults: dict, options: dict | None) -> dict:
    """Defaults overlaid with the user's options; unknown names are an error."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ModelError(f"Options for {model} must be a mapping of name to value, not {type(options).__name__}.")
    unknown = [key for key in options if key not in defaults]
    if unknown:
        raise ModelError(_unknown_message(model, unknown, list(defaults)))
    # Deep copies: list-valued defaults (conv_channels) must not be shared with the spec or the caller.
    return copy.deepcopy({**defaults, **options})


def _unknown_message(model: str, unknown: list, known: list[str]) -> str:
    name = str(unknown[0])
    if not known:
        return f"{model} takes no options (got {', '.join(map(str, unknown))})."
    hint = get_close_matches(name, known, n=1)
    did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
    return f"Unknown option '{name}' for {model}; known options: {', '.join(known)}.{did_you_mean}"


def choice(model: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ModelError(f"Option '{key}' of {model} must be one of {', '.join(allowed)} (got {value!r}).")
    return value


def integer(model: str, key: str, value: Any, low: int, high: int) -> int:
    # bool is an int subclass: True as a kernel size is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelError(f"Option '{key}' of {model} must be a whole number from {low} to {high} (got {value!r}).")
    return value


def fraction(model: str, key: str, value: Any, low: float = 0.0, high: float = 1.0) -> float:
    """A probability-like number in [low, high)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < high:
        raise ModelError(f"Option '{key}' of {model} must be a number from {low} up to (not including) {high} "
                         f"(got {value!r}).")
    return float(value)


def flag(model: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ModelError(f"Option '{key}' of {model} must be true or false (got {value!r}).")
    return value


def int_list(model: str, key: str, value: Any, *, min_len: int, max_len: int, low: int, high: int) -> list[int]:
    """A list of whole numbers; "8,16" (as typed in a text field or on the command line) is accepted too."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        try:
            value = [int(p) for p in parts]
        except ValueError:
            raise ModelError(f"Option '{key}' of {model} must be whole numbers separated by commas "
                             f"(got {value!r}).") from None
    if not isinstance(value, (list, tuple)) or not min_len <= len(value) <= max_len:
        raise ModelError(f"Option '{key}' of {model} must be a list of {min_len} to {max_len} whole numbers "
                         f"(got {value!r}).")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= high:
            raise ModelError(f"Option '{key}' of {model}: every entry must be a whole number from {low} to {high} "
                             f"(got {item!r}).")
    return list(value)
