"""decode_image on the files a review threw at it: special files, SVG, PNG metadata Pillow refuses."""

import os
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from studio.core.errors import ImageDecodeError
from studio.core.images import decode_image


def _decode_within(path, seconds: float = 10.0):
    """decode_image in a thread, so a regression that blocks fails the test instead of hanging the suite."""
    outcome = {}

    def work():
        try:
            outcome["value"] = decode_image(path)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"decode_image({path}) blocked"
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    outcome = _decode_within(fifo)
    assert isinstance(outcome.get("error"), ImageDecodeError)
    assert "not a regular file" in str(outcome["error"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_to_dev_zero_is_refused_without_reading(tmp_path):
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    outcome = _decode_within(link)
    assert isinstance(outcome.get("error"), ImageDecodeError)
    assert outcome["error"].reason == "unreadable"


def test_a_folder_named_like_an_image_is_refused(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageDecodeError, match="folder"):
        decode_image(tmp_path / "dir.png")


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>',
    '\ufeff<svg xmlns="http://www.w3.org/2000/svg"/>',
])
def test_svg_is_unsupported_with_its_name(tmp_path, text):
    path = tmp_path / "drawing.svg"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImageDecodeError, match="SVG") as info:
        decode_image(path)
    assert info.value.reason == "unsupported"


def _rgb(h=12, w=16):
    return (np.arange(h * w * 3).reshape(h, w, 3) % 251).astype(np.uint8)


def test_a_png_with_a_huge_icc_profile_still_decodes(tmp_path):
    # Pillow refuses iCCP chunks that inflate past 1 MB, and the whole image with them.
    path = tmp_path / "icc.png"
    Image.fromarray(_rgb()).save(path, icc_profile=os.urandom(2 * 1024 * 1024))
    assert np.array_equal(decode_image(path), _rgb())


def test_a_png_with_a_ztxt_bomb_still_decodes(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "y" * (8 * 1024 * 1024), zip=True)  # 8 MB of text in a few kB
    path = tmp_path / "ztxt.png"
    Image.fromarray(_rgb()).save(path, pnginfo=info)
    assert path.stat().st_size < 100_000
    assert np.array_equal(decode_image(path), _rgb())


def test_a_cut_png_with_metadata_is_still_reported_truncated(tmp_path):
    path = tmp_path / "icc.png"
    Image.fromarray(_rgb(64, 64)).save(path, icc_profile=os.urandom(2 * 1024 * 1024))
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # the last IDAT bytes and IEND are gone
    with pytest.raises(ImageDecodeError):
        decode_image(path)


def test_a_png_header_with_huge_dimensions_is_refused_before_decoding(tmp_path):
    def chunk(kind, data):
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = (2**31 - 1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    with pytest.raises(ImageDecodeError) as info:
        decode_image(path)
    assert info.value.reason == "too-large"


@pytest.mark.parametrize("save", [
    lambda p: Image.fromarray(_rgb()).save(p.with_suffix(".bmp")),
    lambda p: Image.fromarray(_rgb()).save(p.with_suffix(".webp"), lossless=True),
    lambda p: Image.fromarray(_rgb()).convert("LA").save(p.with_suffix(".png")),
    lambda p: Image.fromarray(np.linspace(-3, 900, 12 * 16, dtype=np.float32).reshape(12, 16)).save(
        p.with_suffix(".tif")),
])
def test_common_kinds_decode_to_uint8(tmp_path, save):
    save(tmp_path / "img")
    path = next(tmp_path.iterdir())
    pixels = decode_image(path)
    assert pixels.dtype == np.uint8 and pixels.shape[:2] == (12, 16)
