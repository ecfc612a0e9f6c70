"""Pretrained weight files: where they live, downloading them once, reading them safely.

Files sit in <weights_dir>/hub/checkpoints/ under torchvision's own file names (TORCH_HOME
layout), so a file downloaded by torchvision elsewhere can be copied in as it is. A file that
is already there is used without touching the network. Downloads go to a temporary file and
are renamed only after the SHA-256 prefix in the file name matches, so an interrupted
download never looks like a cached one. Files are read with torch.load(weights_only=True).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import torch

from studio.core import paths
from studio.core.errors import DownloadError, ModelError

Progress = Callable[[int, int], None]
_HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")
_CHUNK = 1 << 20


def checkpoints_dir(weights_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds the weight files (created)."""
    folder = paths.weights_dir(weights_dir) / "hub" / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def cached_file(url: str, weights_dir: str | os.PathLike | None = None) -> Path | None:
    """The weight file for `url` if it is already on disk (also accepted at the top of weights_dir)."""
    name = file_name(url)
    for folder in (checkpoints_dir(weights_dir), paths.weights_dir(weights_dir)):
        if (folder / name).is_file():
            return folder / name
    return None


def fetch(url: str, weights_dir: str | os.PathLike | None = None,
          progress: Progress | bool | None = None) -> Path:
    """Path of the weight file for `url`, downloading it first if it is not cached."""
    found = cached_file(url, weights_dir)
    if found is not None:
        return found
    target = checkpoints_dir(weights_dir) / file_name(url)
    download(url, target, progress)
    return target


def download(url: str, target: Path, progress: Progress | bool | None = None) -> None:
    """Download `url` to `target` atomically; DownloadError names the file and the folder to put it in."""
    partial = target.with_name(target.name + ".part")
    try:
        request = Request(url, headers={"User-Agent": "cnn-studio"})
        with urlopen(request, timeout=30) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            digest = _copy(response, out, total, _reporter(progress, total, target.name))
        _check_hash(target.name, digest)
        os.replace(partial, target)
    except (URLError, OSError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"Could not download {target.name} ({reason}). Download it from {url} and put it in the folder "
            f"{target.parent}, then try again.") from exc
    finally:
        partial.unlink(missing_ok=True)


def _copy(response, out, total: int, report: Progress) -> str:
    sha = hashlib.sha256()
    done = 0
    while chunk := response.read(_CHUNK):
        out.write(chunk)
        sha.update(chunk)
        done += len(chunk)
        report(done, total)
    return sha.hexdigest()


def _check_hash(name: str, digest: str) -> None:
    match = _HASH_IN_NAME.search(name)
    if match and not digest.startswith(match.group(1)):
        raise ValueError(f"the downloaded file is damaged (checksum {digest[:8]} instead of {match.group(1)})")


def _reporter(progress: Progress | bool | None, total: int, name: str) -> Progress:
    """A callback for the download loop: the caller's, a tqdm bar on stderr (default), or nothing (False)."""
    if callable(progress):
        return progress
    if progress is False:
        return lambda done, total: None
    from tqdm import tqdm

    bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=name, file=sys.stderr, leave=False)

    def report(done: int, _total: int) -> None:
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()

    return report


def load_state_dict(path: Path) -> dict:
    """Read a weight file safely (tensors only, no pickled code), through the app's one checkpoint reader."""
    from studio.core.errors import CheckpointError
    from studio.core.safe_load import read_checkpoint

    try:
        state = read_checkpoint(Path(path))
    except CheckpointError as exc:
        raise ModelError(f"The weights file {path} cannot be read ({exc}); delete it so it is downloaded again.") \
            from None
    if not all(torch.is_tensor(v) for v in state.values()):
        raise ModelError(f"The weights file {path} does not hold a state dict; delete it so it is downloaded again.")
    return state
