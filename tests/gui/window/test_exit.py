"""The process ends promptly once the window has closed (it lingered 4-8 s in Python's teardown)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_process_ends_within_two_seconds_of_the_window_closing(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNN_STUDIO_STARTUP_PROBE="1",
               CNN_STUDIO_SETTINGS_DIR=str(tmp_path / "settings"), CNN_STUDIO_RUNS_DIR=str(tmp_path / "runs"))
    process = subprocess.Popen([sys.executable, str(ROOT / "main.py")], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    closing = None
    for line in process.stdout:       # the probe closes the window once it is ready
        parts = line.split()
        if parts[:2] == ["probe", "closing"]:
            closing = float(parts[2])
    process.wait(timeout=60)
    ended = time.time()
    assert process.returncode == 0, process.stderr.read()[-3000:]
    assert closing is not None, "the window never reported ready"
    assert ended - closing < 2.0, f"the process lingered {ended - closing:.1f} s after the window closed"
