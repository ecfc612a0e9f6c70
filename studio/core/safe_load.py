"""The one torch.load of the studio: size and archive checks first, weights_only=True always."""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path

import torch

from studio.core.errors import CheckpointError

MAX_CHECKPOINT_BYTES = 2 * 1024**3
# The pickle of a checkpoint holds names and numbers, never the weights (those are separate
# members): ImageNet's 1000 class names plus a big model's keys and optimiser state take well
# under 1 MB. A huge one (a million class names: 20 MB) would take seconds to parse before being refused.
MAX_PICKLE_BYTES = 4 * 1024**2
_CRC_CHUNK = 1024**2


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
                              f"or of another kind ({first_sentence(exc)}).") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path.name} holds a {type(data).__name__}, not a checkpoint or state dict.")
    _check_finite(path, data)
    return data


def _check_finite(path: Path, data: dict) -> None:
    """Refuse weights holding NaN or Inf: predictions from them are "nan %", an evaluation a coin toss."""
    ordered = dict(sorted(data.items(), key=lambda item: item[0] != "state_dict"))  # name the studio's own key
    for name, tensor in _floating_tensors(ordered):
        if tensor.numel() == 0 or bool(torch.isfinite(_total(tensor))):
            continue  # a NaN or Inf anywhere makes the sum one: 30x faster than isfinite().all() on big layers
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            nan = int(torch.isnan(tensor).sum())
            inf = int(tensor.numel() - int(finite.sum()) - nan)
            raise CheckpointError(f"{path.name} holds weights that are not numbers: '{name}' has {nan:,} NaN and "
                                  f"{inf:,} infinite values (the training that saved it diverged); it was refused.")


def _total(tensor: torch.Tensor) -> torch.Tensor:
    """The sum in double precision (a sum of huge finite float16/32 values must not overflow into a false alarm)."""
    if tensor.is_complex():
        return torch.view_as_real(tensor).sum(dtype=torch.float64)
    return tensor.sum(dtype=torch.float64)


def _floating_tensors(value, prefix: str = "", depth: int = 0):
    """(name, tensor) for every floating tensor in the checkpoint's dicts and lists, a few levels deep."""
    if torch.is_tensor(value):
        if value.layout == torch.strided and (value.is_floating_point() or value.is_complex()):
            yield prefix or "tensor", value
    elif depth < 4 and isinstance(value, dict):
        for key, item in value.items():
            yield from _floating_tensors(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
    elif depth < 4 and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _floating_tensors(item, f"{prefix}[{i}]", depth + 1)


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
    unpacked = _check_archive(path)
    # torch.save stores its records uncompressed, so a checkpoint unpacks to about its own size;
    # a small file that unpacks to gigabytes is a zip bomb.
    if unpacked > MAX_CHECKPOINT_BYTES or unpacked > 16 * size + 64 * 1024**2:
        raise CheckpointError(f"{path.name} unpacks to {unpacked / 1024**2:,.0f} MB from {size / 1024**2:,.1f} MB: "
                              "not a checkpoint written by torch.save (a possible zip bomb), refused.")


def _check_archive(path: Path) -> int:
    """Sizes and CRCs of torch's zip format (since 1.6); returns the unpacked size, 0 for other files.

    torch.load checks no CRC: a damaged tensor member loads silently as wrong weights, a damaged
    data.pkl turns a key into garbage. Every member is read once here, in chunks.
    """
    try:
        if not zipfile.is_zipfile(path):
            return 0
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            unpacked = sum(info.file_size for info in members)
            if unpacked > MAX_CHECKPOINT_BYTES or unpacked > 16 * path.stat().st_size + 64 * 1024**2:
                return unpacked  # the caller refuses a zip bomb without reading it
            for info in members:
                _check_member(path, archive, info)
            return unpacked
    except CheckpointError:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return 0  # torch.load will say what is wrong with it


def _check_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    if info.filename.endswith(".pkl") and info.file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(f"{path.name}: its record {info.filename.rsplit('/', 1)[-1]} is "
                              f"{info.file_size / 1024**2:,.0f} MB, far more than a checkpoint's names and "
                              "settings need (a million class names?); refused without reading it.")
    try:
        with archive.open(info) as member:
            while member.read(_CRC_CHUNK):
                pass
    except zipfile.BadZipFile as exc:
        raise CheckpointError(f"{path.name} is damaged: the part '{info.filename}' fails its checksum "
                              f"({first_sentence(exc)}); the file was changed or cut after it was saved.") from None


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


def first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0][:200]


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


