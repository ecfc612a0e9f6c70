"""decode_image on real photos and on every kind of bad or odd file, written by the tests."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from studio.core import paths
from studio.core.errors import ImageDecodeError
from studio.core.images import decode_image

PHOTOS = paths.RESOURCES / "images"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def reason_of(source, **kwargs) -> str:
    with pytest.raises(ImageDecodeError) as info:
        decode_image(source, **kwargs)
    assert str(info.value)  # always a readable message
    return info.value.reason


# ----------------------------------------------------------------------------- real photos

@pytest.mark.parametrize("name, shape", [
    ("chelsea.png", (300, 451, 3)), ("coffee.png", (400, 600, 3)), ("astronaut.png", (512, 512, 3)),
    ("rocket.jpg", (427, 640, 3)), ("horse.png", (328, 400, 3)),
])
def test_real_photos_decode_to_uint8_rgb(name, shape):
    pixels = decode_image(PHOTOS / name)
    assert pixels.shape == shape and pixels.dtype == np.uint8
    assert pixels.std() > 10  # real content, not a blank


def test_path_and_bytes_give_the_same_pixels():
    path = PHOTOS / "rocket.jpg"
    assert np.array_equal(decode_image(path), decode_image(path.read_bytes()))
    assert np.array_equal(decode_image(str(path)), decode_image(path))


def test_mode_converts_between_gray_and_rgb():
    gray = decode_image(PHOTOS / "chelsea.png", mode="L")
    assert gray.shape == (300, 451) and gray.dtype == np.uint8
    rgb = decode_image(encode(Image.new("L", (5, 4), 77), "PNG"), mode="RGB")
    assert rgb.shape == (4, 5, 3) and (rgb == 77).all()
    with pytest.raises(ValueError):
        decode_image(PHOTOS / "chelsea.png", mode="CMYK")


def test_min_side_decodes_large_jpegs_at_reduced_scale():
    small = decode_image(PHOTOS / "rocket.jpg", min_side=64)
    assert min(small.shape[:2]) >= 64 and small.shape[1] < 640


# ----------------------------------------------------------------------------- bad files

def test_zero_byte_file_is_empty(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert reason_of(empty) == "empty"
    assert reason_of(b"") == "empty"


def test_text_file_renamed_png_is_not_an_image(tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("these are my lecture notes, not a picture\n" * 20)
    with pytest.raises(ImageDecodeError) as info:
        decode_image(fake)
    assert info.value.reason == "not-an-image" and info.value.path == str(fake)
    assert "notes.png" in str(info.value)


def test_truncated_jpeg_and_png_are_refused(tmp_path):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    jpeg = encode(noise, "JPEG", quality=90)
    png = encode(noise, "PNG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg[: len(jpeg) // 2])
    assert reason_of(cut) == "truncated"
    assert reason_of(png[: len(png) // 2]) == "truncated"
    with pytest.raises(ImageDecodeError, match="header is damaged") as info:
        decode_image(png[:30])  # cut inside the header
    assert info.value.reason == "unreadable"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bombs_are_refused_before_decoding():
    limit_before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning may escape either
        assert reason_of(_png_header_only(100_000, 100_000)) == "too-large"   # Pillow's own hard limit
        assert reason_of(_png_header_only(10_000, 9_000)) == "too-large"      # over our 50 M default
        solid = encode(Image.new("RGB", (400, 300), (0, 128, 0)), "PNG")    # tiny file, many pixels
        assert reason_of(solid, max_pixels=100_000) == "too-large"
        assert decode_image(solid, max_pixels=120_000).shape == (300, 400, 3)
    assert Image.MAX_IMAGE_PIXELS == limit_before


def test_unsupported_and_missing_files(tmp_path):
    assert reason_of(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == "unsupported"
    assert reason_of(b"8BPS\x00\x01" + b"\0" * 40) == "unsupported"
    assert reason_of(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == "unsupported"
    assert reason_of(tmp_path / "nope.png") == "unreadable"
    assert reason_of(tmp_path) == "unreadable"


# ----------------------------------------------------------------------------- odd but valid files

def test_cmyk_jpeg_becomes_rgb():
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # magenta + yellow ink = red
    pixels = decode_image(encode(cmyk, "JPEG", quality=95))
    assert pixels.shape == (16, 16, 3)
    assert np.allclose(pixels[8, 8], (255, 0, 0), atol=6)
    cyan = decode_image(encode(Image.new("CMYK", (8, 8), (255, 0, 0, 0)), "TIFF"))
    assert np.allclose(cyan[4, 4], (0, 255, 255), atol=2)


def test_16_bit_png_is_scaled_not_clipped():
    values = np.full((8, 8), 65535, np.uint16)
    values[0, 0], values[0, 1], values[0, 2] = 0, 32768, 16384
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    pixels = decode_image(encode(image, "PNG"))
    assert pixels.shape == (8, 8) and pixels.dtype == np.uint8
    assert pixels[0, 0] == 0 and abs(int(pixels[0, 1]) - 128) <= 1 and abs(int(pixels[0, 2]) - 64) <= 1
    assert pixels[4, 4] == 255


def test_32_bit_and_float_images_are_scaled():
    floats = Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8))
    pixels = decode_image(encode(floats, "TIFF"))
    assert pixels[0, 0] == 0 and pixels[7, 7] == 255 and abs(int(pixels[4, 0]) - 130) <= 2
    wide = Image.fromarray(np.array([[-1000, 0], [1000, 3000]], dtype=np.int32))
    assert decode_image(encode(wide, "TIFF")).tolist() == [[0, 64], [128, 255]]


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert Image.open(io.BytesIO(gif)).n_frames == 3
    pixels = decode_image(gif)
    assert pixels.shape == (10, 10, 3) and tuple(pixels[5, 5]) == (255, 0, 0)


def test_exif_orientation_is_applied():
    array = np.zeros((20, 40, 3), np.uint8)  # 40 wide, 20 high, a white marker at the top left
    array[:5, :5] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = encode(Image.fromarray(array), "JPEG", quality=95, exif=exif.tobytes())
    pixels = decode_image(data)
    assert pixels.shape == (40, 20, 3)
    assert pixels[:5, -5:].mean() > 200 and pixels[:5, :5].mean() < 50  # marker now at the top right


def test_transparency_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255              # red everywhere, but ...
    rgba[0, 0, 3] = 0               # ... invisible here,
    rgba[1, 1] = (0, 0, 0, 128)     # half-transparent black here,
    rgba[2, 2, 3] = 255             # opaque red here
    pixels = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert pixels.shape == (4, 4, 3)
    assert tuple(pixels[0, 0]) == (255, 255, 255)
    assert all(abs(int(v) - 127) <= 1 for v in pixels[1, 1])
    assert tuple(pixels[2, 2]) == (255, 0, 0)
    gray_alpha = Image.fromarray(np.array([[[0, 0], [0, 255]]], np.uint8), "LA")
    assert decode_image(encode(gray_alpha, "PNG")).tolist() == [[255, 0]]


def test_palette_images():
    colour = Image.new("RGB", (6, 6), (200, 30, 40)).convert("P", palette=Image.Palette.ADAPTIVE)
    assert colour.mode == "P"
    pixels = decode_image(encode(colour, "PNG"))
    assert pixels.shape == (6, 6, 3) and tuple(pixels[0, 0]) == (200, 30, 40)
    gray = Image.new("P", (6, 6), 1)
    gray.putpalette([0, 0, 0, 90, 90, 90] + [0] * 762)
    assert decode_image(encode(gray, "PNG")).shape == (6, 6)
    see_through = Image.new("P", (6, 6), 1)
    see_through.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    assert (decode_image(encode(see_through, "PNG", transparency=1)) == 255).all()


def test_one_bit_and_grayscale_stay_2d():
    bits = Image.new("1", (8, 8), 0)
    bits.putpixel((3, 3), 1)
    pixels = decode_image(encode(bits, "PNG"))
    assert pixels.shape == (8, 8) and pixels[3, 3] == 255 and pixels[0, 0] == 0
    assert decode_image(encode(Image.new("L", (3, 2), 9), "BMP")).tolist() == [[9, 9, 9], [9, 9, 9]]
