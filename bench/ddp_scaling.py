#!/usr/bin/env python3
"""Training speed of one run spread over 1, 2, ... processes (torchrun + DistributedDataParallel).

    python bench/ddp_scaling.py [--processes 1 2] [--dataset mnist-sample] [--model lenet5]
                                [--batch-size 256] [--epochs 2] [--device cpu]

Each count trains the same run (same global batch, seed and epochs) through `cnn-studio train
--nproc-per-node N` (N = 1: the ordinary in-process run, with every core). The speed is the last
epoch's training images/s as the trainer records it in metrics.jsonl (start-up and evaluation not
counted; the first epoch warms up). Prints images/s, the speed-up over 1 process and the scaling
efficiency (speed-up / processes). On the CPU the processes share the machine's cores (each gets
cores / N threads; --threads fixes it), so the efficiency says what splitting the batch across processes costs or gains;
on a GPU machine use --device cuda, one process per GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train(processes: int, args, runs_dir: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "studio", "train", "--dataset", args.dataset, "--model", args.model,
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--device", args.device,
           "--seed", "0", "--nproc-per-node", str(processes), "--runs-dir", str(runs_dir), "--json",
           "--threads", str(args.threads)]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{processes} process(es) failed:\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    from studio.core import runs

    epochs = [r for r in runs.read_metrics(Path(report["run_dir"])) if r["event"] == "epoch"]
    return {"images_per_sec": epochs[-1]["images_per_sec"], "test_acc": epochs[-1]["test_acc"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dataset", default="mnist-sample")
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: cores / processes)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per count; the fastest is kept")
    args = parser.parse_args()
    print(f"{args.model} on {args.dataset}, global batch {args.batch_size}, {args.epochs} epochs, {args.device}, "
          f"{os.cpu_count()} cores, threads per process {args.threads or 'cores / processes'}; "
          f"last epoch's training speed, best of {args.repeats}")
    print(f"{'processes':>9} {'images/s':>10} {'speed-up':>9} {'efficiency':>11} {'test acc':>9}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.processes:
            tries = [train(n, args, Path(tmp) / f"p{n}-{i}") for i in range(args.repeats)]
            result = max(tries, key=lambda r: r["images_per_sec"])
            speed = result["images_per_sec"]
            base = base or speed * (1 if n == 1 else 1 / n)   # without a 1-process row: assume linear from the first
            speedup = speed / base
            print(f"{n:>9} {speed:>10,.0f} {speedup:>8.2f}x {100 * speedup / n:>10.0f}% "
                  f"{100 * result['test_acc']:>8.1f}%", flush=True)


if __name__ == "__main__":
    main()
