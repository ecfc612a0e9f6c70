"""One rank of a distributed run, as torchrun or srun starts it (`python -m studio.distributed`).

Rank 0 reads the settings (a config.json, a run folder, or the run to resume) and hands them to
the other ranks, which may run on machines without the file. Rank 0 alone writes the run folder and
prints the epochs; the other ranks train silently. Ctrl+C in a terminal reaches every rank (the stop
flag any rank raises is seen by all); the window and the launcher stop a run through its control file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from studio.core.errors import StudioError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m studio.distributed",
                                description="One process of a distributed training run (start it with torchrun "
                                            "or srun; `cnn-studio train --nproc-per-node N` does it for you).")
    p.add_argument("config", nargs="?", help="the run's settings: a config.json or a run folder (read by rank 0)")
    p.add_argument("--run-dir", help="record into this run folder (made by the launcher); default: a new one")
    p.add_argument("--runs-dir", help="where rank 0 makes the new run folder (default: the studio's runs folder)")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its last checkpoint")
    p.add_argument("--epochs", type=int, help="with --resume: train up to this many epochs in all")
    p.add_argument("--device", help="cpu or cuda (default: the settings'; picks gloo or NCCL)")
    return p


def main(argv: list[str] | None = None) -> int:
    from studio.core.engine import distributed

    args = build_parser().parse_args(argv)
    local = _read_local_config(args)
    try:
        ctx = distributed.init_distributed(args.device or (local.device if local else "auto"),
                                           sync_bn=bool(local and local.sync_bn))
    except StudioError as exc:
        if os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0")) == "0":   # one message, not one per rank
            print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        trainer = _make_trainer(ctx, args)
    except StudioError as exc:
        if ctx.is_main:
            print(f"error: {exc}", file=sys.stderr)
        distributed.shutdown()
        return 1
    code = _fit(ctx, trainer)
    if code != 1:
        distributed.shutdown()   # with a rank gone, tearing down the group could wait on it: just exit
    return code


def _read_local_config(args):
    """This machine's copy of the settings, only to choose the device before the ranks can talk."""
    from studio.core.engine.resume import read_config_file as read_config

    source = args.config or args.run_dir
    try:
        return read_config(Path(source)) if source else None
    except StudioError:
        return None


def _make_trainer(ctx, args):
    """Rank 0 builds its Trainer from the files and sends its settings; the others build theirs from them."""
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer

    sent = None
    if ctx.is_main:
        try:
            trainer = _main_trainer(ctx, args)
            sent = ("config", trainer.config.to_dict())
        except StudioError as exc:
            sent = ("error", str(exc))
    kind, value = ctx.broadcast(sent)
    if kind == "error":
        raise StudioError(value)
    if ctx.is_main:
        return trainer
    return Trainer(TrainConfig.from_dict(value), record=False, resume=args.resume, dist=ctx)


def _main_trainer(ctx, args):
    from studio.core.engine.resume import read_config_file as read_config
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer
    from studio.core.engine.console import ConsoleLogger

    logger = ConsoleLogger()
    if args.resume:
        if not args.run_dir:
            raise StudioError("--resume needs --run-dir, the run to continue.")
        override = TrainConfig(epochs=args.epochs) if args.epochs else None
        trainer = Trainer(override, callbacks=[logger], run_dir=args.run_dir, resume=True, dist=ctx)
    else:
        source = args.config or args.run_dir
        if not source:
            raise StudioError("Give the run's settings: a config.json or a run folder.")
        config = read_config(Path(source))
        config.validate()
        trainer = Trainer(config, callbacks=[logger], run_dir=args.run_dir, runs_dir=args.runs_dir, dist=ctx)
        if args.run_dir:
            trainer._lock_run()   # the launcher made the folder; this process writes it, under its lock
    trainer.console = logger
    return trainer


def _fit(ctx, trainer) -> int:
    from studio.core.engine.console import fit_until_ctrl_c

    end, code = fit_until_ctrl_c(trainer, getattr(trainer, "console", None))
    if ctx.is_main:
        chosen = f" (epoch {end.best_epoch}, chosen on {end.selected_on})" if end.best_epoch else ""
        print(f"==> {end.status}: {end.reason.rstrip('.')}. Best test accuracy {100 * end.best_test_acc:.2f}%{chosen}. "
              f"Run folder: {trainer.run_dir}", flush=True)
    return code
