"""kill -9 trials of `cnn-studio train`: is every epoch read back exactly once after a resume?

Each trial trains a small run (LeNet-5 on the bundled MNIST sample) in a subprocess, kills it
with SIGKILL, resumes it with `cnn-studio resume` to completion and checks that the epochs read
back from metrics.jsonl are exactly 1..N, each once, and that the run ends "done". Half of the
trials are killed at an epoch end: the moment a watched file of the epoch-end writes changes
(metrics.jsonl's epoch line, history/epoch_NNNN.npz, best.pt, last.pt or status.json being
replaced, see docs/run-folder.md); the other half at a random moment of training (after a random batch, plus 0-80 ms).

    python tools/kill_trials.py                 # 20 trials, 4 epochs each
    python tools/kill_trials.py --trials 30 --epochs 5 --keep /tmp/trials

POSIX only (SIGKILL). Prints one row per trial and a summary; exits 1 if any trial lost or
duplicated an epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WATCHED = ("record", "snapshot", "last", "best", "status")  # the epoch-end steps, in their order


def studio(*args: str) -> list[str]:
    return [sys.executable, "-m", "studio", *args]


def train_command(runs_dir: Path, epochs: int, batch_size: int) -> list[str]:
    return studio("train", "--dataset", "mnist-sample", "--model", "lenet5", "--epochs", str(epochs),
                  "--batch-size", str(batch_size), "--device", "cpu", "--threads", "1", "--runs-dir", str(runs_dir),
                  "--json")


def run_folder(runs_dir: Path) -> Path | None:
    found = [p for p in runs_dir.iterdir() if p.is_dir()] if runs_dir.is_dir() else []
    return found[0] if found else None


def signature(run: Path, step: str, epoch: int):
    """What changes on disk when the epoch-end step `step` of `epoch` is done (None: not yet)."""
    try:
        if step == "record":
            text = (run / "metrics.jsonl").read_text()
            return "done" if f'"event": "epoch", "epoch": {epoch},' in text else None
        if step == "snapshot":
            return "done" if (run / "history" / f"epoch_{epoch:04d}.npz").exists() else None
        if step == "status":
            return "done" if json.loads((run / "status.json").read_text()).get("epochs_done") == epoch else None
        info = (run / "checkpoints" / f"{step}.pt").stat()
        return (info.st_ino, info.st_mtime_ns)
    except (OSError, ValueError):
        return None


def kill_at_epoch_end(proc: subprocess.Popen, runs_dir: Path, step: str, epoch: int, limit: float) -> str:
    """Poll (every millisecond) until `step` of `epoch` is on disk, then SIGKILL at once."""
    deadline = time.monotonic() + limit
    run, before = None, None
    while time.monotonic() < deadline and proc.poll() is None:
        run = run or run_folder(runs_dir)
        if run is not None:
            now = signature(run, step, epoch)
            if step in ("best", "last"):
                # The checkpoint as it was when epoch-1 ended; the kill comes with its first replacement
                # (best.pt is replaced only by a better epoch: that may be a later one).
                if before is None and _epochs_done(run) == epoch - 1:
                    before = now or "absent"
                if before is not None and now is not None and now != before:
                    proc.send_signal(signal.SIGKILL)
                    return f"{step}.pt replaced in epoch {_epochs_done(run) + 1}"
            elif now is not None:
                proc.send_signal(signal.SIGKILL)
                return f"{step} of epoch {epoch} written"
        time.sleep(0.001)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        return "timeout (killed late)"
    return "finished before the kill"


def _epochs_done(run: Path) -> int:
    try:
        return int(json.loads((run / "status.json").read_text()).get("epochs_done", 0))
    except (OSError, ValueError, TypeError):
        return -1


def kill_at_random(proc: subprocess.Popen, runs_dir: Path, rng: random.Random, epochs: int) -> str:
    """SIGKILL at a random point of training: after a random batch (read from metrics.jsonl), plus 0-80 ms."""
    deadline = time.monotonic() + 600
    target = None
    while time.monotonic() < deadline and proc.poll() is None:
        run = run_folder(runs_dir)
        lines = _metrics_lines(run) if run else []
        if target is None and lines:
            per_epoch = json.loads(lines[0]).get("batches_per_epoch", 1)
            target = rng.randrange(1, epochs * per_epoch)
        if target is not None and sum('"event": "batch"' in line for line in lines) >= target:
            time.sleep(rng.uniform(0, 0.08))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                return f"after batch {target} + a few ms"
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        return "timeout (killed late)"
    return "finished before the kill"


def _metrics_lines(run: Path) -> list[str]:
    try:
        return (run / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return []


def epochs_read_back(run: Path) -> list[int]:
    sys.path.insert(0, str(ROOT))
    from studio.core.runs import epoch_records

    return [r["epoch"] for r in epoch_records(run)]


def trial(n: int, mode: str, args, rng: random.Random, env: dict) -> dict:
    runs_dir = Path(args.keep or tempfile.gettempdir()) / f"kill-trial-{os.getpid()}-{n:02d}"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs_dir.mkdir(parents=True)
    proc = subprocess.Popen(train_command(runs_dir, args.epochs, args.batch_size), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if mode == "epoch-end":
            step, epoch = WATCHED[n % len(WATCHED)], rng.randint(1, args.epochs - 1)
            moment = kill_at_epoch_end(proc, runs_dir, step, epoch, limit=600)
        else:
            moment = kill_at_random(proc, runs_dir, rng, args.epochs)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    run = run_folder(runs_dir)
    row = {"trial": n, "mode": mode, "killed": moment, "exit": proc.returncode}
    if run is None or not (run / "config.json").exists():
        row.update(before=[], resume="no run folder yet", after=[], ok=True)  # killed before the folder existed
        return row
    from_status = json.loads((run / "status.json").read_text()) if (run / "status.json").exists() else {}
    row["before"] = epochs_read_back(run)
    row["status_after_kill"] = _read_status(run)
    resumed = subprocess.run(studio("resume", str(run), "--json"), cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=900, check=False)
    try:
        doc = json.loads(resumed.stdout)
        row["resume"] = doc.get("status") or doc.get("error")
    except ValueError:
        row["resume"] = f"exit {resumed.returncode}: {resumed.stderr.strip().splitlines()[-1:]}"
    row["after"] = epochs_read_back(run)
    no_checkpoint = not (run / "checkpoints" / "last.pt").exists() and not from_status.get("epochs_done")
    row["ok"] = row["after"] == list(range(1, args.epochs + 1)) and row["resume"] == "done" or (
        no_checkpoint and row["after"] == [] and "no checkpoint" in str(row["resume"]))
    if not args.keep:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return row


def _read_status(run: Path) -> str:
    sys.path.insert(0, str(ROOT))
    from studio.core.runs import read_status

    return read_status(run).get("status", "?")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", help="keep the run folders under this folder")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (a kill at an epoch end needs a next epoch)")
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rows = []
    print(f"{'#':>3} {'mode':10} {'killed at':34} {'after kill':22} {'status':8} {'resume':8} "
          f"{'epochs read back':18} ok")
    for n in range(args.trials):
        row = trial(n, "epoch-end" if n % 2 == 0 else "random", args, rng, env)
        rows.append(row)
        print(f"{n:>3} {row['mode']:10} {row['killed'][:34]:34} {str(row.get('before'))[:22]:22} "
              f"{row.get('status_after_kill', '-'):8} {str(row['resume'])[:8]:8} {str(row['after'])[:18]:18} "
              f"{'yes' if row['ok'] else 'NO'}", flush=True)
    bad = [r for r in rows if not r["ok"]]
    at_end = sum(r["mode"] == "epoch-end" for r in rows)
    live = sum(r.get("status_after_kill") == "running" for r in rows)
    print(f"\n{len(rows)} kills ({at_end} at epoch ends, {len(rows) - at_end} at random times): "
          f"{len(rows) - len(bad)} read back 1..{args.epochs} exactly once after resume, {len(bad)} did not; "
          f"{live} killed runs read 'running' after the kill.")
    return 1 if bad or live else 0


if __name__ == "__main__":
    sys.exit(main())
