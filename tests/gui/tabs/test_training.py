"""The Training tab's numbers: small test sets get their uncertainty, one batch per epoch is smoothed honestly."""

from __future__ import annotations

import numpy as np

from studio.gui.tabs.training import RunHistory, accuracy_margin


def history(test_size: int, train_acc: float, test_acc: float) -> RunHistory:
    h = RunHistory("run")
    h.start({"epochs": 1, "start_epoch": 0, "test_size": test_size, "config": {}})
    h.add_epoch({"epoch": 1, "train_loss": 0.1, "train_acc": train_acc, "test_loss": 0.3, "test_acc": test_acc,
                 "lr": 0.001, "epoch_time": 1.0})
    h.fit_end = {"status": "done"}
    return h


def test_a_gap_of_one_image_in_eight_is_not_called_overfitting():
    text = history(8, 1.0, 0.875).summary()
    assert "overfitting" not in text
    assert "±" in text and "8 test images" in text


def test_a_real_gap_on_a_big_test_set_is():
    text = history(10_000, 0.99, 0.90).summary()
    assert "overfitting" in text and "10,000 test images" in text


def test_the_margin_shrinks_with_the_test_set():
    assert accuracy_margin(0.875, 8) > 0.125 > accuracy_margin(0.875, 10_000)
    assert accuracy_margin(1.0, 8) > 0        # 8 out of 8 is not certainty


def test_one_batch_per_epoch_is_not_smoothed_over_epochs_that_do_not_exist():
    h = RunHistory("run")
    losses = [2.0, 1.0, 0.5, 0.25]
    for epoch, loss in enumerate(losses, start=1):
        h.add_batches({"x": np.array([epoch - 0.0]), "epoch": np.array([epoch]), "step": np.array([epoch]),
                       "loss": np.array([loss]), "accuracy": np.array([0.5]), "lr": np.array([0.1]),
                       "batches": 1, "images_per_sec": 10.0})
    np.testing.assert_allclose(h.batches.column("smooth"), losses)


def test_the_summary_is_never_cut_off(qtbot):
    from studio.gui.tabs.training import TrainingTab

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.resize(520, 500)
    tab.show()
    tab.show_history(history(10_000, 0.99, 0.80))
    qtbot.waitUntil(lambda: tab.summary.isVisible())
    label = tab.summary
    assert "overfitting" in label.text()
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))


def test_the_live_x_axis_fits_the_epochs_reached_not_the_planned_forty(qtbot):
    from studio.gui.tabs.training import TrainingTab

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.show()
    tab.start_live("live")
    tab.fit_started({"epochs": 40, "config": {}})
    n = 50
    tab.add_batches({"x": np.linspace(0.02, 1.5, n), "epoch": np.ones(n), "step": np.arange(n), "loss": np.ones(n),
                     "accuracy": np.ones(n), "lr": np.ones(n), "batches": n})
    tab.add_epoch({"epoch": 1, "train_loss": 1, "train_acc": 0.5, "test_loss": 1, "test_acc": 0.5, "lr": 0.1,
                   "epoch_time": 1.0})
    tab.redraw(force=True)
    low, high = tab.plots["loss"].getPlotItem().getViewBox().viewRange()[0]
    assert low < 0.1 and 2 <= high < 2.5                      # up to the next whole epoch the data reached
    assert tab.plots["time"].getPlotItem().getViewBox().viewRange()[0][1] < 2.5
    tab.shutdown()
