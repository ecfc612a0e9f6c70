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
