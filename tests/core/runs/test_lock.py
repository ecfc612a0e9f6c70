"""Issue 12, defect 2: one writer per run, and a dead writer recognised at once.

A real training process holds the run; a second writer (resume, here and from the CLI) is
refused; the first one is killed with SIGKILL and the run reads "stopped" at once (it read
"running" for ten minutes), resumable, its leftover .tmp files cleaned."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.core.errors import RunError

ROOT = Path(__file__).resolve().parents[3]

# Trains one epoch, then holds the run (status "running", lock held) until killed.
HOLDER = """
import sys, time
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
config = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=2, batch_size=1500, device="cpu", seed=0)
trainer = Trainer(config, runs_dir=sys.argv[1])
def hold(epoch, step):
    if step == "status":
        print(trainer.run_dir, flush=True)
        time.sleep(600)
trainer.epoch_end_hook = hold
trainer.fit()
"""


@pytest.mark.slow
def test_a_second_writer_is_refused_and_a_killed_writer_is_seen_at_once(tmp_path, capsys):
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        run = Path(child.stdout.readline().strip())
        assert run.is_dir(), "the training process did not reach its first epoch end"
        assert runs.read_status(run)["status"] == "running" and runs.is_running(run)
        status_before = (run / "status.json").read_text()

        end = Trainer(TrainConfig(epochs=3), run_dir=run, resume=True).fit()
        assert end.status == "failed" and "being trained by another process" in end.reason
        assert f"process {child.pid}" in end.reason
        assert main(["resume", str(run), "--json"]) == 1
        doc = json.loads(capsys.readouterr().out)
        assert doc["status"] == "failed" and "being trained by another process" in doc["reason"]
        with pytest.raises(RunError, match="stop it before you delete it"):
            runs.delete_run(run)
        assert (run / "status.json").read_text() == status_before   # the refused resume wrote nothing
        (run / "checkpoints" / ".last.pt.999.tmp").write_bytes(b"half a checkpoint")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    status = runs.read_status(run)   # no waiting: the OS released the lock with the process
    assert status["status"] == "stopped" and status["reason"] == "interrupted"
    assert runs.read_run(run).state == "stopped" and not runs.is_running(run)
    end = Trainer(TrainConfig(epochs=2), run_dir=run, resume=True).fit()
    assert end.status == "done", end.reason
    assert [r["epoch"] for r in runs.epoch_records(run)] == [1, 2]
    assert not list(run.rglob("*.tmp"))


def test_the_lock_refuses_a_second_holder_and_frees_on_release(tmp_path):
    first, second = runs.RunLock(tmp_path), runs.RunLock(tmp_path)
    first.acquire()
    try:
        assert runs.is_running(tmp_path)
        with pytest.raises(RunError, match=f"process {os.getpid()}"):
            second.acquire(wait=0.1)
    finally:
        first.release()
    assert not runs.is_running(tmp_path)
    second.acquire()
    second.release()


def test_a_running_status_without_a_live_lock_reads_interrupted(tmp_path):
    runs.write_json(tmp_path / "config.json", {"model": "lenet5"})
    runs.write_status(tmp_path, "running", epochs_done=1)   # fresh files: the old guess said "running"
    assert runs.read_status(tmp_path)["status"] == "stopped"
    lock = runs.RunLock(tmp_path)
    lock.acquire()
    try:
        assert runs.read_status(tmp_path)["status"] == "running"
    finally:
        lock.release()


def test_resume_from_the_cli_is_refused_while_another_holder_has_the_lock(tmp_path, capsys):
    runs.write_json(tmp_path / "config.json", TrainConfig(dataset="mnist-sample", model="lenet5").to_dict())
    lock = runs.RunLock(tmp_path)   # a second open file description: refused like another process
    lock.acquire()
    try:
        assert main(["resume", str(tmp_path)]) == 1
    finally:
        lock.release()
    assert "being trained by another process" in capsys.readouterr().err
