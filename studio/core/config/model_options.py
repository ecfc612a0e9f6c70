"""A model's options as text, `name=value, name=value`, the values in JSON where they parse.

The one reader of KEY=VALUE text: `train --option`, `summary --option` and the settings panel's
Options field all use it. Unknown names and bad values are the model registry's to report.
"""

from __future__ import annotations

import json
from typing import Any

from studio.core.errors import StudioError

_OPEN, _CLOSE = "[{(", "]})"


def parse_options(text: str) -> dict[str, Any]:
    """'activation=tanh, conv_channels=[8,16]' -> {'activation': 'tanh', 'conv_channels': [8, 16]}."""
    return dict(parse_option(part) for part in _split_top_level(text or "") if part.strip())


def parse_option(text: str) -> tuple[str, Any]:
    """'conv_channels=[8,16]' -> ('conv_channels', [8, 16]); a value that is not JSON stays text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise StudioError(f"a model option is NAME=VALUE, got '{text.strip()}'")
    try:
        return key.strip(), json.loads(raw.strip())
    except ValueError:
        return key.strip(), raw.strip()


def format_options(options: dict[str, Any] | None) -> str:
    """The inverse of parse_options: plain words stay bare (activation=tanh), the rest is JSON."""
    return ", ".join(f"{k}={v if _bare(v) else json.dumps(v)}" for k, v in (options or {}).items())


def _bare(value: Any) -> bool:
    """A string that parse_options reads back as itself without quotes."""
    if not isinstance(value, str) or value != value.strip() or any(ch in value for ch in ',"' + _OPEN + _CLOSE):
        return False
    try:
        json.loads(value)
    except ValueError:
        return True
    return False


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets and quotes, so [8, 16] and "a,b" stay whole."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch == '"':
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
