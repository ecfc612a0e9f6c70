"""Distributed runs: the same maths as one process, one writer, no hang when a rank dies.

The slow tests start real runs of 2 CPU processes (gloo) through torchrun.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core import runs
from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.data.batches import BatchLoader
from studio.core.data.bundle import Split
from studio.core.engine import Trainer
from studio.core.engine import distributed_launch as launch
from studio.core.engine import distributed_control
from studio.core.engine.distributed_control import CONTROL_NAME, send_command
from studio.core.engine.distributed_data import ShardedBatchLoader, drops_last_batch, shard_bounds

ROOT = Path(__file__).resolve().parents[3]


def test_shards_cover_every_item_once_in_order():
    for n in (0, 1, 5, 64, 65):
        for world in (1, 2, 3):
            bounds = [shard_bounds(n, r, world) for r in range(world)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            assert max(hi - lo for lo, hi in bounds) - min(hi - lo for lo, hi in bounds) <= 1


def test_a_last_batch_too_small_for_every_rank_is_dropped():
    assert drops_last_batch(129, 64, 1) and not drops_last_batch(130, 64, 1)   # the single-process rule
    assert drops_last_batch(131, 64, 2) and not drops_last_batch(132, 64, 2)   # fewer than 2 images a rank
    assert not drops_last_batch(3, 64, 2)                                      # the only batch stays


@pytest.mark.parametrize("augment", [None, AugmentConfig(hflip=True, crop_padding=2)])
def test_the_shares_of_a_batch_are_the_single_process_batch(augment):
    split = Split(torch.randint(0, 256, (70, 1, 8, 8), dtype=torch.uint8), torch.arange(70) % 3)
    how = dict(shuffle=True, seed=3, input_shape=(1, 8, 8), mean=(0.5,), std=(0.25,), augment=augment)
    whole = BatchLoader(split, 32, **how)
    shares = [ShardedBatchLoader(split, 32, rank=r, world=3, **how) for r in range(3)]
    for loader in (whole, *shares):
        loader.set_epoch(2)
    per_rank = [list(loader) for loader in shares]
    for step, (x, y) in enumerate(whole):
        assert torch.equal(torch.cat([parts[step][1] for parts in per_rank]), y)
        assert torch.allclose(torch.cat([parts[step][0] for parts in per_rank]), x)
    assert [loader.global_size for loader in shares] == [6, 6, 6]   # 70 = 32 + 32 + 6


def test_torchrun_command_passes_the_placement_through():
    one = launch.torchrun_command(launch.LaunchPlan(2), ["RUN/config.json"])
    assert "--standalone" in one and "--nproc-per-node=2" in one
    assert one[-3:] == ["-m", "studio.distributed", "RUN/config.json"]
    two = launch.torchrun_command(launch.LaunchPlan(4, nnodes=2, node_rank=1, master_addr="node0", master_port=29400),
                                  [])
    assert {"--nnodes=2", "--node-rank=1", "--master-addr=node0", "--master-port=29400"} <= set(two)
    rdzv = launch.torchrun_command(launch.LaunchPlan(1, nnodes=2, rdzv_endpoint="node0:29400"), [])
    assert "--rdzv-endpoint=node0:29400" in rdzv and "--standalone" not in rdzv


def test_a_run_left_running_by_a_dead_launch_is_settled_as_failed(tmp_path):
    run_dir = launch.new_run(TrainConfig(processes=2), tmp_path)
    runs.write_status(run_dir, "running", epochs_done=1)
    send_command(run_dir, "stop")
    status = launch.settle(run_dir, -9)
    assert status["status"] == "failed" and "signal 9" in status["reason"] and status["epochs_done"] == 1
    assert not (run_dir / CONTROL_NAME).exists()


def test_a_failed_collective_is_said_in_words():
    from studio.core.engine.distributed import lost_rank_message

    gloo = RuntimeError("[/src/gloo/transport/tcp/pair.cc:561] Connection closed by peer [127.0.0.1]:11982. "
                        "This is typically caused by a remote worker crashing.")
    assert lost_rank_message(gloo) == ("Another process of the distributed run died or stopped answering, so the run "
                                       "cannot go on (Connection closed by peer [127.0.0.1]:11982). Resume it from "
                                       "its last checkpoint.")
    assert lost_rank_message(ValueError("a bug")) is None


def _cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "studio", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def _losses(run_dir):
    return [r["loss"] for r in runs.read_metrics(run_dir) if r["event"] == "batch"]


LENET = dict(dataset="mnist-sample", model="lenet5", batch_size=64, seed=0, device="cpu", epochs=1)


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path):
    done = _cli("train", "--dataset", "mnist-sample", "--model", "lenet5", "--batch-size", "64", "--seed", "0",
                "--device", "cpu", "--epochs", "1", "--nproc-per-node", "2", "--runs-dir", str(tmp_path / "ddp"),
                "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    ddp = Path(report["run_dir"])
    assert report["status"] == "done" and [p.name for p in (tmp_path / "ddp").iterdir()] == [ddp.name]
    single = Trainer(TrainConfig(**LENET), runs_dir=tmp_path / "one")
    assert single.fit().status == "done"

    many, one = np.array(_losses(ddp)), np.array(_losses(single.run_dir))
    assert len(many) == len(one) == 64   # every batch recorded once: rank 0 alone writes
    np.testing.assert_allclose(many[:20], one[:20], rtol=1e-4)
    ours = runs.read_checkpoint(ddp / "checkpoints" / "last.pt")["state_dict"]
    theirs = single.model.state_dict()
    assert set(ours) == set(theirs)   # model.module's names: no "module." prefix
    for name, value in theirs.items():
        torch.testing.assert_close(ours[name], value.contiguous(), rtol=1e-3, atol=1e-4)
    records = runs.read_metrics(ddp)
    assert [r["event"] for r in records].count("epoch") == 1 and records[-1]["event"] == "fit_end"
    epoch = next(r for r in records if r["event"] == "epoch")
    theirs_epoch = next(r for r in runs.read_metrics(single.run_dir) if r["event"] == "epoch")
    assert epoch["test_acc"] == theirs_epoch["test_acc"] and epoch["val_acc"] == theirs_epoch["val_acc"]
    assert abs(epoch["test_loss"] - theirs_epoch["test_loss"]) < 1e-4
    assert runs.load_epoch_snapshot(ddp, 1)["confusion"].sum() == 500   # the whole test split, reduced
    assert runs.read_status(ddp)["status"] == "done" and not (ddp / CONTROL_NAME).exists()


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _rank_pid(torchrun_pid: int, rank: int) -> int | None:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == torchrun_pid and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the rank's process")
def test_a_killed_rank_ends_the_run_as_failed(tmp_path):
    run_dir = launch.new_run(TrainConfig(**dict(LENET, epochs=50), processes=2), tmp_path)
    proc = launch.start(launch.LaunchPlan(2), launch.worker_args(run_dir), run_dir, stdout=subprocess.DEVNULL)
    try:
        assert _wait_for(lambda: len(_losses(run_dir)) >= 3, 240), "the run did not start"
        victim = _rank_pid(proc.pid, 1)
        assert victim is not None
        os.kill(victim, 9)
        killed = time.monotonic()
        code = proc.wait(timeout=60)
        status = launch.settle(run_dir, code)
        assert time.monotonic() - killed < 60
    finally:
        launch.stop(proc, None, now=True)
    assert code != 0 and status["status"] == "failed" and status["reason"]
    assert runs.read_status(run_dir)["status"] == "failed"


@pytest.mark.slow
def test_ctrl_c_stops_every_rank_then_resume_continues_on_two_processes(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "studio", "train", "--dataset", "mnist-sample", "--model", "lenet5",
                             "--batch-size", "64", "--seed", "0", "--device", "cpu", "--epochs", "3",
                             "--nproc-per-node", "2", "--runs-dir", str(tmp_path)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def first_epoch_done():
            return any(r["event"] == "epoch" for path in tmp_path.glob("*/metrics.jsonl")
                       for r in runs.read_metrics(path.parent))

        assert _wait_for(first_epoch_done, 240)
        proc.send_signal(signal.SIGINT)   # the launcher asks rank 0, which tells the others, between batches
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    (run_dir,) = tmp_path.iterdir()
    status = runs.read_status(run_dir)
    done = status["epochs_done"]
    assert code == 130 and status["status"] == "stopped" and 1 <= done < 3
    resumed = _cli("resume", str(run_dir), "--json")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["status"] == "done"
    records = runs.read_metrics(run_dir)
    assert [r["epoch"] for r in records if r["event"] == "epoch"] == [1, 2, 3]
    last_fit = max(i for i, r in enumerate(records) if r["event"] == "fit_start")
    steps = [r["step"] for r in records[last_fit:] if r["event"] == "batch"]
    assert steps == list(range(64 * done + 1, 64 * 3 + 1))   # the resumed ranks continue the step count


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_rank_pauses_and_stops_through_the_control_file(tmp_path, monkeypatch):
    from studio.core.engine import BatchEnd, distributed

    for name, value in dict(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), RANK="0", WORLD_SIZE="1",
                            LOCAL_RANK="0", LOCAL_WORLD_SIZE="1").items():
        monkeypatch.setenv(name, value)
    ctx = distributed.init_distributed("cpu")   # one rank, in this process: the whole distributed path
    # Read the control file at every step: LeNet-5's remaining steps can take less than one POLL_EVERY,
    # and a Stop written after them would then never be read (the test raced with the poll clock).
    monkeypatch.setattr(distributed_control, "POLL_EVERY", 0.0)
    try:
        steps = []

        def on_event(event):
            if isinstance(event, BatchEnd):
                steps.append(event.step)
                if event.step == 2:
                    send_command(trainer.run_dir, "pause")

        blocked = []

        def on_blocked(now_blocked):
            blocked.append(now_blocked)
            send_command(trainer.run_dir, "run" if now_blocked else "stop")   # go on, then stop

        trainer = Trainer(TrainConfig(**dict(LENET, epochs=3)), runs_dir=tmp_path, dist=ctx, callbacks=[on_event])
        trainer.on_blocked = on_blocked
        end = trainer.fit()
    finally:
        distributed.shutdown()
    assert blocked == [True, False]
    assert end.status == "stopped" and end.reason == "stopped by the user" and end.epochs_done < 3
    assert steps == list(range(1, len(steps) + 1)) and len(steps) < 3 * 64
    assert runs.read_status(trainer.run_dir)["status"] == "stopped"
    assert not (trainer.run_dir / CONTROL_NAME).exists()
