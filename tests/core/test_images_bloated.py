"""Issue 12 defect 5: bloated corrupt JPEGs. A 1,376-byte file was decoded as 7071x4096 grey and a
57 KB one as 7071x7071 (13 s, 1.8 GB for one prediction); big JPEGs decode in draft mode."""

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageFile

from studio.core.errors import ImageDecodeError
from studio.core.images import decode_image


def _jpeg(width, height, flat=False, **options):
    rng = np.random.default_rng(0)
    pixels = np.full((height, width, 3), 200, np.uint8) if flat else rng.integers(0, 255, (height, width, 3), np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _claim_size(data: bytes, width: int, height: int) -> bytes:
    """The same file with its SOF header claiming another size (what the fuzzer's header edits did)."""
    i = 2
    while data[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    patched = bytearray(data)
    patched[i + 5:i + 7], patched[i + 7:i + 9] = height.to_bytes(2, "big"), width.to_bytes(2, "big")
    return bytes(patched)


def test_a_small_jpeg_claiming_7071x4096_is_refused_fast():
    data = _claim_size(_jpeg(48, 32), 7071, 4096)
    assert len(data) < 4000
    started = time.perf_counter()
    with pytest.raises(ImageDecodeError, match="claims 7071x4096 pixels, which a .*-byte JPEG file cannot") as info:
        decode_image(data)
    assert info.value.reason == "truncated" and time.perf_counter() - started < 0.5


def test_a_jpeg_whose_pixels_are_mostly_missing_is_refused():
    # Big enough to pass the bytes-per-pixel floor; libjpeg would fill 98 % of it with grey.
    data = _claim_size(_jpeg(700, 700), 7071, 4096)
    with pytest.raises(ImageDecodeError, match=r"the bottom \d+ % of its 7071x4096 pixels hold no data"):
        decode_image(data, min_side=32)


def test_truncated_images_stay_refused_and_the_global_stays_off():
    data = _jpeg(300, 200)
    with pytest.raises(ImageDecodeError) as info:
        decode_image(data[: len(data) // 2])
    assert info.value.reason == "truncated" and ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("flat", [False, True])
def test_a_large_jpeg_still_decodes_in_draft_mode_to_the_size_asked(flat):
    data = _jpeg(4000, 3000, flat=flat, quality=90)
    small = decode_image(data, min_side=28)
    assert small.shape[0] >= 28 and small.shape[0] <= 3000 // 4     # decoded at 1/8 scale, not in full
    assert decode_image(data).shape == (3000, 4000, 3)               # the default is unchanged


def test_a_small_gif_claiming_a_huge_screen_is_refused_fast():
    # Found by tools/fuzz_images.py: a 3 KB GIF whose screen claims 7071x4096 took 4 s to predict.
    buffer = io.BytesIO()
    Image.new("P", (64, 48), 3).save(buffer, "GIF")
    data = bytearray(buffer.getvalue())
    data[6:10] = (7071).to_bytes(2, "little") + (4096).to_bytes(2, "little")
    started = time.perf_counter()
    with pytest.raises(ImageDecodeError, match="claims 7071x4096 pixels, which a .*-byte GIF file cannot hold"):
        decode_image(bytes(data))
    assert time.perf_counter() - started < 0.5
