"""Run folders and checkpoints: the record of every training run.

A run folder holds config.json, metrics.jsonl (one line per event, appended and flushed),
status.json, checkpoints/{last,best}.pt and history/epoch_NNNN.npz (confusion matrix and
kernels of each finished epoch). Every file is written atomically or append-only, so a run
reads the same live, reopened, or after a crash. Checkpoints hold plain types only and are
read with torch.load(weights_only=True), always.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

import studio
from studio.core.errors import CheckpointError, ModelError, RunError

CHECKPOINT_FORMAT = "cnn-studio-checkpoint"
FORMAT_VERSION = 1
MAX_CHECKPOINT_BYTES = 2 * 1024**3


# ---------------------------------------------------------------- atomic files

def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file beside the target, then os.replace: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2, default=_json_default).encode())


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.ndarray, tuple)):
        return list(value.tolist() if isinstance(value, np.ndarray) else value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


# ---------------------------------------------------------------- checkpoints

def save_checkpoint(path: Path, model: torch.nn.Module, *, model_name: str, model_options: dict,
                    classes: list[str], input_shape, mean, std, epoch: int, step: int = 0,
                    optimizer=None, scheduler=None, config: dict | None = None,
                    metrics: dict | None = None) -> None:
    """Everything needed to rebuild, predict with and resume, in types weights_only can read."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        # The same tensors under seed 001's key, so a notebook's `state['net']` reads a studio checkpoint
        # (torch.save stores each shared storage once: this costs no space).
        "net": state,
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_options": dict(model_options or {}),
        "state_dict": state,
        "classes": [str(c) for c in classes],
        "input_shape": [int(v) for v in input_shape],
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "epoch": int(epoch),
        "step": int(step),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": _plain_scheduler_state(scheduler),
        "config": config or {},
        "metrics": metrics or {},
        "versions": {"torch": str(torch.__version__), "studio": str(studio.__version__)},
        "saved": datetime.now().isoformat(timespec="seconds"),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_atomic(Path(path), buffer.getvalue())


def _plain_scheduler_state(scheduler) -> dict | None:
    if scheduler is None:
        return None
    # Some schedulers keep functions in their state; weights_only loading cannot read those.
    return {k: v for k, v in scheduler.state_dict().items() if not callable(v)}


def read_checkpoint(path: Path) -> dict:
    """The raw dict of a checkpoint file, read safely: weights_only=True, always."""
    path = Path(path)
    _check_checkpoint_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protocol warnings on junk files: the error below says it all
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _unpickling_error(path, exc) from None
    except MemoryError:
        raise CheckpointError(f"{path.name} is too large to load in the memory available.") from None
    except Exception as exc:  # weights_only ran no code; whatever broke, the file is unusable
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint: the file is damaged, cut short "
                              f"or of another kind ({_first_sentence(exc)}).") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} holds a {type(data).__name__}, not a checkpoint or state dict.")
    return data


def _check_checkpoint_file(path: Path) -> None:
    """Cheap checks before torch.load: a plain file, not empty, not huge, not a zip bomb."""
    if path.is_dir():
        raise CheckpointError(f"{path.name} is a folder, not a checkpoint file.")
    if not path.exists():
        raise CheckpointError(f"{path.name}: no such checkpoint file.")
    if not path.is_file():  # a FIFO or a device would block or never end
        raise CheckpointError(f"{path.name} is not a regular file (a device, pipe or socket).")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path.name}: the file is empty.")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1024**3:.1f} GB is too large for a checkpoint.")
    unpacked = _zip_unpacked_size(path)
    # torch.save stores its records uncompressed, so a checkpoint unpacks to about its own size;
    # a small file that unpacks to gigabytes is a zip bomb.
    if unpacked > MAX_CHECKPOINT_BYTES or unpacked > 16 * size + 64 * 1024**2:
        raise CheckpointError(f"{path.name} unpacks to {unpacked / 1024**2:,.0f} MB from {size / 1024**2:,.1f} MB: "
                              "not a checkpoint written by torch.save (a possible zip bomb), refused.")


def _zip_unpacked_size(path: Path) -> int:
    """Total uncompressed size of the zip members (torch's format since 1.6); 0 for other files."""
    try:
        if not zipfile.is_zipfile(path):
            return 0
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return 0  # torch.load will say what is wrong with it


def _unpickling_error(path: Path, exc: BaseException) -> CheckpointError:
    """Code (a refused global) and junk bytes both fail to unpickle; say which one it was.

    torch's message is long advice whose wording changes between versions; the fact is on the
    line naming the refused GLOBAL (code) or the unsupported opcode (junk).
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    code = next((line for line in lines if "GLOBAL" in line), None)
    if code is not None:
        detail = code.split("WeightsUnpickler error:")[-1].strip()
        return CheckpointError(f"{path.name} was refused: it contains Python objects or code, not just weights "
                               f"(only weights-only checkpoints are loaded). Detail: {detail[:200]}")
    junk = next((line for line in lines if line.startswith("Unsupported")), "it cannot be unpickled")
    return CheckpointError(f"{path.name} is not a PyTorch checkpoint, or it is damaged ({junk[:200]}).")


def _first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0][:200]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@dataclass
class LoadedModel:
    """A model ready for inspection or prediction, with what it needs to read pixels."""

    model: torch.nn.Module
    model_name: str
    model_options: dict
    classes: list[str]
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    epoch: int = 0
    source: str = ""
    checkpoint: dict = field(default_factory=dict, repr=False)


def load_checkpoint(path: Path, *, model_name: str | None = None, classes: list[str] | None = None,
                    input_shape=None, mean=None, std=None, map_location: str = "cpu") -> LoadedModel:
    """Load the studio's own checkpoint, or a notebook's (bare state dict, {'net': ...}) given its model name."""
    data = read_checkpoint(path)
    if data.get("format") == CHECKPOINT_FORMAT:
        return _load_studio_checkpoint(Path(path), data, map_location)
    if not model_name:
        raise CheckpointError(
            f"{Path(path).name} is a plain state dict: choose the architecture it was trained with "
            "(e.g. --model cifar-cnn)."
        )
    state = extract_state_dict(data, Path(path).name)
    return import_state_dict(state, model_name, classes=classes, input_shape=input_shape, mean=mean, std=std,
                             source=f"{Path(path).name} (imported as {model_name})", epoch=_epoch_of(data))


def _load_studio_checkpoint(path: Path, data: dict, map_location: str) -> LoadedModel:
    from studio.core.models import build_model

    try:
        fields = _studio_fields(data)
        model = build_model(fields["model_name"], fields["input_shape"], len(fields["classes"]),
                            fields["model_options"])
        _load_into(model, fields["state_dict"], fields["model_name"])
    except (CheckpointError, ModelError) as exc:
        raise CheckpointError(f"{path.name} cannot be loaded: {exc}{_newer_format_note(data)}") from None
    model.to(map_location).eval()
    return LoadedModel(model=model, model_name=fields["model_name"], model_options=fields["model_options"],
                       classes=fields["classes"], input_shape=fields["input_shape"], mean=fields["mean"],
                       std=fields["std"], epoch=_epoch_of(data), source=str(path), checkpoint=data)


def _newer_format_note(data: dict) -> str:
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version <= FORMAT_VERSION:
        return ""
    return (f" (it was saved in checkpoint format {version!r} by a newer CNN Studio; this one reads format "
            f"{FORMAT_VERSION}: update CNN Studio)")


def _studio_fields(data: dict) -> dict:
    """The fields of a studio checkpoint, checked: a damaged or hand-edited file gets a sentence, not a traceback."""
    name, classes, options = data.get("model_name"), data.get("classes"), data.get("model_options") or {}
    if not isinstance(name, str) or not name:
        raise CheckpointError("the field 'model_name' is missing or not a name")
    if not isinstance(classes, (list, tuple)) or len(classes) < 2:
        raise CheckpointError("the field 'classes' must list at least 2 class names")
    if not isinstance(options, dict):
        raise CheckpointError("the field 'model_options' must be a mapping of option names to values")
    shape = _checked_shape(data.get("input_shape"))
    state = data.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()):
        raise CheckpointError("the field 'state_dict' must map layer names to tensors")
    return {"model_name": name, "classes": [str(c) for c in classes], "model_options": options,
            "input_shape": shape, "state_dict": state,
            "mean": _checked_stats(data.get("mean"), "mean", shape[0], positive=False),
            "std": _checked_stats(data.get("std"), "std", shape[0], positive=True)}


def _checked_shape(value) -> tuple[int, int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise CheckpointError(f"the field 'input_shape' must be three positive whole numbers (C, H, W), got {value!r}")
    return tuple(value)


def _checked_stats(value, name: str, channels: int, *, positive: bool) -> tuple[float, ...]:
    """Normalisation stats: one finite number per channel (a single one is repeated)."""
    ok = isinstance(value, (list, tuple)) and len(value) in (1, channels) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 or not positive)
        for v in value)
    if not ok:
        kind = "positive number" if positive else "number"
        raise CheckpointError(f"the field '{name}' must hold one finite {kind} per input channel ({channels}), "
                              f"got {value!r}")
    values = tuple(float(v) for v in value)
    return values * channels if len(values) == 1 else values


def extract_state_dict(data: dict, name: str = "checkpoint") -> dict:
    """The tensors of a notebook checkpoint: bare, or under 'net' / 'state_dict' / 'model_state_dict' / 'model'."""
    for key in ("net", "state_dict", "model_state_dict", "model"):
        inner = data.get(key)
        if isinstance(inner, dict) and inner and all(torch.is_tensor(v) for v in inner.values()):
            data = inner
            break
    if not data or not all(torch.is_tensor(v) for v in data.values()):
        raise CheckpointError(f"{name} holds no state dict (expected tensors, or a dict with a 'net' entry).")
    # Models saved from nn.DataParallel or torch.compile prefix every key.
    for prefix in ("module.", "_orig_mod."):
        if all(k.startswith(prefix) for k in data):
            data = {k[len(prefix):]: v for k, v in data.items()}
    return data


def _epoch_of(data: dict) -> int:
    epoch = data.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return 0
    return int(epoch)


def import_state_dict(state: dict, model_name: str, *, classes=None, input_shape=None, mean=None, std=None,
                      source: str = "", epoch: int = 0) -> LoadedModel:
    """Fit a bare state dict into an architecture, guessing the input shape and class count from it."""
    from studio.core.models import build_model, get_spec

    spec = get_spec(model_name)
    num_classes = len(classes) if classes else _guess_num_classes(state)
    in_ch = _guess_in_channels(state)
    shapes = [tuple(input_shape)] if input_shape else _candidate_shapes(spec, in_ch)
    options = _shape_options(model_name, state)
    first_error = None
    for shape in shapes:
        try:
            model = build_model(model_name, shape, num_classes, options)
            _load_into(model, state, model_name)
        except (CheckpointError, ModelError) as exc:
            first_error = first_error or exc
            if isinstance(exc, CheckpointError) and set(model.state_dict()) != set(state):
                break  # layer names do not depend on the input size: no other size can fit
            continue
        model.eval()
        guess_classes, guess_mean, guess_std = _notebook_defaults(spec, shape[0], num_classes)
        return LoadedModel(model=model, model_name=model_name, model_options=options,
                           classes=list(classes) if classes else guess_classes, input_shape=shape,
                           mean=tuple(mean or guess_mean), std=tuple(std or guess_std),
                           epoch=epoch, source=source or f"state dict imported as {model_name}",
                           checkpoint={})
    raise first_error or CheckpointError(f"The state dict does not fit {model_name}.")


def _shape_options(model_name: str, state: dict) -> dict:
    """configurable-cnn's options, read back from a state dict's tensors (seed 002 builds PytorchCNN with any).

    conv_channels and kernel_size come from features.<i>.weight, hidden_sizes from every
    classifier.<j>.weight but the last. Other models have no options that change tensor shapes.
    """
    if model_name != "configurable-cnn":
        return {}
    convs = _numbered(state, "features.", ndim=4)
    linears = _numbered(state, "classifier.", ndim=2)
    if not convs or not linears or convs[0].shape[-1] != convs[0].shape[-2]:
        return {}  # not PytorchCNN's layout: the mismatch message will say what differs
    return {"conv_channels": [int(w.shape[0]) for w in convs], "kernel_size": int(convs[0].shape[-1]),
            "hidden_sizes": [int(w.shape[0]) for w in linears[:-1]]}


def _numbered(state: dict, prefix: str, ndim: int) -> list[torch.Tensor]:
    """The '<prefix><n>.weight' tensors of `ndim` dimensions, in layer order."""
    found = []
    for key, value in state.items():
        index = key[len(prefix):-len(".weight")] if key.startswith(prefix) and key.endswith(".weight") else ""
        if index.isdigit() and value.ndim == ndim:
            found.append((int(index), value))
    return [value for _, value in sorted(found, key=lambda item: item[0])]


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _notebook_defaults(spec, channels: int, num_classes: int):
    """What a notebook trained this architecture with: class names and the normalisation it used.

    A bare state dict says neither; the lectures' CIFAR-10 models used CIFAR-10's classes,
    seed 001 its own constants and the other seeds 0.5; torchvision's ImageNet heads ImageNet's.
    """
    from studio.core.normalization import FIXED

    classes = [str(i) for i in range(num_classes)]
    if spec.family == "torchvision":
        if num_classes == 1000:
            from studio.core.models import imagenet_classes

            classes = imagenet_classes()
        mean, std = FIXED["imagenet"]
    elif spec.name == "cifar-cnn":
        mean, std = FIXED["seed001"]
    else:
        mean, std = FIXED["half"]
    if channels == 3 and num_classes == 10 and spec.family == "lecture" and spec.name != "lenet5":
        classes = list(CIFAR10_CLASSES)
    if channels == 1:
        mean, std = (0.5,), (0.5,)
    return classes, mean[:channels], std[:channels]


def _candidate_shapes(spec, in_ch: int) -> list[tuple[int, int, int]]:
    # torchvision networks pool adaptively, so every size "fits": try their natural 224 first.
    # One channel is most likely MNIST-like (28), three CIFAR-like (32): LeNet-5's tensors are the
    # same for both (28 px gets padding 2), so the order decides the geometry it is rebuilt with.
    sides = [spec.fixed_size[0]] if spec.fixed_size else [224] if spec.family == "torchvision" else []
    usual = (28, 32) if in_ch == 1 else (32, 28)
    sides += [s for s in (*usual, 224, 64, 96, 227) if s not in sides]
    return [(in_ch, s, s) for s in sides]


def _guess_in_channels(state: dict) -> int:
    for value in state.values():
        if value.ndim == 4:
            return int(value.shape[1])
    return 3


def _guess_num_classes(state: dict) -> int:
    weights = [k for k, v in state.items() if k.endswith("weight") and v.ndim == 2]
    if not weights:
        raise CheckpointError("Cannot tell the number of classes: the state dict has no linear layer.")
    return int(state[weights[-1]].shape[0])


def _load_into(model: torch.nn.Module, state: dict, model_name: str) -> None:
    """load_state_dict, but a mismatch says which layers differ, in words."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: checkpoint {tuple(state[k].shape)}, model {tuple(expected[k].shape)}"
             for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    kinds = [f"{k} is {_tensor_kind(state[k])}" for k in expected if k in state and not _fits(state[k], expected[k])]
    if missing or unexpected or wrong or kinds:
        parts = []
        if wrong:
            parts.append("shapes differ for " + "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else ""))
        if kinds:
            parts.append("not plain weights: " + "; ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else ""))
        if missing:
            parts.append("missing " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else ""))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:6]) + (" ..." if len(unexpected) > 6 else ""))
        raise CheckpointError(f"The checkpoint does not match {model_name}: " + "; ".join(parts) + ".")
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:  # anything the checks above did not foresee
        raise CheckpointError(f"The checkpoint does not fit {model_name} ({_first_sentence(exc)}).") from None


def _fits(value: torch.Tensor, target: torch.Tensor) -> bool:
    """A dense tensor of a kind load_state_dict can cast without losing meaning (half -> float, not complex)."""
    if value.layout != torch.strided or value.is_complex() or value.dtype == torch.bool or value.is_quantized:
        return False
    return value.is_floating_point() or not target.is_floating_point()


def _tensor_kind(value: torch.Tensor) -> str:
    return f"a {value.layout} tensor" if value.layout != torch.strided else f"{str(value.dtype).removeprefix('torch.')}"


# ---------------------------------------------------------------- run folders

RUN_STATUSES = ("running", "done", "stopped", "failed")


def new_run_dir(runs_dir: Path, config: dict) -> Path:
    """A fresh, uniquely named folder: date, time, model and dataset."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    dataset = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(config.get("dataset", "data")).split(":")[-1])[-24:]
    base = f"{stamp}-{config.get('model', 'model')}-{dataset}".strip("-")
    path = Path(runs_dir) / base
    n = 1
    while path.exists():
        n += 1
        path = Path(runs_dir) / f"{base}-{n}"
    (path / "checkpoints").mkdir(parents=True)
    (path / "history").mkdir()
    return path


def write_status(run_dir: Path, status: str, reason: str = "", **extra: Any) -> None:
    assert status in RUN_STATUSES
    record = {"status": status, "reason": reason, "updated": datetime.now().isoformat(timespec="seconds")}
    record.update(extra)
    write_json(Path(run_dir) / "status.json", record)


def read_status(run_dir: Path) -> dict:
    status = read_json(Path(run_dir) / "status.json", {})
    if not isinstance(status, dict):
        status = {}  # a damaged status file reads as "unknown", not as a crash of the runs list
    if status.get("status") == "running" and not _recently_touched(run_dir):
        # The process that wrote "running" is gone (crash, kill): the run can be resumed.
        status = dict(status, status="stopped", reason=status.get("reason") or "interrupted")
    return status


def _recently_touched(run_dir: Path, seconds: float = 600) -> bool:
    latest = max((p.stat().st_mtime for p in Path(run_dir).glob("*.json*") if p.exists()), default=0)
    return time.time() - latest < seconds


class MetricsWriter:
    """Appends one JSON line per event to metrics.jsonl and flushes it at once."""

    def __init__(self, run_dir: Path):
        self._fh = open(Path(run_dir) / "metrics.jsonl", "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, default=_json_default) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


def read_metrics(run_dir: Path) -> list[dict]:
    """The run's events in order; records of epochs that a resume redid are dropped."""
    records: list[dict] = []
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return records
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if not isinstance(record, dict):
                continue  # not one of ours: a damaged or hand-edited file
            if record.get("event") == "fit_start" and records:
                start = _whole_or_zero(record.get("start_epoch"))
                records = [r for r in records if _whole_or_zero(r.get("epoch")) <= start or "epoch" not in r
                           or r.get("event") in ("fit_start", "fit_end", "error")]
            records.append(record)
    return records


def epoch_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if r.get("event") == "epoch" and _whole_or_zero(r.get("epoch")) > 0]


def save_epoch_snapshot(run_dir: Path, epoch: int, confusion: np.ndarray | None, kernels: dict[str, np.ndarray]) -> None:
    arrays = {f"kernels/{name}": np.asarray(w, dtype=np.float32) for name, w in kernels.items()}
    if confusion is not None:
        arrays["confusion"] = np.asarray(confusion, dtype=np.int64)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(Path(run_dir) / "history" / f"epoch_{epoch:04d}.npz", buffer.getvalue())


def read_epoch_snapshots(run_dir: Path) -> list[int]:
    """The epochs whose confusion matrix and kernels are kept, in order."""
    epochs = []
    for path in sorted((Path(run_dir) / "history").glob("epoch_*.npz")):
        try:
            epochs.append(int(path.stem.split("_")[1]))
        except (IndexError, ValueError):
            continue
    return epochs


def load_epoch_snapshot(run_dir: Path, epoch: int) -> dict:
    path = Path(run_dir) / "history" / f"epoch_{epoch:04d}.npz"
    try:
        with np.load(path, allow_pickle=False) as npz:
            kernels = {k.split("/", 1)[1]: npz[k] for k in npz.files if k.startswith("kernels/")}
            confusion = npz["confusion"] if "confusion" in npz.files else None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise RunError(f"The snapshot of epoch {epoch} cannot be read ({_first_line(exc)}).") from None
    return {"epoch": epoch, "confusion": confusion, "kernels": kernels}


@dataclass
class RunInfo:
    path: Path
    name: str
    config: dict
    status: dict
    created: float
    epochs_done: int = 0
    best_test_acc: float | None = None

    @property
    def state(self) -> str:
        return self.status.get("status", "unknown")


def read_run(run_dir: Path) -> RunInfo:
    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    if not isinstance(config, dict):
        raise RunError(f"{run_dir} is not a CNN Studio run folder (no readable config.json).")
    status = read_status(run_dir)
    return RunInfo(path=run_dir, name=run_dir.name, config=config, status=status,
                   created=(run_dir / "config.json").stat().st_mtime,
                   epochs_done=_whole_or_zero(status.get("epochs_done")),
                   best_test_acc=_fraction_or_none(status.get("best_test_acc")))


def _whole_or_zero(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _fraction_or_none(value) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Every run folder under runs_dir, newest first; folders that aren't runs are skipped."""
    runs = []
    root = Path(runs_dir)
    if not root.is_dir():
        return runs
    for child in root.iterdir():
        if (child / "config.json").is_file():
            try:
                runs.append(read_run(child))
            except RunError:
                continue
    return sorted(runs, key=lambda r: r.created, reverse=True)


def rename_run(run_dir: Path, new_name: str) -> Path:
    clean = re.sub(r"[^A-Za-z0-9_. -]+", "-", new_name).strip(" .")
    if not clean:
        raise RunError("A run name needs at least one letter or digit.")
    target = Path(run_dir).with_name(clean)
    if target.exists():
        raise RunError(f"A run named '{clean}' exists already.")
    Path(run_dir).rename(target)
    return target


def delete_run(run_dir: Path) -> None:
    import shutil

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise RunError(f"{run_dir} is not a run folder; nothing was deleted.")
    shutil.rmtree(run_dir)


def best_checkpoint(run_dir: Path) -> Path | None:
    for name in ("best.pt", "last.pt"):
        path = Path(run_dir) / "checkpoints" / name
        if path.is_file():
            return path
    return None
