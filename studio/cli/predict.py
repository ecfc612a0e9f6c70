"""`eval`, `predict` and `attack`: a checkpoint answers on images and test splits."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.core.errors import StudioError
from studio.cli.common import _emit_json, _load_model


def cmd_eval(args: argparse.Namespace) -> int:
    from studio.core.data import load_run_dataset
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
    bundle = load_run_dataset(config, dataset, data_dir=args.data_dir)
    if len(bundle.classes) != len(loaded.classes):
        raise StudioError(f"The model has {len(loaded.classes)} classes but {dataset} has {len(bundle.classes)}.")
    device = resolve_device(args.device)
    result = evaluate(loaded.model.to(device), bundle.test, loaded.input_shape, loaded.mean, loaded.std,
                      batch_size=args.batch_size, device=device, num_classes=len(loaded.classes))
    prf = per_class_prf(result.confusion)
    if args.json:
        _emit_json({"checkpoint": args.checkpoint, "epoch": loaded.epoch, "dataset": dataset,
                    "test_size": int(len(result.y_true)),
                    "accuracy": result.accuracy, "loss": result.loss, "classes": loaded.classes,
                    "confusion": result.confusion, **{k: v for k, v in prf.items()}})
        return 0
    print(f"{dataset} test split: {len(result.y_true)} images, accuracy {100 * result.accuracy:.2f}%, "
          f"loss {result.loss:.4f} (weights after epoch {loaded.epoch})")
    print(f"{'class':>14} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for i, name in enumerate(loaded.classes):
        print(f"{name[:14]:>14} {prf['precision'][i]:9.3f} {prf['recall'][i]:7.3f} {prf['f1'][i]:6.3f} "
              f"{prf['support'][i]:7d}")
    print("confusion matrix (rows: true, columns: predicted):")
    for row in result.confusion:
        print(" ".join(f"{v:5d}" for v in row))
    return 0


def add_cam_arguments(p: argparse.ArgumentParser) -> None:
    from studio.core.inspect.cams import METHODS

    p.add_argument("--cam", metavar="METHOD", choices=list(METHODS),
                   help=f"also write an explanation overlay per image: {', '.join(METHODS)} (input gradients) "
                   "(default: none)")
    p.add_argument("--cam-layer", metavar="NAME", help="the layer the map is taken at (default: the last conv "
                   "stage); `cnn-studio predict ... --cam gradcam --cam-layer ?` lists them")
    p.add_argument("--cam-out", metavar="FOLDER", default=".",
                   help="where the overlays go, as IMAGE-METHOD.png (default: the current folder)")


def cmd_predict(args: argparse.Namespace) -> int:
    from studio.core.inspect import pipeline

    loaded = _load_model(args)
    settings = pipeline.settings_for(loaded, k=args.top_k, digit=args.digit)
    if getattr(args, "cam", None):
        _check_cam_arguments(loaded, args, settings)
    results, failures = [], 0
    for image, outcome in zip(args.images, pipeline.predict_files(loaded, args.images, settings)):
        if outcome.error:
            failures += 1
            results.append({"image": image, "error": outcome.message, "reason": outcome.error})
            if not args.json:
                print(f"error: {outcome.message}", file=sys.stderr)
            continue
        results.append({"image": image, "top": [{"class": c, "probability": p} for c, p in outcome.topk]})
        if not args.json:
            print(f"{image}: " + ", ".join(f"{c} {100 * p:.1f}%" for c, p in outcome.topk))
        if getattr(args, "cam", None):
            failures += not _write_cam(loaded, image, settings, Path(args.cam_out), results[-1], args.json)
    if args.json:
        _emit_json({"checkpoint": args.checkpoint, "model": loaded.model_name, "results": results})
    return 1 if failures else 0


def _check_cam_arguments(loaded, args: argparse.Namespace, settings) -> None:
    """A layer the model lacks, or an output folder that can't be made, stops before any work."""
    from studio.core.inspect import cams

    layers = ", ".join(cams.conv_layers(loaded.model))
    if args.cam_layer == "?":
        raise StudioError(f"The convolution layers of {loaded.model_name}: {layers}.")
    try:
        cams.check_layer(loaded.model, args.cam_layer)
    except StudioError as exc:
        raise StudioError(f"{exc} Its convolution layers: {layers}.") from None
    try:
        Path(args.cam_out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"Could not make the folder {args.cam_out}: {exc.strerror or exc}") from None
    settings.cam_method, settings.cam_layer = args.cam, args.cam_layer


def _write_cam(loaded, image: str, settings, folder: Path, record: dict, quiet: bool) -> bool:
    """The overlay of one image's explanation, as the Predict tab shows it; False when there is none."""
    from PIL import Image

    from studio.core.inspect import pipeline
    from studio.core.inspect.cams import overlay

    detail = pipeline.explain_item(loaded, pipeline.InputItem(name=Path(image).name, path=image), settings)
    if detail.cam is None:
        record["cam_error"] = detail.cam_note or detail.message
        print(f"error: {image}: {record['cam_error']}", file=sys.stderr)
        return False
    path = folder / f"{Path(image).stem}-{settings.cam_method.replace('+', 'p')}.png"
    try:
        Image.fromarray(overlay(detail.network, detail.cam, 0.5)).save(path)
    except (OSError, ValueError) as exc:
        raise StudioError(f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    record["cam"], record["cam_note"] = str(path), detail.cam_note
    if not quiet:
        print(f"  {detail.cam_note}: {path}")
    return True


def cmd_attack(args: argparse.Namespace) -> int:
    """FGSM (or the basic iterative method) on one image: the answer before and after."""
    from studio.core.errors import ImageDecodeError
    from studio.core.inspect import pipeline

    loaded = _load_model(args)
    settings = pipeline.settings_for(loaded, k=args.top_k, digit=args.digit)
    target = _class_argument(args.target, loaded.classes) if args.target is not None else None
    item = pipeline.InputItem(name=Path(args.image).name, path=args.image)
    outcome = pipeline.attack_item(loaded, item, settings, 0, args.eps, args.steps, target)
    if outcome.error:
        raise ImageDecodeError(outcome.error, outcome.reason, args.image)
    result = outcome.result
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
    from PIL import Image

    from studio.core.inspect.pipeline import predict_saved_pixels
    from studio.core.pixels import denormalize

    pixels = denormalize(result.adversarial.cpu(), loaded.mean, loaded.std)[0]   # (H, W, C) uint8
    image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
    try:
        image.save(path)
    except (OSError, ValueError) as exc:
        raise StudioError(f"Could not write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return predict_saved_pixels(loaded, pixels, k)
