"""Review findings on the tabs, each found by using the window and reproduced here on small inputs.

- Evaluation: a cell clicked in a 10-class matrix, then a 4-class run opened -> IndexError in the tab.
- Activations: a scanned digit (dark ink on paper) was read without inverting or centring, so the
  Activations tab said "8 (95%)" where the Predict tab said "3"; and a model trained on other classes
  was fed the loaded dataset's test images and answered with confidence.
- Predict: a notebook's state dict asked for "--model" (a command-line flag) in the window.
- Background tasks: a task still running when its relay was deleted at exit raised in a pool thread.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from studio.core.data import load_dataset
from studio.core.data.bundle import DatasetBundle, Split
from studio.core.models import build_model
from studio.core.paths import REPO_ROOT
from studio.core.runs import LoadedModel, load_checkpoint
from studio.gui.state import StudioState
from studio.gui.concurrency.tasks import wait_for_all_tasks

DEMO = REPO_ROOT / "models" / "lenet5-mnist-sample.pt"


def toy_bundle(k: int, n: int = 48) -> DatasetBundle:
    g = torch.Generator().manual_seed(k)
    split = Split(torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=g), torch.arange(n) % k)
    return DatasetBundle(name=f"toy{k}", classes=[f"c{i}" for i in range(k)], train=split, test=split,
                         mean=(0.5,), std=(0.25,))


def toy_model(k: int) -> LoadedModel:
    torch.manual_seed(k)
    model = build_model("lenet5", (1, 28, 28), k).eval()
    return LoadedModel(model=model, model_name="lenet5", model_options={}, classes=[f"c{i}" for i in range(k)],
                       input_shape=(1, 28, 28), mean=(0.5,), std=(0.25,))


def shown(qtbot, tab):
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.resize(1100, 700)
    tab.show()
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    return tab


# ---------------------------------------------------------------- Evaluation

def test_a_cell_of_a_bigger_matrix_is_forgotten_when_a_smaller_model_comes(qtbot):
    from studio.gui.tabs.inspect.evaluation import CELL_HINT, EvaluationTab

    state = StudioState()
    state.set_dataset(toy_bundle(10))
    state.set_model(toy_model(10))
    tab = shown(qtbot, EvaluationTab(state))
    qtbot.waitUntil(lambda: tab.result is not None, timeout=30000)
    tab.show_cell(8, 3)
    assert tab.cell == (8, 3)
    state.set_dataset(toy_bundle(4))
    state.set_model(toy_model(4))
    qtbot.waitUntil(lambda: tab.result is not None and len(tab.result.confusion) == 4 and not tab.busy,
                    timeout=30000)
    assert "Error" not in tab.strip.message.text(), tab.strip.message.text()
    assert tab.cell is None and tab.cell_label.text() == CELL_HINT
    assert tab.cm.shape == (4, 4)


# ---------------------------------------------------------------- Activations

def digit_on_paper(path, label: int = 3) -> None:
    """Dark ink on light paper, off-centre: what a phone photo of a handwritten digit looks like."""
    test = load_dataset("mnist-sample").test
    digit = test.images[int(np.flatnonzero(test.labels.numpy() == label)[0]), 0].numpy()
    ink = np.asarray(Image.fromarray(255 - digit).resize((120, 120), Image.Resampling.BICUBIC), np.float64)
    page = np.full((240, 320), 214.0)
    page[30:150, 170:290] = ink / 255 * 214
    Image.fromarray(np.stack([page.astype(np.uint8)] * 3, axis=-1)).save(path)


def test_a_scanned_digit_file_is_read_as_the_predict_tab_reads_it(qtbot, tmp_path):
    from studio.gui.tabs.inspect.activations import ActivationsTab

    loaded = load_checkpoint(DEMO)
    state = StudioState()
    state.set_model(loaded)
    tab = shown(qtbot, ActivationsTab(state))
    path = tmp_path / "three.png"
    digit_on_paper(path, 3)
    tab.load_file(path)
    qtbot.waitUntil(lambda: not tab.busy and tab.result is not None and "three.png" in tab.result.source,
                    timeout=30000)
    assert "inverted" in tab.result.source
    assert tab.result.prediction[0][0] == "3", tab.result.prediction
    assert tab.result.input_rgb[:3].max() < 60   # a black background, like MNIST (not the grey page)


def test_test_images_of_other_classes_are_not_fed_to_the_model(qtbot):
    from studio.gui.tabs.inspect.activations import ActivationsTab

    state = StudioState()
    state.set_dataset(toy_bundle(10))
    state.set_model(toy_model(10))
    tab = shown(qtbot, ActivationsTab(state))
    qtbot.waitUntil(lambda: tab.result is not None, timeout=30000)
    state.set_model(toy_model(4))   # e.g. a run opened that was trained on a 4-class folder
    qtbot.waitUntil(lambda: not tab.busy, timeout=30000)
    assert tab.result is None and tab.overview.count() == 0 and tab.prediction.text() == ""
    assert "other classes" in tab.strip.message.text()
    tab.source.setCurrentIndex(1)   # a sample photo still works
    qtbot.waitUntil(lambda: not tab.busy and tab.result is not None, timeout=30000)


# ---------------------------------------------------------------- Predict

def test_a_plain_state_dict_asks_for_the_architecture_in_window_words(qtbot, tmp_path):
    from studio.core.runs.sources import checkpoint_source
    from studio.gui.tabs.predict.model_picker import ModelPicker

    picker = ModelPicker()
    qtbot.addWidget(picker)
    source = checkpoint_source(tmp_path / "cifar_cnn_ckpt.pth")
    picker.choose(source)
    picker.show_error("cifar_cnn_ckpt.pth is a plain state dict: choose the architecture it was trained with "
                      "(e.g. --model cifar-cnn).")
    text = picker.info.text()
    assert "--model" not in text and "Architecture list" in text and "choose the architecture" in text
    picker.show_error("something else went wrong")   # other errors are shown as they are
    assert picker.info.text() == "something else went wrong"


# ---------------------------------------------------------------- Lab

RIGHT_PANE_AT_1280 = 940   # what a 1280-pixel window leaves for the tabs beside the settings


def test_each_lab_section_fits_beside_the_settings_at_1280_pixels(qtbot):
    """The Lab was as wide as its widest section (1,150 px): every section scrolled sideways at 1280."""
    from studio.gui.app import configure_pyqtgraph
    from studio.gui.tabs.lab.tab import LabTab

    configure_pyqtgraph()
    lab = LabTab()
    qtbot.addWidget(lab, before_close_func=lambda _w: (lab.shutdown(), wait_for_all_tasks()))
    lab.resize(RIGHT_PANE_AT_1280, 640)
    lab.show()
    widths = {}
    for key, _title in LabTab.SECTIONS:
        lab.show_section(key)
        qtbot.wait(20)
        widths[key] = lab.minimumSizeHint().width()
    narrow = {k: v for k, v in widths.items() if k != "train"}   # its code listing is 66 columns of mono
    assert max(narrow.values()) <= RIGHT_PANE_AT_1280, widths
    assert widths["train"] <= RIGHT_PANE_AT_1280 + 60, widths
    assert len(set(widths.values())) > 1   # the section on screen decides, not the widest one


# ---------------------------------------------------------------- Data

def test_every_skipped_file_of_a_folder_dataset_can_be_seen(qtbot, tmp_path):
    """The info line names one unreadable file; the others were nowhere to be seen."""
    from studio.core.data import load_dataset
    from studio.core.paths import RESOURCES
    from studio.gui.tabs.data import DataTab

    for cls, photo in (("cat", "chelsea.png"), ("coffee", "coffee.png")):
        folder = tmp_path / "photos" / cls
        folder.mkdir(parents=True)
        image = Image.open(RESOURCES / "images" / photo).convert("RGB")
        for i in range(5):
            image.crop((i * 10, i * 5, i * 10 + 200, i * 5 + 200)).resize((40, 40)).save(folder / f"{i}.png")
        (folder / "broken.jpg").write_bytes(b"not a picture")
    bundle = load_dataset(f"folder:{tmp_path / 'photos'}", image_size=32)
    assert len(bundle.skipped) == 2
    state = StudioState()
    tab = DataTab(state)
    qtbot.addWidget(tab)
    state.set_dataset(bundle)
    assert "2 file(s) skipped" in tab.info.text()
    tip = tab.info.toolTip()
    assert all(str(path) in tip for path, _reason in bundle.skipped), tip
    state.set_dataset(None)
    assert tab.info.toolTip() == ""


# ---------------------------------------------------------------- Predict follows the run's model away

def test_predict_falls_back_to_the_demo_model_when_the_runs_model_goes(qtbot):
    """New run (or deleting the run on view) left the Predict tab on "Current run (no model yet)" in red."""
    from studio.gui.tabs.predict.tab import PredictTab

    state = StudioState()
    tab = PredictTab(state)
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks())
    tab.show()
    qtbot.waitUntil(lambda: tab.model is not None and not tab.is_busy(), timeout=30000)
    state.set_model(toy_model(10))
    qtbot.waitUntil(lambda: tab.source.kind == "current" and tab.model is not None and not tab.is_busy(),
                    timeout=30000)
    tab.hide()                      # on another tab while the next epoch's model arrives, then a New run
    state.set_model(toy_model(10))
    state.set_model(None)
    tab.show()
    qtbot.waitUntil(lambda: tab.source.kind == "demo" and tab.model is not None and not tab.is_busy(),
                    timeout=30000)
    assert "no model yet" not in tab.picker.info.text()


# ---------------------------------------------------------------- heatmap titles

def test_a_title_wider_than_its_image_stays_inside_the_canvas(qtbot):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFont, QFontMetrics

    from studio.gui.widgets.heatmap import title_placement

    fm = QFontMetrics(QFont())
    title = "F.conv2d, 13×13 kernel → 451×300"
    image = QRectF(20, 20, 60, 40)                    # a small image in a 240-pixel-wide canvas
    box, text = title_placement(fm, title, image, 240)
    assert text == title and box.left() >= 0 and box.right() <= 240
    assert fm.horizontalAdvance(text) <= box.width()
    box, text = title_placement(fm, title, image, 90)   # too narrow even for the canvas: elided, not cut
    assert text != title and text.endswith("…") and fm.horizontalAdvance(text) <= box.width()
    box, text = title_placement(fm, "input", QRectF(20, 20, 200, 40), 260)   # fits: centred over the image
    assert (box.left(), box.width()) == (20, 200)
