"""Seed 000's tensor basics: shapes and torch's own errors."""

import pytest

from studio.core.lab.conv import ConvLabError
from studio.core.lab.tensors import lecture_facts, parse_shape, shape_answer


def test_lecture_cells():
    facts = {f.code.split("#")[0].strip(): f.result for f in lecture_facts()}
    assert facts["M2 = M1.reshape(1, 4)"] == "M2.shape=torch.Size([1, 4])"
    assert facts["C = A + B.T"].startswith("<class 'RuntimeError'> The size of tensor a (4) must match")
    assert facts["C = torch.matmul(A, B)"] == ("<class 'RuntimeError'> mat1 and mat2 shapes cannot be "
                                               "multiplied (3x4 and 3x4)")


def test_broadcasting_matmul_and_reshape():
    assert shape_answer("add", (3, 1), (1, 4)).result_shape == (3, 4)
    assert shape_answer("matmul", (2, 5), (5, 7)).result_shape == (2, 7)
    bad = shape_answer("matmul", (2, 5), (4, 7))
    assert not bad.ok and "5 = 4" in bad.rule and "cannot be multiplied" in bad.error
    assert shape_answer("reshape", (2, 6), (3, -1)).result_shape == (3, 4)
    assert "invalid for input of size 12" in shape_answer("reshape", (2, 6), (5,)).error


def test_shapes_from_text_and_limits():
    assert parse_shape("(3, 4)") == (3, 4) and parse_shape("3x4x5") == (3, 4, 5) and parse_shape("") == ()
    with pytest.raises(ConvLabError):
        parse_shape("3, four")
    with pytest.raises(ConvLabError, match="elements"):
        shape_answer("add", (10000, 10000), (1,))
