"""The window's timeline: one epoch slider driving Kernels, Activations, Evaluation and Predict."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.runs import load_checkpoint, load_epoch_snapshot
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.activations import ActivationsTab
from studio.gui.tabs.inspect.evaluation import EvaluationTab
from tests.gui.window.test_main_window import close_window, finish, make_window


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    yield w
    if w.isVisible():
        close_window(qtbot, w)


def open_run(qtbot, window, run_dir: Path) -> None:
    assert window.open_run(run_dir)
    qtbot.waitUntil(lambda: window.state.model is not None and window.state.run_dir == run_dir, timeout=60_000)
    qtbot.waitUntil(lambda: window.timeline.epoch() == window.state.model.epoch, timeout=10_000)


def idle(qtbot, tab) -> None:
    qtbot.waitUntil(lambda: not tab.busy, timeout=60_000)


def test_hidden_until_a_run_is_on_view(window):
    assert window.timeline.isHidden() and not window.timeline.is_active()
    assert window.timeline.target() == (None, None)


def test_the_slider_over_an_opened_run_sets_each_tabs_epoch_and_title(qtbot, window, run):
    run_dir = run[0]
    open_run(qtbot, window, run_dir)
    timeline = window.timeline
    assert not timeline.isHidden() and timeline.maximum == 2
    assert timeline.label.text() == f"Epoch {window.state.model.epoch} of 2"

    kernels = window.show_tab("kernels")
    timeline.set_epoch(1)
    assert timeline.label.text() == "Epoch 1 of 2"
    np.testing.assert_array_equal(kernels.weights, load_epoch_snapshot(run_dir, 1)["kernels"]["features.0"])
    assert "after epoch 1" in kernels.info.text()

    activations = window.show_tab("activations")   # told when shown, not before
    idle(qtbot, activations)
    assert "at epoch 1" in activations.model_label.text()
    timeline.set_epoch(0)
    idle(qtbot, activations)
    assert "epoch 0, the random initial weights" in activations.model_label.text()
    assert activations.result is not None

    evaluation = window.show_tab("evaluation")
    qtbot.waitUntil(lambda: not evaluation.busy and evaluation.result is not None, timeout=60_000)
    assert "epoch 0" in evaluation.summary.text() and evaluation.result.accuracy < 0.3
    timeline.set_epoch(1)
    qtbot.waitUntil(lambda: not evaluation.busy and evaluation.shown_epoch == 1 and evaluation.result is not None,
                    timeout=60_000)
    np.testing.assert_array_equal(evaluation.cm, load_epoch_snapshot(run_dir, 1)["confusion"])
    assert "(epoch 1)" in evaluation.summary.text()

    predict = window.show_tab("predict")
    qtbot.waitUntil(lambda: "at epoch 1" in predict.picker.info.text(), timeout=60_000)
    assert predict.model is not None and predict.model.epoch == 1
    assert kernels.timeline == (run_dir, 1)   # every tab shown has caught up

    timeline.set_epoch(99)   # clamped to the run's epochs
    assert timeline.epoch() == 2


def test_keys_step_the_timeline(qtbot, window, run):
    open_run(qtbot, window, run[0])
    window.show_tab("kernels")
    window.activateWindow()
    window.timeline.set_epoch(1)
    for key, expected in ((Qt.Key.Key_BracketRight, 2), (Qt.Key.Key_BracketRight, 2), (Qt.Key.Key_BracketLeft, 1),
                          (Qt.Key.Key_Home, 0), (Qt.Key.Key_End, 2)):
        qtbot.keyClick(window.tab("kernels").grid, key)
        assert window.timeline.epoch() == expected, key


def test_play_animates_to_the_end_and_stops(qtbot, window, run):
    open_run(qtbot, window, run[0])
    window.show_tab("kernels")
    timeline = window.timeline
    timeline.set_epoch(0)
    seen = []
    timeline.epochChanged.connect(seen.append)
    timeline.play()
    assert timeline.is_playing() and timeline.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: not timeline.is_playing(), timeout=10_000)
    assert seen == [1, 2] and timeline.epoch() == 2 and timeline.play_button.text() == "Play"
    timeline.play()   # at the end: from the start again
    assert timeline.epoch() == 0 and timeline.is_playing()
    timeline.pause()
    assert not timeline.is_playing()


@pytest.mark.slow
def test_a_live_run_grows_the_range_and_the_slider_follows(qtbot):
    window = make_window(qtbot, epochs=2)
    maxima = []
    window.state.epochEnded.connect(lambda _e: maxima.append((window.timeline.maximum, window.timeline.epoch())))
    window.show_tab("kernels")
    assert window.start_training()
    finish(qtbot, window)
    qtbot.waitUntil(lambda: window.timeline.maximum == 2, timeout=30_000)
    assert maxima == [(1, 1), (2, 2)]   # the range grew epoch by epoch, the slider at the newest
    assert window.timeline.label.text() == "Epoch 2 of 2" and not window.timeline.isHidden()
    kernels = window.show_tab("kernels")   # training showed the Training tab: Kernels catches up when shown
    window.timeline.set_epoch(0)
    np.testing.assert_array_equal(kernels.weights,
                                  load_epoch_snapshot(window.state.run_dir, 0)["kernels"]["features.0"])
    close_window(qtbot, window)


# ------------------------------------------------------------------ an epoch whose weights were not kept

def thinned_run(run, tmp_path) -> Path:
    """A copy of the 2-epoch run without the weights of epoch 1 (nor a best.pt that may hold them)."""
    copy = tmp_path / run[0].name
    shutil.copytree(run[0], copy)
    (copy / "history" / "weights_0001.pt").unlink()
    (copy / "checkpoints" / "best.pt").unlink(missing_ok=True)
    return copy


def tab_on(qtbot, cls, run, run_dir):
    state = StudioState(run[2])
    state.set_dataset(run[1])
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    tab = cls(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1100, 700)
    tab.show()
    idle(qtbot, tab)
    return tab


def test_an_epoch_without_weights_shows_the_nearest_kept_and_says_so(qtbot, run, tmp_path):
    run_dir = thinned_run(run, tmp_path)
    activations = tab_on(qtbot, ActivationsTab, run, run_dir)
    activations.set_epoch(run_dir, 1)
    qtbot.waitUntil(lambda: "nearest kept" in activations.model_label.text(), timeout=60_000)
    assert "epoch 1 (its weights were not kept: the model of epoch 0, the nearest kept)" \
        in activations.model_label.text()
    evaluation = tab_on(qtbot, EvaluationTab, run, run_dir)
    evaluation.set_epoch(run_dir, 1)
    qtbot.waitUntil(lambda: not evaluation.busy and evaluation.result is not None and evaluation.shown_epoch == 1,
                    timeout=60_000)
    assert "the model of epoch 0, the nearest kept" in evaluation.summary.text()


@pytest.mark.slow
def test_a_followed_run_grows_the_range(qtbot, window, tmp_path):
    from tests.gui.window.test_follower import open_while_running, start_cli

    proc = start_cli(tmp_path, epochs=3)
    try:
        run_dir = open_while_running(qtbot, window, proc, tmp_path)
        assert not window.timeline.isHidden() and window.timeline.run_dir == run_dir
        qtbot.waitUntil(lambda: window.timeline.maximum == 3, timeout=120_000)
        qtbot.waitUntil(lambda: not window.runs.follower.is_following(), timeout=30_000)
        kernels = window.show_tab("kernels")
        window.timeline.set_epoch(1)
        np.testing.assert_array_equal(kernels.weights, load_epoch_snapshot(run_dir, 1)["kernels"]["features.0"])
    finally:
        assert proc.wait(timeout=120) == 0
