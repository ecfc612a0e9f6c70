"""The error loop in the window: a folder run's image is right-clicked and excluded, another relabelled,
"Retrain with fixes" trains a new run whose data counts reflect them, and the folder is byte-identical."""

from __future__ import annotations

import json

import pytest

from studio.core import runs
from studio.core.config.train_config import TrainConfig
from studio.core.engine import Trainer
from studio.gui.widgets import error_dialog
from studio.gui.window.main_window import MainWindow
from tests.core.data.test_fixes import folder_hashes, make_folder

pytestmark = pytest.mark.usefixtures("no_thread_left")


@pytest.fixture
def folder_run(tmp_path):
    root = make_folder(tmp_path / "shapes")
    config = TrainConfig(dataset=f"folder:{root}", image_size=16, model="lenet5", epochs=1, batch_size=8,
                         val_fraction=0, device="cpu")
    trainer = Trainer(config, runs_dir=tmp_path / "runs")
    assert trainer.fit().status == "done"
    return root, trainer.run_dir, config


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.confirm = lambda *args: True
    w.runs_panel.confirm = lambda *args: True
    w.show()
    qtbot.waitUntil(lambda: w.loaded and w.state.dataset is not None, timeout=120_000)
    yield w
    for dialog in error_dialog.open_dialogs():
        dialog.close()
    qtbot.waitUntil(lambda: not w.runner.is_running(), timeout=120_000)
    w.close()


@pytest.mark.slow
def test_mark_in_hardest_examples_then_retrain(qtbot, window, folder_run):
    root, run_dir, config = folder_run
    before = folder_hashes(root)
    window.apply_config(config)
    qtbot.waitUntil(lambda: window.state.dataset is not None and window.state.dataset.name == config.dataset,
                    timeout=60_000)
    window.open_run(run_dir)
    qtbot.waitUntil(lambda: window.state.model is not None and window.state.run_dir == run_dir, timeout=60_000)
    evaluation = window.show_tab("evaluation")
    hardest = evaluation.hardest
    evaluation.pages.setCurrentWidget(hardest)
    qtbot.waitUntil(lambda: hardest.result is not None and not hardest.busy and hardest.grid.count() > 0,
                    timeout=60_000)
    assert not hardest.retrain_button.isEnabled()

    def menu_for(tile):
        hardest.actions._menu(hardest.grid.tile_rect(tile).center())
        menu = hardest.actions.last_menu
        menu.close()
        return {a.text(): a for a in menu.actions()}

    menu_for(0)["Exclude from training"].trigger()
    relabel = menu_for(1)["Mark as mislabelled: it is…"].menu()
    other = next(a for a in relabel.actions() if a.isEnabled())
    other.trigger()
    fixes = json.loads((run_dir / "data_fixes.json").read_text())
    excluded, relabelled = hardest._key(hardest.shown[0].index), hardest._key(hardest.shown[1].index)
    assert fixes["exclude"] == [excluded] and fixes["relabel"] == {relabelled: other.text()}
    assert "1 excluded, 1 relabelled" in hardest.fixes_label.text() and hardest.retrain_button.isEnabled()
    assert "excluded" in hardest.grid.captions[0]

    hardest.retrain_button.click()
    qtbot.waitUntil(lambda: window.state.run_dir not in (None, run_dir), timeout=60_000)
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=120_000)
    new_run = window.state.run_dir
    start = lambda run: next(r for r in runs.read_metrics(run) if r["event"] == "fit_start")  # noqa: E731
    assert start(new_run)["test_size"] == start(run_dir)["test_size"] - 1   # the excluded image was a test image
    assert start(new_run)["train_size"] == start(run_dir)["train_size"]
    used = runs.read_run(new_run).config["data_fixes"]
    assert used.startswith(str(run_dir)) and json.loads(open(used).read())["exclude"] == [excluded]
    assert "data fixes: 1 excluded, 1 relabelled" in window.state.dataset.source
    assert folder_hashes(root) == before
