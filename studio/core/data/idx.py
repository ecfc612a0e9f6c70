"""Read MNIST-style IDX files (raw or .gz): a big-endian header, then uint8 data."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
MAX_BYTES = 256 * 1024**2  # MNIST's largest file is 47 MB uncompressed


class IdxFormatError(ValueError):
    pass


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """The array stored in an IDX file whose magic number must be `magic`."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # bounded: a small .gz can inflate to gigabytes
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxFormatError(f"{path.name}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise IdxFormatError(f"{path.name}: more than {MAX_BYTES // 1024**2} MB of data, far more than any "
                             "MNIST-style file holds")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(f"{path.name}: too short for an IDX header")
    found = struct.unpack(">i", data[:4])[0]
    if found != magic:
        raise IdxFormatError(f"{path.name}: magic number {found}, expected {magic}")
    shape = struct.unpack(f">{ndim}i", data[4:header])
    size = int(np.prod(shape, dtype=np.int64))
    if min(shape) < 0 or len(data) - header != size:
        raise IdxFormatError(f"{path.name}: header says {shape} ({size} bytes) but {len(data) - header} bytes follow")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()
