"""The run lock: one training process writes a run folder, and readers can tell whether it still lives.

The lock is an OS file lock (flock on POSIX, msvcrt.locking on Windows) on `run.lock` in the run
folder, held by the training process for its whole fit. The OS drops it the moment the process
ends, however it ends (kill -9, power cut aside), so a reader that finds the lock free knows the
writer is gone: no heartbeat, no guessing from file times. The file also holds a PID + host
record for messages ("in use by process 1234 on host x"); only the lock itself decides.

Limits: flock works on local disks; on some network file systems (old NFS) it may be a no-op,
in which case two writers are no longer refused.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from pathlib import Path

from studio.core.errors import RunError

LOCK_NAME = "run.lock"
_WINDOWS_LOCK_OFFSET = 1 << 20  # msvcrt locks a byte range: one past the record, so the record stays readable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


def _try_lock(fd: int, exclusive: bool) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            return True
        except OSError:
            return False
    os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


class RunLock:
    """Held by the process that trains a run; `acquire` refuses a run another process is writing."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, wait: float = 1.0) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        # A reader probes with a shared lock for a few microseconds: retry briefly before refusing.
        while not _try_lock(fd, exclusive=True):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RunError(f"{self.path.parent.name} is being trained by another process "
                               f"({_holder_text(read_lock_record(self.path.parent))}); wait for it to finish "
                               "or stop it first.")
            time.sleep(0.02)
        self._fd = fd
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode())

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)


def is_locked(run_dir: Path) -> bool:
    """True while a live process holds the run's lock (this one included)."""
    path = Path(run_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY if fcntl is not None else os.O_RDWR)
    except OSError:
        return False  # no lock file: no writer of this version has opened the run
    try:
        if _try_lock(fd, exclusive=False):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def read_lock_record(run_dir: Path) -> dict:
    """The PID + host record of the lock's last holder (informative only; the lock decides)."""
    try:
        record = json.loads((Path(run_dir) / LOCK_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _holder_text(record: dict) -> str:
    if not record.get("pid"):
        return "holder unknown"
    return f"process {record.get('pid')} on {record.get('host', 'an unknown host')}, since {record.get('started', '?')}"


def check_not_locked(run_dir: Path) -> None:
    """Refuse early (before loading data) to resume a run another process is training."""
    if is_locked(run_dir):
        raise RunError(f"{Path(run_dir).name} is being trained by another process "
                       f"({_holder_text(read_lock_record(run_dir))}); wait for it to finish or stop it first.")


def remove_leftover_temp_files(run_dir: Path) -> list[Path]:
    """`.NAME.PID.tmp` files an interrupted atomic write left behind; call only while holding the lock."""
    removed = []
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "checkpoints", run_dir / "history"):
        for path in folder.glob(".*.tmp") if folder.is_dir() else ():
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                continue
    return removed
