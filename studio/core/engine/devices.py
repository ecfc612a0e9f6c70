"""Which devices exist and which one a config means."""

from __future__ import annotations

import os

import torch

from studio.core.errors import StudioError


def available_devices() -> list[tuple[str, str]]:
    """(device string, human label) for the CPU, each CUDA device by name, and Apple MPS when present."""
    devices = [("cpu", f"CPU ({os.cpu_count()} cores)")]
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            devices.append((f"cuda:{i}", f"cuda:{i} — {torch.cuda.get_device_name(i)}"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append(("mps", "Apple MPS"))
    return devices


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA, then MPS, then CPU; an explicit device that is absent is an error."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        device = None
    # torch also knows meta, xpu, hpu, ...: valid names the studio cannot train on.
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise StudioError(f"Unknown device '{name}'. Use auto, cpu, cuda, cuda:N or mps.")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise StudioError("CUDA was requested but no CUDA GPU is available; choose cpu.")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise StudioError(f"There is no {name}: this machine has {torch.cuda.device_count()} CUDA device(s).")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise StudioError("Apple MPS was requested but is not available on this machine.")
    return device


def cpu_threads(requested: int, keep_free: int = 0) -> int:
    """Torch threads for CPU work: the number asked for, else every core but `keep_free`.

    Who drives the trainer decides keep_free: the command line (nothing else to run) uses every
    core; the window keeps one free so it stays responsive while training.
    """
    if requested and requested > 0:
        return requested
    return max(1, (os.cpu_count() or 2) - keep_free)
