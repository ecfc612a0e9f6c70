"""Limits that keep absurd inputs from taking the machine's memory (found in a review)."""

import gzip

import pytest

from studio.core.data.idx import IMAGES_MAGIC, MAX_BYTES, IdxFormatError, read_idx
from studio.core.errors import ModelError
from studio.core.inspect.summary import model_summary
from studio.core.models import build_model


def test_a_gzip_bomb_in_the_mnist_folder_is_refused_without_inflating_it(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = IMAGES_MAGIC.to_bytes(4, "big") + (10**6).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(header)
        chunk = b"\0" * (1 << 20)
        for _ in range(MAX_BYTES // len(chunk) + 1):
            out.write(chunk)
    with pytest.raises(IdxFormatError, match="more than"):
        read_idx(path, IMAGES_MAGIC)


def test_a_summary_batch_too_large_to_hold_is_refused():
    model = build_model("lenet5", (1, 28, 28), 10)
    with pytest.raises(ModelError, match="too large"):
        model_summary(model, (1, 28, 28), batch_size=10**12)
    assert model_summary(model, (1, 28, 28), batch_size=100).total_params == 61_706


def test_a_configurable_cnn_too_wide_to_build_is_refused():
    with pytest.raises(ModelError, match="too large"):
        build_model("configurable-cnn", (3, 1024, 1024), 10, {"conv_channels": [1024, 1024]})
