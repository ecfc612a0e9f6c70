"""The Lab sections added for the lectures: tensors, multichannel convolution, LoG values."""

from __future__ import annotations

from studio.gui.tabs.lab.log_values import LogValuesSection
from studio.gui.tabs.lab.multichannel import MultichannelSection
from studio.gui.tabs.lab.tab import LabTab
from studio.gui.tabs.lab.tensors import TensorsSection


def test_tensor_shapes_and_errors(qtbot):
    s = TensorsSection()
    qtbot.addWidget(s)
    assert "torch.Size([3, 4])" in s.result_label.text()
    s.set_example("matmul", (3, 4), (3, 4))
    assert s.message.kind == "error" and "cannot be multiplied (3x4 and 3x4)" in s.message.text()
    s.b_edit.setText("4, 2")
    assert "torch.Size([3, 2])" in s.result_label.text() and s.message.kind == "ok"
    s.a_edit.setText("3, x")
    assert s.message.kind == "error" and "whole numbers" in s.message.text()


def test_multichannel_lecture_example_and_a_big_one(qtbot):
    s = MultichannelSection()
    qtbot.addWidget(s)
    assert s.result.output.shape == (16, 30, 30) and s.outputs.count() == 16 and s.inputs.count() == 3
    assert "output 30×30×16" in s.shapes_label.text()
    s.set_sizes(height=227, width=227, in_channels=3, out_channels=96, kernel=11, padding=0, stride=4)
    assert s.result.output.shape == (96, 55, 55) and "55" in s.formula_label.text()
    s.k_spin.setValue(31)
    s.h_spin.setValue(8)
    assert s.message.kind == "error" and "does not fit" in s.message.text()


def test_log_values_are_numbers(qtbot):
    s = LogValuesSection()
    qtbot.addWidget(s)
    assert s.table.rowCount() == 31 and s.table.columnCount() == 31
    centre = s.table.item(15, 15)
    assert float(centre.text()) < 0 and "[0, 0]" in centre.toolTip()
    s.set_sigma(1.0)
    assert s.table.rowCount() == 7 and "7×7" in s.facts.text()


def test_lab_tab_lists_and_shows_the_new_sections(qtbot):
    lab = LabTab()
    qtbot.addWidget(lab)
    titles = [lab.tabs.tabText(i) for i in range(lab.tabs.count())]
    assert titles[-3:] == ["Tensors && shapes", "Multichannel conv", "LoG kernel values"]
    for key in ("tensors", "multichannel", "log_values"):
        lab.show_section(key)
        assert lab.tabs.currentWidget() is getattr(lab, key)
    lab.shutdown()
