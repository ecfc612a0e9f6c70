"""The command line: `cnn-studio SUBCOMMAND ...`; with no arguments it opens the window.

Every subcommand drives studio.core only. Exit codes: 0 ok, 1 a problem with the user's
input (one clear line on stderr, no traceback), 2 bad usage (argparse). --json prints one
JSON document on stdout instead of the human-readable output.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from studio.core.errors import StudioError


# ---------------------------------------------------------------- parser

def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--runs-dir", help="folder of run folders (default: the per-user runs folder)")
    p.add_argument("--data-dir", help="dataset and download cache (default: the per-user data folder)")


def _model_options(values: list[str] | None) -> dict[str, Any]:
    options = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise argparse.ArgumentTypeError(f"--option takes KEY=VALUE, got '{item}'")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def _shape(text: str) -> tuple[int, int, int]:
    try:
        parts = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected C,H,W like 3,32,32, got '{text}'")
    return parts


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
    return parser


def _plain_state_dict_arguments(p: argparse.ArgumentParser) -> None:
    """A notebook's bare state dict knows neither its architecture, its classes nor its normalisation."""
    from studio.core.normalization import FIXED

    p.add_argument("--model", help="architecture of a plain state dict (e.g. cifar-cnn)")
    p.add_argument("--classes", help="class names of a plain state dict, comma-separated "
                   "(default: CIFAR-10's for the lectures' CIFAR models, ImageNet's for 1000 classes, else 0..K-1)")
    p.add_argument("--normalize", choices=tuple(FIXED), help="normalisation a plain state dict was trained with "
                   "(default: seed001 for cifar-cnn, imagenet for torchvision models, else half)")


def _load_model(args: argparse.Namespace):
    from studio.core.normalization import FIXED
    from studio.core.runs import load_checkpoint

    classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
    mean, std = FIXED[args.normalize] if args.normalize else (None, None)
    return load_checkpoint(Path(args.checkpoint), model_name=args.model, classes=classes, mean=mean, std=std)


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
        train_accuracy=args.train_accuracy,
        augment=AugmentConfig(hflip=args.hflip, crop_padding=args.crop_padding, rotation=args.rotation,
                              scale=args.scale, translate=args.translate, color_jitter=args.color_jitter,
                              noise_std=args.noise),
    )


# ---------------------------------------------------------------- output

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


# ---------------------------------------------------------------- train / resume

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
                    "elapsed": end.elapsed, "epochs": logger.epochs, "skipped": logger.skipped})
    else:
        print(f"==> {end.status}: {end.reason.rstrip('.')}. Best test accuracy {100 * end.best_test_acc:.2f}%. "
              f"Run folder: {trainer.run_dir}")
    if end.status == "failed":
        print(f"error: {end.reason}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- eval / predict

def cmd_eval(args: argparse.Namespace) -> int:
    from studio.core.data import load_dataset
    from studio.core.engine.devices import resolve_device
    from studio.core.engine.evaluate import evaluate
    from studio.core.inspect.metrics import per_class_prf

    if args.batch_size < 1:
        raise StudioError(f"--batch-size must be at least 1, got {args.batch_size}.")
    loaded = _load_model(args)
    config = loaded.checkpoint.get("config")
    config = config if isinstance(config, dict) else {}  # a hand-edited checkpoint may hold anything here
    dataset = args.dataset or config.get("dataset")
    if not dataset or not isinstance(dataset, str):
        raise StudioError(f"{Path(args.checkpoint).name} is a plain state dict: name the test data with --dataset.")
    size = config.get("image_size")
    bundle = load_dataset(dataset, data_dir=args.data_dir, **({"image_size": size} if isinstance(size, int) else {}))
    if len(bundle.classes) != len(loaded.classes):
        raise StudioError(f"The model has {len(loaded.classes)} classes but {dataset} has {len(bundle.classes)}.")
    device = resolve_device(args.device)
    result = evaluate(loaded.model.to(device), bundle.test, loaded.input_shape, loaded.mean, loaded.std,
                      batch_size=args.batch_size, device=device, num_classes=len(loaded.classes))
    prf = per_class_prf(result.confusion)
    if args.json:
        _emit_json({"checkpoint": args.checkpoint, "dataset": dataset, "test_size": int(len(result.y_true)),
                    "accuracy": result.accuracy, "loss": result.loss, "classes": loaded.classes,
                    "confusion": result.confusion, **{k: v for k, v in prf.items()}})
        return 0
    print(f"{dataset} test split: {len(result.y_true)} images, accuracy {100 * result.accuracy:.2f}%, "
          f"loss {result.loss:.4f}")
    print(f"{'class':>14} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for i, name in enumerate(loaded.classes):
        print(f"{name[:14]:>14} {prf['precision'][i]:9.3f} {prf['recall'][i]:7.3f} {prf['f1'][i]:6.3f} "
              f"{prf['support'][i]:7d}")
    print("confusion matrix (rows: true, columns: predicted):")
    for row in result.confusion:
        print(" ".join(f"{v:5d}" for v in row))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from studio.core.errors import ImageDecodeError

    loaded = _load_model(args)
    results, failures = [], 0
    for image in args.images:
        try:
            top = _predict_file(loaded, image, args.top_k, args.digit)
            results.append({"image": image, "top": [{"class": c, "probability": p} for c, p in top]})
        except ImageDecodeError as exc:
            failures += 1
            results.append({"image": image, "error": str(exc), "reason": exc.reason})
            if not args.json:
                print(f"error: {exc}", file=sys.stderr)
            continue
        if not args.json:
            print(f"{image}: " + ", ".join(f"{c} {100 * p:.1f}%" for c, p in top))
    if args.json:
        _emit_json({"checkpoint": args.checkpoint, "model": loaded.model_name, "results": results})
    return 1 if failures else 0


def _predict_file(loaded, path: str, k: int, digit: bool | None) -> list[tuple[str, float]]:
    from studio.core.images import decode_image
    from studio.core.inspect.predict import topk
    from studio.core.inspect.preprocess import is_digit_model, prepare_input

    if digit is None:
        digit = is_digit_model(loaded.classes, loaded.input_shape)
    seen = prepare_input(decode_image(path), loaded.input_shape, loaded.mean, loaded.std, digit=digit)
    return topk(loaded.model, seen.tensor, loaded.classes, k=k)


def cmd_attack(args: argparse.Namespace) -> int:
    """FGSM (or the basic iterative method) on one image: the answer before and after."""
    from studio.core.images import decode_image
    from studio.core.inspect.adversarial import fgsm
    from studio.core.inspect.preprocess import is_digit_model, prepare_input

    loaded = _load_model(args)
    digit = is_digit_model(loaded.classes, loaded.input_shape) if args.digit is None else args.digit
    seen = prepare_input(decode_image(args.image), loaded.input_shape, loaded.mean, loaded.std, digit=digit)
    target = _class_argument(args.target, loaded.classes) if args.target is not None else None
    result = fgsm(loaded.model, seen.tensor, target, args.eps, mean=loaded.mean, std=loaded.std, steps=args.steps,
                  classes=loaded.classes, k=args.top_k)
    saved_top = _save_adversarial(loaded, result, Path(args.out), args.top_k) if args.out else None
    method = "FGSM" if result.steps == 1 else f"basic iterative method, {result.steps} steps"
    if args.json:
        doc = {"checkpoint": args.checkpoint, "model": loaded.model_name, "image": args.image,
               "method": method, "eps": result.eps, "steps": result.steps,
               "target": loaded.classes[target] if target is not None else None,
               "max_abs_change": result.max_abs_change, "flipped": result.flipped,
               "before": [{"class": c, "probability": p} for c, p in result.before],
               "after": [{"class": c, "probability": p} for c, p in result.after]}
        if target is not None:
            doc["target_reached"] = result.target_reached
        if args.out:
            doc["out"] = args.out
            doc["saved_image"] = [{"class": c, "probability": p} for c, p in saved_top]
        _emit_json(doc)
        return 0
    towards = f", towards '{loaded.classes[target]}'" if target is not None else ""
    print(f"{args.image}: {method}, eps {result.eps:g} (0..1 pixel units){towards}; "
          f"largest pixel change {result.max_abs_change:.4f}")
    print("  before: " + ", ".join(f"{c} {100 * p:.1f}%" for c, p in result.before))
    print("  after:  " + ", ".join(f"{c} {100 * p:.1f}%" for c, p in result.after))
    verdict = (f"the answer flipped: {result.before[0][0]} -> {result.after[0][0]}" if result.flipped
               else f"the answer held ({result.before[0][0]}); try a larger --eps or more --steps")
    print(f"  {verdict}")
    if args.out:
        print(f"  saved {args.out} (8-bit, each pixel rounded to 1/255); read back, the network says "
              + ", ".join(f"{c} {100 * p:.1f}%" for c, p in saved_top[:3]))
    return 0


def _class_argument(value: str, classes: list[str]) -> int:
    """--target: a class name (exactly, then ignoring case) or its index."""
    text = value.strip()
    for names in (classes, [c.lower() for c in classes]):
        key = text if names is classes else text.lower()
        if key in names:
            return names.index(key)
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
    raise StudioError(f"--target {value!r} is not a class of this model ({shown}) nor an index below {len(classes)}.")


def _save_adversarial(loaded, result, path: Path, k: int) -> list[tuple[str, float]]:
    """Write the adversarial input as an 8-bit image; return what the network says about the saved pixels."""
    import torch
    from PIL import Image

    from studio.core.pixels import denormalize, prepare_batch
    from studio.core.inspect.predict import topk

    pixels = denormalize(result.adversarial.cpu(), loaded.mean, loaded.std)[0]   # (H, W, C) uint8
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    try:
        image.save(path)
    except (OSError, ValueError) as exc:
        raise StudioError(f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    batch = torch.from_numpy(pixels.transpose(2, 0, 1).copy())[None]
    x = prepare_batch(batch, loaded.input_shape, loaded.mean, loaded.std)
    return topk(loaded.model, x, loaded.classes, k=k)


# ---------------------------------------------------------------- summary / lists

def cmd_summary(args: argparse.Namespace) -> int:
    from studio.core.inspect.summary import model_summary
    from studio.core.models import build_model, get_spec, model_input_shape

    spec = get_spec(args.model)
    options = _model_options(args.option)
    requested = args.input_size or _natural_input(spec)
    # What the trainer would feed: AlexNet's images are resized to 227, small ones grown to the
    # smallest size the network survives. The table shows that, and says so.
    shape = tuple(model_input_shape(args.model, requested, options=options))
    if shape != tuple(requested):
        print(f"note: {spec.title} is fed {shape[0]}x{shape[1]}x{shape[2]} for {requested[0]}x{requested[1]}x"
              f"{requested[2]} data (images are resized); the table shows that input.", file=sys.stderr)
    model = build_model(args.model, shape, args.classes, options)
    summary = model_summary(model, shape, batch_size=args.batch_size)
    if args.json:
        _emit_json({"model": args.model, "input_size": shape, "requested_input_size": tuple(requested),
                    "total_params": summary.total_params,
                    "trainable_params": summary.trainable_params, "size_mb": round(summary.size_mb, 2),
                    "total_macs": summary.total_macs,
                    "layers": [vars(r) if hasattr(r, "__dict__") else r for r in summary.rows]})
        return 0
    print(summary.text)
    print(f"Total parameters: {summary.total_params:,}  (trainable {summary.trainable_params:,})")
    print(f"Model size: {summary.size_mb:.2f} MB (parameters and buffers in MiB, seed 001's measure; "
          "torchinfo's sizes above count 10^6 bytes)")
    return 0


def _natural_input(spec) -> tuple[int, int, int]:
    if spec.fixed_size:
        return (3, *spec.fixed_size)
    return (3, 224, 224) if spec.family == "torchvision" else (3, 32, 32)


def cmd_models(args: argparse.Namespace) -> int:
    from studio.core.models import list_models

    specs = list_models()
    if args.json:
        _emit_json([{"name": s.name, "title": s.title, "source": s.source, "family": s.family,
                     "fixed_size": s.fixed_size, "has_pretrained": s.has_pretrained,
                     "default_options": s.default_options, "description": s.description} for s in specs])
        return 0
    for s in specs:
        print(f"{s.name:20} {s.title}  [{s.source}]")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from studio.core.data import list_datasets

    infos = list_datasets()
    if args.json:
        _emit_json([{"name": d.name, "title": d.title, "description": d.description, "offline": d.offline}
                    for d in infos])
        return 0
    for d in infos:
        print(f"{d.name:16} {d.title}{'' if d.offline else '  (downloads on first use)'}")
    print("folder:PATH      your own images, one subfolder per class")
    return 0


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from studio.desktop import install_desktop_entry

    path = install_desktop_entry()
    if args.json:
        _emit_json({"desktop_entry": str(path)})
    else:
        print(f"Installed {path}: CNN Studio is in your application menu.")
    return 0


# ---------------------------------------------------------------- main

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


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """One line on stderr; with --json also the one JSON document stdout promises, naming the error."""
    print(f"error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        _emit_json({"error": message, "exit_code": code})
    return code


if __name__ == "__main__":
    sys.exit(main())
