"""The Lab's "One batch by hand", "Weight init" and "Pooling" sections, driven through their widgets."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from studio.core.lab import pool as cpool  # noqa: E402
from studio.gui.tabs.lab.weight_init import InitSection  # noqa: E402
from studio.gui.tabs.lab.pool import PoolSection  # noqa: E402
from studio.gui.tabs.lab.train import TrainSection  # noqa: E402
from studio.gui.concurrency.tasks import wait_for_all_tasks  # noqa: E402

# ------------------------------------------------------------------ one batch by hand


@pytest.fixture
def train(qtbot):
    section = TrainSection()
    qtbot.addWidget(section)
    yield section
    section.cancel_work()
    assert wait_for_all_tasks(20000)


def test_seed_004_losses_and_seed_002_prints_appear(train, qtbot):
    train.show()                                   # the first show runs both cells
    qtbot.waitUntil(lambda: train.loop_result is not None and train.forward_result is not None
                    and not train.is_busy(), timeout=30000)
    t = train.table
    assert t.rowCount() == 10
    assert t.item(0, 0).text() == "epoch   1/10  ->  Loss: 2.8423" == t.item(0, 1).text()
    assert t.item(9, 0).text() == "epoch  10/10  ->  Loss: 0.0133" == t.item(9, 1).text()
    assert all(t.item(i, 2).text() == "✓" for i in range(10))
    assert train.check_label.kind == "ok" and "2.8423 → 0.0133" in train.check_label.text()
    xs, ys = train.loss_curve.getOriginalDataset()
    assert len(ys) == 10 and f"{ys[0]:.4f}" == "2.8423" and f"{ys[-1]:.4f}" == "0.0133"
    assert train.lecture_points.isVisible()
    f = train.forward_result
    assert "logits.shape = (100, 10)" in train.fwd_summary.text() and f"loss: {f.loss}" in train.fwd_summary.text()
    assert f"{f.loss:.4f}" == "2.2903"
    out = train.fwd_output.toPlainText()
    assert out.startswith("Logits:\ntensor([[") and "\nloss: 2.29" in out and "gradients for first layer weights:" in out

    train.lr_spin.setValue(0.001)                  # off the lecture: nothing to compare with
    qtbot.waitUntil(lambda: train.loop_result.lr == 0.001 and not train.is_busy(), timeout=30000)
    assert train.check_label.kind == "note" and not train.lecture_points.isVisible()
    assert train.table.item(0, 2).text() == ""
    qtbot.mouseClick(train.lecture_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: train.loop_result.lr == 0.01 and not train.is_busy(), timeout=30000)
    assert train.check_label.kind == "ok" and "lr=0.01" in train.code_label.text()

    train.lr_spin.setValue(10.0)                   # Adam at lr 10 on one batch
    qtbot.waitUntil(lambda: train.loop_result.lr == 10.0 and not train.is_busy(), timeout=30000)
    assert train.check_label.kind in ("note", "error")


# ------------------------------------------------------------------ weight initialisation


def test_init_section_shows_fan_in_bounds_and_histograms(qtbot):
    s = InitSection()
    qtbot.addWidget(s)
    r = s.result
    assert r.spec.describe() == "nn.Conv2d(3, 32, kernel_size=3)" and r.weight.size == 864
    assert "fan_in = in_channels × kH × kW = 3 × 3 × 3 = 27" in s.formula_label.text()
    assert "1/√27 = 0.19245" in s.formula_label.text() and "U(±0.47140)" in s.formula_label.text()
    assert s.check_label.kind == "ok" and "[−0.19245, 0.19245]" in s.check_label.text()
    xs, ys = s.weight_curve.getData()
    assert int(np.sum(ys)) == 864
    assert s.lines["pt+"].value() == pytest.approx(1 / math.sqrt(27))
    assert s.lines["he+"].value() == pytest.approx(math.sqrt(6 / 27))

    s.set_scheme("he-uniform")
    assert np.abs(s.result.weight).max() <= math.sqrt(6 / 27) and not s.result.bias.any()
    assert s.check_label.kind == "ok" and "[−0.47140, 0.47140]" in s.check_label.text()
    s.set_scheme("he-normal")
    assert "±3σ" in s.check_label.text() and "all zero" in s.bias_plot.getPlotItem().titleLabel.text

    s.preset_combo.setCurrentIndex(4)              # seed 002's Linear(1024, 32)
    assert s.spec().kind == "Linear" and not s.kernel_spin.isVisibleTo(s)
    assert "fan_in = in_features = 1024" in s.formula_label.text()
    s.set_scheme("pytorch")
    assert np.abs(s.result.weight).max() <= 1 / 32
    s.in_spin.setValue(100)
    assert s.preset_combo.currentText() == "custom" and s.result.fan_in == 100
    s.kind_combo.setCurrentText("Conv2d")
    s.in_spin.setValue(4096)
    s.out_spin.setValue(4096)
    assert s.message.kind == "error" and "weights" in s.message.text()
    s.out_spin.setValue(8)
    assert s.message.kind == "" and s.result.fan_in == 4096 * 9


# ------------------------------------------------------------------ pooling


@pytest.fixture
def pool(qtbot):
    section = PoolSection()
    qtbot.addWidget(section)
    return section


def test_pool_lecture_example_and_stepper_equal_torch(pool, qtbot):
    r = pool.result()
    assert np.array_equal(pool.output_grid.values(), cpool.LECTURE_OUTPUT)       # seed 001: 5x5 -> 6x6 -> 3x3
    assert "5×5 input + 1 zero row/column (bottom/right) = 6×6 → 3×3 output" == pool.shape_label.text()
    assert "⌊(6 + 2·0 − 2)/2⌋ + 1 = ⌊2⌋ + 1 = 3   ← in use" in pool.size_label.text()
    assert pool.input_grid.rowCount() == 6 and pool.input_grid.cell_text(5, 5) == "0"
    assert pool.check_label.kind == "ok"
    stepped = np.full(r.output.shape, np.nan)
    for i in range(pool.window_count()):
        pool.go_to_step(i)
        win = pool.current_window()
        stepped[win.out_rc] = win.value
        assert sorted(pool.input_grid.highlighted()) == sorted(win.cells)
        assert pool.output_grid.highlighted() == [win.out_rc]
    assert np.array_equal(stepped, F.max_pool2d(F.pad(torch.arange(1., 26).reshape(1, 1, 5, 5), (0, 1, 0, 1)),
                                                 2, 2)[0, 0].numpy())
    pool.go_to_step(2)
    assert "out[0, 2] = max(5, 0, 10, 0) = 10" in pool.equation_label.text() and "✓" in pool.equation_label.text()
    # clicking an output cell jumps to its window
    rect = pool.output_grid.visualRect(pool.output_grid.model().index(2, 1))
    qtbot.mouseClick(pool.output_grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert pool.current_window().out_rc == (2, 1)


def test_pool_shape_text_follows_padding_stride_and_ceil_mode(pool):
    pool.extra_check.setChecked(False)
    assert pool.shape_label.text() == "5×5 input → 2×2 output"
    assert "⌊(5 + 2·0 − 2)/2⌋ + 1 = ⌊1.5⌋ + 1 = 2   ← in use" in pool.size_label.text()
    pool.ceil_check.setChecked(True)
    assert pool.shape_label.text() == "5×5 input → 3×3 output"
    assert "⌈(5 + 2·0 − 2)/2⌉ + 1 = ⌈1.5⌉ + 1 = 3   ← in use" in pool.size_label.text()
    assert np.array_equal(pool.result().output, cpool.LECTURE_OUTPUT)
    assert pool.input_grid.cell_text(0, 5) == "·"                   # the window hangs over the edge
    pool.ceil_check.setChecked(False)
    pool.padding_spin.setValue(1)
    assert pool.shape_label.text() == "5×5 input, padding 1 on every side → 7×7 → 3×3 output"
    assert pool.input_grid.cell_text(0, 0) == "−∞" and pool.input_grid.rowCount() == 7
    pool.stride_spin.setValue(1)
    assert pool.result().output.shape == (6, 6) and "= 6   ← in use" in pool.size_label.text()
    pool.kind_combo.setCurrentIndex(pool.kind_combo.findData("avg"))
    assert pool.input_grid.cell_text(0, 0) == "0"
    ref = F.avg_pool2d(torch.arange(1., 26).reshape(1, 1, 5, 5).double(), 2, 1, 1)[0, 0].numpy()
    assert np.allclose(pool.result().output, ref) and pool.check_label.kind == "ok"
    pool.cip_check.setChecked(False)
    assert pool.result().output[0, 0] == 1.0
    pool.padding_spin.setValue(2)                                       # more than half the kernel
    assert pool.message.kind == "error" and "at most half" in pool.message.text()
    pool.kind_combo.setCurrentIndex(pool.kind_combo.findData("lp"))     # lp_pool2d: no padding
    assert pool.padding_spin.value() == 0 and not pool.padding_spin.isEnabled()
    assert pool.message.kind == "" and "F.lp_pool2d" in pool.call_label.text()
    pool.input_grid.edit_cell(0, 0, "3")
    assert pool.input_array()[0, 0] == 3.0 and pool.check_label.kind == "ok"
    pool.rows_spin.setValue(3)
    assert pool.input_array().shape == (3, 5)
    pool.lecture_button.click()
    assert np.array_equal(pool.output_grid.values(), cpool.LECTURE_OUTPUT)
