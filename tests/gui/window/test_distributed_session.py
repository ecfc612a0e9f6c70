"""Processes > 1: the window starts a distributed run as a subprocess, follows it, and Stop reaches every rank."""

from __future__ import annotations

import json

import pytest

from studio.core.config.train_config import TrainConfig
from studio.gui.widgets import error_dialog
from studio.gui.window.distributed_session import planned_processes
from studio.gui.window.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.confirm = lambda *args: True
    w.show()
    qtbot.waitUntil(lambda: w.loaded and w.state.dataset is not None, timeout=120_000)
    yield w
    for dialog in error_dialog.open_dialogs():
        dialog.close()
    w.close()


def test_a_resume_asks_for_the_runs_own_processes(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(TrainConfig(processes=3).to_dict()))
    assert planned_processes(TrainConfig(), tmp_path, resume=True) == 3
    assert planned_processes(TrainConfig(processes=2), None, resume=False) == 2
    assert planned_processes(TrainConfig(), tmp_path / "missing", resume=True) == 1


@pytest.mark.slow
def test_the_window_trains_on_two_processes_and_stops_them(qtbot, window):
    window.apply_config(TrainConfig(dataset="mnist-sample", model="lenet5", epochs=20, batch_size=64, device="cpu",
                                    processes=2))
    assert window.settings_panel.config().processes == 2   # the Processes setting
    assert window.start_training()
    session, follower = window.session, window.runs.follower
    assert session.is_running() and follower.is_following()
    run_dir = session.distributed.run_dir
    tab = window.training_tab
    qtbot.waitUntil(lambda: tab.live is not None and len(tab.live.epochs) > 0, timeout=240_000)
    assert len(tab.live.batches) > 0
    assert window.actions_by_key["stop"].isEnabled()
    window.stop_training()
    qtbot.waitUntil(lambda: not session.is_running(), timeout=90_000)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "stopped" and status["epochs_done"] < 20
    qtbot.waitUntil(lambda: not follower.is_following(), timeout=30_000)
    assert tab.live.fit_end["status"] == "stopped"
    assert window.actions_by_key["train"].isEnabled()   # the window is free for the next run
    assert not (run_dir / "control.json").exists()
    assert window.open_run(run_dir)   # a finished distributed run opens like any other
    qtbot.waitUntil(lambda: window.state.run_dir == run_dir and not window.runs.follower.is_following()
                    and window.state.model is not None, timeout=60_000)
    assert list(tab.live.epochs.column("epoch"))[:1] == [1.0]
