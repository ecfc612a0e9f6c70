"""Stop and pause reach every rank between batches, and only together.

Each training step sums one small tensor over the ranks: the batch's loss x count, correct and
count, plus two flags: stop (any rank's: Ctrl+C in a terminal) and pause (rank 0's). Rank 0 takes
the window's or the launcher's Stop and Pause from a control file in the run folder (control.json,
{"command": "stop" | "pause" | "run"}), read at most twice a second. A rank acts on a flag only once
every rank has seen it, so all leave (or pause) at the same batch; a paused run keeps exchanging the
flags every half second, so no collective waits long enough to time out.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from studio.core.runs.jsonio import read_json, write_json

CONTROL_NAME = "control.json"
POLL_EVERY = 0.5   # seconds between two reads of the control file, and between two exchanges while paused
COMMANDS = ("stop", "pause", "run")


def send_command(run_dir: str | Path, command: str) -> None:
    """Ask a distributed run to stop, pause or go on (what the window and the launcher call)."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}")
    write_json(Path(run_dir) / CONTROL_NAME, {"command": command, "sent": time.time()})


class RankControl:
    def __init__(self, ctx):
        self.ctx = ctx
        self.stop_agreed = False
        self.pause_agreed = False
        self._sent = None      # the last command read, so a command acts once
        self._polled = 0.0

    def close(self, trainer) -> None:
        """The run is over: its control file goes (a resume must not find an old Stop)."""
        path = _control_file(trainer)
        if path is not None:
            path.unlink(missing_ok=True)

    def exchange(self, trainer, values: list[torch.Tensor]) -> list[float]:
        """Sum `values` (0-d tensors) over the ranks with this rank's flags; returns the summed values."""
        self._poll(trainer)
        flags = torch.tensor([float(trainer._stop.is_set()), float(self.ctx.is_main and trainer.paused)])
        mine = [v.detach().double().cpu().reshape(1) for v in values]
        totals = self.ctx.all_sum(torch.cat([*mine, flags.double()]))
        *summed, stop, pause = totals.tolist()
        self._agree(trainer, stop, pause)
        return summed

    def hold(self, trainer) -> float:
        """Between two batches: wait here (exchanging flags) while the run is paused; the seconds paused."""
        if not self.pause_agreed or self.stop_agreed:
            return 0.0
        trainer.on_blocked(True)
        paused_at = time.perf_counter()
        while self.pause_agreed and not self.stop_agreed:
            if self.ctx.is_main:
                trainer._running.wait(POLL_EVERY)
            self.exchange(trainer, [])
        trainer.on_blocked(False)
        return time.perf_counter() - paused_at

    def _agree(self, trainer, stop: float, pause: float) -> None:
        if stop and not self.stop_agreed:
            self.stop_agreed = True
            if not trainer._stop.is_set():
                trainer.request_stop("stopped from another process of the run")
        self.pause_agreed = bool(pause)

    def _poll(self, trainer) -> None:
        path = _control_file(trainer)
        if path is None or time.monotonic() - self._polled < POLL_EVERY:
            return
        self._polled = time.monotonic()
        sent = read_json(path, None)
        if not isinstance(sent, dict) or sent == self._sent:
            return
        self._sent = sent
        command = sent.get("command")
        if command == "stop":
            trainer.request_stop("stopped by the user")
        elif command == "pause":
            trainer.pause()
        elif command == "run":
            trainer.unpause()


def _control_file(trainer) -> Path | None:
    """Rank 0's control file (it alone reads the run folder); None on the other ranks."""
    if not (trainer.dist.is_main and trainer.record and trainer.run_dir):
        return None
    return Path(trainer.run_dir) / CONTROL_NAME
