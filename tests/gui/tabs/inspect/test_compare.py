"""The comparison view on two epochs of a real 2-epoch LeNet-5 run: its flipped-image lists are a direct
numpy computation's, its matrix change is the difference of the two matrices, and its images open in Predict."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.engine.evaluate import evaluate
from studio.core.runs import load_checkpoint
from studio.core.runs.snapshots import load_epoch_model
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.inspect.compare import CompareTab, delta_colours
from tests.gui.tabs.inspect.test_hardest import Host


@pytest.fixture
def host(qtbot, run, tmp_path, monkeypatch):
    run_dir, bundle, cfg = run
    monkeypatch.setenv("CNN_STUDIO_RUNS_DIR", str(run_dir.parent))
    state = StudioState(cfg)
    state.set_dataset(bundle)
    state.set_run(run_dir)
    state.set_model(load_checkpoint(run_dir / "checkpoints" / "last.pt"))
    host = Host(state, CompareTab, "compare")
    qtbot.addWidget(host, before_close_func=lambda _w: wait_for_all_tasks())
    host.resize(1100, 760)
    host.show()
    return host


def direct(run_dir, epoch, split):
    loaded = load_epoch_model(run_dir, epoch)
    return evaluate(loaded.model, split, loaded.input_shape, loaded.mean, loaded.std, num_classes=10)


def test_flipped_images_match_a_direct_computation(qtbot, host, run):
    run_dir, bundle, _cfg = run
    tab = host.pages["compare"]
    tab.compare(run_dir, 1, run_dir, 2)
    qtbot.waitUntil(lambda: tab.comparison is not None and not tab.busy, timeout=60_000)
    a, b = direct(run_dir, 1, bundle.test), direct(run_dir, 2, bundle.test)
    right_a, right_b = a.y_true == a.y_pred, b.y_true == b.y_pred
    assert list(tab.flips["rw"]) == list(np.flatnonzero(right_a & ~right_b))
    assert list(tab.flips["wr"]) == list(np.flatnonzero(~right_a & right_b))
    assert tab.grids["rw"].count() == len(tab.flips["rw"]) and tab.grids["wr"].count() == len(tab.flips["wr"])
    assert (tab.comparison.confusion_delta == b.confusion - a.confusion).all()
    assert f"{100 * (b.accuracy - a.accuracy):+.2f} points" in tab.summary.text()
    assert tab.table.rowCount() == 10 and "points" in tab.table.item(0, 3).text()

    kind = "wr" if len(tab.flips["wr"]) else "rw"
    tab.pages.setCurrentWidget(tab.grids[kind])
    qtbot.mouseClick(tab.grids[kind].canvas, Qt.MouseButton.LeftButton, pos=tab.grids[kind].tile_rect(0).center())
    predict = host.pages["predict"]
    assert host.tabs.currentWidget() is predict
    assert f"test image #{int(tab.flips[kind][0])}" in predict.items[0].name
    qtbot.waitUntil(lambda: predict.results[0] is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not predict.is_busy(), timeout=30_000)


def test_runs_are_listed_with_their_kept_epochs_and_defaults(qtbot, host, run):
    run_dir = run[0]
    tab = host.pages["compare"]
    qtbot.waitUntil(lambda: tab.pick_a.run.count() > 0 and not tab.busy, timeout=30_000)
    assert tab.pick_a.choice() == (run_dir, 1) and tab.pick_b.choice() == (run_dir, None)
    assert tab.pick_b.kept() == [0, 1, 2]
    tab.set_epoch(2)
    assert tab.pick_b.choice() == (run_dir, 2)


def test_delta_colours_green_when_better_red_when_worse():
    delta = np.array([[2, -2], [1, 0]])
    rgb = delta_colours(delta)
    assert rgb[0, 0, 1] > rgb[0, 0, 0]     # more right on the diagonal: green
    assert rgb[0, 1, 1] > rgb[0, 1, 0]     # fewer mistakes off it: green
    assert rgb[1, 0, 0] > rgb[1, 0, 1]     # more mistakes: red
    assert (rgb[1, 1] == 255).all()        # unchanged: white
