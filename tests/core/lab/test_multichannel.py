"""Seed 000's 32x32x3 -> 30x30x16 example at full size, with cells written out by hand."""

import numpy as np
import pytest

from studio.core.lab.conv import ConvLabError
from studio.core.lab.multichannel import demo_input, lecture_example, run_multichannel


def test_lecture_example_shapes_and_hand_cells():
    r = lecture_example()
    assert r.output.shape == (16, 30, 30) and r.weight.shape == (16, 3, 3, 3)
    assert "output 30×30×16" in r.shapes_text and "(32 − 3 + 2·0)/1 + 1 = 30" in r.formula
    assert r.params == 16 * 27 + 16
    for pos, text, value in r.cells:
        assert value == pytest.approx(float(r.output[pos]), abs=1e-5)
        assert text.startswith(f"out[{pos[0]}, {pos[1]}, {pos[2]}] = Σ over 3 channels")


def test_any_size_padding_stride_and_a_photo():
    photo = (np.arange(40 * 50 * 3) % 255).astype(np.uint8).reshape(40, 50, 3)
    x = demo_input(64, 48, 4, photo)
    assert x.shape == (4, 64, 48) and np.allclose(x[3], x[0])
    r = run_multichannel(x, 8, 5, padding=2, stride=2)
    assert r.output.shape == (8, 32, 24)
    with pytest.raises(ConvLabError, match="does not fit"):
        run_multichannel(np.zeros((1, 3, 3)), 1, 5)
