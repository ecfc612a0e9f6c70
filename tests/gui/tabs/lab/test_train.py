"""Issue 13.12: the Lab's "one batch by hand" fits beside the settings panel on a 1280-pixel screen."""

from PySide6.QtWidgets import QApplication

from studio.gui.tabs.lab.train import TrainSection


def test_one_batch_by_hand_is_not_wider_than_a_1280_screen_leaves(qtbot):
    app = QApplication.instance()
    font = app.font()
    desktop = app.font()
    desktop.setPointSizeF(12)        # a desktop's font: the offscreen default (9 pt) hides the problem
    app.setFont(desktop)
    try:
        section = TrainSection()
        qtbot.addWidget(section)
        # The code listings scroll sideways and the box titles are short; before, 1,035 px at 12 pt.
        assert section.minimumSizeHint().width() <= 800
        assert section.code_label.text() and section.code_area.widget() is section.code_label
    finally:
        app.setFont(font)


def test_a_section_deleted_mid_loop_stops_its_work_and_gets_no_late_answer(qtbot):
    """run_task(owner=section): the loop is cancelled when the section goes, and no callback reaches it."""
    section = TrainSection()
    section.steps_spin.setValue(section.steps_spin.maximum())
    section.run_loop()
    task = section._loop_task
    assert task.running
    gone = []
    section.destroyed.connect(lambda: gone.append(True))
    section.deleteLater()
    qtbot.waitUntil(lambda: bool(gone), timeout=10_000)
    qtbot.waitUntil(lambda: not task.running, timeout=30_000)
    assert task.cancelled        # told to stop when its owner went, not left to run its steps
