"""TrainingSession's end line: the whole run's training time, a resumed run's earlier epochs included."""

from __future__ import annotations

import json
from types import SimpleNamespace

from studio.gui.state import StudioState
from studio.gui.window.session import TrainingSession, recorded_epoch_times


def _write_metrics(run_dir, records):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_recorded_epoch_times_take_each_epochs_last_record(tmp_path):
    _write_metrics(tmp_path, [{"event": "epoch", "epoch": 1, "epoch_time": 10.0},
                              {"event": "batch", "epoch": 2, "batch": 1},
                              {"event": "epoch", "epoch": 2, "epoch_time": 99.0},
                              {"event": "epoch", "epoch": 2, "epoch_time": 20.0},   # redone after a resume
                              {"event": "epoch", "epoch": 3, "epoch_time": 30.0}])
    assert recorded_epoch_times(tmp_path, 2) == {1: 10.0, 2: 20.0}


def test_the_end_line_counts_the_epochs_before_the_resume(qtbot, tmp_path):
    run_dir = tmp_path / "run"
    _write_metrics(run_dir, [{"event": "epoch", "epoch": e, "epoch_time": 100.0} for e in (1, 2)])
    session = TrainingSession(StudioState())
    texts = []
    session.progressChanged.connect(lambda value, maximum, text: texts.append(text))
    session._on_fit_started(SimpleNamespace(start_epoch=2, epochs=3, batches_per_epoch=4, run_dir=str(run_dir),
                                            config={"model": "lenet5", "dataset": "mnist-sample"}, device="cpu"))
    session._on_epoch_ended(SimpleNamespace(epoch=3, epoch_time=50.0))   # the resumed part: 50 s
    session._on_fit_ended(SimpleNamespace(status="done", reason="finished 3 epochs", epochs_done=3,
                                          best_test_acc=0.5, elapsed=51.0))
    # 100 + 100 + 50 s, not this fit's own 51 s
    qtbot.waitUntil(lambda: texts and texts[-1].startswith("Done: 3 epochs in 4:10"), timeout=10_000)
    qtbot.waitUntil(lambda: not session._earlier_times.running and not session._live_model.running, timeout=10_000)


def test_a_fresh_run_ended_in_its_first_epoch_shows_its_own_clock(qtbot):
    session = TrainingSession(StudioState())
    session._on_fit_started(SimpleNamespace(start_epoch=0, epochs=3, batches_per_epoch=4, run_dir=None,
                                            config={}, device="cpu"))
    session._on_fit_ended(SimpleNamespace(status="stopped", reason="stopped", epochs_done=0,
                                          best_test_acc=0.0, elapsed=7.0))
    assert session._progress[2] == "Stopped: 0 epochs in 0:07"
