"""What the window shows after something went away: a dataset that failed to load, a run deleted."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from studio.gui.widgets import error_dialog
from studio.gui.window.main_window import MainWindow

pytestmark = pytest.mark.usefixtures("no_thread_left")


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
    w.close()


def test_a_dataset_that_fails_to_load_says_why_in_full_and_train_waits(qtbot, window, monkeypatch):
    def offline(request, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert window.actions_by_key["train"].isEnabled()
    window.load_dataset("cifar10")
    qtbot.waitUntil(lambda: window.state.dataset_error is not None, timeout=60_000)
    data_tab = window.tab("data")
    text = data_tab.info.text()
    assert "Loading" not in text and "could not be loaded" in text
    assert "urlopen error" in text and "name resolution" in text    # the detail, not "(no network?): ."
    dialog = error_dialog.open_dialogs()[-1]
    assert "https://www.cs.toronto.edu/" in dialog.text()            # where to get it by hand
    assert "urlopen error" in dialog.text()
    assert not window.actions_by_key["train"].isEnabled()
    assert not window.start_training()
    assert not window.training_tab.histories                         # nothing cleared into empty plots


def test_a_deleted_run_leaves_the_comparison_and_the_resume_button(qtbot, window, run):
    from studio.core.paths import runs_dir

    source, _bundle, _cfg = run
    first, second = runs_dir() / "first", runs_dir() / "second"
    shutil.copytree(source, first)
    shutil.copytree(source, second)
    status = json.loads((second / "status.json").read_text())
    status.update(status="stopped", epochs_done=1)   # a stopped 2-epoch run: Resume can continue it
    (second / "status.json").write_text(json.dumps(status))
    panel = window.runs_panel
    with qtbot.waitSignal(panel.refreshed, timeout=30_000):
        panel.refresh()
    window.compare_runs([first, second])
    qtbot.waitUntil(lambda: window.training_tab.compare_mode, timeout=30_000)
    panel.select_runs([second])
    assert window.actions_by_key["resume"].isEnabled()
    assert panel.delete_selected() and not second.exists()
    assert window.training_tab.shown_runs() == [first]           # the comparison no longer draws it
    labels = [i.name() for i in window.training_tab.plots["accuracy"].getPlotItem().listDataItems() if i.name()]
    assert len(labels) == 1
    assert not window.actions_by_key["resume"].isEnabled()


def test_run_names_show_model_and_dataset_first(qtbot):
    from pathlib import Path
    from types import SimpleNamespace

    from studio.gui.panels.runs import RunsPanel

    info = SimpleNamespace(name="20261202-025301-lenet5-mnist-sample", path=Path("/x"),
                           config={"model": "lenet5", "dataset": "mnist-sample"})
    assert RunsPanel.display_name(info) == "lenet5 · mnist-sample · Dec 2 02:53"
    info.name = "my first run"
    assert RunsPanel.display_name(info) == "my first run"
