"""`train`, `resume` and `presets`: options become a TrainConfig and a Trainer runs it.

A run's settings are layered: the studio's defaults, or a lecture's recipe (--preset), or an
earlier run's config.json (--config); then every training option the user typed, whatever its
value. Ctrl+C stops between batches, saves the run as stopped and exits 130.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli.common import HelpFormatter, _emit_json
from studio.cli.diagnose import print_findings
from studio.cli.train_launch import _distributed, _saved_config, add_launch_options, run_distributed
from studio.cli.train_options import add_train_options, apply_typed, typed_settings
from studio.core.errors import StudioError


def add_train_parser(sub, common) -> None:
    p = sub.add_parser("train", help="train a model and record the run", formatter_class=HelpFormatter,
                       description="Train a model and record the run in a run folder (config, metrics, "
                                   "checkpoints). Ctrl+C stops after the current batch and saves the run.",
                       epilog="examples:\n"
                              "  cnn-studio train --dataset mnist-sample --model lenet5 --epochs 5\n"
                              "  cnn-studio train --preset seed000-alexnet --dataset cifar10-sample --epochs 5\n"
                              "  cnn-studio train --config RUN_FOLDER --lr 0.01   # repeat a run, one change\n"
                              "  cnn-studio train --dataset mnist-sample --nproc-per-node 2   # 2 processes (torchrun, DDP)")
    common(p)
    start = p.add_mutually_exclusive_group()
    start.add_argument("--preset", help="start from a lecture's recipe (see `cnn-studio presets`); the options "
                       "you type override it (default: the studio's defaults)")
    start.add_argument("--config", metavar="RUN/config.json", help="start from an earlier run's settings (its "
                       "config.json or its folder); the options you type override them (default: none)")
    add_train_options(p)
    add_launch_options(p)
    p.set_defaults(func=cmd_train)


def add_resume_parser(sub, common) -> None:
    p = sub.add_parser("resume", help="continue a stopped run from its last checkpoint", formatter_class=HelpFormatter,
                       epilog="example:\n  cnn-studio resume RUN_FOLDER --epochs 10")
    common(p)
    p.add_argument("run", help="the run folder")
    p.add_argument("--epochs", type=int, help="train up to this many epochs in all (default: the run's)")
    add_launch_options(p, run_dir=False)
    p.set_defaults(func=cmd_resume)


def add_presets_parser(sub, common) -> None:
    p = sub.add_parser("presets", help="list the lectures' training recipes", formatter_class=HelpFormatter,
                       epilog="example:\n  cnn-studio presets --json")
    common(p, folders=False)
    p.set_defaults(func=cmd_presets)


def config_from_args(args: argparse.Namespace):
    """The TrainConfig the options ask for: a preset or earlier run's settings, the typed options on top."""
    config = apply_typed(_starting_config(args), typed_settings(args))
    if args.data_dir:
        config.data_dir = args.data_dir
    config.validate()
    return config


def cmd_train(args: argparse.Namespace) -> int:
    from studio.core.engine import Trainer

    config = config_from_args(args)
    if _distributed(config, args):
        return run_distributed(config, args)
    if getattr(args, "run_dir", None):
        raise StudioError("--run-dir is for distributed runs (--nproc-per-node above 1); a run in this process "
                          "makes its own folder in --runs-dir.")
    return _run_trainer(lambda callbacks: Trainer(config, callbacks=callbacks, runs_dir=args.runs_dir), args)


def _starting_config(args: argparse.Namespace):
    from studio.core.config.presets import get_preset
    from studio.core.config.train_config import TrainConfig

    if args.preset:
        return get_preset(args.preset).apply(TrainConfig())
    if args.config:
        return read_config(Path(args.config))
    return TrainConfig()


def read_config(path: Path):
    """A run's settings from its config.json (or its folder), with a clear message when unreadable."""
    from studio.core.engine.resume import read_config_file

    return read_config_file(path)


def cmd_presets(args: argparse.Namespace) -> int:
    from studio.core.config.presets import PRESETS

    if args.json:
        _emit_json([{"name": p.name, "title": p.title, "source": p.source,
                     "settings": p.apply().to_dict()} for p in PRESETS])
        return 0
    for p in PRESETS:
        print(f"{p.name:22} {p.title}\n{'':22} {p.source}")
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer

    if args.epochs is not None and args.epochs < 1:
        raise StudioError(f"--epochs must be at least 1 (the run's total, including the epochs done), got {args.epochs}.")
    override = TrainConfig(epochs=args.epochs) if args.epochs else None
    saved = _saved_config(Path(args.run))
    if saved is not None and _distributed(saved, args):
        return run_distributed(saved, args, resume=True)
    return _run_trainer(lambda callbacks: Trainer(override, callbacks=callbacks, run_dir=args.run, resume=True), args)


def _run_trainer(make_trainer, args: argparse.Namespace) -> int:
    from studio.core.engine.console import ConsoleLogger, fit_until_ctrl_c

    logger = ConsoleLogger(quiet=args.json)
    trainer = make_trainer([logger])
    end, code = fit_until_ctrl_c(trainer, logger)
    diagnosis = getattr(getattr(trainer, "health", None), "findings", [])   # core/diagnosis, live in the trainer
    if args.json:
        _emit_json({"run_dir": str(trainer.run_dir) if trainer.run_dir else None, "status": end.status,
                    "reason": end.reason, "epochs_done": end.epochs_done, "best_test_acc": end.best_test_acc,
                    "best_epoch": end.best_epoch, "best_val_acc": end.best_val_acc, "selected_on": end.selected_on,
                    "elapsed": end.elapsed, "epochs": logger.epochs, "skipped": logger.skipped,
                    "diagnosis": diagnosis, "exit_code": code})
    else:
        chosen = f" (epoch {end.best_epoch}, chosen on {end.selected_on})" if end.best_epoch else ""
        print(f"==> {end.status}: {end.reason.rstrip('.')}. Best test accuracy {100 * end.best_test_acc:.2f}%{chosen}. "
              f"Run folder: {trainer.run_dir}")
        print_findings(diagnosis)
    if end.status == "failed":
        print(f"error: {end.reason}", file=sys.stderr)
    return code
