"""Decode an untrusted image file into a uint8 numpy array, or explain why not.

This is the one image decoder of the app: predictions, folder datasets and the GUI's drop
zones all call `decode_image`, so every odd file a student drops (a 16-bit scan, a CMYK
JPEG, a phone photo lying on its side, a zero-byte file, a renamed PDF) is handled the
same way everywhere.

Pillow's global settings (`ImageFile.LOAD_TRUNCATED_IMAGES`, `Image.MAX_IMAGE_PIXELS`) are
read, never written: a truncated file is an error here, and the pixel limit is checked
against the header before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from studio.core.errors import ImageDecodeError

# File names taken as images when a folder is walked or sample photos are listed (one list for the
# whole app): the suffixes of the formats below. A file named explicitly is always tried.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".dib", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                            ".pgm", ".pbm", ".tga", ".ico", ".qoi", ".avif"})

# Formats whose decoders are common and well fuzzed. EPS (runs Ghostscript), PSD, FITS and
# the other rarities are refused rather than handed to less travelled parsers.
_SAFE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "TGA", "ICO", "QOI", "AVIF")

# Magic bytes of files people drop that are images of a kind Pillow (or we) will not read,
# so the message can say "unsupported" instead of "not an image".
_KNOWN_UNSUPPORTED = (
    (b"8BPS", "Photoshop (PSD)"),
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "PostScript/EPS"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")
# Signatures of formats we do read: such a file that Pillow cannot identify is damaged.
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF8", "GIF"), (b"BM", "BMP"),
               (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))

# Everything Pillow's parsers are known to raise on hostile or broken input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, EOFError, struct.error, IndexError, KeyError,
                  ZeroDivisionError)

_MODES = (None, "RGB", "L")

# A Huffman-coded JPEG spends at least one bit on every 8x8 block of its full-resolution
# component (the DC code of the first scan), so it cannot describe more than 512 pixels per byte
# of file; real flat images reach about 250. A file claiming more is a damaged or forged header
# (a 1.4 KB file "being" 7071x4096), whose missing data the decoder would fill with grey.
JPEG_MAX_PIXELS_PER_BYTE = 512
# GIF's LZW codes are at most 12 bits, each standing for at most 4096 pixels:
# at most 2,731 pixels a byte even for a blank frame. The fuzzer found 3 KB GIFs "being" 7071x4096
# (4 s to predict) and 5 KB ones "being" 4096x4096.
GIF_MAX_PIXELS_PER_BYTE = 2731
# libjpeg fills the blocks a cut or damaged file lacks with mid-grey; past this share of the
# image's rows, the picture is mostly missing, not a picture with a grey border.
MISSING_ROWS_LIMIT = 0.5


def decode_image(source: str | os.PathLike | bytes, *, mode: str | None = None,
                 max_pixels: int = 50_000_000, min_side: int | None = None) -> np.ndarray:
    """Decode `source` (a path or the file's bytes) into a uint8 array.

    Returns (H, W, 3) RGB or (H, W) grayscale; grayscale files stay 2-D unless mode='RGB',
    and mode='L' turns colour into luminance. EXIF orientation is applied, alpha is
    composited over white, animations give their first frame, 16-bit and float images are
    scaled (not clipped) into 0..255, CMYK is converted to RGB.

    min_side: the caller will shrink the image to about this many pixels on its shorter side,
    so JPEGs may be decoded at 1/2, 1/4 or 1/8 scale (much faster for phone photos); the
    result still has at least min_side pixels on both sides when the file has.

    Raises ImageDecodeError with `reason` in {"empty", "not-an-image", "truncated",
    "too-large", "unsupported", "unreadable"}.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be None, 'RGB' or 'L', not {mode!r}")
    path = None if isinstance(source, (bytes, bytearray, memoryview)) else str(source)
    label = Path(path).name if path else "The image"
    try:
        with _open_stream(source, label, path) as stream:
            image = _convert(_load(stream, label, path, max_pixels, min_side), label, path)
    except ImageDecodeError:
        raise
    except MemoryError:
        raise ImageDecodeError(f"{label} is too large to decode in the memory available.", "too-large", path) from None
    except _DECODE_ERRORS as exc:
        raise _decode_failure(exc, label, path) from None
    if mode == "RGB" and image.mode != "RGB":
        image = image.convert("RGB")
    elif mode == "L" and image.mode != "L":
        image = image.convert("L")
    return np.array(image, dtype=np.uint8)


def _open_stream(source, label: str, path: str | None) -> io.IOBase:
    """A readable binary stream over the file, after the cheap checks (exists, not empty)."""
    if path is None:
        if len(source) == 0:
            raise ImageDecodeError(f"{label} is empty (0 bytes).", "empty", None)
        return io.BytesIO(bytes(source))
    try:
        # O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; the type is
        # checked on the opened descriptor, so nothing can be swapped in between.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ImageDecodeError(f"{label} does not exist ({path}).", "unreadable", path) from None
    except IsADirectoryError:
        raise ImageDecodeError(f"{label} is a folder, not an image file.", "unreadable", path) from None
    except OSError as exc:
        raise ImageDecodeError(f"{label} could not be opened ({_short(exc)}).", "unreadable", path) from None
    try:
        _check_regular_file(os.fstat(fd), label, path)
    except ImageDecodeError:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular_file(info: os.stat_result, label: str, path: str) -> None:
    """Only plain files: /dev/zero never ends and a FIFO blocks, so neither may reach a decoder."""
    if stat.S_ISDIR(info.st_mode):
        raise ImageDecodeError(f"{label} is a folder, not an image file.", "unreadable", path)
    if not stat.S_ISREG(info.st_mode):
        raise ImageDecodeError(f"{label} is not a regular file (a device, pipe or socket), so it cannot be an "
                               "image.", "unreadable", path)
    if info.st_size == 0:
        raise ImageDecodeError(f"{label} is empty (0 bytes).", "empty", path)


def _load(stream, label: str, path: str | None, max_pixels: int, min_side: int | None) -> Image.Image:
    """Identify, size-check and fully decode the first frame (no pixels decoded before the check)."""
    try:
        # Pillow warns about (and refuses) bombs inside Image.open; make its warning an error
        # for this call only, so the file is refused instead of a warning being printed.
        # (catch_warnings restores the filters on exit; Pillow's own settings are untouched.)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"{label} has too many pixels to be decoded safely ({_short(exc)}).",
                               "too-large", path) from None
    except UnidentifiedImageError:
        raise _not_an_image(stream, label, path) from None
    except ValueError:
        # Pillow refuses oversized text/ICC chunks (MAX_TEXT_CHUNK) and the whole image with
        # them; the pixels never need those chunks, so a PNG gets one more try without them.
        stripped = _png_without_metadata(stream)
        if stripped is None:
            raise
        return _load(stripped, label, path, max_pixels, min_side)
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"{label} has no pixels ({width}x{height}).", "unreadable", path)
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"{label} is {width}x{height} pixels, more than the limit of {max_pixels:,} "
            "(a possible decompression bomb).", "too-large", path)
    _check_density(image, stream, label, path)
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone switched this on globally; a half-decoded image must still be refused.
        raise ImageDecodeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; refusing to decode "
                               f"{label} because truncated files would be accepted silently.", "unsupported", path)
    if min_side and image.format in ("JPEG", "MPO"):
        image.draft(image.mode, (min_side, min_side))
    try:
        image.load()  # decodes frame 0 (Image.open leaves animations on their first frame)
    except _DECODE_ERRORS as exc:
        raise _decode_failure(exc, label, path) from None
    _check_jpeg_filled(image, width, height, stream, label, path)
    return image


def _file_size(stream) -> int:
    position = stream.tell()
    size = stream.seek(0, io.SEEK_END)
    stream.seek(position)
    return size


def _check_density(image: Image.Image, stream, label: str, path: str | None) -> None:
    """Refuse, before decoding, a JPEG or GIF whose file is too small to hold the pixels its header claims."""
    limit = {"JPEG": JPEG_MAX_PIXELS_PER_BYTE, "MPO": JPEG_MAX_PIXELS_PER_BYTE,
             "GIF": GIF_MAX_PIXELS_PER_BYTE}.get(image.format)
    if limit is None:
        return
    width, height = image.size
    size = _file_size(stream)
    if width * height > size * limit:
        raise ImageDecodeError(
            f"{label} is damaged: its header claims {width}x{height} pixels, which a {size:,}-byte "
            f"{image.format} file cannot hold (most of the image data is missing).", "truncated", path)


def _check_jpeg_filled(image: Image.Image, width: int, height: int, stream, label: str, path: str | None) -> None:
    """Refuse a JPEG whose bottom rows are libjpeg's grey filler: the data for them is missing.

    Only files compressed past 32 pixels a byte are looked at (photos take 2-10): a damaged
    header or a cut file is what makes so few bytes "hold" so many pixels.
    """
    if image.format not in ("JPEG", "MPO") or width * height <= _file_size(stream) * 32:
        return
    pixels = np.asarray(image)
    rows = pixels.reshape(pixels.shape[0], -1)
    grey = np.all(rows == 128, axis=1)
    missing = int(np.argmin(grey[::-1])) if not grey.all() else len(grey)   # trailing all-grey rows
    if missing > MISSING_ROWS_LIMIT * len(grey):
        raise ImageDecodeError(
            f"{label} is damaged: the bottom {100 * missing // len(grey)} % of its {width}x{height} pixels hold no "
            "data (the file is too small for the size its header claims).", "truncated", path)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA_CHUNKS = (b"iCCP", b"tEXt", b"zTXt", b"iTXt")


def _png_without_metadata(stream) -> io.BytesIO | None:
    """A copy of a PNG without text and ICC chunks, or None when it isn't a PNG or had none."""
    stream.seek(0)
    data = stream.read()
    if not data.startswith(_PNG_SIGNATURE):
        return None
    kept, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        end = pos + 12 + int.from_bytes(data[pos:pos + 4], "big")  # length, type, data, CRC
        kind = data[pos + 4:pos + 8]
        if kind not in _PNG_METADATA_CHUNKS:
            kept.append(data[pos:end])  # a cut-off chunk stays cut off: Pillow reports the truncation
        pos = end
        if kind == b"IEND":
            break
    if len(kept) == 1 or sum(map(len, kept)) == len(data):
        return None
    return io.BytesIO(b"".join(kept))


def _decode_failure(exc: BaseException, label: str, path: str | None) -> ImageDecodeError:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncated" in text or "broken data stream" in text:
        return ImageDecodeError(f"{label} is truncated: the file ends before the image data does.", "truncated", path)
    return ImageDecodeError(f"{label} could not be decoded ({_short(exc)}).", "unreadable", path)


@lru_cache(maxsize=1)
def _formats() -> tuple[str, ...]:
    """The safe formats this Pillow build has (an unknown name would make Image.open fail)."""
    Image.init()
    return tuple(name for name in _SAFE_FORMATS if name in Image.OPEN)


def _not_an_image(stream, label: str, path: str | None) -> ImageDecodeError:
    stream.seek(0)
    head = stream.read(32)
    for magic, kind in _KNOWN_UNSUPPORTED:
        if head.startswith(magic):
            return ImageDecodeError(f"{label} is a {kind} file, which is not supported; "
                                    f"use PNG, JPEG, BMP, GIF, TIFF or WebP.", "unsupported", path)
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return ImageDecodeError(f"{label} looks like a {kind} file but its header is damaged or cut off.",
                                    "unreadable", path)
    if _looks_like_svg(stream):
        return ImageDecodeError(f"{label} is an SVG (vector) drawing, which is not supported; "
                                "export it as PNG.", "unsupported", path)
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return ImageDecodeError(f"{label} is a HEIC/HEIF photo, which is not supported; "
                                "export it as JPEG or PNG.", "unsupported", path)
    return ImageDecodeError(f"{label} is not an image file (supported: PNG, JPEG, BMP, GIF, TIFF, WebP).",
                            "not-an-image", path)


def _looks_like_svg(stream) -> bool:
    """An XML text whose first kilobyte opens an <svg> element (after an optional prolog)."""
    stream.seek(0)
    head = stream.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in head


def _convert(image: Image.Image, label: str, path: str | None) -> Image.Image:
    """Upright, flattened, 8-bit: an 'L' or 'RGB' PIL image."""
    image = _upright(image)
    mode = image.mode
    if mode in ("L", "RGB"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode.startswith("I;16"):
        return Image.fromarray(_scale_to_uint8(np.asarray(image), 65535.0))
    if mode in ("I", "F"):
        return Image.fromarray(_scale_to_uint8(np.asarray(image), 65535.0 if mode == "I" else 1.0))
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode == "P":
        return _palette(image)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return _over_white(image)
    try:
        return image.convert("RGB")  # YCbCr, LAB, HSV, RGBX, ...
    except (ValueError, OSError) as exc:
        raise ImageDecodeError(f"{label} uses the pixel mode {mode}, which cannot be converted ({_short(exc)}).",
                               "unsupported", path) from None


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation tag; a broken EXIF block leaves the image as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image


def _scale_to_uint8(values: np.ndarray, nominal_max: float) -> np.ndarray:
    """Map 16-bit, 32-bit or float pixels into 0..255 by scaling, never by clipping.

    Values inside the nominal range 0..nominal_max (65535 for 16-bit, 1.0 for float) keep
    it, so a dark 16-bit photo stays dark; anything else is stretched from min to max.
    """
    values = values.astype(np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if lo >= 0 and hi <= nominal_max:
        lo, hi = 0.0, nominal_max
    if hi <= lo:
        return np.zeros(values.shape, np.uint8)
    scaled = (np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo) - lo) * (255.0 / (hi - lo))
    return np.rint(scaled).clip(0, 255).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """Through the embedded ICC profile when there is one (what print-ready JPEGs carry)."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except Exception:  # noqa: BLE001 - a bad profile falls back to the plain formula
            pass
    return image.convert("RGB")  # Pillow: R = (255 - C)(255 - K) / 255


def _palette(image: Image.Image) -> Image.Image:
    """Palette -> RGB (transparency over white), or L when every used colour is grey."""
    rgb = _over_white(image) if image.has_transparency_data else image.convert("RGB")
    pixels = np.asarray(rgb)
    if np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2]):
        return rgb.convert("L")
    return rgb


def _over_white(image: Image.Image) -> Image.Image:
    """Composite over white: transparent pixels carry arbitrary colours that must not leak."""
    gray = image.mode in ("LA", "La")
    rgba = image.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return flat.convert("L") if gray else flat


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
