"""Model tab: torchinfo table and totals, output-size formula, receptive fields, block diagram."""

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from studio.core.config.train_config import TrainConfig
from studio.core.models import build_model
from studio.core.runs import LoadedModel
from studio.gui.state import StudioState
from studio.core.inspect.formulas import layer_size_text as output_size_formula
from studio.gui.tabs.inspect.model import COLUMNS, ModelTab
from studio.gui.concurrency.tasks import wait_for_all_tasks

RF_COL = COLUMNS.index("Receptive field")
FORMULA_COL = len(COLUMNS) - 1


def show_tab(qtbot, state):
    tab = ModelTab(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1100, 700)
    tab.show()
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    return tab


def row_of(tab, name):
    for r in range(tab.table.rowCount()):
        if tab.table.item(r, 0).text().strip() == name:
            return r
    raise AssertionError(f"no row {name}")


def test_cifar_cnn_before_training_matches_seed_001(qtbot):
    tab = show_tab(qtbot, StudioState(TrainConfig(dataset="cifar10", model="cifar-cnn")))
    assert not tab.is_empty()
    assert tab.summary.total_params == 5_852_170
    assert "5,852,170" in tab.totals.text() and "22.33 MB" in tab.totals.text()
    assert "Not trained yet" in tab.subtitle.text()
    first = row_of(tab, "conv_layer.0")
    assert tab.table.item(first, FORMULA_COL).text() == "(32 − 3 + 2·1)/1 + 1 = 32"
    assert tab.table.item(first, RF_COL).text() == "3×3"
    pool = row_of(tab, "conv_layer.5")
    assert tab.table.item(pool, FORMULA_COL).text() == "(32 − 2 + 2·0)/2 + 1 = 16"
    assert tab.table.item(pool, RF_COL).text() == "6×6"
    assert tab.table.item(row_of(tab, "conv_layer.18"), RF_COL).text() == "36×36"
    # one box per layer, plus the input
    assert tab.diagram.count() == len(tab.leaf_rows()) + 1 == tab.table.rowCount() + 1


def test_lenet5_formula_is_seed_001_worked_example(qtbot):
    tab = show_tab(qtbot, StudioState(TrainConfig(dataset="mnist-sample", model="lenet5")))
    # seed 001: W_1,out = (28 - 5 + 2*2)/1 + 1 = 28 -> MaxPool(2x2) -> 14
    assert tab.table.item(row_of(tab, "features.0"), FORMULA_COL).text() == "(28 − 5 + 2·2)/1 + 1 = 28"
    assert tab.table.item(row_of(tab, "features.2"), FORMULA_COL).text() == "(28 − 2 + 2·0)/2 + 1 = 14"
    assert tab.table.item(row_of(tab, "classifier.0"), FORMULA_COL).text() == ""


def test_the_tab_follows_the_settings_and_then_an_opened_run(qtbot, tmp_path):
    # issue 13.6: the architecture chosen in the settings shows at once, also after a model was loaded
    state = StudioState(TrainConfig(dataset="mnist-sample", model="lenet5"))
    tab = show_tab(qtbot, state)
    lenet_params = tab.summary.total_params
    state.set_config(TrainConfig(dataset="cifar10", model="cifar-cnn"))
    qtbot.waitUntil(lambda: not tab.busy and tab.summary.total_params == 5_852_170, timeout=30000)

    run_dir = tmp_path / "20260101-000000-lenet5-mnist-sample"
    state.set_run(run_dir)
    model = build_model("lenet5", (1, 28, 28), 10).eval()
    state.set_model(LoadedModel(model=model, model_name="lenet5", model_options={}, classes=list("0123456789"),
                                input_shape=(1, 28, 28), mean=(0.5,), std=(0.5,), epoch=4))
    qtbot.waitUntil(lambda: not tab.busy and tab.summary.total_params == lenet_params, timeout=30000)
    assert "epoch 4" in tab.subtitle.text() and f"run {run_dir.name}" in tab.subtitle.text()
    assert not tab.shows_settings()
    state.set_config(TrainConfig(dataset="cifar10", model="cifar-cnn"))   # chosen after the run was opened
    qtbot.waitUntil(lambda: not tab.busy and tab.summary.total_params == 5_852_170, timeout=30000)
    assert tab.shows_settings() and "chosen in the settings" in tab.subtitle.text()
    state.set_config(TrainConfig(dataset="mnist-sample", model="lenet5", epochs=3))   # back to the run's model
    qtbot.waitUntil(lambda: not tab.busy and tab.summary.total_params == lenet_params, timeout=30000)
    assert "epoch 4" in tab.subtitle.text()


def test_a_new_epoch_of_the_same_model_keeps_the_table(qtbot):
    state = StudioState(TrainConfig(dataset="mnist-sample", model="lenet5"))

    def loaded(epoch):
        return LoadedModel(model=build_model("lenet5", (1, 28, 28), 10).eval(), model_name="lenet5", model_options={},
                           classes=list("0123456789"), input_shape=(1, 28, 28), mean=(0.5,), std=(0.5,), epoch=epoch)

    state.set_model(loaded(1))
    tab = show_tab(qtbot, state)
    summary = tab.summary
    state.set_model(loaded(2))   # what the main window does after every epoch of a live run
    assert not tab.busy and tab.summary is summary and "epoch 2" in tab.subtitle.text()


def test_unknown_model_shows_a_readable_error(qtbot):
    tab = show_tab(qtbot, StudioState(TrainConfig(dataset="mnist-sample", model="no-such-net")))
    assert tab.strip.message.isVisibleTo(tab)
    assert "no-such-net" in tab.strip.message.text()
    assert "Traceback" not in tab.strip.message.text()


def test_clicking_a_block_selects_its_table_row(qtbot):
    tab = show_tab(qtbot, StudioState(TrainConfig(dataset="mnist-sample", model="lenet5")))
    canvas = tab.diagram.canvas
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.box_rect(4).center())
    selected = tab.table.selectionModel().selectedRows()
    assert len(selected) == 1
    assert tab.table.item(selected[0].row(), 0).text() == tab.leaf_rows()[3].name


@pytest.mark.parametrize("w_in,k,p,s,d,w_out,text", [
    (8, 3, 0, 2, 1, 3, "⌊(8 − 3 + 2·0)/2⌋ + 1 = 3"),
    (32, 3, 2, 1, 2, 32, "(32 − 5 + 2·2)/1 + 1 = 32   (dilation 2: F = 2·(3−1)+1)"),
])
def test_formula_rounds_down_and_dilates(w_in, k, p, s, d, w_out, text):
    row = SimpleNamespace(type="Conv2d", input_shape=(1, 3, w_in, w_in), output_shape=(1, 8, w_out, w_out),
                          kernel_size=(k, k), stride=(s, s), padding=(p, p), dilation=(d, d))
    assert output_size_formula(row) == text


def test_print_model_stands_beside_the_layer_table(qtbot):
    """Issue 18: the lecture-style text of print(model), for the model on view."""
    from studio.core.config.train_config import TrainConfig
    from studio.gui.state import StudioState
    from studio.gui.tabs.inspect.model import ModelTab

    state = StudioState()
    state.set_config(TrainConfig(model="cifar-cnn"))
    tab = ModelTab(state)
    qtbot.addWidget(tab)
    tab.show()
    tab.refresh()
    qtbot.waitUntil(lambda: tab.summary is not None and not tab.busy, timeout=60_000)
    text = tab.printed.toPlainText()
    assert text.startswith("CifarCNN(") and "(conv_layer): Sequential(" in text
    assert "32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text   # channels follow the data
