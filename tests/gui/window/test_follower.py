"""Following a run that another process writes: `cnn-studio train` in a subprocess, the window live on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio.gui.widgets import error_dialog
from studio.gui.window.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("no_thread_left")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.confirm = lambda *args: True
    w.show()
    qtbot.waitUntil(lambda: w.loaded and w.state.dataset is not None, timeout=120_000)  # start-up messages over
    yield w
    for dialog in error_dialog.open_dialogs():
        dialog.close()
    w.close()


def start_cli(runs_dir: Path, epochs: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "studio", "train", "--dataset", "mnist-sample", "--model", "lenet5",
                             "--epochs", str(epochs), "--runs-dir", str(runs_dir)],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def running_run(runs_dir: Path) -> Path | None:
    """The run folder once its writer has said "running" (it holds the lock by then)."""
    for status in runs_dir.glob("*/status.json"):
        try:
            if json.loads(status.read_text()).get("status") == "running":
                return status.parent
        except ValueError:
            continue  # caught mid-write
    return None


def open_while_running(qtbot, window, proc, runs_dir: Path) -> Path:
    qtbot.waitUntil(lambda: running_run(runs_dir) is not None or proc.poll() is not None, timeout=120_000)
    run_dir = running_run(runs_dir)
    assert run_dir is not None, proc.stderr.read().decode()[-2000:]
    assert window.open_run(run_dir)
    qtbot.waitUntil(lambda: window.runs.follower.history is not None, timeout=30_000)
    return run_dir


@pytest.mark.slow
def test_a_cli_run_is_followed_live_until_it_ends(qtbot, window, tmp_path):
    proc = start_cli(tmp_path, epochs=3)
    try:
        run_dir = open_while_running(qtbot, window, proc, tmp_path)
        follower = window.runs.follower
        assert f"Following {run_dir.name} (written by process {proc.pid} on" in window.status_label.text()
        tab = window.training_tab
        qtbot.waitUntil(lambda: tab.live is not None and len(tab.live.epochs) == 3, timeout=120_000)
        qtbot.waitUntil(lambda: not follower.is_following(), timeout=30_000)
        assert window.status_label.text().startswith(f"{run_dir.name} finished: done")
        assert follower.polls >= 1
        assert list(tab.live.epochs.column("epoch")) == [1.0, 2.0, 3.0]   # each epoch once, in order
        assert len(tab.live.batches) > 0                                   # the batch curves came too
        assert tab.live.fit_end["status"] == "done"
        assert not follower._timer.isActive()
        qtbot.waitUntil(lambda: window.state.model is not None, timeout=30_000)   # the best model, for Predict
    finally:
        assert proc.wait(timeout=120) == 0


@pytest.mark.slow
def test_a_follower_says_the_writer_died_when_it_is_killed(qtbot, window, tmp_path):
    proc = start_cli(tmp_path, epochs=200)
    try:
        run_dir = open_while_running(qtbot, window, proc, tmp_path)
        follower = window.runs.follower
        tab = window.training_tab
        heard = []
        window.state.epochEnded.connect(lambda event: heard.append(event.epoch))
        # the other tabs hear of each epoch after the window holds its checkpoint, as for a run trained here
        qtbot.waitUntil(lambda: len(heard) >= 1 and window.state.model is not None, timeout=120_000)
        assert heard == sorted(set(heard)) and heard[0] == 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        qtbot.waitUntil(lambda: not follower.is_following(), timeout=5_000)   # lock released: within a poll or two
        text = window.status_label.text()
        assert text.startswith(f"{run_dir.name}: the writer (process {proc.pid} on") and "died" in text
        assert tab.live.fit_end["status"] == "failed"
        assert not follower._timer.isActive()
        polls = follower.polls
        qtbot.wait(1200)                                                       # no more polling after the end
        assert follower.polls == polls
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_runs_list_marks_a_running_run_live():
    from types import SimpleNamespace

    from studio.gui.panels.runs import RunsPanel

    assert RunsPanel.status_text(SimpleNamespace(state="running")) == "● live"
    assert RunsPanel.status_text(SimpleNamespace(state="done")) == "done"


def test_a_writer_on_another_host_that_goes_quiet_is_said_to_have_stopped_responding(qtbot, window, tmp_path,
                                                                                      monkeypatch):
    from studio.gui.window import follower as follower_module

    monkeypatch.setattr(follower_module, "STALE_AFTER", 1.5)
    run_dir = tmp_path / "lenet5-mnist-sample-2026-12-04_120000"
    # Written by a machine sharing the folder: its lock is not visible here, only its files.
    write_running_run(run_dir, {"pid": 4242, "host": "gpu-node-7", "started": "2026-12-04T12:00"})
    assert follower_module.is_followable(run_dir)
    assert window.open_run(run_dir)
    follower = window.runs.follower
    qtbot.waitUntil(lambda: follower.history is not None, timeout=30_000)
    assert "written by process 4242 on gpu-node-7" in window.status_label.text()
    epoch = {"event": "epoch", "epoch": 1, "train_loss": 0.5, "train_acc": 0.8, "test_loss": 0.4, "test_acc": 0.85,
             "lr": 0.01, "epoch_time": 1.0}
    with open(run_dir / "metrics.jsonl", "a") as fh:   # the remote writer appends a line: still alive
        fh.write(json.dumps(epoch) + "\n")
    qtbot.waitUntil(lambda: len(window.training_tab.live.epochs) == 1, timeout=10_000)
    assert follower.is_following()
    qtbot.waitUntil(lambda: not follower.is_following(), timeout=10_000)
    assert "the writer stopped responding" in window.status_label.text()
    assert window.training_tab.live.fit_end["status"] == "failed"


def write_running_run(run_dir: Path, lock_record: dict | None = None) -> None:
    run_dir.mkdir()
    if lock_record is not None:
        (run_dir / "run.lock").write_text(json.dumps(lock_record))
    (run_dir / "status.json").write_text(json.dumps({"status": "running", "reason": "", "epochs_done": 0}))
    (run_dir / "config.json").write_text(json.dumps({"model": "lenet5", "dataset": "mnist-sample", "epochs": 5}))
    fit_start = {"event": "fit_start", "epochs": 5, "start_epoch": 0, "config": {"model": "lenet5", "epochs": 5}}
    (run_dir / "metrics.jsonl").write_text(json.dumps(fit_start) + "\n")


def test_a_silent_writer_on_this_host_that_holds_the_lock_is_alive_until_it_lets_go(qtbot, window, tmp_path,
                                                                                    monkeypatch):
    from studio.core.runs.lock import RunLock
    from studio.gui.window import follower as follower_module

    monkeypatch.setattr(follower_module, "STALE_AFTER", 0.5)
    run_dir = tmp_path / "lenet5-mnist-sample-2026-12-04_130000"
    write_running_run(run_dir)
    lock = RunLock(run_dir)
    lock.acquire()            # a long epoch: nothing written, but the writer lives
    try:
        assert window.open_run(run_dir)
        follower = window.runs.follower
        qtbot.waitUntil(lambda: follower.polls >= 4, timeout=30_000)   # well past STALE_AFTER
        assert follower.is_following()
    finally:
        lock.release()        # as the OS does when the process dies
    qtbot.waitUntil(lambda: not follower.is_following(), timeout=5_000)
    assert "died" in window.status_label.text()


def test_the_runs_list_shows_a_run_being_written_as_live_and_a_double_click_follows_it(qtbot, window):
    from PySide6.QtCore import Qt

    from studio.core.paths import runs_dir
    from studio.core.runs.lock import RunLock

    runs_dir().mkdir(parents=True, exist_ok=True)
    run_dir = runs_dir() / "lenet5-mnist-sample-2026-12-04_140000"
    write_running_run(run_dir)
    lock = RunLock(run_dir)
    lock.acquire()            # the writer lives (here: this process, as a CLI run on this host would)
    try:
        panel = window.runs_panel
        with qtbot.waitSignal(panel.refreshed, timeout=30_000):
            panel.refresh()
        assert panel.proxy.index(0, 1).data() == "● live"
        rect = panel.table.visualRect(panel.proxy.index(0, 0))
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        follower = window.runs.follower
        qtbot.waitUntil(lambda: follower.is_following() and follower.polls >= 1, timeout=30_000)
        assert window.status_label.text().startswith(f"Following {run_dir.name} (written by process ")
        assert window.training_tab.title.text() == f"Following: {run_dir.name}"
        (run_dir / "status.json").write_text(json.dumps({"status": "done", "reason": "finished 1 epochs"}))
        qtbot.waitUntil(lambda: not follower.is_following(), timeout=10_000)
        assert window.status_label.text().startswith(f"{run_dir.name} finished: done")
    finally:
        lock.release()
    # the list was refreshed when the run ended
    qtbot.waitUntil(lambda: not panel.refreshing and panel.proxy.index(0, 1).data() == "done", timeout=30_000)


def test_closing_the_window_while_following_leaves_no_timer_or_read_behind(qtbot, window, tmp_path):
    from studio.core.runs.lock import RunLock

    run_dir = tmp_path / "lenet5-mnist-sample-2026-12-04_150000"
    write_running_run(run_dir)
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        assert window.open_run(run_dir)
        follower = window.runs.follower
        qtbot.waitUntil(lambda: follower.polls >= 2, timeout=30_000)
        window.close()        # no_thread_left fails the test if the poll timer or a read outlives it
        assert not follower.is_following() and not follower._timer.isActive()
    finally:
        lock.release()


@pytest.mark.slow
def test_training_here_while_following_takes_the_training_tab_and_the_follower_steps_aside(qtbot, window, tmp_path):
    from studio.core.runs.lock import RunLock

    run_dir = tmp_path / "lenet5-mnist-sample-2026-12-04_160000"
    write_running_run(run_dir)
    lock = RunLock(run_dir)
    lock.acquire()
    try:
        assert window.open_run(run_dir)
        follower = window.runs.follower
        qtbot.waitUntil(lambda: follower.polls >= 1, timeout=30_000)
        followed = follower.history
        assert window.start_training()
        qtbot.waitUntil(lambda: not follower.is_following(), timeout=10_000)
        assert window.training_tab.live is not followed       # the run trained here owns the curves
        window.stop_training()
        qtbot.waitUntil(lambda: not window.session.is_running(), timeout=120_000)
    finally:
        lock.release()
