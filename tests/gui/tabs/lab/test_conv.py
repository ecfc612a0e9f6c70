"""The Convolution Lab's correlation section, driven through its widgets."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from studio.gui.tabs.lab.lecture_sections import SECTIONS as LECTURE_SECTIONS  # noqa: E402
from studio.gui.tabs.lab.tab import LabTab  # noqa: E402
from studio.gui.tabs.lab.conv import ConvSection  # noqa: E402


@pytest.fixture
def conv(qtbot):
    section = ConvSection()
    qtbot.addWidget(section)
    section.resize(1200, 760)
    return section


def _f_conv(section: ConvSection) -> np.ndarray:
    """What torch says for the section's current input, kernel and settings."""
    s = section.settings()
    x = torch.from_numpy(section.input_array())[None]
    w = torch.from_numpy(section.weight_array())
    if s.flip:
        w = w.flip(-1) if w.ndim == 3 else w.flip(-1, -2)
    fn = F.conv1d if w.ndim == 3 else F.conv2d
    return fn(x, w, padding=s.padding, stride=s.stride, dilation=s.dilation, groups=s.groups)[0].numpy()


def test_lab_tab_builds_with_all_sections(qtbot):
    tab = LabTab()
    qtbot.addWidget(tab)
    assert tab.tabs.count() == len(LabTab.SECTIONS) + len(LECTURE_SECTIONS) >= 8
    assert [tab.tabs.tabText(i) for i in range(tab.tabs.count())][0].startswith("Correlation")
    tab.show_section("softmax")
    assert tab.tabs.currentWidget() is tab.softmax
    tab.shutdown()


def test_1d_example_matches_printout_and_padding_stride_dilation_update_shape_and_formula(conv):
    conv.load_example("1d-same")
    assert conv.check_label.kind == "ok" and "5, 10, 15, 20, 25, 30, 35, 40, 25" in conv.check_label.text()
    assert "output (1, 1, 9)" in conv.shape_label.text()

    assert not conv.padding_spin.isEnabled()
    conv.padding_combo.setCurrentText("valid")
    assert "output (1, 1, 7)" in conv.shape_label.text()
    assert "⌊(9 + 2·0 − 1·(3−1) − 1)/1⌋ + 1 = ⌊6/1⌋ + 1 = 7" in conv.formula_label.text()

    conv.padding_combo.setCurrentText("number")
    assert conv.padding_spin.isEnabled()
    conv.padding_spin.setValue(2)
    conv.stride_spin.setValue(2)
    assert "output (1, 1, 6)" in conv.shape_label.text()
    assert "⌊(9 + 2·2 − 1·(3−1) − 1)/2⌋ + 1 = ⌊10/2⌋ + 1 = 6" in conv.formula_label.text()
    assert "(9 − 3 + 2·2)/2 + 1 = 6" in conv.formula_label.text()
    assert conv.result().output[0].tolist() == [2, 10, 20, 30, 40, 18]     # seed 004 line 118

    conv.dilation_spin.setValue(2)
    assert "output (1, 1, 5)" in conv.shape_label.text()
    assert "2·(3−1)" in conv.formula_label.text() and "lecture form" not in conv.formula_label.text()
    assert np.array_equal(conv.result().output, _f_conv(conv))


def test_2d_controls_update_shape_formula_and_grids(conv):
    conv.load_example("2d-edge-valid")
    assert "output (1, 1, 3, 3)" in conv.shape_label.text()
    assert conv.output_grid.rowCount() == 3 and conv.output_grid.cell_text(1, 1) == "-6"
    conv.padding_combo.setCurrentText("number")
    conv.padding_spin.setValue(1)
    conv.stride_spin.setValue(2)
    assert "output (1, 1, 3, 3)" in conv.shape_label.text()
    assert conv.formula_label.text().count("⌊8/2⌋ + 1 = 5") == 0
    assert "⌊(5 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = ⌊4/2⌋ + 1 = 3" in conv.formula_label.text()
    assert conv.input_grid.rowCount() == 7                         # padded by one on each side
    assert conv.input_grid.frozen()[0].all() and not conv.input_grid.frozen()[1, 1]
    conv.stride_spin.setValue(1)
    conv.dilation_spin.setValue(2)
    assert "output (1, 1, 3, 3)" in conv.shape_label.text()
    assert "⌊(5 + 2·1 − 2·(3−1) − 1)/1⌋ + 1 = ⌊2/1⌋ + 1 = 3" in conv.formula_label.text()
    conv.mode_combo.setCurrentText("reflect")
    # reflect: the padding row above row 0 mirrors row 1 (6..10), the corner mirrors x[1, 1]
    assert [conv.input_grid.cell_text(0, c) for c in range(7)] == ["7", "6", "7", "8", "9", "10", "9"]
    conv.padding_spin.setValue(3)
    assert "output (1, 1, 7, 7)" in conv.shape_label.text()
    assert np.array_equal(conv.result().output[0], F.conv2d(
        F.pad(torch.from_numpy(conv.input_array())[None], (3, 3, 3, 3), mode="reflect"),
        torch.from_numpy(conv.weight_array()), dilation=2)[0, 0].numpy())
    conv.padding_spin.setValue(5)
    assert conv.message_label.kind == "error" and "Reflect padding of 5" in conv.message_label.text()


def test_invalid_settings_show_a_message_not_a_traceback(conv):
    conv.load_example("2d-edge-same")
    conv.stride_spin.setValue(2)
    assert conv.message_label.kind == "error" and "stride 1" in conv.message_label.text()
    assert conv.shape_label.text().endswith("output: —")
    assert not conv.next_button.isEnabled()
    conv.padding_combo.setCurrentText("valid")
    assert conv.message_label.kind == ""
    conv.stride_spin.setValue(1)
    conv.dilation_spin.setValue(3)
    assert "dilated kernel spans 7" in conv.message_label.text()
    conv.dilation_spin.setValue(1)
    conv.in_ch_spin.setValue(3)
    conv.groups_spin.setValue(2)
    assert "groups=2 must divide" in conv.message_label.text()
    conv.in_ch_spin.setValue(2)
    conv.out_ch_spin.setValue(4)
    assert conv.message_label.kind == ""
    assert "output (1, 4, 3, 3)" in conv.shape_label.text() and "weight (4, 1, 3, 3)" in conv.shape_label.text()
    assert np.allclose(conv.result().output, _f_conv(conv))


@pytest.mark.parametrize("key, padding, stride, dilation", [
    ("2d-edge-same", 1, 2, 1), ("2d-seed001-half", 2, 1, 2), ("2d-edge-valid", "same", 1, 1),
    ("1d-same", 2, 2, 2)])
def test_stepper_walks_every_output_and_agrees_with_f_conv(conv, qtbot, key, padding, stride, dilation):
    conv.load_example(key)
    if padding == "same":
        conv.padding_combo.setCurrentText("same")
    else:
        conv.padding_combo.setCurrentText("number")
        conv.padding_spin.setValue(padding)
    conv.stride_spin.setValue(stride)
    conv.dilation_spin.setValue(dilation)
    ref = _f_conv(conv)[0]
    qtbot.mouseClick(conv.reset_button, Qt.MouseButton.LeftButton)
    seen = []
    while True:
        step = conv.current_step()
        seen.append(step.out_pos[1:])
        assert step.total == pytest.approx(ref[step.out_pos[1:]], abs=1e-9)
        assert len(conv.input_grid.highlighted()) == int(np.prod(conv.weight_array().shape[2:]))
        assert conv.output_grid.highlighted() == [step.out_pos[1:] if ref.ndim == 2 else (0, step.out_pos[1])]
        assert np.isclose(np.sum(conv.products_grid.values()), step.total)
        assert conv.equation_label.text().endswith("✓")
        if not conv.next_button.isEnabled():
            break
        qtbot.mouseClick(conv.next_button, Qt.MouseButton.LeftButton)
    assert len(seen) == ref.size and len(set(seen)) == ref.size


def test_stepper_highlights_the_dilated_window(conv):
    conv.load_example("2d-edge-valid")
    conv.dilation_spin.setValue(2)
    conv.go_to_step(0)
    assert sorted(conv.input_grid.highlighted()) == [(r, c) for r in (0, 2, 4) for c in (0, 2, 4)]


def test_play_advances_on_a_timer(conv, qtbot):
    conv.load_example("2d-seed001")
    conv._timer.setInterval(10)
    conv.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not conv.play_button.isChecked(), timeout=3000)
    assert conv.current_step().index == 3               # stopped on the last of 4 outputs


def test_editing_cells_recomputes_and_rejects_text(conv):
    conv.load_example("2d-seed001")
    conv.input_grid.edit_cell(0, 0, "2")                 # valid padding: grid cell (0,0) is x[0,0]
    assert conv.input_array()[0, 0, 0] == 2
    assert conv.result().output[0, 0, 0] == 133 - 10
    assert conv.check_label.kind == "note"               # no longer the lecture's numbers
    conv.kernel_grid.edit_cell(1, 1, "-1")
    assert np.array_equal(conv.result().output, _f_conv(conv))
    conv.input_grid.edit_cell(2, 2, "seventeen")
    assert conv.message_label.kind == "error" and "not a number" in conv.message_label.text()
    assert conv.input_array()[0, 2, 2] == 17 and conv.input_grid.cell_text(2, 2) == "17"


def test_convolution_toggle_flips_the_kernel(conv, qtbot):
    conv.load_example("2d-seed001")
    assert conv.result().output[0].tolist() == [[133, 75], [100, 101]]
    conv.conv_radio.setChecked(True)
    assert conv.result().output[0].tolist() == [[117, 90], [155, 74]]
    assert conv.flipped_grid.isVisibleTo(conv) and conv.flipped_grid.cell_text(0, 0) == "4"
    conv.corr_radio.setChecked(True)
    assert conv.check_label.kind == "ok"


def test_resizing_the_grids(conv):
    conv.load_example("2d-edge-valid")
    conv.rows_spin.setValue(7)
    conv.kcols_spin.setValue(2)
    assert conv.input_array().shape == (1, 7, 5) and conv.weight_array().shape == (1, 1, 3, 2)
    assert "output (1, 1, 5, 4)" in conv.shape_label.text()
    assert np.array_equal(conv.result().output, _f_conv(conv))
