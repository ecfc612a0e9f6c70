"""The command line: `cnn-studio SUBCOMMAND ...`; with no arguments it opens the window.

Every subcommand drives studio.core only. Exit codes: 0 ok, 1 a problem with the user's
input (one clear line on stderr, no traceback), 2 bad usage (argparse). --json prints one
JSON document on stdout instead of the human-readable output.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from studio.core.errors import StudioError
from studio.cli.common import _common, _fail, _plain_state_dict_arguments, _shape
from studio.cli.info import cmd_datasets, cmd_install_desktop, cmd_models, cmd_summary
from studio.cli.lectures import add_lecture_commands
from studio.cli.predict import cmd_attack, cmd_eval, cmd_predict
from studio.cli.train import _train_arguments, cmd_presets, cmd_resume, cmd_train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-studio", description="Train CNNs on images and see what they learn. "
                                     "Run without arguments to open the window.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a model and record the run")
    _common(p)
    p.add_argument("--preset", help="a lecture's recipe (see `cnn-studio presets`); options given too override it")
    _train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("resume", help="continue a stopped run from its last checkpoint")
    _common(p)
    p.add_argument("run", help="the run folder")
    p.add_argument("--epochs", type=int, help="train up to this many epochs in all (default: the run's)")
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("eval", help="evaluate a checkpoint on a test split")
    _common(p)
    p.add_argument("checkpoint")
    p.add_argument("--dataset", help="default: the dataset the checkpoint was trained on")
    _plain_state_dict_arguments(p)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("predict", help="top-k predictions for image files")
    _common(p)
    p.add_argument("checkpoint")
    p.add_argument("images", nargs="+")
    _plain_state_dict_arguments(p)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--digit", action=argparse.BooleanOptionalAction, default=None,
                   help="centre the digit by its mass in 20x20 inside 28x28, like MNIST (default: for digit models)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("attack", help="an adversarial example (FGSM, seed 001): a tiny change that flips the answer")
    _common(p)
    p.add_argument("checkpoint")
    p.add_argument("image")
    _plain_state_dict_arguments(p)
    p.add_argument("--eps", type=float, default=0.005,
                   help="largest change of any pixel, in 0..1 pixel units (default 0.005, as in seed 001)")
    p.add_argument("--steps", type=int, default=1, help="1: FGSM; more: the basic iterative method")
    p.add_argument("--target", metavar="CLASS", help="steer towards this class (name or index); default: away "
                   "from the current answer")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--digit", action=argparse.BooleanOptionalAction, default=None,
                   help="centre the digit by its mass in 20x20 inside 28x28, like MNIST (default: for digit models)")
    p.add_argument("--out", metavar="FILE.png", help="save the adversarial image (what the network sees, 8-bit)")
    p.set_defaults(func=cmd_attack)

    p = sub.add_parser("summary", help="the layer table of a model (torchinfo)")
    _common(p)
    p.add_argument("model")
    p.add_argument("--input-size", type=_shape, help="C,H,W (default: the model's natural input)")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=1, help="batch of the table's shapes (seed 002 uses 100)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option, JSON value")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("presets", help="list the lectures' training recipes")
    _common(p)
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("models", help="list the models")
    _common(p)
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("datasets", help="list the datasets")
    _common(p)
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("install-desktop", help="add CNN Studio to this user's application menu")
    _common(p)
    p.set_defaults(func=cmd_install_desktop)
    add_lecture_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        from studio.gui.app import run

        return run()
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except StudioError as exc:
        return _fail(args, str(exc), 1)
    except argparse.ArgumentTypeError as exc:
        return _fail(args, str(exc), 2)
    except MemoryError:
        return _fail(args, "not enough memory for this (try a smaller model, batch or image).", 1)
    except OSError as exc:  # the file system refused something the user pointed at (permissions, full disk)
        return _fail(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)


def _tolerant_streams() -> None:
    """File names that are not valid UTF-8 reach Python as surrogates; a strict UTF-8 stdout (a
    UTF-8 locale, PYTHONIOENCODING) cannot print them. Escape them instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change (closed, detached): leave it
                pass
