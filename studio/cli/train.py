"""`train`, `resume` and `presets`: options become a TrainConfig and a Trainer runs it."""
from __future__ import annotations

import argparse
import signal
import sys

from studio.core.errors import StudioError
from studio.cli.common import _emit_json, _model_options


def _train_arguments(p: argparse.ArgumentParser) -> None:
    from studio.core.config.train_config import OPTIMIZERS, SCHEDULES, TrainConfig
    from studio.core.normalization import CHOICES

    d = TrainConfig()
    p.add_argument("--dataset", default=d.dataset, help="mnist-sample, mnist, fashion-mnist, cifar10, cifar100, "
                   "folder:PATH")
    p.add_argument("--model", default=d.model)
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="model option, JSON value "
                   "(e.g. conv_channels=[8,16])")
    p.add_argument("--pretrained", action="store_true", help="start from ImageNet weights (torchvision models)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer)
    p.add_argument("--momentum", type=float, default=d.momentum)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--schedule", choices=SCHEDULES, default=d.schedule)
    p.add_argument("--step-size", type=int, default=d.step_size)
    p.add_argument("--gamma", type=float, default=d.gamma)
    p.add_argument("--label-smoothing", type=float, default=d.label_smoothing)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="share of the training split held out for validation (0 = none, as in the lectures)")
    p.add_argument("--device", default=d.device, help="auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--amp", action="store_true", help="mixed precision (CUDA)")
    p.add_argument("--early-stop", type=int, default=0, metavar="PATIENCE")
    p.add_argument("--compile", action="store_true", help="torch.compile (slow to start on CPU)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores but one)")
    p.add_argument("--image-size", type=int, default=d.image_size, help="side for folder datasets")
    p.add_argument("--train-accuracy", choices=("running", "full-pass"), default=d.train_accuracy,
                   help="running: over the epoch's batches (seed 003); full-pass: an eval pass over the training "
                        "split after each epoch, counted in the epoch time (seed 001)")
    p.add_argument("--normalize", choices=CHOICES, default=d.normalize,
                   help="input mean/std: auto (ImageNet's when pretrained, else the training split's), dataset, "
                        "half (0.5, seeds 000/003), seed001 (its CIFAR-10 constants), imagenet")
    aug = p.add_argument_group("augmentation")
    aug.add_argument("--hflip", action="store_true")
    aug.add_argument("--crop-padding", type=int, default=0)
    aug.add_argument("--rotation", type=float, default=0.0)
    aug.add_argument("--scale", type=float, default=0.0)
    aug.add_argument("--translate", type=float, default=0.0)
    aug.add_argument("--color-jitter", type=float, default=0.0)
    aug.add_argument("--noise", type=float, default=0.0)


def config_from_args(args: argparse.Namespace):
    from studio.core.config.train_config import AugmentConfig, TrainConfig

    return TrainConfig(
        dataset=args.dataset, model=args.model, model_options=_model_options(args.option),
        pretrained=args.pretrained, optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
        weight_decay=args.weight_decay, batch_size=args.batch_size, epochs=args.epochs, schedule=args.schedule,
        step_size=args.step_size, gamma=args.gamma, label_smoothing=args.label_smoothing, seed=args.seed,
        device=args.device, amp=args.amp, early_stop_patience=args.early_stop, compile=args.compile,
        num_threads=args.threads, image_size=args.image_size, data_dir=args.data_dir, normalize=args.normalize,
        train_accuracy=args.train_accuracy, val_fraction=args.val_fraction,
        augment=AugmentConfig(hflip=args.hflip, crop_padding=args.crop_padding, rotation=args.rotation,
                              scale=args.scale, translate=args.translate, color_jitter=args.color_jitter,
                              noise_std=args.noise),
    )


def cmd_train(args: argparse.Namespace) -> int:
    from studio.core.engine import Trainer

    config = config_from_args(args)
    if args.preset:
        config = _with_preset(args, config)
    config.validate()
    return _run_trainer(lambda callbacks: Trainer(config, callbacks=callbacks, runs_dir=args.runs_dir), args)


def _with_preset(args: argparse.Namespace, config):
    """The preset's recipe, then every option the user typed on top of it."""
    from studio.core.config.train_config import TrainConfig
    from studio.core.config.presets import get_preset

    typed = _explicit_options(args)
    recipe = get_preset(args.preset).apply(TrainConfig(data_dir=config.data_dir)).to_dict()
    chosen = config.to_dict()
    for key in typed:
        if key in chosen:
            recipe[key] = chosen[key]
        elif key in chosen["augment"]:
            recipe["augment"][key] = chosen["augment"][key]
    return TrainConfig.from_dict(recipe)


_ARG_TO_FIELD = {"batch_size": "batch_size", "weight_decay": "weight_decay", "early_stop": "early_stop_patience",
                 "threads": "num_threads", "option": "model_options", "noise": "noise_std"}


def _explicit_options(args: argparse.Namespace) -> set[str]:
    """The config fields the user set on the command line (differing from the parser's defaults)."""
    from studio.cli import build_parser

    defaults = build_parser().parse_args(["train"])
    return {_ARG_TO_FIELD.get(k, k) for k, v in vars(args).items()
            if k not in ("func", "preset", "json", "runs_dir") and getattr(defaults, k, v) != v}


def cmd_presets(args: argparse.Namespace) -> int:
    from studio.core.config.presets import PRESETS

    if args.json:
        _emit_json([{"name": p.name, "title": p.title, "source": p.source, "settings": p.apply().to_dict()}
                    for p in PRESETS])
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
    return _run_trainer(lambda callbacks: Trainer(override, callbacks=callbacks, run_dir=args.run, resume=True), args)


def _run_trainer(make_trainer, args: argparse.Namespace) -> int:
    from studio.core.engine.console import ConsoleLogger

    logger = ConsoleLogger(quiet=args.json)
    trainer = make_trainer([logger])
    previous = signal.signal(signal.SIGINT, lambda *_: trainer.request_stop("interrupted (Ctrl+C)"))
    try:
        end = trainer.fit()
    finally:
        signal.signal(signal.SIGINT, previous)
        logger.close()
    if args.json:
        _emit_json({"run_dir": str(trainer.run_dir) if trainer.run_dir else None, "status": end.status,
                    "reason": end.reason, "epochs_done": end.epochs_done, "best_test_acc": end.best_test_acc,
                    "best_epoch": end.best_epoch, "best_val_acc": end.best_val_acc, "selected_on": end.selected_on,
                    "elapsed": end.elapsed, "epochs": logger.epochs, "skipped": logger.skipped})
    else:
        chosen = f" (epoch {end.best_epoch}, chosen on {end.selected_on})" if end.best_epoch else ""
        print(f"==> {end.status}: {end.reason.rstrip('.')}. Best test accuracy {100 * end.best_test_acc:.2f}%{chosen}. "
              f"Run folder: {trainer.run_dir}")
    if end.status == "failed":
        print(f"error: {end.reason}", file=sys.stderr)
        return 1
    return 0
