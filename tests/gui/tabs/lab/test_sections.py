"""The Convolution Lab's photo, parameter, autograd and softmax sections, driven through widgets."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402

from studio.core.lab import kernels as ck  # noqa: E402
from studio.core.images import decode_image  # noqa: E402
from studio.core.paths import RESOURCES  # noqa: E402
from studio.gui.tabs.lab.autograd import AutogradSection  # noqa: E402
from studio.gui.tabs.lab.params import ParamsSection  # noqa: E402
from studio.gui.tabs.lab.photo import PhotoSection  # noqa: E402
from studio.gui.tabs.lab.softmax import SoftmaxSection  # noqa: E402
from studio.gui.concurrency.tasks import wait_for_all_tasks  # noqa: E402


@pytest.fixture
def photo(qtbot):
    section = PhotoSection()
    qtbot.addWidget(section)
    yield section
    section.cancel_work()
    assert wait_for_all_tasks(20000)


def _gray(name: str) -> np.ndarray:
    return ck.to_gray_float(decode_image(RESOURCES / "images" / name, mode="L"))


# ------------------------------------------------------------------ kernels on a photo


def test_photo_through_presets_and_pooling(photo, qtbot):
    image = _gray("chelsea.png")
    qtbot.waitUntil(lambda: photo.result() is not None and not photo.is_busy(), timeout=20000)
    assert photo.result().shape == image.shape == (300, 451)
    photo.preset_combo.setCurrentIndex(photo.preset_combo.findData("sobel-x"))
    expected = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(ck.make_kernel("sobel-x"))[None, None],
                        padding=1)[0, 0].numpy()
    assert np.array_equal(photo.result(), expected)
    assert photo.kernel_grid.isVisibleTo(photo) and photo.kernel_grid.cell_text(1, 0) == "-2"
    # seed 000: max pool 8/8
    assert photo.pooled().shape == (37, 56)
    assert "H_out = ⌊(300 − 8 + 2·0)/8⌋ + 1 = 37" in photo.pool_label.text()   # the Model tab's formula
    assert np.array_equal(photo.pooled(), F.max_pool2d(torch.from_numpy(expected)[None, None], 8, 8)[0, 0].numpy())
    photo.pool_kind.setCurrentIndex(1)
    photo.pool_k.setValue(4)
    photo.pool_s.setValue(2)
    assert photo.pooled().shape == (149, 224)
    photo.pool_k.setValue(64)
    photo.pool_s.setValue(64)
    photo.pool_k.setValue(400)
    assert "does not fit" in photo.pool_label.text()


def test_kernel_numbers_are_readable_whole(photo, qtbot):
    # issue 13.12: a Gaussian's small weights showed as "0.00…", cut by their cells
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    grid = photo.kernel_grid
    font = grid.font()
    font.setPointSizeF(11)          # a desktop's font: offscreen ones are smaller and hide the problem
    grid.setFont(font)
    photo.preset_combo.setCurrentIndex(photo.preset_combo.findData("gaussian"))
    assert grid.rowCount() >= 3
    metrics = grid.fontMetrics()
    for r in range(grid.rowCount()):
        for c in range(grid.columnCount()):
            text = grid.cell_text(r, c)
            assert float(text) == pytest.approx(photo.kernel()[r, c], rel=0.05, abs=5e-4)
            assert metrics.horizontalAdvance(text) + 6 <= grid.columnWidth(c), (text, grid.columnWidth(c))


def test_big_log_kernel_runs_off_the_gui_thread(photo, qtbot):
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    photo.preset_combo.setCurrentIndex(photo.preset_combo.findData("log"))
    photo.sigma_slider.setValue(10)                      # σ = 5: 31×31 like seed 000's log_kernel_s5
    assert photo.kernel().shape == (31, 31) and not photo.kernel_grid.isVisibleTo(photo)
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=30000)
    image = _gray("chelsea.png")
    expected = ck.filter_image(image, ck.log_kernel(5))
    assert np.allclose(photo.result(), expected, atol=1e-6)


def test_edit_kernel_by_hand_and_flip(photo, qtbot):
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    photo.preset_combo.setCurrentIndex(photo.preset_combo.findData("identity"))
    image = _gray("chelsea.png")
    assert np.allclose(photo.result(), image)
    photo.kernel_grid.edit_cell(1, 1, "0")
    photo.kernel_grid.edit_cell(0, 0, "1")               # a shift by one pixel
    assert photo.preset_combo.currentData() == "custom"
    assert np.allclose(photo.result()[1:, 1:], image[:-1, :-1])
    photo.flip_check.setChecked(True)                    # flipped: the shift goes the other way
    assert np.allclose(photo.result()[:-1, :-1], image[1:, 1:])


def test_timing_loop_vs_conv2d_in_the_background(photo, qtbot):
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    photo.preset_combo.setCurrentIndex(photo.preset_combo.findData("sobel-y"))
    photo.loop_size.setCurrentIndex(0)                   # the 128 px copy
    qtbot.mouseClick(photo.time_button, Qt.MouseButton.LeftButton)
    assert not photo.time_button.isEnabled()
    qtbot.waitUntil(lambda: photo.time_button.isEnabled(), timeout=30000)
    r = photo.timing_result
    assert r.shape == (85, 128) and r.max_abs_diff < 1e-5
    assert "Python loop" in photo.timing_label.text() and "downscaled" in photo.timing_label.text()


def test_other_photos_open_and_drop_and_bad_files_are_explained(photo, qtbot, tmp_path):
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    photo.photo_combo.setCurrentIndex(photo.photo_combo.findText("horse.png"))   # RGBA on white
    qtbot.waitUntil(lambda: not photo.is_busy(), timeout=20000)
    assert photo.result().shape == (328, 400)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert not photo.load_path(str(bad))
    assert photo.status.kind == "error" and "broken.png" in photo.status.text()
    assert photo.result().shape == (328, 400)            # the old photo stays
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(RESOURCES / "images" / "coffee.png"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    photo.dropEvent(event)
    qtbot.waitUntil(lambda: photo.result() is not None and photo.result().shape == (400, 600), timeout=20000)
    assert photo.status.kind == ""


# ------------------------------------------------------------------ counting parameters


def test_params_table_matches_seed_002_and_reacts_to_edits(qtbot):
    section = ParamsSection()
    qtbot.addWidget(section)
    assert section.total_label.text() == "Total parameters: 224 + 1168 + 32800 + 330 = 34522"
    assert section.check_label.kind == "ok" and "34,522" in section.check_label.text()
    texts = [section.table.item(r, 5).text() for r in range(section.table.rowCount())]
    assert "(3 × 3 × 3 + 1) × 8 = 224" in texts and "(1024 + 1) × 32 = 32800" in texts
    section.show_all.setChecked(False)
    assert section.table.rowCount() == 4
    section.conv_edit.setText("8, 16, 32")
    t = section.table_data
    assert t.matches and t.total == t.numel_total == 224 + 1168 + (16 * 9 + 1) * 32 + (512 + 1) * 32 + 330
    section.kernel_edit.setText("3, 5")
    assert any(r.total_formula.startswith("(8 × 5 × 5 + 1) × 16") for r in section.table_data.rows)
    section.conv_edit.setText("8, x")
    assert section.message.kind == "error" and "whole numbers" in section.message.text()
    section.conv_edit.setText("8")
    assert section.message.kind == ""
    section.load_preset("seed001-28")
    pools = [r.output_shape for r in section.table_data.rows if r.kind == "MaxPool2d"]
    assert pools == [(1, 8, 14, 14), (1, 16, 7, 7)]


# ------------------------------------------------------------------ autograd


def test_autograd_gradients_and_animated_fit(qtbot):
    section = AutogradSection()
    qtbot.addWidget(section)
    g = section.grads
    assert np.allclose(g.w_grad_autograd, g.w_grad_hand, atol=1e-4)
    assert section.grad_summary.kind == "ok" and section.grad_table.rowCount() == 4
    section.features_spin.setValue(5)
    assert section.grad_table.rowCount() == 6

    qtbot.mouseClick(section.start_button, Qt.MouseButton.LeftButton)
    assert section.is_running()
    qtbot.waitUntil(lambda: section.fit.epoch >= 60, timeout=10000)
    qtbot.mouseClick(section.start_button, Qt.MouseButton.LeftButton)
    assert not section.is_running()
    epochs = section.fit.epoch
    xs, ys = section.loss_curve.getData()
    assert len(ys) == epochs and ys[0] == pytest.approx(21.6819, abs=1e-4)
    assert section.log_text.toPlainText().splitlines()[:2] == ["Epoch 0: Loss = 21.6819", "Epoch 50: Loss = 15.5087"]

    qtbot.mouseClick(section.finish_button, Qt.MouseButton.LeftButton)
    assert section.fit.epoch == 700
    assert section.log_text.toPlainText().splitlines()[-1] == "Learned parameters: L=10.11, k=1.84, x0=5.09"
    assert section.fit_message.kind == "ok"

    section.lr_spin.setValue(5.0)
    qtbot.mouseClick(section.finish_button, Qt.MouseButton.LeftButton)
    assert section.fit_message.kind == "error" and "learning rate" in section.fit_message.text()


# ------------------------------------------------------------------ softmax and cross-entropy


def test_softmax_loss_follows_edited_logits(qtbot):
    section = SoftmaxSection()
    qtbot.addWidget(section)
    assert "−log(0.0986) = 2.3170" in section.loss_label.text()        # p ≈ 0.1 -> 2.3 (seed 001 line 170)
    assert section.check_label.kind == "ok"
    section.logits_grid.edit_cell(0, 2, "5")
    ref = F.cross_entropy(torch.tensor([[2.0, 1.0, 5.0]]), torch.tensor([2])).item()
    assert f"= {ref:.4f}" in section.loss_label.text()
    assert "prediction is right" in section.pred_label.text()
    section.target_spin.setValue(0)
    ref0 = F.cross_entropy(torch.tensor([[2.0, 1.0, 5.0]]), torch.tensor([0])).item()
    assert section.result.loss == pytest.approx(ref0, rel=1e-6)
    section.classes_spin.setValue(5)
    assert len(section.logits()) == 5 and section.probs_grid.columnCount() == 5
    section.logits_grid.edit_cell(0, 1, "abc")
    assert section.message.kind == "error"
    section.reset()
    assert section.logits().tolist() == [2.0, 1.0, 0.1] and section.target_spin.value() == 2
