"""Run folders (issue 12 and issue 13 item 7): readable names, metrics lines after a crash."""

from studio.core import runs


def test_run_names_start_with_model_and_dataset_and_stay_unique(tmp_path):
    config = {"model": "lenet5", "dataset": "folder:/home/me/My Pets/"}
    a, b = runs.new_run_dir(tmp_path, config), runs.new_run_dir(tmp_path, config)
    assert a.name.startswith("lenet5-My-Pets-20") and a != b and b.name.startswith(a.name)
    assert (a / "checkpoints").is_dir() and (a / "history").is_dir()


def test_runs_named_the_old_way_stay_listed(tmp_path):
    old = tmp_path / "20261202-025301-lenet5-mnist-sample"
    old.mkdir()
    runs.write_json(old / "config.json", {"model": "lenet5", "dataset": "mnist-sample"})
    runs.write_status(old, "done", "finished 1 epochs", epochs_done=1)
    assert [r.name for r in runs.list_runs(tmp_path)] == [old.name]


def test_a_line_cut_by_a_crash_does_not_swallow_the_next_record(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"event": "epoch", "epoch": 1}\n{"event": "epo')
    writer = runs.MetricsWriter(tmp_path)
    writer.write({"event": "epoch", "epoch": 2}, durable=True)
    writer.close()
    assert [r["epoch"] for r in runs.epoch_records(tmp_path)] == [1, 2]


def test_the_time_of_a_default_name_is_read_in_both_formats(tmp_path):
    new = runs.new_run_dir(tmp_path, {"model": "lenet5", "dataset": "mnist-sample"})
    assert runs.default_name_time(new.name) == f"{new.name[-6:-4]}:{new.name[-4:-2]}:{new.name[-2:]}"
    assert runs.default_name_time("20261202-025301-lenet5-mnist-sample") == "02:53:01"
    assert runs.default_name_time("lenet5-mnist-sample-2026-12-02_025301-2") == "02:53:01"
    assert runs.default_name_time("my best run") is None
