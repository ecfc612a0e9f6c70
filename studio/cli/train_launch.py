"""`train --nproc-per-node N` and `resume` of such a run: torchrun on this machine (or one of several).

The options of torchrun that place the run pass through (--nnodes, --node-rank, --rdzv-endpoint,
--master-addr, --master-port); core/engine/distributed_launch.py starts and settles it.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from studio.cli.common import _emit_json
from studio.core.engine.console import INTERRUPTED
from studio.core.errors import StudioError


def add_launch_options(p: argparse.ArgumentParser, run_dir: bool = True) -> None:
    g = p.add_argument_group("distributed runs (torchrun; --nproc-per-node sets the processes per machine)")
    g.add_argument("--nnodes", type=int, default=1, help="machines taking part (default: 1)")
    g.add_argument("--node-rank", type=int, default=0, help="this machine's number, 0 for the first "
                   "(with --master-addr; default: 0)")
    g.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="rendezvous of the machines (torchrun's c10d; "
                   "instead of --master-addr/--master-port; default: none)")
    g.add_argument("--master-addr", help="the first machine's address (default: this machine)")
    g.add_argument("--master-port", type=int, help="a free port on the first machine (default: 29500)")
    if run_dir:
        g.add_argument("--run-dir", help="record the distributed run into this new run folder, already made "
                       "with its config.json (what the window does; default: a new folder in the runs folder)")


def _distributed(config, args) -> bool:
    from studio.core.engine.distributed import in_distributed_env

    wanted = config.processes > 1 or getattr(args, "nnodes", 1) > 1
    return wanted and not in_distributed_env()


def _saved_config(run: Path):
    from studio.core.engine.resume import read_config_file

    try:
        return read_config_file(run)
    except StudioError:
        return None   # the single-process path says what is wrong with the folder


def run_distributed(config, args: argparse.Namespace, resume: bool = False) -> int:
    from studio.core.engine import distributed_launch as launch

    if args.nnodes < 1 or config.processes < 1:
        raise StudioError("--nnodes and --nproc-per-node must be at least 1.")
    if config.sync_bn and args.nnodes == 1:
        from studio.core.engine.devices import resolve_device
        from studio.core.engine.distributed import SYNC_BN_NEEDS_CUDA

        if resolve_device(config.device).type != "cuda":
            raise StudioError(SYNC_BN_NEEDS_CUDA)   # before any process starts
    plan = launch.LaunchPlan(config.processes, args.nnodes, args.node_rank, args.rdzv_endpoint, args.master_addr,
                             args.master_port)
    stdout = sys.stderr if args.json else None   # stdout stays one JSON document
    if resume:
        run_dir = Path(args.run)
        worker = launch.worker_args(run_dir, resume=True, epochs=args.epochs)
    elif plan.one_machine:
        run_dir = Path(args.run_dir) if getattr(args, "run_dir", None) else launch.new_run(config, args.runs_dir)
        worker = launch.worker_args(run_dir)
    else:   # several machines: rank 0's machine makes the folder; this one may not hold rank 0
        run_dir = None
        handle = tempfile.NamedTemporaryFile("w", suffix="-config.json", delete=False, encoding="utf-8")
        with handle:
            handle.write(json.dumps(config.to_dict()))
        worker = launch.worker_args(None, config_file=Path(handle.name), runs_dir=args.runs_dir)
    try:
        code, status, interrupted = launch.run(plan, worker, run_dir, stdout=stdout)
    finally:
        if run_dir is None:
            Path(handle.name).unlink(missing_ok=True)
    return _report(args, run_dir, code, status, interrupted)


def _report(args, run_dir: Path | None, code: int, status: dict, interrupted: bool) -> int:
    state = status.get("status", "done" if code == 0 else "failed")
    exit_code = 1 if state == "failed" or (code and state != "stopped") else (
        INTERRUPTED if interrupted and state == "stopped" else 0)
    if args.json:
        _emit_json({"run_dir": str(run_dir) if run_dir else None, "status": state, "reason": status.get("reason", ""),
                    "epochs_done": status.get("epochs_done"), "best_test_acc": status.get("best_test_acc"),
                    "epochs": _epochs(run_dir), "exit_code": exit_code})
    elif state == "failed":
        print(f"error: {status.get('reason') or f'torchrun ended with exit code {code}'}", file=sys.stderr)
    return exit_code


def _epochs(run_dir: Path | None) -> list[dict]:
    """The epoch lines of `train --json`, from the run folder (the launcher saw no events)."""
    from studio.core.runs import epoch_records

    keys = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc", "epoch_time",
            "images_per_sec", "lr", "best_epoch", "selected_on")
    if run_dir is None or not run_dir.is_dir():
        return []
    return [{k: r.get(k) for k in keys} for r in epoch_records(run_dir)]
