"""The Predict tab's results table (issue 13.12: a folder's rows showed "predict_f…" for every file)."""

from studio.gui.tabs.predict.views import ResultsModel


def test_the_file_column_shows_the_file_name_and_the_path_on_hover(qapp):
    model = ResultsModel()
    model.append(0, "predict_folder/more/seven.png")
    model.append(1, "pasted image 1")
    assert model.item(0, 0).text() == "seven.png"
    assert model.item(0, 0).toolTip() == "predict_folder/more/seven.png"
    assert model.item(1, 0).text() == "pasted image 1"
