#!/usr/bin/env python3
"""How responsive the window stays while it follows a run that `cnn-studio train` writes.

    python bench/follow_stall.py [--epochs 10] [--batch-size 64] [--repeats 2] [--screenshot PATH]

For each repeat, two CLI runs in a subprocess, one after the other, on the same machine:
  * baseline: the window is open (Training tab shown) but does not follow the run;
  * following: the window opens the run as soon as its folder says "running" and follows it
    live (RunFollower: a poll every 0.5 s, new metrics.jsonl lines read off the GUI thread).
During each, a 10 ms PreciseTimer in the GUI thread records its lateness (as bench/gui_overhead.py
does). Prints the p99 and worst stall of both (goal while following: p99 < 50 ms), the polls made,
and the epochs the window received. The CLI competes with the window for the same cores, so the
baseline shows what the machine's load alone costs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def start_cli(runs_dir: Path, args) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "studio", "train", "--dataset", args.dataset, "--model", args.model,
                             "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                             "--runs-dir", str(runs_dir)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def running_run(runs_dir: Path) -> Path | None:
    for status in runs_dir.glob("*/status.json"):
        try:
            if json.loads(status.read_text()).get("status") == "running":
                return status.parent
        except ValueError:
            continue
    return None


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def measure(app, window, runs_dir: Path, args, follow: bool, screenshot: Path | None = None) -> dict:
    """Run one CLI training; record the GUI timer's lateness from 'running' to the end."""
    from PySide6.QtCore import QObject, Qt, QTimer, Slot

    class Probe(QObject):
        def __init__(self):
            super().__init__()
            self.gaps: list[float] = []
            self.last = None
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(10)
            self.timer.timeout.connect(self.tick)

        @Slot()
        def tick(self):
            now = time.perf_counter()
            if self.last is not None:
                self.gaps.append(now - self.last - 0.010)
            self.last = now

    def spin_until(condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            app.processEvents()
            time.sleep(0.005)
        return True

    proc = start_cli(runs_dir, args)
    probe = Probe()
    try:
        if not spin_until(lambda: running_run(runs_dir) is not None or proc.poll() is not None, 300):
            raise SystemExit("the CLI run did not start")
        run_dir = running_run(runs_dir)
        if run_dir is None:
            raise SystemExit("the CLI run ended before its folder said 'running'")
        probe.timer.start()
        follower = window.runs.follower
        polls_before = follower.polls
        shot_taken = False
        if follow:
            window.open_run(run_dir)
            spin_until(lambda: follower.run_dir == run_dir and follower.history.path == run_dir, 60)
        # app.exec-like loop: events are processed as they come, the probe sees every delay
        while proc.poll() is None or (follow and follower.is_following()):
            app.processEvents()
            time.sleep(0.001)
            if screenshot and follow and not shot_taken and follower.run_dir == run_dir \
                    and len(follower.history.epochs) >= max(2, args.epochs // 2):
                window.show_runs_list()
                window.runs_panel.refresh()          # the run shows as "● live" in the list
                window.runs_panel.select_runs([run_dir])
                window.training_tab.redraw(force=True)
                window.grab().save(str(screenshot))
                shot_taken = True
                probe.last = None     # the grab is the bench's own work: not counted as a stall
        probe.timer.stop()
        epochs = len(follower.history.epochs) if follow and follower.history is not None else 0
        return {"p99_ms": 1000 * max(percentile(probe.gaps, 0.99), 0.0),
                "max_ms": 1000 * max(max(probe.gaps, default=0.0), 0.0), "samples": len(probe.gaps),
                "polls": follower.polls - polls_before, "epochs": epochs, "status": window.status_label.text()}
    finally:
        probe.timer.stop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--screenshot", type=Path, help="save a grab of the window following the run here")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CNN_STUDIO_RUNS_DIR"] = f"{tmp}/runs"
        os.environ["CNN_STUDIO_SETTINGS_DIR"] = f"{tmp}/settings"
        from studio.gui.window.main_window import MainWindow

        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow()
        window.confirm = lambda *a: True
        window.resize(1280, 800)
        window.show()
        deadline = time.monotonic() + 300
        while not (window.loaded and window.state.dataset is not None) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        window.show_tab("training")
        results = {"baseline": [], "following": []}
        for i in range(args.repeats):
            for mode in ("baseline", "following"):
                shot = args.screenshot if (mode == "following" and i == args.repeats - 1) else None
                results[mode].append(measure(app, window, Path(tmp) / "runs", args, mode == "following", shot))
        window.close()
        window.deleteLater()
        from studio.gui.concurrency.tasks import wait_for_all_tasks

        wait_for_all_tasks()

    for mode, runs in results.items():
        p99 = ", ".join(f"{r['p99_ms']:.1f}" for r in runs)
        worst = max(r["max_ms"] for r in runs)
        extra = ""
        if mode == "following":
            extra = (f"; polls {', '.join(str(r['polls']) for r in runs)}, epochs received "
                     f"{', '.join(str(r['epochs']) for r in runs)}/{args.epochs}")
        print(f"{mode:9s}: GUI stall p99 {p99} ms (goal < 50 ms), worst {worst:.1f} ms, "
              f"{sum(r['samples'] for r in runs)} timer samples{extra}")
    print("last status:", results["following"][-1]["status"])
    ok = all(r["p99_ms"] < 50 for r in results["following"])
    print("goal met" if ok else "goal NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
