"""The Predict tab's results table (issue 13.12: a folder's rows showed "predict_f…" for every file)."""

from studio.gui.tabs.predict.views import ResultsModel


def test_the_file_column_shows_the_file_name_and_the_path_on_hover(qapp):
    model = ResultsModel()
    model.append(0, "predict_folder/more/seven.png")
    model.append(1, "pasted image 1")
    assert model.item(0, 0).text() == "seven.png"
    assert model.item(0, 0).toolTip() == "predict_folder/more/seven.png"
    assert model.item(1, 0).text() == "pasted image 1"


def test_an_image_title_wraps_in_a_narrow_cell_instead_of_being_clipped(qtbot):
    """At 1024x768 the Adversarial panel's three cells are ~140 px: 'What the network sees' was cut both sides."""
    from studio.gui.tabs.predict.views import ImageView

    view = ImageView("What the network sees")
    qtbot.addWidget(view)
    view.resize(400, 300)
    one_line = view.title_height()
    view.resize(120, 300)
    assert view.title_height() >= one_line + view.fontMetrics().height() - 2   # a second line, not a clip
    view.grab()   # paints with the wrapped title


def test_the_results_table_keeps_room_for_file_names(qtbot):
    """Issue 13 (seen at 1024x768): the File column was squeezed to 'c…' by its two fitted neighbours."""
    from studio.gui.state import StudioState
    from studio.gui.tabs.predict.tab import PredictTab

    tab = PredictTab(StudioState())
    qtbot.addWidget(tab)
    tab.resize(660, 560)     # the Predict tab's share of a 1024-px window
    tab.show()
    qtbot.waitExposed(tab)
    header = tab.table.horizontalHeader()
    assert header.sectionSize(0) >= 80                         # room for "seven.png"-sized names
    assert tab.minimumSizeHint().width() <= 660                # and the tab itself never scrolls sideways
