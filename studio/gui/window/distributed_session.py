"""A run of several processes, started from the window and followed live through its run folder.

With Processes > 1 the window does what a terminal would: it makes the run folder, starts
`cnn-studio train --config RUN/config.json --run-dir RUN` (which launches torchrun) as a
subprocess, and follows the folder with the RunFollower, as for any run another process writes.
Pause, Stop and closing the window reach the ranks through the run's control file (rank 0 reads
it between batches and tells the others). A timer notices the subprocess's end; its output is kept
in a temporary file, shown when the run failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

import studio

CHECK_EVERY_MS = 300
OUTPUT_TAIL = 4000   # characters of the launcher's output shown with a failure


def planned_processes(config, run_dir: Path | None, resume: bool) -> int:
    """How many processes a start asks for: the settings', or for a resume the run's own."""
    if resume and run_dir is not None:
        from studio.core.runs.jsonio import read_json

        saved = read_json(Path(run_dir) / "config.json", {})
        value = saved.get("processes", 1) if isinstance(saved, dict) else 1
        return value if isinstance(value, int) and value > 0 else 1
    return int(getattr(config, "processes", 1) or 1)


class DistributedRun(QObject):
    ended = Signal(dict, str)   # the run's final status.json, the launcher's last output

    def __init__(self, window, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.run_dir: Path | None = None
        self.paused = False
        self._proc: subprocess.Popen | None = None
        self._output = None
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self._check)

    def is_running(self) -> bool:
        return self._proc is not None

    def start(self, config, run_dir: Path | None = None, resume: bool = False) -> Path:
        from studio.core.engine import distributed_launch as launch

        if resume:
            run_dir = Path(run_dir)
            args = ["resume", str(run_dir)]
        else:
            run_dir = launch.new_run(config, None)
            args = ["train", "--config", str(run_dir / "config.json"), "--run-dir", str(run_dir)]
        env = dict(os.environ)
        root = str(Path(studio.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._output = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self._proc = subprocess.Popen([sys.executable, "-m", "studio", *args], env=env, stdout=self._output,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.run_dir, self.paused = run_dir, False
        self._timer.start()
        self.window.runs.follower.follow(run_dir)
        return run_dir

    def command(self, command: str) -> None:
        """stop, pause or run: through the control file, read by rank 0 between batches."""
        from studio.core.engine.distributed_control import send_command

        if self._proc is None or self.run_dir is None:
            return
        send_command(self.run_dir, command)
        if command in ("pause", "run"):
            self.paused = command == "pause"

    def wait(self, timeout_ms: int | None = None) -> bool:
        if self._proc is None:
            return True
        try:
            self._proc.wait(None if timeout_ms is None else timeout_ms / 1000)
        except subprocess.TimeoutExpired:
            return False
        self._check()
        return True

    def shutdown(self) -> None:
        """The window goes: a run still going is asked to stop (it saves itself), never killed."""
        if self._proc is not None:
            self.command("stop")
        self._timer.stop()

    def _keep_following(self) -> None:
        """The follower gives up on a folder silent for a minute: a slow start (torchrun, the imports, a
        download) can be that long. While the processes live and the run says running, follow it again."""
        from studio.core.runs.jsonio import read_json

        follower = self.window.runs.follower
        if follower.is_following() or self.run_dir is None:
            return
        status = read_json(self.run_dir / "status.json", {})
        if isinstance(status, dict) and status.get("status") == "running":
            follower.follow(self.run_dir)

    @Slot()
    def _check(self) -> None:
        from studio.core.runs.jsonio import read_json

        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._keep_following()
            return
        self._timer.stop()
        self._proc = None
        self._output.seek(0)
        output = self._output.read()[-OUTPUT_TAIL:]
        self._output.close()
        self._output = None
        status = read_json(self.run_dir / "status.json", {}) if self.run_dir else {}
        self.ended.emit(status if isinstance(status, dict) else {}, output)
