"""Health and diagnosis lines in metrics.jsonl are skipped by every reader that does not know them."""

import csv

from studio.core.runs.csv_export import write_metrics_csv
from studio.core.runs.follow import MetricsReader
from studio.core.runs.store import epoch_records, read_metrics
from tests.core.diagnosis.test_rules import flat_run


def test_readers_of_epochs_skip_the_health_lines(tmp_path):
    run = flat_run(tmp_path / "run")
    kinds = {r["event"] for r in MetricsReader(run).read_all()}
    assert {"health", "health_epoch"} <= kinds
    assert [r["epoch"] for r in epoch_records(run)] == [1, 2, 3]
    with open(write_metrics_csv(run, tmp_path / "m.csv"), newline="") as fh:
        assert [row["epoch"] for row in csv.DictReader(fh)] == ["1", "2", "3"]
    # a resume that redoes epoch 3 drops its health lines with its epoch line
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"event": "fit_start", "start_epoch": 2, "epochs": 3}\n')
    assert max(r.get("epoch", 0) for r in read_metrics(run) if r["event"] in ("health", "health_epoch")) == 2
