"""MetricsReader: only the new, complete lines of metrics.jsonl on each call."""

from __future__ import annotations

import json

from studio.core.runs.follow import MetricsReader


def write(path, text: str, mode: str = "a") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        fh.write(text)


def test_each_call_returns_only_what_was_added(tmp_path):
    path = tmp_path / "metrics.jsonl"
    reader = MetricsReader(tmp_path)
    assert reader.read_new() == []                     # no file yet
    write(path, json.dumps({"event": "fit_start"}) + "\n" + json.dumps({"event": "batch", "batch": 1}) + "\n")
    assert [r["event"] for r in reader.read_new()] == ["fit_start", "batch"]
    assert reader.read_new() == []
    write(path, json.dumps({"event": "batch", "batch": 2}) + "\n" + '{"event": "epo')   # a line being written
    assert reader.read_new() == [{"event": "batch", "batch": 2}]
    write(path, 'ch", "epoch": 1}\nnot json\n[1, 2]\n')
    assert reader.read_new() == [{"event": "epoch", "epoch": 1}]   # completed; junk lines skipped
    assert reader.offset == path.stat().st_size


def test_a_file_that_shrinks_is_read_again_from_the_start(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, '{"a": 1}\n{"a": 2}\n', "w")
    reader = MetricsReader(tmp_path)
    assert len(reader.read_new()) == 2 and not reader.restarted
    write(path, '{"b": 1}\n', "w")
    assert reader.read_new() == [{"b": 1}] and reader.restarted
    assert reader.read_all() == [{"b": 1}]
