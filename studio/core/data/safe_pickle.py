"""Load the CIFAR python pickles without letting a pickle run code.

The real CIFAR files hold only dicts, lists, strings/bytes, ints and numpy arrays. A
restricted Unpickler resolves just the globals numpy needs to rebuild an array; any other
global (os.system, builtins.eval, ...) is refused before it can be called, so a malicious
file dropped into the data folder is an error, not an exploit.
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path
from typing import Any

import numpy as np

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct as _np_reconstruct


def _reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise pickle.UnpicklingError("only plain numpy arrays may be unpickled")
    return _np_reconstruct(subtype, shape, dtype)


def _dtype(spec, align=False, copy=False):
    dtype = np.dtype(spec, align, copy)
    if dtype.hasobject:
        raise pickle.UnpicklingError("numpy object arrays may not be unpickled")
    return dtype


_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("_codecs", "encode"): codecs.encode,  # how Python 3 writes bytes in protocol 2
}
for _module in ("builtins", "__builtin__"):
    for _name, _value in (("set", set), ("frozenset", frozenset), ("bytearray", bytearray)):
        _ALLOWED[(_module, _name)] = _value


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file") from None


def load_pickle(path: str | Path) -> Any:
    """Unpickle a data file (Python 2 or 3 pickles; latin1 keeps numpy's raw bytes intact)."""
    with open(path, "rb") as handle:
        return SafeUnpickler(handle, encoding="latin1").load()
