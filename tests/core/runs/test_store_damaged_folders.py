"""Run folders damaged by hand or by a crash still list and read (found in a review)."""

import json

from studio.core import runs


def _run(root, name, status_text, metrics_bytes=b""):
    folder = root / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model": "lenet5", "dataset": "mnist-sample"}))
    (folder / "status.json").write_text(status_text)
    (folder / "metrics.jsonl").write_bytes(metrics_bytes)
    return folder


def test_damaged_status_files_list_as_unknown(tmp_path):
    _run(tmp_path, "list", "[1, 2]")
    _run(tmp_path, "junk", '{"status": "done", "epochs_done": "x", "best_test_acc": "NaN"}')
    found = {r.name: r for r in runs.list_runs(tmp_path)}
    assert found["list"].state == "unknown" and found["list"].epochs_done == 0
    assert found["junk"].state == "done" and found["junk"].best_test_acc is None


def test_metrics_lines_that_are_not_records_are_skipped(tmp_path):
    lines = b'[1]\n5\n\xff\xfe junk\n{"event": "fit_start", "start_epoch": "a"}\n{"event": "epoch", "epoch": "x"}\n' \
            b'{"event": "epoch", "epoch": 1, "test_acc": 0.5}\n'
    folder = _run(tmp_path, "run", '{"status": "done"}', lines)
    assert [r["epoch"] for r in runs.epoch_records(folder)] == [1]
