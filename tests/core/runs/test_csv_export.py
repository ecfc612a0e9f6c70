"""Several runs' epoch scalars in one long-format CSV file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from studio.core.runs.csv_export import LONG_FIELDS, write_runs_csv


def _fake_run(root: Path, name: str, epochs: list[dict]) -> Path:
    run = root / name
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": "lenet5", "dataset": "mnist-sample"}))
    lines = [{"event": "fit_start", "epochs": len(epochs)}]
    lines += [{"event": "batch", "epoch": 1, "batch": 1, "loss": 2.0}]
    lines += [dict(event="epoch", epoch=i + 1, **e) for i, e in enumerate(epochs)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return run


def test_runs_csv_holds_every_epoch_of_every_run_with_empty_cells_for_missing_values(tmp_path):
    a = _fake_run(tmp_path, "run-a", [
        dict(train_loss=1.5, train_acc=0.5, test_loss=1.4, test_acc=0.55, lr=0.01, epoch_time=2.0),
        dict(train_loss=1.0, train_acc=0.7, test_loss=1.1, test_acc=0.65, lr=0.005, epoch_time=1.9),
    ])
    b = _fake_run(tmp_path, "run-b", [
        dict(train_loss=0.9, train_acc=0.8, val_loss=0.95, val_acc=0.78, test_loss=1.0, test_acc=0.75,
             lr=0.001, epoch_time=3.5, images_per_sec=100.0),
    ])
    out = write_runs_csv([a, b], tmp_path / "out" / "all.csv")
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fh.seek(0)
        header = fh.readline().strip().split(",")
    assert header == list(LONG_FIELDS)
    assert [(r["run"], r["epoch"]) for r in rows] == [("run-a", "1"), ("run-a", "2"), ("run-b", "1")]
    assert rows[0]["val_acc"] == "" and rows[0]["val_loss"] == ""        # run-a has no validation split
    assert float(rows[1]["test_acc"]) == 0.65 and float(rows[1]["lr"]) == 0.005
    assert float(rows[2]["val_acc"]) == 0.78 and float(rows[2]["epoch_time"]) == 3.5
    assert "images_per_sec" not in rows[2]


def test_a_non_finite_value_is_an_empty_cell_and_a_run_without_epochs_adds_no_rows(tmp_path):
    a = _fake_run(tmp_path, "diverged", [dict(train_loss=float("nan"), train_acc=0.1, test_acc=0.1)])
    empty = _fake_run(tmp_path, "empty", [])
    out = write_runs_csv([a, empty], tmp_path / "x.csv")
    rows = list(csv.DictReader(open(out, newline="", encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["train_loss"] == "" and rows[0]["train_acc"] == "0.1"


def test_the_runs_table_rereads_a_run_only_when_its_metrics_change(tmp_path, monkeypatch):
    """Refresh used to parse every run's whole metrics.jsonl each time; unchanged files are now remembered."""
    import json

    from studio.core.runs import overview, store

    run = tmp_path / "run"
    run.mkdir()
    metrics = run / "metrics.jsonl"
    metrics.write_text(json.dumps({"event": "epoch", "epoch": 1, "test_acc": 0.5, "val_acc": 0.6,
                                   "epoch_time": 2.0}) + "\n")
    reads = []
    real = store.epoch_records
    monkeypatch.setattr(store, "epoch_records", lambda d: reads.append(d) or real(d))
    assert overview._epoch_figures(run) == ([0.6], [0.5], [2.0])
    assert overview._epoch_figures(run) == ([0.6], [0.5], [2.0])
    assert len(reads) == 1
    with open(metrics, "a") as fh:
        fh.write(json.dumps({"event": "epoch", "epoch": 2, "test_acc": 0.7, "val_acc": 0.8, "epoch_time": 3.0}) + "\n")
    assert overview._epoch_figures(run) == ([0.6, 0.8], [0.5, 0.7], [2.0, 3.0])
    assert len(reads) == 2
