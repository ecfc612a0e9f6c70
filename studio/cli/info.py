"""`summary`, `models`, `datasets` and `install-desktop`."""
from __future__ import annotations

import argparse
import sys

from studio.cli.common import _emit_json, _model_options


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
    print(f"Model size: {summary.size_mb:.2f} MB (parameters and buffers in MiB, as the augmentation lecture "
          "measures it; torchinfo's sizes above count 10^6 bytes)")
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
