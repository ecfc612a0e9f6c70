"""What a second launch restores: the last run opened or trained comes back; a deleted one is skipped quietly."""

from __future__ import annotations

import shutil

from studio.gui.widgets import error_dialog
from studio.gui.window.main_window import MainWindow


def _launch(qtbot) -> MainWindow:
    window = MainWindow()   # the settings file is $CNN_STUDIO_SETTINGS_DIR's, shared by the windows of a test
    qtbot.addWidget(window)
    window.confirm = lambda *args: True
    window.show()
    qtbot.waitUntil(lambda: window.loaded, timeout=120_000)
    return window


def _quit(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.runs._tasks or not any(t.running for t in window.runs._tasks.values()),
                    timeout=30_000)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)


def test_the_last_opened_run_is_reopened_on_the_next_launch(qtbot, run, tmp_path):
    run_dir = tmp_path / run[0].name
    shutil.copytree(run[0], run_dir)
    first = _launch(qtbot)
    assert first.state.run_dir is None               # nothing remembered yet
    first.open_run(run_dir)
    qtbot.waitUntil(lambda: first.state.run_dir == run_dir, timeout=30_000)
    _quit(qtbot, first)

    second = _launch(qtbot)
    qtbot.waitUntil(lambda: second.state.run_dir == run_dir and second.state.model is not None, timeout=30_000)
    assert second.training_tab.histories and len(second.training_tab.histories[0].epochs) == 2
    _quit(qtbot, second)

    shutil.rmtree(run_dir)                            # gone between two launches: no error, nothing opened
    third = _launch(qtbot)
    assert "read" not in third.runs._tasks            # the reopening is decided as the window becomes ready
    assert third.state.run_dir is None
    assert not error_dialog.open_dialogs()
    _quit(qtbot, third)
