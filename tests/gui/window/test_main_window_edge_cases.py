"""Review findings on the main window: closing while a run ends, and a window that fits a 1280x800 screen.

These build the window without showing it (so torch is not loaded) and stay fast.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget

from studio.gui.widgets.lazy_tab import LazyTab
from studio.gui.window.main_window import MainWindow

SCREEN_WIDTH = 1280


def make(qtbot, show: bool = False) -> MainWindow:
    window = MainWindow()
    window._load_started = True   # never import torch here: these tests are about the frame
    qtbot.addWidget(window)
    if show:   # layouts report their real minimum sizes only once shown
        window.show()
        qtbot.waitExposed(window)
    return window


def test_quit_confirmed_after_the_run_ended_during_the_question_closes_the_window(qtbot, monkeypatch):
    """The run finished while "Quit while training?" was open; Yes must quit, not leave a pending close.

    Seen under Xvfb: a 5-epoch run ended behind the dialog, Yes did nothing, and the stale pending
    close would have shut the window whenever a later run finished.
    """
    window = make(qtbot)
    running = [True]
    monkeypatch.setattr(window.runner, "is_running", lambda: running[0])

    def confirm(*_args) -> bool:
        running[0] = False   # the run's thread ends while the person reads the question
        return True

    window.confirm = confirm
    event = QCloseEvent()
    window.closeEvent(event)
    assert event.isAccepted()
    assert not window._close_pending


def test_quit_confirmed_while_the_run_still_trains_waits_for_it(qtbot, monkeypatch):
    window = make(qtbot)
    monkeypatch.setattr(window.runner, "is_running", lambda: True)
    stops = []
    monkeypatch.setattr(window.runner, "stop", lambda: stops.append(1))
    window.confirm = lambda *_args: True
    event = QCloseEvent()
    window.closeEvent(event)
    assert not event.isAccepted() and window._close_pending and stops == [1]
    again = QCloseEvent()   # a second close (Ctrl+Q pressed again) asks nothing and still waits
    window.confirm = lambda *_args: (_ for _ in ()).throw(AssertionError("asked twice"))
    window.closeEvent(again)
    assert not again.isAccepted()


def test_a_wide_lazy_tab_scrolls_instead_of_widening_the_window(qtbot):
    """The Lab's sections asked for up to 1,150 px: the window grew to 1,481 px on a 1280-pixel screen."""
    def wide() -> QWidget:
        page = QWidget()
        page.setMinimumSize(2000, 300)
        return page

    tab = LazyTab(wide, "Wide")
    qtbot.addWidget(tab)
    tab.resize(900, 600)
    tab.show()
    page = tab.build()
    qtbot.waitUntil(lambda: page.width() >= 2000)
    assert tab.minimumSizeHint().width() < 300
    assert tab.scroll.horizontalScrollBar().maximum() > 0
    # The page takes the viewport's height (no height-for-width growth that scrolled the Lab's bottom away).
    assert page.height() <= tab.scroll.viewport().height()


def test_the_window_fits_a_1280_pixel_screen_with_every_tab_built(qtbot):
    window = make(qtbot, show=True)
    from studio.gui.app import configure_pyqtgraph

    configure_pyqtgraph()
    window._add_tabs()
    window.stack.setCurrentWidget(window.tabs)
    window.tabs_by_key["lab"].build()
    # Text that arrives later: VGG-16's totals on the Model tab, an evaluation with its dataset warning,
    # a long progress line.
    window.tab("model").totals.setText(
        "<b>Parameters:</b> 134,300,362 &nbsp; <b>Trainable:</b> 134,300,362 &nbsp; <b>Size:</b> 512.31 MB"
        " &nbsp; <b>MACs:</b> 15.47 G &nbsp; <b>Layers:</b> 39")
    window.tab("model").show_content()
    window.tab("evaluation").summary.setText(
        "<b>Accuracy</b> 87.40% &nbsp; <b>Loss</b> 0.3451 &nbsp; on 10,000 test images (current model, epoch 14)"
        " &nbsp; <span style='color:#b00020'>(trained on folder:/home/someone/pictures, tested on cifar10)</span>")
    window.tab("evaluation").show_content()
    window.progress.setFormat("20261123-164045-lenet5--tmp-rv-folderds: done, 2/2 epochs · best test accuracy "
                              "75.00% and then some more words to make it long")
    for key, tab in window.tabs_by_key.items():
        window.tabs.setCurrentWidget(tab)   # a page's size hints update once it is on screen
        qtbot.wait(30)
        assert window.minimumSizeHint().width() <= SCREEN_WIDTH - 100, key
        assert window.width() <= SCREEN_WIDTH, key


def test_run_names_keep_both_ends_when_elided(qtbot):
    from PySide6.QtCore import Qt

    window = make(qtbot)
    assert window.runs_panel.table.textElideMode() == Qt.TextElideMode.ElideMiddle


@pytest.mark.slow
def test_renaming_the_run_on_view_renames_it_everywhere(qtbot):
    """The title and the progress line kept the old folder name after Rename… in the Runs list."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loaded and window.state.dataset is not None, timeout=120_000)
    window.settings_panel.epochs_spin.setValue(1)
    window.settings_panel.batch_spin.setValue(512)
    assert window.start_training()
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=120_000)
    old = window.state.run_dir
    with qtbot.waitSignal(window.runs_panel.refreshed, timeout=30_000):   # read in the background
        window.runs_panel.refresh()
    window.runs_panel.select_runs([old])
    window.runs_panel.ask_text = lambda *_args: "my-first-run"
    window.runs_panel.buttons["rename"].click()
    new = old.parent / "my-first-run"
    assert window.state.run_dir == new and new.is_dir()
    assert window.training_tab.title.text() == "Run: my-first-run (done)"
    assert window.progress.format().startswith("my-first-run:") and old.name not in window.progress.format()
    window.close()
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    assert wait_for_all_tasks(30_000)


def test_a_pause_does_not_inflate_the_eta(qtbot, monkeypatch):
    """After a long pause the ETA counted the pause as training time (ETA 13:36 for a 20-second run)."""
    import studio.gui.window.session as session_module

    window = make(qtbot)
    session = window.session
    clock = [100.0]
    monkeypatch.setattr(session_module.time, "perf_counter", lambda: clock[0])
    session.fit_start = type("FitStart", (), {"epochs": 2})()
    session._run_clock, session._run_first_done = 100.0, 0
    session._set_progress(0, 20, "")

    def packet(batch):
        return {"epoch": [1], "batch": [batch], "batches": 10, "images_per_sec": 100.0, "loss": [1.0],
                "x": [batch / 10], "step": [batch], "accuracy": [0.5], "lr": [0.1]}

    clock[0] = 110.0   # 5 batches in 10 s: 15 left, 30 s
    session._on_batches(packet(5))
    assert "ETA 0:30" in window.progress.format()
    session._on_paused_changed(True)
    clock[0] = 710.0   # a ten-minute pause
    session._on_paused_changed(False)
    clock[0] = 712.0   # one more batch in 2 s
    session._on_batches(packet(6))
    assert "ETA 0:28" in window.progress.format(), window.progress.format()
