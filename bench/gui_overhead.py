#!/usr/bin/env python3
"""What the window costs a training run, and how responsive it stays.

    python bench/gui_overhead.py [--epochs 4] [--batch-size 64] [--model lenet5] [--dataset mnist-sample]

Prints, measured in one go on this machine:
  * training throughput headless (Trainer.fit alone) and with the window open and plotting
    (offscreen Qt, the Training tab visible and redrawing), and their ratio (goal >= 0.9);
  * the GUI event loop's worst and 99th-percentile stall during training (goal p99 < 50 ms),
    measured as the lateness of a 10 ms timer in the GUI thread;
  * the time from process start to a shown window, and to a ready one, for `python main.py`
    (goals: shown < 1.5 s, ready < 3.5 s).
Throughput is the median of the per-epoch training images/s, first epoch of each run excluded
(warm-up). Headless and window runs alternate (--repeats pairs), so a machine whose load drifts
(other work on the same cores) biases neither side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def make_config(args):
    from studio.core.config.train_config import TrainConfig

    return TrainConfig(dataset=args.dataset, model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                       device="cpu", seed=0)


def steady(per_epoch: list[float]) -> list[float]:
    return per_epoch[1:] if len(per_epoch) > 1 else per_epoch


def steady_throughput(per_epoch: list[float]) -> float:
    return statistics.median(steady(per_epoch))


# ------------------------------------------------------------------ headless

def headless_run(args, runs_dir: Path) -> dict:
    from studio.core.engine.events import EpochEnd
    from studio.core.engine.trainer import Trainer

    speeds: list[float] = []
    trainer = Trainer(make_config(args), callbacks=[lambda e: isinstance(e, EpochEnd) and speeds.append(
        e.images_per_sec)], runs_dir=runs_dir)
    end = trainer.fit()
    assert end.status == "done", end.reason
    return {"images_per_sec": steady_throughput(speeds), "per_epoch": speeds}


# ------------------------------------------------------------------ with the window

def gui_run(args) -> dict:
    from PySide6.QtCore import QObject, Qt, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from studio.gui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.confirm = lambda *a: True
    window.resize(1280, 800)
    window.show()

    class Probe(QObject):
        """Lives in the GUI thread: measures timer lateness while training runs."""

        def __init__(self):
            super().__init__()
            self.gaps: list[float] = []
            self.speeds: list[float] = []
            self.packets = 0
            self.last = None
            self.timer = QTimer(self)
            self.timer.setTimerType(Qt.TimerType.PreciseTimer)
            self.timer.setInterval(10)
            self.timer.timeout.connect(self.tick)

        @Slot()
        def tick(self):
            now = time.perf_counter()
            if self.last is not None and window.runner.is_running() and window.session.fit_start is not None:
                self.gaps.append(now - self.last - 0.010)
            self.last = now

        @Slot(object)
        def on_epoch(self, event):
            self.speeds.append(event.images_per_sec)

        @Slot(object)
        def on_batches(self, packet):
            self.packets += 1

        @Slot()
        def on_finished(self):
            self.timer.stop()
            app.quit()

    probe = Probe()
    window.runner.subscribe("epochEnded", probe.on_epoch)
    window.runner.subscribe("batches", probe.on_batches)
    window.runner.finished.connect(probe.on_finished)

    def start_when_ready():
        if not window.loaded or window.state.dataset is None:
            QTimer.singleShot(50, start_when_ready)
            return
        window.settings_panel.set_config(make_config(args))
        probe.timer.start()
        window.start_training()

    QTimer.singleShot(0, start_when_ready)
    app.exec()
    redraws = window.training_tab.redraw_count
    window.close()
    window.deleteLater()
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    wait_for_all_tasks()
    gaps_ms = sorted(1000 * max(g, 0.0) for g in probe.gaps)
    p99 = gaps_ms[min(len(gaps_ms) - 1, int(0.99 * len(gaps_ms)))] if gaps_ms else float("nan")
    return {"images_per_sec": steady_throughput(probe.speeds), "per_epoch": probe.speeds,
            "stall_max_ms": gaps_ms[-1] if gaps_ms else float("nan"), "stall_p99_ms": p99,
            "stall_samples": len(gaps_ms), "redraws": redraws, "batch_signals": probe.packets, "gaps_ms": gaps_ms}


# ------------------------------------------------------------------ start-up

def startup_times(repeats: int) -> dict:
    shown, ready = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, CNN_STUDIO_STARTUP_PROBE="1", QT_QPA_PLATFORM="offscreen",
                       CNN_STUDIO_SETTINGS_DIR=f"{tmp}/settings", CNN_STUDIO_RUNS_DIR=f"{tmp}/runs")
            t0 = time.time()
            out = subprocess.run([sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
                                 timeout=300, cwd=tmp)
            stamps = {}
            for line in out.stdout.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "probe":
                    stamps[parts[1]] = float(parts[2]) - t0
            if "shown" not in stamps:
                raise SystemExit(f"main.py did not report a shown window:\n{out.stdout}\n{out.stderr[-2000:]}")
            shown.append(stamps["shown"])
            ready.append(stamps.get("ready", float("nan")))
    return {"shown_s": statistics.median(shown), "ready_s": statistics.median(ready), "shown_all": shown,
            "ready_all": ready}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--repeats", type=int, default=2, help="headless/window pairs, alternating")
    parser.add_argument("--startup-repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--startup-only", action="store_true", help="only the start-up times (seconds, not minutes)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CNN_STUDIO_RUNS_DIR"] = f"{tmp}/runs"
        os.environ["CNN_STUDIO_SETTINGS_DIR"] = f"{tmp}/settings"
        startup = startup_times(args.startup_repeats)
        if args.startup_only:
            print(f"process start -> window shown {startup['shown_s']:.2f} s (goal < 1.5 s), -> ready "
                  f"{startup['ready_s']:.2f} s (goal < 3.5 s)   [runs: "
                  + ", ".join(f"{s:.2f}/{r:.2f}" for s, r in zip(startup["shown_all"], startup["ready_all"])) + "]")
            return 0
        warm = argparse.Namespace(**{**vars(args), "epochs": 1})
        headless_run(warm, Path(tmp) / "warmup")           # data cached, kernels warm: fair to both
        headless_runs, gui_runs = [], []
        for i in range(args.repeats):
            headless_runs.append(headless_run(args, Path(tmp) / f"headless{i}"))
            gui_runs.append(gui_run(args))

    import torch

    headless = {"per_epoch": [s for r in headless_runs for s in r["per_epoch"]],
                "images_per_sec": statistics.median([s for r in headless_runs for s in steady(r["per_epoch"])])}
    gui = dict(gui_runs[-1])
    gui["per_epoch"] = [s for r in gui_runs for s in r["per_epoch"]]
    gui["images_per_sec"] = statistics.median([s for r in gui_runs for s in steady(r["per_epoch"])])
    gui["stall_max_ms"] = max(r["stall_max_ms"] for r in gui_runs)
    all_gaps = sorted(g for r in gui_runs for g in r["gaps_ms"])
    gui["stall_p99_ms"] = all_gaps[min(len(all_gaps) - 1, int(0.99 * len(all_gaps)))]
    gui["stall_samples"] = len(all_gaps)
    gui["redraws"] = sum(r["redraws"] for r in gui_runs)
    gui["batch_signals"] = sum(r["batch_signals"] for r in gui_runs)
    pair_ratios = [g["images_per_sec"] / h["images_per_sec"] for h, g in zip(headless_runs, gui_runs)]
    ratio = gui["images_per_sec"] / headless["images_per_sec"]
    print(f"config: {args.model} on {args.dataset}, batch {args.batch_size}, {args.epochs} epochs, CPU, "
          f"torch threads {torch.get_num_threads()} of {os.cpu_count()} cores")
    print(f"headless throughput      {headless['images_per_sec']:10,.0f} images/s  (per epoch: "
          + ", ".join(f"{s:,.0f}" for s in headless["per_epoch"]) + ")")
    print(f"with window throughput   {gui['images_per_sec']:10,.0f} images/s  (per epoch: "
          + ", ".join(f"{s:,.0f}" for s in gui["per_epoch"]) + ")")
    print(f"ratio window/headless    {ratio:10.3f}            (goal >= 0.9; per pair: "
          + ", ".join(f"{r:.3f}" for r in pair_ratios) + ")")
    print(f"GUI stall during training: max {gui['stall_max_ms']:.1f} ms, p99 {gui['stall_p99_ms']:.1f} ms "
          f"over {gui['stall_samples']} timer ticks  (goal p99 < 50 ms)")
    print(f"redraws {gui['redraws']}, batch signals {gui['batch_signals']}")
    print(f"process start -> window shown {startup['shown_s']:.2f} s (goal < 1.5 s), -> ready (torch loaded, "
          f"tabs added) {startup['ready_s']:.2f} s (goal < 3.5 s)   [runs: "
          + ", ".join(f"{s:.2f}/{r:.2f}" for s, r in zip(startup["shown_all"], startup["ready_all"])) + "]")
    if args.json:
        args.json.write_text(json.dumps({"headless": headless, "gui": gui, "ratio": ratio, "startup": startup},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
