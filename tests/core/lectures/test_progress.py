"""The tours remember where the student stopped, in a JSON file under $CNN_STUDIO_SETTINGS_DIR."""

from studio.core.lectures import progress


def test_remembers_the_last_step_of_each_tour(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_SETTINGS_DIR", str(tmp_path))
    assert progress.last_step(1) == 0 and progress.current_tour() == 0
    progress.remember(1, 4)
    progress.remember(3, 2)
    assert progress.last_step(1) == 4 and progress.last_step(3) == 2 and progress.current_tour() == 3
    assert progress.progress_file().parent == tmp_path


def test_a_damaged_file_means_from_the_start(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_STUDIO_SETTINGS_DIR", str(tmp_path))
    progress.progress_file().write_text("{not json", encoding="utf-8")
    assert progress.last_step(2) == 0
    progress.progress_file().write_text('{"current": "x", "steps": {"2": -1, "3": true, "4": 5}}', encoding="utf-8")
    assert progress.load() == {"current": 0, "steps": {"4": 5}}
