"""The window fits the screen: it opens inside the available area and shrinks to 1024x700 with every control."""

from __future__ import annotations

from PySide6.QtCore import QRect

from studio.gui.window.main_window import MainWindow
from studio.gui.window.persistence import fit_rect

SMALL = (1024, 700)


def make(qtbot) -> MainWindow:
    window = MainWindow()
    window._load_started = True   # no torch: this is about the frame
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_a_geometry_from_a_bigger_screen_is_fitted_into_the_available_area():
    available = QRect(0, 0, 1024, 740)     # 1024x768 less a panel
    fitted = fit_rect(QRect(300, 200, 1280, 800), available)
    assert available.contains(fitted)
    assert fitted.width() <= 1024 - 16 and fitted.height() <= 740 - 48   # room for the frame and title bar


def test_the_window_opens_inside_the_available_screen(qtbot):
    window = make(qtbot)
    available = window.screen().availableGeometry()
    assert available.contains(window.geometry())


def test_every_tab_fits_1024_by_700_even_when_a_page_asks_for_more(qtbot):
    from studio.gui.widgets.plot_config import configure_pyqtgraph

    window = make(qtbot)
    configure_pyqtgraph()
    window._add_tabs()
    window.stack.setCurrentWidget(window.tabs)
    for key in window.tabs_by_key:
        window.show_tab(key)
        qtbot.wait(20)   # a page's size hints update once it is on screen
        hint = window.minimumSizeHint()
        assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1], (key, hint)
    # What Attack in Predict > Adversarial did: the page grew to 830 px and the window with it.
    window.show_tab("predict").setMinimumHeight(1200)
    qtbot.wait(20)
    hint = window.minimumSizeHint()
    assert hint.width() <= SMALL[0] and hint.height() <= SMALL[1], hint
    holder = window.tabs_by_key["predict"]
    assert holder.scroll.verticalScrollBar().maximum() > 0      # the page scrolls instead
