"""Evaluation tab on a LeNet-5 trained for two epochs on the bundled MNIST sample (a real run folder)."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from studio.core.inspect import metrics
from studio.core.data.bundle import Split
from studio.core.runs import load_checkpoint, load_epoch_snapshot
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.evaluation import RIGHT, WRONG, EvaluationTab
from studio.gui.concurrency.tasks import wait_for_all_tasks


def trained_state(run, training_state="idle"):
    run_dir, bundle, cfg = run
    state = StudioState(cfg)
    state.set_training_state(training_state)
    state.set_dataset(bundle)
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    return state


def show_tab(qtbot, state, wait=True):
    tab = EvaluationTab(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1200, 760)
    tab.show()
    if wait:
        qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    return tab


@pytest.fixture
def tab(qtbot, run):
    return show_tab(qtbot, trained_state(run))


def test_without_a_model_the_tab_says_what_to_do(qtbot, monkeypatch):
    monkeypatch.setattr("studio.gui.tabs.inspect.demo.demo_source", lambda: None)   # no demo bundled
    monkeypatch.setattr("studio.gui.tabs.inspect.demo._loaded", {})
    tab = show_tab(qtbot, StudioState())
    assert tab.is_empty() and "Train a model, open a run, or import a checkpoint" in tab.empty_label.text()


def test_confusion_matrix_covers_the_whole_test_split(tab, run):
    bundle = run[1]
    assert tab.result is not None and tab.shown_epoch is None
    assert int(tab.cm.sum()) == len(bundle.test) == 500
    assert f"{tab.result.accuracy:.2%}" in tab.summary.text() and f"{tab.result.loss:.4f}" in tab.summary.text()
    assert tab.result.accuracy > 0.6   # it did learn
    assert tab.matrix.x_labels == bundle.classes and tab.matrix.y_labels == bundle.classes


def test_clicking_a_cell_shows_exactly_its_images_most_confident_first(qtbot, tab):
    r = tab.result
    off = tab.cm.copy()
    np.fill_diagonal(off, 0)
    worst = np.unravel_index(int(off.argmax()), off.shape)
    for true, pred in (worst, (3, 3)):
        qtbot.mouseClick(tab.matrix.canvas, Qt.MouseButton.LeftButton, pos=tab.matrix.cell_center(true, pred))
        assert tab.cell == (true, pred)
        expected = np.flatnonzero((r.y_true == true) & (r.y_pred == pred))
        assert sorted(tab.cell_images.tolist()) == expected.tolist()
        assert tab.cell_grid.count() == len(expected) == tab.cm[true, pred] > 0
        conf = r.probs[tab.cell_images, pred]
        assert np.all(np.diff(conf) <= 0)
        assert tab.pages.currentIndex() == 0


def test_per_class_scores_and_most_confused_pairs(tab):
    prf = metrics.per_class_prf(tab.cm)
    assert tab.prf.rowCount() == 10
    rows = {tab.prf.item(i, 0).text(): i for i in range(10)}
    for name, i in rows.items():
        k = int(name)
        assert float(tab.prf.item(i, 2).text()) == pytest.approx(prf["recall"][k], abs=1e-3)
        assert int(tab.prf.item(i, 4).text()) == prf["support"][k]
    true, pred, count = metrics.most_confused(tab.cm, tab.state.model.classes, 8)[0]
    assert tab.confused.item(0).text() == f"{true} → {pred}: {count}"
    tab._confused_clicked(tab.confused.item(0))
    assert tab.cell == (int(true), int(pred)) and tab.cell_grid.count() == count


def test_prediction_grid_labels_are_green_when_right_and_red_when_wrong(tab):
    r = tab.result
    classes = tab.state.model.classes
    grid = tab.pred_grid
    assert grid.count() == 60
    for tile, i in enumerate(tab.grid_images):
        assert grid.captions[tile] == f"True: {classes[r.y_true[i]]}\nPred: {classes[r.y_pred[i]]}"
        assert grid.caption_colors[tile] == (RIGHT if r.y_true[i] == r.y_pred[i] else WRONG)
    assert len(set(r.y_true[tab.grid_images])) > 3   # a spread of classes, not the first rows of a sorted split
    tab.grid_filter.setCurrentIndex(1)
    assert set(grid.caption_colors) <= {WRONG} and grid.count() == min(60, int((r.y_true != r.y_pred).sum()))


def test_rows_can_be_normalised(tab):
    tab.mode.setCurrentIndex(1)
    rows = tab.matrix.values.sum(axis=1)
    np.testing.assert_allclose(rows[tab.cm.sum(axis=1) > 0], 1.0)
    assert tab.matrix.levels == (0.0, 1.0)


def test_set_epoch_shows_that_epochs_matrix_then_its_models_evaluation(qtbot, tab):
    run_dir = tab.state.run_dir
    tab.set_epoch(run_dir, 1)   # what the window's timeline calls
    assert tab.shown_epoch == 1
    kept = load_epoch_snapshot(run_dir, 1)["confusion"]
    qtbot.waitUntil(lambda: not tab.busy and tab.result is not None, timeout=30000)
    # the model of epoch 1, loaded alone from its weight snapshot, gives the matrix the run kept
    np.testing.assert_array_equal(tab.cm, kept)
    assert "epoch 1" in tab.summary.text()
    assert tab.pred_grid.count() == 60   # the grid is epoch 1's predictions
    qtbot.mouseClick(tab.matrix.canvas, Qt.MouseButton.LeftButton, pos=tab.matrix.cell_center(2, 2))
    assert tab.cell_grid.count() == tab.cm[2, 2]
    tab.set_epoch(run_dir, 2)   # the loaded model's epoch: its full evaluation again
    assert tab.shown_epoch is None and "current model, epoch 2" in tab.summary.text()
    tab.set_epoch(run_dir, 1)   # kept per epoch: no second evaluation
    assert not tab.busy and tab.result is not None and "epoch 1" in tab.summary.text()


def test_epoch_zero_is_the_random_start(qtbot, tab):
    tab.set_epoch(tab.state.run_dir, 0)
    qtbot.waitUntil(lambda: not tab.busy and tab.result is not None, timeout=30000)
    assert "epoch 0, the random initial weights" in tab.summary.text()
    assert tab.result.accuracy < 0.3   # about chance for ten classes


def test_while_training_runs_the_epoch_matrix_shows_without_evaluating(qtbot, run):
    tab = show_tab(qtbot, trained_state(run, training_state="running"))
    assert tab.result is None and not tab.busy
    np.testing.assert_array_equal(tab.cm, load_epoch_snapshot(tab.state.run_dir, 2)["confusion"])
    tab.eval_button.click()   # the student can still ask for it
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    assert tab.result is not None and int(tab.cm.sum()) == 500


def test_evaluation_can_be_cancelled(qtbot, run):
    state = trained_state(run)
    big = Split(torch.randint(0, 256, (40_000, 1, 28, 28), dtype=torch.uint8), torch.zeros(40_000, dtype=torch.int64))
    state.set_dataset(replace(state.dataset, test=big))
    tab = show_tab(qtbot, state, wait=False)
    assert tab.busy
    qtbot.waitUntil(lambda: tab.strip.cancel_button.height() > 10)   # laid out, so a click can land
    qtbot.mouseClick(tab.strip.cancel_button, Qt.MouseButton.LeftButton)
    assert not tab.busy and tab.strip.message.text() == "Cancelled."
    wait_for_all_tasks()
    qtbot.wait(20)
    assert tab.result is None


def test_a_dataset_with_other_classes_is_refused_in_words(qtbot, run):
    state = trained_state(run)
    state.set_dataset(replace(state.dataset, classes=["a", "b", "c"]))
    tab = show_tab(qtbot, state)
    assert tab.result is None
    assert "predicts 10 classes" in tab.strip.message.text() and "has 3" in tab.strip.message.text()


def test_the_tab_evaluates_on_test_by_default_and_can_switch_to_the_runs_validation_split(qtbot, run):
    from studio.core.data import load_dataset

    run_dir, _bundle, cfg = run
    state = trained_state((run_dir, load_dataset("mnist-sample"), cfg))   # the window's dataset: not carved
    tab = show_tab(qtbot, state)
    assert tab.split_choice.currentData() == "test" and int(tab.cm.sum()) == 500
    tab.split_choice.setCurrentIndex(tab.split_choice.findData("val"))
    qtbot.waitUntil(lambda: tab.result is not None and not tab.busy, timeout=30000)
    assert int(tab.cm.sum()) == 450 and "450 validation images" in tab.summary.text()
    assert tab.eval_button.text() == "Evaluate on the validation set"


def test_the_tab_fits_beside_the_settings_on_a_1024_px_screen(qtbot):
    """At 1024x768 the tab gets about 650 px: a 380-px matrix beside the pages made it scroll sideways."""
    from studio.gui.state import StudioState
    from studio.gui.tabs.inspect.evaluation import EvaluationTab

    tab = EvaluationTab(StudioState())
    qtbot.addWidget(tab)
    tab.show()
    assert tab.minimumSizeHint().width() <= 640
