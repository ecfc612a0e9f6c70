"""Start a distributed run on this machine through torchrun (torch.distributed.run), and settle it.

The launcher makes the run folder first (on one machine), so the window can follow it from its first
line, then starts torchrun in its own process group: Ctrl+C in the terminal reaches the launcher
alone, which asks the ranks to stop through the control file (a second Ctrl+C ends them at once).
When torchrun ends, a run whose status.json still says running lost its rank 0 (killed, out of
memory): the launcher records it as failed with the reason, so no run is left "running".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import studio
from studio.core import runs
from studio.core.engine.distributed_control import CONTROL_NAME, send_command


@dataclass
class LaunchPlan:
    nproc: int
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None
    master_addr: str | None = None
    master_port: int | None = None

    @property
    def one_machine(self) -> bool:
        return self.nnodes == 1


def torchrun_command(plan: LaunchPlan, worker_args: list[str]) -> list[str]:
    """python -m torch.distributed.run ... -m studio.distributed WORKER_ARGS."""
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={plan.nproc}",
           f"--nnodes={plan.nnodes}", "--max-restarts=0", "--monitor-interval=0.5"]
    if plan.rdzv_endpoint:
        cmd += ["--rdzv-backend=c10d", f"--rdzv-endpoint={plan.rdzv_endpoint}", "--rdzv-id=cnn-studio"]
    elif plan.one_machine and not plan.master_addr and not plan.master_port:
        cmd += ["--standalone"]   # a free port on this machine: two runs at once do not collide
    else:
        cmd += [f"--node-rank={plan.node_rank}", f"--master-addr={plan.master_addr or '127.0.0.1'}",
                f"--master-port={plan.master_port or 29500}"]
    return cmd + ["-m", "studio.distributed", *worker_args]


def new_run(config, runs_dir: str | Path | None) -> Path:
    """The run folder, made before the ranks start (the window follows it from the start)."""
    from studio.core.paths import runs_dir as default_runs_dir

    run_dir = runs.new_run_dir(default_runs_dir(runs_dir), config.to_dict())
    runs.write_json(run_dir / "config.json", config.to_dict())
    return run_dir


def worker_args(run_dir: Path | None, *, config_file: Path | None = None, runs_dir: str | Path | None = None,
                resume: bool = False, epochs: int | None = None) -> list[str]:
    if run_dir is None:   # several machines: whichever process is rank 0 makes the folder where it runs
        args = [str(config_file)] + (["--runs-dir", str(runs_dir)] if runs_dir else [])
    else:
        args = [str(run_dir / "config.json"), "--run-dir", str(run_dir)]
    if resume:
        args.append("--resume")
    if epochs:
        args += ["--epochs", str(epochs)]
    return args


def start(plan: LaunchPlan, args: list[str], run_dir: Path | None = None, stdout=None) -> subprocess.Popen:
    """torchrun in a new session (its own process group), with this studio importable by the workers."""
    if run_dir is not None:
        (run_dir / CONTROL_NAME).unlink(missing_ok=True)   # an old Stop must not end this session at once
    env = dict(os.environ)
    root = str(Path(studio.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")   # torchrun's default; the trainer sets its threads per rank
    return subprocess.Popen(torchrun_command(plan, args), env=env, start_new_session=True, stdout=stdout)


def stop(proc: subprocess.Popen, run_dir: Path | None, *, now: bool = False) -> None:
    """Ask the ranks to stop after the current batch (run_dir's control file), or end them now."""
    if run_dir is not None and not now:
        send_command(run_dir, "stop")
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass


def settle(run_dir: Path | None, returncode: int) -> dict:
    """The run's final status once torchrun has ended; "running" left behind becomes failed."""
    if run_dir is None:
        return {}
    status = runs.read_json(run_dir / "status.json", {})
    status = status if isinstance(status, dict) else {}
    if status.get("status") in (None, "running"):
        how = f"signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
        reason = ("A process of the distributed run ended unexpectedly (torchrun: " + how + "); the others were "
                  "stopped. See the messages above it; resume the run from its last checkpoint.")
        done = int(status.get("epochs_done", 0) or 0)
        runs.write_status(run_dir, "failed", reason, epochs_done=done,
                          best_test_acc=float(status.get("best_test_acc", 0.0) or 0.0))
        status = runs.read_json(run_dir / "status.json", {})
    (run_dir / CONTROL_NAME).unlink(missing_ok=True)
    return status


def run(plan: LaunchPlan, args: list[str], run_dir: Path | None, stdout=None) -> tuple[int, dict, bool]:
    """Start, wait (Ctrl+C: stop after the batch; twice: now), settle: (exit code, status, interrupted)."""
    proc = start(plan, args, run_dir, stdout=stdout)
    interrupted = []

    def on_ctrl_c(*_):
        interrupted.append(True)
        stop(proc, run_dir, now=len(interrupted) > 1)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return code, settle(run_dir, code), bool(interrupted)
