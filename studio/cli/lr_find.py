"""`lr-find`: the learning-rate range test for the run `train` would start with the same options.

Nothing is recorded: no run folder, no checkpoint. Ctrl+C stops after the current step and
exits 130 (a second Ctrl+C stops at once).
"""
from __future__ import annotations

import argparse
import signal
import sys

from studio.cli.common import HelpFormatter, _emit_json
from studio.cli.train_options import add_train_options
from studio.core.engine.console import INTERRUPTED
from studio.core.errors import StudioError

TABLE_ROWS = 12


def add_lr_find_parser(sub, common) -> None:
    from studio.core.engine.lr_finder import END_LR, NUM_ITER, START_LR

    p = sub.add_parser("lr-find", help="find a learning rate: a short run with the LR growing (Smith's range test)",
                       formatter_class=HelpFormatter,
                       description="Train a few hundred steps with the learning rate growing exponentially and "
                                   "suggest the LR where the smoothed loss falls fastest (fastai's lr_find). Takes "
                                   "train's options; writes no run folder.",
                       epilog="examples:\n"
                              "  cnn-studio lr-find --dataset mnist-sample --model lenet5\n"
                              "  cnn-studio lr-find --dataset cifar10-sample --model cifar-cnn --optimizer sgd "
                              "--plot lr.png")
    common(p)
    start = p.add_mutually_exclusive_group()
    start.add_argument("--preset", help="start from a lecture's recipe (see `cnn-studio presets`); the options you "
                       "type override it (default: the studio's defaults)")
    start.add_argument("--config", metavar="RUN/config.json", help="start from an earlier run's settings (its "
                       "config.json or its folder) (default: none)")
    p.add_argument("--start-lr", type=float, default=START_LR, help=f"first learning rate (default: {START_LR:g})")
    p.add_argument("--end-lr", type=float, default=END_LR, help=f"last learning rate (default: {END_LR:g})")
    p.add_argument("--num-iter", type=int, default=NUM_ITER, help=f"steps of the test; a short epoch is repeated "
                   f"(default: {NUM_ITER})")
    p.add_argument("--plot", metavar="FILE.png", help="draw the loss against the LR into a PNG (default: none)")
    add_train_options(p)
    p.set_defaults(func=cmd_lr_find)


def cmd_lr_find(args: argparse.Namespace) -> int:
    from studio.cli.train import config_from_args
    from studio.core.engine.lr_finder import find_lr

    config = config_from_args(args)
    if not (0 < args.start_lr < args.end_lr) or args.num_iter < 2:
        raise StudioError("the range test needs 0 < --start-lr < --end-lr and --num-iter of at least 2.")
    with _StopOnCtrlC() as stop:
        print(f"Range test: {args.num_iter} steps, LR {args.start_lr:g} -> {args.end_lr:g}, {config.model} on "
              f"{config.dataset}, {config.optimizer}, batch {config.batch_size} (Ctrl+C stops)", file=sys.stderr,
              flush=True)
        result = find_lr(config, start_lr=args.start_lr, end_lr=args.end_lr, num_iter=args.num_iter,
                         should_stop=stop.is_set)
    code = INTERRUPTED if result.stopped == "cancelled" else 0
    if args.plot and result.lrs:
        from studio.cli.lr_find_plot import save_plot

        save_plot(result, args.plot)
    if args.json:
        _emit_json({"suggested_lr": result.suggested_lr, "method": result.method,
                    "steepest_lr": result.steepest_lr, "min_loss_lr_div10": result.min_loss_lr_div10,
                    "stopped": result.stopped, "lrs": result.lrs, "losses": result.losses,
                    "smoothed_losses": result.smoothed, "exit_code": code})
    else:
        _print_table(result, config)
    if code:
        print("error: interrupted", file=sys.stderr)
    return code


def _print_table(result, config) -> None:
    if not result.lrs:
        print("No step was taken.")
        return
    step = max(1, len(result.lrs) // TABLE_ROWS)
    rows = sorted(set(range(0, len(result.lrs), step)) | {len(result.lrs) - 1})
    print(f"{'step':>5}  {'lr':>9}  {'loss':>8}  {'smoothed':>8}")
    for i in rows:
        print(f"{i + 1:>5}  {result.lrs[i]:>9.2e}  {result.losses[i]:>8.4f}  {result.smoothed[i]:>8.4f}")
    ended = {"diverged": "stopped early: the smoothed loss passed 4x its minimum",
             "cancelled": "stopped by Ctrl+C", "finished": "finished"}[result.stopped]
    print(f"({len(result.lrs)} steps, {ended})")
    if result.suggested_lr is None:
        print("No suggestion: the loss never became a number. Try a smaller --end-lr or another model.")
        return
    print(f"Suggested learning rate: {result.suggested_lr:.2e} ({result.method}: {result.explanation})")
    other = (f"minimum/10: {result.min_loss_lr_div10:.2e}" if result.method != "minimum/10"
             else "steepest: none (the loss never fell)")
    print(f"For comparison, {other}")
    print(f"Train with it: cnn-studio train --dataset {config.dataset} --model {config.model} "
          f"--optimizer {config.optimizer} --lr {result.suggested_lr:.2g}")


class _StopOnCtrlC:
    """The first Ctrl+C asks the test to stop between steps; a second one interrupts at once."""

    def __init__(self):
        self._set = False
        self._previous = None

    def is_set(self) -> bool:
        return self._set

    def _on_signal(self, *_):
        self._set = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self):
        self._previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self._previous)
        return False
