"""The Runs panel as a table: real values sort, any column filters, legends name what differs, CSV of several."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.gui.panels.runs import RunsPanel
from studio.gui.panels.runs_table import COLUMN_TITLES, MISSING

pytestmark = pytest.mark.usefixtures("no_thread_left")


def fake_run(name: str, *, lr=0.001, optimizer="adam", accs=(0.5,), val=None, status="done", hflip=False) -> Path:
    """A run folder as the trainer leaves it: config, metrics (fit_start, epochs), status."""
    from studio.core.paths import runs_dir

    run = runs_dir() / name
    run.mkdir(parents=True)
    config = {"model": "lenet5", "dataset": "mnist-sample", "optimizer": optimizer, "lr": lr, "batch_size": 64,
              "epochs": len(accs), "seed": 0, "augment": {"hflip": hflip, "crop_padding": 0}}
    (run / "config.json").write_text(json.dumps(config))
    lines = [{"event": "fit_start", "epochs": len(accs), "start_epoch": 0, "config": config, "test_size": 100}]
    for i, acc in enumerate(accs, start=1):
        record = {"event": "epoch", "epoch": i, "train_loss": 2.0 / i, "train_acc": acc, "test_loss": 2.1 / i,
                  "test_acc": acc, "lr": lr, "epoch_time": 1.5}
        if val is not None:
            record.update(val_loss=1.0, val_acc=val[i - 1])
        lines.append(record)
    lines.append({"event": "fit_end", "status": status, "reason": ""})
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (run / "status.json").write_text(json.dumps({"status": status, "reason": "", "epochs_done": len(accs),
                                                 "best_test_acc": max(accs)}))
    return run


@pytest.fixture
def panel(qtbot):
    widget = RunsPanel()
    qtbot.addWidget(widget)
    yield widget
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    assert wait_for_all_tasks(10_000)


def refreshed(qtbot, panel: RunsPanel) -> None:
    with qtbot.waitSignal(panel.refreshed, timeout=30_000):
        panel.refresh()


def column_texts(panel: RunsPanel, title: str) -> list[str]:
    column = COLUMN_TITLES.index(title)
    return [panel.proxy.index(r, column).data() for r in range(panel.proxy.rowCount())]


def test_sorting_by_accuracy_is_numeric_not_alphabetic(qtbot, panel):
    fake_run("lenet5-mnist-sample-2026-12-02_100000", accs=(0.095,))
    fake_run("lenet5-mnist-sample-2026-12-02_110000", accs=(0.102,))
    fake_run("lenet5-mnist-sample-2026-12-02_120000", accs=(0.9,))
    refreshed(qtbot, panel)
    column = COLUMN_TITLES.index("Best test")
    panel.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    assert column_texts(panel, "Best test") == ["90.0%", "10.2%", "9.5%"]
    panel.table.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    assert column_texts(panel, "Best test") == ["9.5%", "10.2%", "90.0%"]


def test_the_table_shows_readable_names_settings_and_a_dash_for_a_missing_validation_accuracy(qtbot, panel):
    fake_run("lenet5-mnist-sample-2026-12-02_100000", accs=(0.4, 0.6), val=(0.45, 0.62), hflip=True)
    fake_run("my first run", accs=(0.3,), optimizer="sgd", lr=0.01, status="stopped")
    refreshed(qtbot, panel)
    panel.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert column_texts(panel, "Run") == ["lenet5 · mnist-sample · Dec 2 10:00", "my first run"]
    assert column_texts(panel, "Best val") == ["62.0%", MISSING]
    assert column_texts(panel, "Optimiser") == ["adam", "sgd"]
    assert column_texts(panel, "LR") == ["0.001", "0.01"]
    assert column_texts(panel, "Augmentation") == ["hflip", "off"]
    assert column_texts(panel, "Status") == ["done", "stopped"]
    assert column_texts(panel, "Duration") == ["0:03", "0:02"]
    assert panel.table.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_the_filter_matches_any_column(qtbot, panel):
    fake_run("lenet5-mnist-sample-2026-12-02_100000", optimizer="adam")
    fake_run("lenet5-mnist-sample-2026-12-02_110000", optimizer="sgd", lr=0.05)
    fake_run("baseline", optimizer="sgd", status="failed")
    refreshed(qtbot, panel)
    assert len(panel.run_paths()) == 3
    qtbot.keyClicks(panel.filter_edit, "SGD")
    assert sorted(p.name for p in panel.run_paths()) == ["baseline", "lenet5-mnist-sample-2026-12-02_110000"]
    panel.filter_edit.setText("failed")
    assert [p.name for p in panel.run_paths()] == ["baseline"]
    panel.filter_edit.setText("0.05")
    assert [p.name for p in panel.run_paths()] == ["lenet5-mnist-sample-2026-12-02_110000"]
    panel.filter_edit.clear()
    assert len(panel.run_paths()) == 3


def test_a_run_whose_writer_holds_the_lock_shows_as_live(qtbot, panel):
    from studio.core.runs import RunLock

    run = fake_run("lenet5-mnist-sample-2026-12-02_100000", status="running")
    lock = RunLock(run)
    lock.acquire()
    try:
        refreshed(qtbot, panel)
        assert column_texts(panel, "Status") == ["● live"]
    finally:
        lock.release()
    refreshed(qtbot, panel)
    assert column_texts(panel, "Status") == ["stopped"]          # the writer is gone: resumable


def test_selection_survives_a_refresh_and_renaming_keeps_the_run_selected(qtbot, panel):
    a = fake_run("lenet5-mnist-sample-2026-12-02_100000")
    fake_run("lenet5-mnist-sample-2026-12-02_110000")
    refreshed(qtbot, panel)
    panel.select_runs([a])
    assert panel.selected_paths() == [a] and panel.buttons["rename"].isEnabled()
    refreshed(qtbot, panel)
    assert panel.selected_paths() == [a]
    panel.ask_text = lambda *_args: "renamed"
    with qtbot.waitSignal(panel.refreshed, timeout=30_000):
        new = panel.rename_selected()
    assert new == a.parent / "renamed" and panel.selected_paths() == [new]
    assert panel.info(new).name == "renamed"


def test_compare_legends_name_what_differs_and_the_x_axis_fits_the_epochs(qtbot):
    from studio.gui.tabs.training import TrainingTab, read_history

    runs = [fake_run("lenet5-mnist-sample-2026-12-02_100000", lr=0.001, accs=(0.3, 0.5)),
            fake_run("lenet5-mnist-sample-2026-12-02_110000", lr=0.01, accs=(0.2, 0.4)),
            fake_run("lenet5-mnist-sample-2026-12-02_120000", lr=0.01, optimizer="sgd", accs=(0.1, 0.2))]
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.compare_histories([read_history(run) for run in runs])
    labels = [item.name() for item in tab.plots["accuracy"].getPlotItem().listDataItems() if item.name()]
    assert labels == ["adam, lr 0.001", "adam, lr 0.01", "sgd, lr 0.01"]
    x_low, x_high = tab.plots["accuracy"].getPlotItem().getViewBox().viewRange()[0]
    assert x_low < 0.5 and 2 <= x_high < 3                      # two epochs, not 0-40


def test_identical_runs_fall_back_to_their_readable_names(qtbot):
    from studio.gui.tabs.training import TrainingTab, read_history

    runs = [fake_run("lenet5-mnist-sample-2026-12-02_100000"), fake_run("my run")]
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.compare_histories([read_history(run) for run in runs])
    labels = [item.name() for item in tab.plots["loss"].getPlotItem().listDataItems() if item.name()]
    assert labels == ["lenet5 · mnist-sample · Dec 2 10:00", "my run"]


def test_export_csv_writes_every_selected_run_in_one_file(qtbot, panel, tmp_path):
    a = fake_run("lenet5-mnist-sample-2026-12-02_100000", accs=(0.3, 0.5), val=(0.31, 0.52))
    b = fake_run("lenet5-mnist-sample-2026-12-02_110000", accs=(0.2,))
    fake_run("not-selected", accs=(0.9,))
    refreshed(qtbot, panel)
    panel.select_runs([a, b])
    assert panel.buttons["csv"].isEnabled() and panel.buttons["compare"].isEnabled()
    panel.ask_save_path = lambda *_args: str(tmp_path / "both.csv")
    panel.buttons["csv"].click()
    rows = list(csv.DictReader(open(tmp_path / "both.csv", newline="", encoding="utf-8")))
    assert sorted((r["run"], r["epoch"]) for r in rows) == [(a.name, "1"), (a.name, "2"), (b.name, "1")]
    by_key = {(r["run"], r["epoch"]): r for r in rows}
    assert float(by_key[(a.name, "2")]["val_acc"]) == 0.52 and by_key[(b.name, "1")]["val_acc"] == ""
    assert float(by_key[(b.name, "1")]["test_acc"]) == 0.2
