"""The Predict tab, driven like a person would: real drop events, real files (good and hostile), clicks."""

from __future__ import annotations

import csv
import io
import pathlib
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from studio.core.data import load_dataset
from studio.core.paths import DEMO_MODELS, RESOURCES
from studio.core.runs import LoadedModel
from studio.gui.state import StudioState
from studio.gui.tabs.predict.tab import PredictTab
from studio.gui.concurrency.tasks import wait_for_all_tasks

PHOTOS = sorted((RESOURCES / "images").glob("*.png")) + sorted((RESOURCES / "images").glob("*.jpg"))
WAIT_MS = 30_000


# ---------------------------------------------------------------- fixtures and helpers

@pytest.fixture
def state():
    return StudioState()


@pytest.fixture
def tab(qtbot, state):
    widget = PredictTab(state)
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitUntil(lambda: widget.model is not None and not widget.is_busy(), timeout=WAIT_MS)
    yield widget
    assert wait_for_all_tasks(WAIT_MS)


def mime_for(paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop(tab: PredictTab, paths, target=None) -> None:
    """A real drag-enter then drop, delivered through Qt's event dispatch."""
    target = target or tab
    mime = mime_for(paths)
    centre = QPoint(target.width() // 2, target.height() // 2)
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted(), "a drag carrying files must be accepted"
    event = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, event)
    assert event.isAccepted()


def settle(qtbot, tab: PredictTab, rows: int | None = None) -> None:
    qtbot.waitUntil(lambda: (rows is None or len(tab.items) >= rows) and not tab.is_busy()
                    and all(r is not None for r in tab.results), timeout=WAIT_MS)


def explained(qtbot, tab: PredictTab, index: int) -> None:
    tab.select_row(index)
    qtbot.waitUntil(lambda: tab.detail is not None and tab.detail_index == index and not tab.is_busy(),
                    timeout=WAIT_MS)


def results_by_name(tab: PredictTab) -> dict:
    return {pathlib.PurePath(name).name: result for name, result in tab.rows()}


# ---------------------------------------------------------------- files made by the tests

def photo_array(size=(64, 48)) -> np.ndarray:
    image = Image.open(RESOURCES / "images" / "chelsea.png").convert("RGB").resize(size)
    return np.asarray(image)


def write_bad_and_odd_files(folder: pathlib.Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zero.png").write_bytes(b"")
    (folder / "text.png").write_text("hello, I am a shopping list, not a picture\n")
    buffer = io.BytesIO()
    Image.fromarray(photo_array((200, 150))).save(buffer, "JPEG", quality=90)
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "bomb.png").write_bytes(decompression_bomb_png(40_000, 40_000))
    Image.fromarray(photo_array()).convert("CMYK").save(folder / "cmyk.jpg", "JPEG")
    ramp = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(folder / "deep16.png")
    assert Image.open(folder / "deep16.png").mode.startswith("I")
    frames = [Image.fromarray(photo_array()), Image.fromarray(255 - photo_array())]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    exif = Image.Exif()
    exif[0x0112] = 6                                   # orientation: rotate 90 degrees to view
    Image.fromarray(photo_array((60, 30))).save(folder / "rotated.jpg", "JPEG", exif=exif.tobytes())


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header promises width x height pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)   # 1-bit grayscale
    rows = zlib.compress(b"\x00" * (1 + width // 8) * 64)              # a few rows of zeros
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def digit_on_paper(path: pathlib.Path, label: int = 3) -> None:
    """A photo-like picture of a handwritten digit: dark ink on light paper, off-centre, noisy."""
    test = load_dataset("mnist-sample").test
    digit = test.images[int(np.flatnonzero(test.labels.numpy() == label)[0]), 0].numpy()
    rng = np.random.default_rng(label)
    ink = np.asarray(Image.fromarray(255 - digit).resize((120, 120), Image.Resampling.BICUBIC), np.float64)
    page = np.full((240, 320), 214.0)
    page[30:150, 170:290] = ink / 255 * 214
    page = (page + rng.normal(0, 7, page.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(np.stack([page] * 3, axis=-1)).save(path)


# ---------------------------------------------------------------- drops

def test_the_demo_model_answers_on_first_launch(tab):
    assert tab.source.kind == "demo"
    assert tab.model.model_name == "lenet5"
    assert "lenet5" in tab.picker.info.text()
    assert tab.stack.currentWidget() is tab.drop_zone       # an invitation to drop, not an empty table


def test_dropping_real_photos_predicts_each_and_explains_the_selected(qtbot, tab):
    drop(tab, PHOTOS)
    settle(qtbot, tab, len(PHOTOS))
    assert [name for name, _ in tab.rows()] == [p.name for p in PHOTOS]
    for _, result in tab.rows():
        assert not result.error and len(result.topk) == 10
        assert result.label in tab.model.classes and 0.1 <= result.confidence <= 1
    explained(qtbot, tab, 0)
    detail = tab.detail
    assert detail.original.shape[2] == 3 and detail.network.shape == (28, 28)   # gray 28x28: what lenet5 sees
    assert detail.cam is not None and detail.cam.shape == (28, 28) and 0 <= detail.cam.min() <= detail.cam.max() <= 1
    assert tab.details.chart.items() == detail.topk
    assert detail.topk[0][0] == tab.results[0].label
    assert tab.details.original_view.has_image() and tab.details.network_view.has_image()
    assert "Grad-CAM" in tab.details.cam_view.caption()
    before = tab.details.cam_view.image().copy()
    tab.details.opacity.setValue(90)
    assert tab.details.cam_view.image() != before                # the slider re-blends the overlay
    assert tab.details.opacity_value.text() == "90 %"


def test_a_folder_of_good_bad_and_odd_files(qtbot, tab, tmp_path):
    folder = tmp_path / "drop"
    write_bad_and_odd_files(folder)
    (folder / "notes.txt").write_text("not an image name: skipped inside folders")
    (folder / "more").mkdir()
    Image.open(PHOTOS[0]).save(folder / "more" / "photo.png")
    drop(tab, [folder])
    settle(qtbot, tab, 9)
    results = results_by_name(tab)
    assert "notes.txt" not in results and "photo.png" in results
    assert {name: r.error for name, r in results.items() if r.error} == {
        "zero.png": "empty", "text.png": "not-an-image", "truncated.jpg": "truncated", "bomb.png": "too-large"}
    for good in ("cmyk.jpg", "deep16.png", "animated.gif", "rotated.jpg", "photo.png"):
        assert results[good].label in tab.model.classes, good
    assert results["rotated.jpg"].size == (30, 60)             # EXIF orientation applied
    # Selecting a bad file shows its reason in place, and the tab carries on.
    names = [pathlib.PurePath(n).name for n, _ in tab.rows()]
    explained(qtbot, tab, names.index("truncated.jpg"))
    assert tab.detail.error == "truncated"
    assert "truncated" in tab.details.original_view.message()
    explained(qtbot, tab, names.index("cmyk.jpg"))
    assert tab.detail.topk and tab.details.chart.items()


def test_bad_files_dropped_by_name_are_listed_with_their_reason(qtbot, tab, tmp_path):
    write_bad_and_odd_files(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("a text file dropped on purpose")
    drop(tab, [tmp_path / "bomb.png", notes, tmp_path / "zero.png", PHOTOS[1]])
    settle(qtbot, tab, 4)
    errors = [r.error for _, r in tab.rows()]
    assert errors == ["too-large", "not-an-image", "empty", ""]
    assert "too many pixels" in tab.rows()[0][1].message or "limit" in tab.rows()[0][1].message
    assert tab.table_model.item(1, 1).text() == "✗ not an image"
    assert "could not be used" in tab.status.text()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_is_refused_without_blocking(qtbot, tab, tmp_path):
    import os

    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)                     # opening it for reading would wait for a writer forever
    drop(tab, [pipe, PHOTOS[0]])
    settle(qtbot, tab, 2)
    assert [r.error for _, r in tab.rows()] == ["unreadable", ""]
    assert "not a regular file" in tab.rows()[0][1].message


def test_the_drop_zone_and_other_tabs_feed_the_same_list(qtbot, tab, state):
    drop(tab, [PHOTOS[0]], target=tab.drop_zone)
    settle(qtbot, tab, 1)
    state.filesDropped.emit([str(PHOTOS[1])])                   # what the main window does for other tabs
    settle(qtbot, tab, 2)
    assert [name for name, _ in tab.rows()] == [PHOTOS[0].name, PHOTOS[1].name]


def test_paste_an_image_and_pasted_files(qtbot, tab):
    image = QImage(str(PHOTOS[0]))
    QGuiApplication.clipboard().setImage(image)
    tab.paste()
    settle(qtbot, tab, 1)
    assert tab.rows()[0][0] == "pasted image 1" and tab.rows()[0][1].label
    QGuiApplication.clipboard().setMimeData(mime_for([PHOTOS[2]]))
    tab.paste()
    settle(qtbot, tab, 2)
    assert tab.rows()[1][0] == PHOTOS[2].name
    QGuiApplication.clipboard().setText("just words")
    tab.paste()
    assert "no image" in tab.status.text()


def test_sort_by_confidence_and_export_csv(qtbot, tab, tmp_path):
    write_bad_and_odd_files(tmp_path / "mixed")
    drop(tab, [*PHOTOS, tmp_path / "mixed" / "zero.png"])
    settle(qtbot, tab, len(PHOTOS) + 1)
    tab.table.horizontalHeader().setSortIndicator(2, Qt.SortOrder.DescendingOrder)   # a header click
    out = tmp_path / "predictions.csv"
    tab.export_csv(out)
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(PHOTOS) + 1
    confidences = [float(r["confidence"]) for r in rows if r["confidence"]]
    assert confidences == sorted(confidences, reverse=True)
    assert rows[-1]["file"] == "zero.png" and rows[-1]["error"] == "empty"
    assert set(rows[0]) == {"file", "prediction", "confidence", "error", "message"}


# ---------------------------------------------------------------- digits

def test_a_photo_of_a_digit_is_inverted_centred_and_read(qtbot, tab, tmp_path):
    path = tmp_path / "three.png"
    digit_on_paper(path, 3)
    drop(tab, [path])
    settle(qtbot, tab, 1)
    explained(qtbot, tab, 0)
    assert tab.results[0].label == "3"
    assert tab.detail.inverted and tab.detail.centred
    assert tab.details.invert_box.isVisible() and tab.details.invert_box.isChecked()
    assert tab.details.polarity_note.text() == "(auto-detected)"
    assert tab.detail.network[:3].max() < 60                   # black background, like MNIST
    auto_input = tab.detail.network.astype(int)
    qtbot.mouseClick(tab.details.invert_box, Qt.MouseButton.LeftButton)  # the person says: don't invert
    qtbot.waitUntil(lambda: tab.detail is not None and not tab.detail.inverted and not tab.is_busy(),
                    timeout=WAIT_MS)
    assert tab.items[0].invert is False
    assert tab.details.polarity_note.text() == "(your choice)"
    assert np.abs(tab.detail.network.astype(int) - auto_input).mean() > 20   # the network now sees the page
    tab.details.centre_box.setChecked(False)
    qtbot.waitUntil(lambda: tab.detail is not None and not tab.detail.centred and not tab.is_busy(),
                    timeout=WAIT_MS)


# ---------------------------------------------------------------- models

class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_a_hostile_checkpoint_is_refused_and_never_runs(qtbot, tab, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "payload": _Payload(marker)}, evil)
    tab.load_checkpoint(evil)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=WAIT_MS)
    assert not marker.exists()
    assert tab.model is None
    assert "refused" in tab.picker.info.text()
    drop(tab, [PHOTOS[0]])                                      # alive: inputs wait for a model
    qtbot.waitUntil(lambda: len(tab.items) == 1, timeout=WAIT_MS)
    demo = next(s for s in tab.picker.sources() if s.kind == "demo")
    tab.picker.choose(demo)
    settle(qtbot, tab, 1)
    assert tab.results[0].label


def test_a_notebook_state_dict_needs_and_gets_its_architecture(qtbot, tab, tmp_path):
    plain = tmp_path / "notebook.pth"
    torch.save(tab.model.model.state_dict(), plain)
    tab.load_checkpoint(plain)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=WAIT_MS)
    assert tab.model is None and "choose the architecture" in tab.picker.info.text()
    assert tab.picker.arch.isVisible()
    wrong = tab.picker.arch.findData("cifar10-model")
    tab.picker.arch.setCurrentIndex(wrong)
    tab.picker.arch.activated.emit(wrong)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=WAIT_MS)
    message = tab.picker.info.text()
    assert tab.model is None and "does not match cifar10-model" in message and "shapes differ for" in message
    right = tab.picker.arch.findData("lenet5")
    tab.picker.arch.setCurrentIndex(right)
    tab.picker.arch.activated.emit(right)
    qtbot.waitUntil(lambda: tab.model is not None and not tab.is_busy(), timeout=WAIT_MS)
    assert tab.model.model_name == "lenet5" and tab.source.kind == "checkpoint"


def test_an_uncached_imagenet_model_says_so_offline(qtbot, tab, monkeypatch):
    from urllib.error import URLError

    import studio.core.models.weights as weights

    def offline(*args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr(weights, "urlopen", offline)
    tab.picker.refresh()
    source = next(s for s in tab.picker.sources() if s.kind == "imagenet" and s.model_name == "resnet18")
    assert not source.available and "not cached" in source.title
    tab.picker.choose(source)
    qtbot.waitUntil(lambda: not tab.is_busy(), timeout=WAIT_MS)
    assert tab.model is None
    text = tab.picker.info.text()
    assert "not cached" in text and "could not be downloaded" in text


def test_a_cached_imagenet_model_answers_with_imagenet_classes(qtbot, tab):
    """Weights in the cache are used offline (random ones here: the test checks the path, not the accuracy)."""
    import torchvision

    from studio.core.runs.sources import weights_location

    torch.manual_seed(0)
    target = weights_location("mobilenet_v3_small")
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), target)
    tab.picker.refresh()
    source = next(s for s in tab.picker.sources() if s.model_name == "mobilenet_v3_small")
    assert source.available and source.title == "ImageNet: mobilenet_v3_small"
    tab.picker.choose(source)
    qtbot.waitUntil(lambda: tab.model is not None and not tab.is_busy(), timeout=WAIT_MS)
    assert len(tab.model.classes) == 1000 and "tabby" in tab.model.classes
    drop(tab, [PHOTOS[0]])
    settle(qtbot, tab, 1)
    explained(qtbot, tab, 0)
    assert len(tab.detail.topk) == 5 and all(name in tab.model.classes for name, _ in tab.detail.topk)
    assert tab.detail.network.shape == (224, 224, 3) and tab.detail.cam.shape == (224, 224)


def test_the_current_runs_model_is_followed(qtbot, tab, state):
    from studio.core.models import build_model

    torch.manual_seed(0)
    net = build_model("lenet5", (3, 32, 32), 3).eval()
    state.set_model(LoadedModel(model=net, model_name="lenet5", model_options={}, classes=["cat", "dog", "bird"],
                                input_shape=(3, 32, 32), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), epoch=2,
                                source="a live run"))
    qtbot.waitUntil(lambda: tab.model is not None and tab.model.classes == ["cat", "dog", "bird"], timeout=WAIT_MS)
    assert tab.source.kind == "current" and "epoch 2" in tab.picker.combo.currentText()
    assert tab.model.model is not net                            # a private copy: other tabs' hooks stay theirs
    copied = tab.model.model.state_dict()
    assert all(torch.equal(copied[k], v) for k, v in net.state_dict().items())
    drop(tab, [PHOTOS[0]])
    settle(qtbot, tab, 1)
    explained(qtbot, tab, 0)
    assert tab.results[0].label in {"cat", "dog", "bird"} and len(tab.results[0].topk) == 3
    assert tab.detail.network.shape == (32, 32, 3)
    assert not tab.details.invert_box.isVisible() and not tab.details.centre_box.isVisible()


def test_clear_returns_to_the_drop_zone(qtbot, tab):
    drop(tab, [PHOTOS[0]])
    settle(qtbot, tab, 1)
    tab.clear()
    assert tab.rows() == [] and tab.stack.currentWidget() is tab.drop_zone
    assert tab.table_model.rowCount() == 0
    assert DEMO_MODELS.is_dir()
