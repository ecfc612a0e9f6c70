"""`export` and `tensorboard`: runs and models leave the studio in formats other tools read."""
from __future__ import annotations

import argparse
from pathlib import Path

from studio.cli.common import HelpFormatter, _common, _emit_json, _load_model, _plain_state_dict_arguments


def add_export_commands(sub) -> None:
    p = sub.add_parser("export", help="save a model as ONNX, TorchScript or safetensors, verified on real images",
                       epilog="example:\n  cnn-studio export models/lenet5-mnist-sample.pt --format onnx --out lenet.onnx",
                       formatter_class=HelpFormatter)
    _common(p)
    p.add_argument("checkpoint", help="a studio checkpoint (.pt, .safetensors) or a notebook's state dict")
    p.add_argument("--format", choices=("onnx", "torchscript", "safetensors"), default="onnx",
                   help="onnx: any ONNX runtime; torchscript: C++/mobile PyTorch; safetensors: weights + JSON sidecar "
                        "(default: onnx)")
    p.add_argument("--out", metavar="PATH", help="the file to write (default: beside the checkpoint, named after it)")
    p.add_argument("--verify-images", type=int, default=512, metavar="N",
                   help="held-out images the exported model is checked on (default: 512)")
    _plain_state_dict_arguments(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("tensorboard", help="write TensorBoard event files for runs recorded before",
                       epilog="example:\n  cnn-studio tensorboard ~/.local/share/cnn-studio/runs/*\n"
                              "  tensorboard --logdir ~/.local/share/cnn-studio/runs",
                       formatter_class=HelpFormatter)
    _common(p, folders=False)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders")
    p.set_defaults(func=cmd_tensorboard)


def cmd_export(args: argparse.Namespace) -> int:
    from studio.core.runs.export import default_path, export_model

    loaded = _load_model(args)
    out = Path(args.out) if args.out else default_path(Path(args.checkpoint), args.format)
    result = export_model(loaded, args.format, out, data_dir=args.data_dir, limit=max(1, args.verify_images))
    if args.json:
        _emit_json({"format": result.format, "path": result.path, "files": list(result.files),
                    "size_bytes": result.size_bytes, "checked_with": result.checked_with, "images": result.images,
                    "images_source": result.images_source, "top1_agree": result.top1_agree,
                    "max_prob_diff": result.max_prob_diff, "passed": result.passed, "notes": result.notes.lstrip(", ")})
    else:
        print(result.summary())
    return 0 if result.passed else 1


def cmd_tensorboard(args: argparse.Namespace) -> int:
    from studio.core.runs.tensorboard import convert_run

    done = []
    for run in args.runs:
        count = convert_run(Path(run))
        done.append({"run": run, "epochs": count})
        if not args.json:
            print(f"{run}: {count} epochs written as TensorBoard events")
    if args.json:
        _emit_json({"runs": done})
    return 0
