"""What every subcommand shares: common options, model loading, JSON output, errors."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any


class HelpFormatter(argparse.HelpFormatter):
    """Keeps the line breaks of the examples (epilogs); wraps one-paragraph text as usual."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _common(p: argparse.ArgumentParser, folders: bool = True) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout (default: text)")
    if folders:
        p.add_argument("--runs-dir", help="folder of run folders (default: the per-user runs folder)")
        p.add_argument("--data-dir", help="dataset and download cache (default: the per-user data folder)")


def _model_options(values: list[str] | None) -> dict[str, Any]:
    """Repeated --option KEY=VALUE, read by the one KEY=VALUE reader."""
    from studio.core.config.model_options import parse_option
    from studio.core.errors import StudioError

    options: dict[str, Any] = {}
    for item in values or []:
        try:
            key, value = parse_option(item)
        except StudioError:
            raise argparse.ArgumentTypeError(f"--option takes KEY=VALUE, got '{item}'") from None
        options[key] = value
    return options


def _shape(text: str) -> tuple[int, int, int]:
    try:
        parts = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected C,H,W like 3,32,32, got '{text}'")
    return parts


def _plain_state_dict_arguments(p: argparse.ArgumentParser) -> None:
    """A notebook's bare state dict knows neither its architecture, its classes nor its normalisation."""
    from studio.core.normalization import FIXED

    p.add_argument("--model", help="architecture of a plain state dict, e.g. cifar-cnn (default: the one the "
                   "checkpoint names)")
    p.add_argument("--classes", help="class names of a plain state dict, comma-separated "
                   "(default: CIFAR-10's for the lectures' CIFAR models, ImageNet's for 1000 classes, else 0..K-1)")
    p.add_argument("--normalize", choices=tuple(FIXED), help="normalisation a plain state dict was trained with "
                   "(default: seed001 for cifar-cnn, imagenet for torchvision models, else half)")


def _load_model(args: argparse.Namespace):
    from studio.core.normalization import FIXED
    from studio.core.runs import load_checkpoint

    if getattr(args, "epoch", None) is not None:
        return _load_epoch(args.checkpoint, args.epoch)
    classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
    mean, std = FIXED[args.normalize] if args.normalize else (None, None)
    from studio.core.runs.sources import resolve_checkpoint

    return load_checkpoint(resolve_checkpoint(args.checkpoint), model_name=args.model, classes=classes, mean=mean,
                           std=std)


def _epoch_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epoch", type=int, metavar="N", help="the run's weights after epoch N (0: the random start), "
                   "from its snapshots; CHECKPOINT is then the run folder (default: the run's best checkpoint)")


def _load_epoch(name: str, epoch: int):
    from studio.core.errors import StudioError
    from studio.core.runs.snapshots import load_epoch_model, run_folder_of

    if epoch < 0:
        raise StudioError(f"--epoch must be 0 or more, got {epoch}.")
    folder = run_folder_of(name)
    if folder is None:
        raise StudioError(f"--epoch needs a run folder (or a checkpoint inside one); {name} is not one.")
    return load_epoch_model(folder, epoch)


def _emit_json(doc: Any) -> None:
    # Strict JSON: NaN/Infinity (a model with NaN weights predicts NaN) become null, which every parser reads.
    print(json.dumps(_strict(json.loads(json.dumps(doc, default=_plain))), indent=2, allow_nan=False))


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """One line on stderr; with --json also the one JSON document stdout promises, naming the error."""
    print(f"error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        _emit_json({"error": message, "exit_code": code})
    return code
