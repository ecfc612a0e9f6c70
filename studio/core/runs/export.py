"""A trained model leaves the studio: ONNX, TorchScript, or safetensors weights with a JSON sidecar.

Every export checks itself: the exported file is loaded back by its own runtime (onnxruntime, a
TorchScript load, the studio's safetensors reader) and run on real held-out images beside the
PyTorch model; the result names the largest difference in class probabilities and whether every
image's top-1 class agrees. A format whose optional package is missing says which to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import StudioError
from studio.core.runs.held_out import held_out_images
from studio.core.runs.jsonio import write_atomic
from studio.core.runs.loaded_model import LoadedModel
from studio.core.runs.safetensors_format import load_safetensors, save_safetensors

FORMATS = ("onnx", "torchscript", "safetensors")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".torchscript.pt", "safetensors": ".safetensors"}
ONNX_OPSET = 18  # the torch.export-based exporter's own default; every runtime of the last three years reads it
_EXTRA = 'pip install "cnn-studio[export]"'


class ExportError(StudioError):
    """An export that could not be made or did not match the PyTorch model."""


@dataclass
class ExportResult:
    path: Path
    format: str
    size_bytes: int
    checked_with: str          # the runtime that ran the exported file
    images: int                # held-out images compared
    images_source: str         # where they came from
    top1_agree: int            # images whose top-1 class is the same as PyTorch's
    max_prob_diff: float       # largest |p_export - p_torch| over every image and class
    notes: str = ""
    files: tuple[Path, ...] = ()

    @property
    def passed(self) -> bool:
        return self.top1_agree == self.images and self.max_prob_diff <= 1e-4

    def summary(self) -> str:
        verdict = "verified" if self.passed else "MISMATCH"
        return (f"{self.format} -> {self.path} ({self.size_bytes / 1e6:.2f} MB){self.notes}\n"
                f"{verdict} with {self.checked_with} on {self.images} {self.images_source}: top-1 identical "
                f"{self.top1_agree}/{self.images}, largest probability difference {self.max_prob_diff:.2e}")


def default_path(checkpoint: Path, fmt: str) -> Path:
    stem = checkpoint.name.removesuffix(".pt")
    return checkpoint.with_name(stem + SUFFIXES[fmt])


def export_model(loaded: LoadedModel, fmt: str, out: Path, *, data_dir=None, limit: int = 512) -> ExportResult:
    """Write `loaded` as `fmt` to `out`, then run the file on held-out images and compare with PyTorch."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format '{fmt}': choose one of {', '.join(FORMATS)}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = loaded.model.float().cpu().eval()
    inputs, source = held_out_images(loaded, data_dir=data_dir, limit=limit)
    with torch.inference_mode():
        reference = torch.softmax(model(inputs), dim=1).numpy()
    writer = {"onnx": _export_onnx, "torchscript": _export_torchscript, "safetensors": _export_safetensors}[fmt]
    runner, checked_with, notes, files = writer(loaded, model, inputs, out)
    exported = np.concatenate([runner(chunk) for chunk in torch.split(inputs, 128)])
    return ExportResult(path=out, format=fmt, size_bytes=sum(f.stat().st_size for f in files),
                        checked_with=checked_with, images=len(inputs), images_source=source,
                        top1_agree=int((exported.argmax(1) == reference.argmax(1)).sum()),
                        max_prob_diff=float(np.abs(exported - reference).max()), notes=notes, files=tuple(files))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def _export_onnx(loaded, model, inputs, out):
    for package in ("onnx", "onnxscript"):
        if importlib.util.find_spec(package) is None:
            raise ExportError(f"ONNX export needs the '{package}' package: {_EXTRA}")
    example = inputs[:2]
    how = "torch.export"
    try:
        with _quiet():
            program = torch.onnx.export(model, (example,), dynamo=True, opset_version=ONNX_OPSET,
                                        input_names=["input"], output_names=["logits"],
                                        dynamic_shapes=({0: torch.export.Dim("batch")},), verbose=False)
            program.save(str(out), external_data=False)
    except Exception as exc:  # models torch.export cannot trace fall back to the TorchScript-based exporter
        how = f"TorchScript-based exporter (torch.export failed: {str(exc).splitlines()[0][:120]})"
        with _quiet():
            torch.onnx.export(model, (example,), str(out), dynamo=False, opset_version=17,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    opset = _onnx_opset(out)
    if importlib.util.find_spec("onnxruntime") is None:
        raise ExportError(f"{out} was written (opset {opset}) but could not be verified: onnxruntime is missing "
                          f"({_EXTRA})")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(chunk):
        return _softmax(session.run(None, {name: chunk.numpy()})[0])

    return run, f"onnxruntime {onnxruntime.__version__}", f", opset {opset}, dynamic batch, via {how}", [out]


def _onnx_opset(path: Path) -> int:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return max((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), default=0)


def _export_torchscript(loaded, model, inputs, out):
    example, other = inputs[:2], inputs[2:5] if len(inputs) > 4 else inputs[:1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export; the format is not
        try:
            traced = torch.jit.trace(model, example, check_trace=True, check_inputs=[(other,)])
        except Exception as exc:
            raise ExportError(f"TorchScript tracing failed for {loaded.model_name}: {str(exc).splitlines()[0]}")
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
        write_atomic(out, buffer.getvalue())
        reloaded = torch.jit.load(str(out), map_location="cpu").eval()

    def run(chunk):
        with torch.inference_mode():
            return torch.softmax(reloaded(chunk), dim=1).numpy()

    return run, f"torch.jit.load (torch {torch.__version__})", ", traced and checked at two batch sizes", [out]


def _export_safetensors(loaded, model, inputs, out):
    if importlib.util.find_spec("safetensors") is None:
        raise ExportError(f"safetensors export needs the 'safetensors' package: {_EXTRA}")
    sidecar = save_safetensors(loaded, out)
    reloaded = load_safetensors(out).model

    def run(chunk):
        with torch.inference_mode():
            return torch.softmax(reloaded(chunk), dim=1).numpy()

    return run, "the studio's safetensors reader", f", sidecar {sidecar.name}", [out, sidecar]


@contextlib.contextmanager
def _quiet():
    """The ONNX exporter prints its progress and warns about deprecations: keep the CLI's output ours."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
