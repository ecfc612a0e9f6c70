"""The command line: `cnn-studio SUBCOMMAND ...`; with no arguments it opens the window.

Every subcommand drives studio.core only. Exit codes: 0 ok, 1 a problem with the user's
input (one clear line on stderr, no traceback), 2 bad usage (argparse). --json prints one
JSON document on stdout instead of the human-readable output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from studio import __version__
from studio.cli.diagnose import add_diagnose_parser
from studio.cli.export import add_export_commands
from studio.cli.common import HelpFormatter, _common, _epoch_argument, _fail, _plain_state_dict_arguments, _shape
from studio.cli.info import cmd_datasets, cmd_install_desktop, cmd_models, cmd_summary
from studio.cli.lectures import add_lecture_commands
from studio.cli.lr_find import add_lr_find_parser
from studio.cli.predict import add_cam_arguments, cmd_attack, cmd_eval, cmd_predict
from studio.cli.train import add_presets_parser, add_resume_parser, add_train_parser
from studio.core.errors import StudioError

_DIGIT_HELP = ("centre the digit by its mass in 20x20 inside 28x28, like MNIST (default: on for digit models, "
               "off for the others)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-studio", formatter_class=HelpFormatter,
                                     description="Train CNNs on images and see what they learn. "
                                     "Run without arguments to open the window.",
                                     epilog="examples:\n  cnn-studio train --dataset mnist-sample --epochs 5\n"
                                            "  cnn-studio COMMAND --help")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_train_parser(sub, _common)
    add_resume_parser(sub, _common)
    add_lr_find_parser(sub, _common)
    _add_eval(sub)
    _add_predict(sub)
    _add_attack(sub)
    _add_summary(sub)
    add_presets_parser(sub, _common)
    add_diagnose_parser(sub, _common)
    _add_listing(sub, "models", "list the models", cmd_models)
    _add_listing(sub, "datasets", "list the datasets", cmd_datasets)
    _add_listing(sub, "install-desktop", "add CNN Studio to this user's application menu", cmd_install_desktop)
    add_export_commands(sub)
    add_lecture_commands(sub)
    return parser


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint on a test split", formatter_class=HelpFormatter,
                       epilog="examples:\n  cnn-studio eval RUN_FOLDER/checkpoints/best.pt\n"
                              "  cnn-studio eval RUN_FOLDER --epoch 0")
    _common(p)
    p.add_argument("checkpoint", help="a run folder, a run's checkpoint (.pt) or a notebook's state dict")
    _epoch_argument(p)
    p.add_argument("--dataset", help="the test data (default: the dataset the checkpoint was trained on)")
    _plain_state_dict_arguments(p)
    p.add_argument("--batch-size", type=int, default=256, help="images per evaluation step (default: 256)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    p.set_defaults(func=cmd_eval)


def _add_predict(sub) -> None:
    p = sub.add_parser("predict", help="top-k predictions for image files", formatter_class=HelpFormatter,
                       epilog="examples:\n  cnn-studio predict RUN_FOLDER/checkpoints/best.pt photo.png digit.png\n"
                              "  cnn-studio predict RUN_FOLDER --epoch 3 digit.png")
    _common(p)
    p.add_argument("checkpoint", help="a run folder, a run's checkpoint (.pt) or a notebook's state dict")
    _epoch_argument(p)
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    _plain_state_dict_arguments(p)
    p.add_argument("--top-k", type=int, default=5, help="how many classes to list per image (default: 5)")
    p.add_argument("--digit", action=argparse.BooleanOptionalAction, default=None, help=_DIGIT_HELP)
    add_cam_arguments(p)
    p.set_defaults(func=cmd_predict)


def _add_attack(sub) -> None:
    p = sub.add_parser("attack", help="an adversarial example (FGSM): a tiny change that flips the answer",
                       formatter_class=HelpFormatter,
                       epilog="example:\n  cnn-studio attack RUN_FOLDER/checkpoints/best.pt horse.png --eps 0.01 "
                              "--out fooled.png")
    _common(p)
    p.add_argument("checkpoint", help="a run's checkpoint (.pt) or a notebook's state dict")
    p.add_argument("image", help="the image file to change")
    _plain_state_dict_arguments(p)
    p.add_argument("--eps", type=float, default=0.005,
                   help="largest change of any pixel, in 0..1 pixel units (default: 0.005, as in the augmentation "
                        "and adversarial-examples lecture)")
    p.add_argument("--steps", type=int, default=1, help="1: FGSM; more: the basic iterative method (default: 1)")
    p.add_argument("--target", metavar="CLASS", help="steer towards this class, by name or index (default: away "
                   "from the current answer)")
    p.add_argument("--top-k", type=int, default=5, help="how many classes to list (default: 5)")
    p.add_argument("--digit", action=argparse.BooleanOptionalAction, default=None, help=_DIGIT_HELP)
    p.add_argument("--out", metavar="FILE.png", help="save the adversarial image, what the network sees in 8 bits "
                   "(default: not saved)")
    p.set_defaults(func=cmd_attack)


def _add_summary(sub) -> None:
    p = sub.add_parser("summary", help="the layer table of a model (torchinfo)", formatter_class=HelpFormatter,
                       epilog="example:\n  cnn-studio summary configurable-cnn --input-size 3,32,32 "
                              "--option conv_channels=[8,16]")
    _common(p, folders=False)
    p.add_argument("model", help="a model name (see `cnn-studio models`)")
    p.add_argument("--input-size", type=_shape, help="C,H,W (default: the model's natural input)")
    p.add_argument("--classes", type=int, default=10, help="number of classes (default: 10)")
    p.add_argument("--batch-size", type=int, default=1, help="batch of the table's shapes (default: 1; the "
                   "architectures lecture uses 100)")
    p.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="model option, the value in JSON; repeat for several (default: the model's own)")
    p.set_defaults(func=cmd_summary)


def _add_listing(sub, name: str, help_text: str, func) -> None:
    p = sub.add_parser(name, help=help_text, formatter_class=HelpFormatter,
                       epilog=f"example:\n  cnn-studio {name}" + ("" if name == "install-desktop" else " --json"))
    _common(p, folders=False)
    p.set_defaults(func=func)


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
    except BrokenPipeError:
        return _reader_went_away()
    except argparse.ArgumentTypeError as exc:
        return _fail(args, str(exc), 2)
    except MemoryError:
        return _fail(args, "not enough memory for this (try a smaller model, batch or image).", 1)
    except RuntimeError as exc:  # the allocator's words ("DefaultCPUAllocator: can't allocate") become advice
        from studio.core.engine.guards import out_of_memory_message

        message = out_of_memory_message(exc, getattr(args, "batch_size", None) or 1)
        if message is None:
            raise
        return _fail(args, message, 1)
    except OSError as exc:  # the file system refused something the user pointed at (permissions, full disk)
        return _fail(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)


def _reader_went_away() -> int:
    """`cnn-studio ... | head`: the reader closed the pipe. Nothing more can be said on stdout; the
    interpreter's own flush at exit would fail again, so point stdout at nowhere (Python's advice)."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # what a shell reports for a process ended by SIGPIPE


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
