"""`train`'s options, generated from the field table (studio.core.config.fields).

Every option's parser default is argparse.SUPPRESS, so the namespace holds exactly what the user
typed: a value equal to the default still counts, and overrides a preset or a --config file.
"""
from __future__ import annotations

import argparse
from typing import Any

from studio.cli.common import _model_options
from studio.core.config.fields import FIELDS, GROUPS, Field, set_value
from studio.core.config.train_config import TrainConfig


def add_train_options(parser: argparse.ArgumentParser) -> None:
    groups = {key: parser.add_argument_group(title.split(" (")[0].lower()) for key, title in GROUPS.items()}
    for f in FIELDS:
        if f.option:
            groups[f.group].add_argument(f.option, dest=f.dest, default=argparse.SUPPRESS, help=_help(f),
                                         **_how(f))


def typed_settings(args: argparse.Namespace) -> dict[str, Any]:
    """{field name: value} for every training option on the command line, defaults never included."""
    typed = {f.name: getattr(args, f.dest) for f in FIELDS if f.option and hasattr(args, f.dest)}
    if "model_options" in typed:
        typed["model_options"] = _model_options(typed["model_options"])
    return typed


def apply_typed(config: TrainConfig, typed: dict[str, Any]) -> TrainConfig:
    for name, value in typed.items():
        set_value(config, name, value)
    return config


def _how(f: Field) -> dict[str, Any]:
    if f.kind is bool:
        return {"action": argparse.BooleanOptionalAction}
    if f.kind is dict:
        return {"action": "append", "metavar": f.metavar}
    how: dict[str, Any] = {"type": f.kind, "metavar": f.metavar or f.key.upper()}
    if f.choices:
        how.update(choices=f.choices, metavar=None)
    return how


def _help(f: Field) -> str:
    default = f.default()
    if f.kind is bool:
        shown = "on" if default else "off"
    elif f.kind is dict:
        shown = "the model's own"
    else:
        shown = default
    return f"{f.help} (default: {shown})".replace("%", "%%")
