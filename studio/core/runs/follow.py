"""Read a run's metrics.jsonl incrementally: each call returns only the lines added since the last.

A reader remembers the byte offset it has read up to. A line still being written (no newline
yet) is left for the next call, so a record is never parsed half-written; lines that are not
JSON objects (cut short by a crash, edited by hand) are skipped, as `store.read_metrics` does.
If the file shrinks or is replaced (another inode), the reader starts over and says so through
`restarted`, so the caller can drop what it built from the old contents.

Qt-free: the window uses it off the GUI thread to open a run, and the same reader can follow a
run that another process is still writing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

METRICS_FILE = "metrics.jsonl"


class MetricsReader:
    """Incremental reader of one run folder's metrics.jsonl."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / METRICS_FILE
        self.offset = 0           # bytes consumed: everything before it has been returned
        self.restarted = False    # the last read_new() started the file over
        self._inode: int | None = None

    def read_new(self) -> list[dict]:
        """The complete records written since the previous call (all of them on the first call)."""
        self.restarted = False
        try:
            with open(self.path, "rb") as fh:
                stat = os.fstat(fh.fileno())
                if stat.st_size < self.offset or (self._inode is not None and stat.st_ino != self._inode):
                    self.offset, self.restarted = 0, True
                self._inode = stat.st_ino
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []            # nothing complete yet
        self.offset += end + 1
        return list(_records(chunk[:end + 1]))

    def read_all(self) -> list[dict]:
        """Every record, from the start (the reader then follows from the end)."""
        self.offset, self._inode = 0, None
        return self.read_new()


def _records(data: bytes):
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8", errors="replace"))
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(record, dict):
            yield record
