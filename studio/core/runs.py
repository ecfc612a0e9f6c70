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
        "format_version": 1,
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
    if not path.is_file():
        raise CheckpointError(f"{path.name}: no such checkpoint file.")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path.name}: the file is empty.")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name}: {size / 1024**3:.1f} GB is too large for a checkpoint.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protocol warnings on junk files: the error below says it all
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path.name} was refused: it contains Python objects or code, not just weights "
            f"(only weights-only checkpoints are loaded). Detail: {_first_line(exc)}"
        ) from None
    except Exception as exc:  # weights_only ran no code; whatever broke, the file is unusable
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint ({_first_line(exc)}).") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} holds a {type(data).__name__}, not a checkpoint or state dict.")
    return data


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
        model = build_model(data["model_name"], tuple(data["input_shape"]), len(data["classes"]),
                            data.get("model_options") or {})
    except KeyError as exc:
        raise CheckpointError(f"{path.name} is missing the field {exc}.") from None
    _load_into(model, data["state_dict"], data["model_name"])
    model.to(map_location).eval()
    return LoadedModel(model=model, model_name=data["model_name"], model_options=data.get("model_options") or {},
                       classes=list(data["classes"]), input_shape=tuple(data["input_shape"]),
                       mean=tuple(data["mean"]), std=tuple(data["std"]), epoch=int(data.get("epoch", 0)),
                       source=str(path), checkpoint=data)


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
    return int(epoch) if isinstance(epoch, (int, float)) else 0


def import_state_dict(state: dict, model_name: str, *, classes=None, input_shape=None, mean=None, std=None,
                      source: str = "", epoch: int = 0) -> LoadedModel:
    """Fit a bare state dict into an architecture, guessing the input shape and class count from it."""
    from studio.core.models import build_model, get_spec

    spec = get_spec(model_name)
    num_classes = len(classes) if classes else _guess_num_classes(state)
    in_ch = _guess_in_channels(state)
    shapes = [tuple(input_shape)] if input_shape else _candidate_shapes(spec, in_ch)
    first_error = None
    for shape in shapes:
        try:
            model = build_model(model_name, shape, num_classes)
            _load_into(model, state, model_name)
        except (CheckpointError, ModelError) as exc:
            first_error = first_error or exc
            if isinstance(exc, CheckpointError) and set(model.state_dict()) != set(state):
                break  # layer names do not depend on the input size: no other size can fit
            continue
        model.eval()
        guess_classes, guess_mean, guess_std = _notebook_defaults(spec, shape[0], num_classes)
        return LoadedModel(model=model, model_name=model_name, model_options={},
                           classes=list(classes) if classes else guess_classes, input_shape=shape,
                           mean=tuple(mean or guess_mean), std=tuple(std or guess_std),
                           epoch=epoch, source=source or f"state dict imported as {model_name}",
                           checkpoint={})
    raise first_error or CheckpointError(f"The state dict does not fit {model_name}.")


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
    sides = [spec.fixed_size[0]] if spec.fixed_size else []
    sides += [s for s in (32, 28, 224, 64, 96, 227) if s not in sides]
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
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append("shapes differ for " + "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else ""))
        if missing:
            parts.append("missing " + ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else ""))
        if unexpected:
            parts.append("unexpected " + ", ".join(unexpected[:6]) + (" ..." if len(unexpected) > 6 else ""))
        raise CheckpointError(f"The checkpoint does not match {model_name}: " + "; ".join(parts) + ".")
    model.load_state_dict(state)


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
    status = read_json(Path(run_dir) / "status.json", {}) or {}
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
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if record.get("event") == "fit_start" and records:
                start = int(record.get("start_epoch", 0))
                records = [r for r in records if int(r.get("epoch", 0) or 0) <= start or "epoch" not in r
                           or r.get("event") in ("fit_start", "fit_end", "error")]
            records.append(record)
    return records


def epoch_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(run_dir) if r.get("event") == "epoch"]


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
                   epochs_done=int(status.get("epochs_done", 0) or 0),
                   best_test_acc=status.get("best_test_acc"))


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
