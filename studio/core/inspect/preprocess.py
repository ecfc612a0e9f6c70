"""A decoded picture -> exactly what the network is fed, and a picture of that for people.

Photos are cropped to the model's aspect ratio around their centre and shrunk with
antialiasing, then handed to `studio.core.pixels.prepare_batch`, the one path from
pixels to model input that training and evaluation use as well (channel adaptation,
resizing, normalisation). The display image is that very tensor, de-normalised.

Digit models get what a photo of a handwritten digit needs to look like MNIST: MNIST is
light ink on black and each digit was scaled into a 20x20 box, then placed in 28x28 so that
its centre of mass sits at the centre. `centre_digit` repeats that recipe on a photo, after
the polarity is detected (dark ink on light paper is inverted) or chosen by the user.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter

DIGIT_SIZE = 28     # MNIST images are 28x28 ...
DIGIT_BOX = 20      # ... with the digit scaled into a 20x20 box
DIGIT_CENTRE = 14.0  # where MNIST puts the centre of mass (row and column, pixel indices)
_WORK_SIDE = 512    # photos are shrunk to this before the digit is searched: plenty for a 20 px result


@dataclass
class NetworkInput:
    """What the model receives, and what a person should be shown of it."""

    tensor: torch.Tensor       # (1, C, H, W) float32, normalised: the model's input, exactly
    display: np.ndarray        # (H, W, 3) or (H, W) uint8: the same tensor de-normalised
    inverted: bool = False     # the polarity was flipped (single-channel models only)
    centred: bool = False      # the MNIST digit recipe was applied


def is_digit_model(classes, input_shape) -> bool:
    """A single-channel 28x28 model whose ten classes are the digits 0..9 (MNIST and friends)."""
    if tuple(input_shape)[0] != 1 or len(classes) != 10:
        return False
    return all(str(name).strip().startswith(str(i)) for i, name in enumerate(classes))


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 luminance (ITU-R 601, as Pillow's 'L' mode) of an RGB or grayscale array."""
    if image.ndim == 2:
        return image
    rgb = image[..., :3].astype(np.float32)
    return np.rint(rgb @ np.array([0.299, 0.587, 0.114], np.float32)).clip(0, 255).astype(np.uint8)


def looks_dark_on_light(gray: np.ndarray) -> bool:
    """True for dark ink on light paper: the picture's border (the paper) is lighter than mid-grey.

    MNIST-like data is light on black; a photo or scan of a page is the other way round.
    """
    h, w = gray.shape
    edge = max(1, min(h, w) // 10)
    border = np.concatenate([gray[:edge].ravel(), gray[-edge:].ravel(),
                             gray[:, :edge].ravel(), gray[:, -edge:].ravel()])
    return float(np.median(border)) > 127


def otsu_threshold(gray: np.ndarray) -> int:
    """The grey level that best splits the histogram into two classes (Otsu 1979)."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    mean0 = np.cumsum(hist * levels)
    total = mean0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * weight0 / weight0[-1] - mean0) ** 2 / (weight0 * weight1)
    between = np.nan_to_num(between, nan=0.0, posinf=0.0)
    # Two clean levels leave a plateau of equally good thresholds: take its middle, not its edge.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    gaps = np.flatnonzero(np.diff(best) > 1)
    run = best[:gaps[0] + 1] if gaps.size else best
    return int((run[0] + run[-1]) // 2)


def centre_digit(gray: np.ndarray) -> np.ndarray:
    """MNIST's recipe on light-ink-on-dark pixels: a 28x28 uint8 digit centred by its mass.

    Threshold the ink, take its bounding box, scale the longest side to 20 keeping the
    aspect ratio, paste into 28x28 and shift so the centre of mass is at the centre.
    A picture with no ink at all gives a black image (the network then sees nothing).
    """
    work = _flatten(_shrink(gray, _WORK_SIDE).astype(np.float32))
    mask = _ink_mask(work)
    if not mask.any():
        return np.zeros((DIGIT_SIZE, DIGIT_SIZE), np.uint8)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = _stretch(work, mask)[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return _place_by_mass(_scale_longest_side(crop, DIGIT_BOX))


def fit_to_input(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Crop the centre to the target's aspect ratio, then shrink (antialiased) or enlarge to `size`.

    Cropping keeps shapes undistorted; shrinking here with a proper filter avoids the
    aliasing a plain resize of a 12-megapixel photo to 32x32 would give.
    """
    target_h, target_w = size
    h, w = image.shape[:2]
    if h * target_w > w * target_h:          # too tall for the target
        new_h = max(1, round(w * target_h / target_w))
        top = (h - new_h) // 2
        image = image[top:top + new_h]
    elif h * target_w < w * target_h:        # too wide
        new_w = max(1, round(h * target_w / target_h))
        left = (w - new_w) // 2
        image = image[:, left:left + new_w]
    if image.shape[:2] == (target_h, target_w):
        return np.ascontiguousarray(image)
    pil = Image.fromarray(np.ascontiguousarray(image))
    return np.asarray(pil.resize((target_w, target_h), Image.Resampling.LANCZOS))


def prepare_input(image: np.ndarray, input_shape, mean, std, *, digit: bool = False,
                  invert: bool | None = None, centre: bool = True) -> NetworkInput:
    """Turn a decoded uint8 image ((H, W) or (H, W, 3)) into the model's input.

    input_shape is the (C, H, W) the model takes. For single-channel models the polarity is
    detected (invert=None) or forced (True/False); `digit` with `centre` applies the MNIST
    recipe. Everything then goes through prepare_batch, like training data.
    """
    from studio.core.pixels import denormalize, prepare_batch

    channels, height, width = (int(v) for v in input_shape)
    inverted = centred = False
    if channels == 1:
        pixels = to_gray(image)
        inverted = looks_dark_on_light(pixels) if invert is None else bool(invert)
        if inverted:
            pixels = 255 - pixels
        centred = bool(digit and centre)
        pixels = centre_digit(pixels) if centred else fit_to_input(pixels, (height, width))
    else:
        pixels = fit_to_input(image, (height, width))
    batch = _as_batch(pixels)
    x = prepare_batch(batch, (channels, height, width), tuple(mean), tuple(std)).float()
    shown = denormalize(x, tuple(mean), tuple(std))[0]
    display = shown[..., 0] if shown.shape[-1] == 1 else shown
    return NetworkInput(tensor=x, display=np.ascontiguousarray(display), inverted=inverted, centred=centred)


def network_input(image: np.ndarray, loaded, *, digit: bool | None = None, invert: bool | None = None,
                  centre: bool = True) -> NetworkInput:
    """What a LoadedModel-like object (classes, input_shape, mean, std) is fed for `image`.

    digit=None: the MNIST digit recipe is used when the model is a digit model (is_digit_model).
    """
    if digit is None:
        digit = is_digit_model(loaded.classes, loaded.input_shape)
    return prepare_input(image, loaded.input_shape, loaded.mean, loaded.std, digit=bool(digit),
                         invert=invert, centre=centre)


def model_input(image: np.ndarray, loaded, *, digit: bool | None = None, invert: bool | None = None,
                centre: bool = True) -> torch.Tensor:
    """The (1, C, H, W) input of a LoadedModel for `image`; digit=None: decided from its classes."""
    return network_input(image, loaded, digit=digit, invert=invert, centre=centre).tensor


# ---------------------------------------------------------------- helpers

def _as_batch(pixels: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) uint8 -> (1, C, H, W) uint8 tensor."""
    array = pixels[..., None] if pixels.ndim == 2 else pixels
    return torch.from_numpy(array.transpose(2, 0, 1).copy())[None]


def _shrink(gray: np.ndarray, side: int) -> np.ndarray:
    h, w = gray.shape
    scale = side / max(h, w)
    if scale >= 1:
        return gray
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX))


def _flatten(work: np.ndarray) -> np.ndarray:
    """Subtract the paper's uneven lighting, so a shadow across the page is not taken for ink.

    The background is estimated on a 48-pixel-high copy: a minimum filter wider than any pen
    stroke (up to a fifth of the picture) wipes the ink out, a blur smooths what is left.
    """
    h, w = work.shape
    if min(h, w) < 40:   # an MNIST-sized picture has no lighting to correct
        return work
    scale = 48 / min(h, w)
    small = Image.fromarray(work.astype(np.uint8)).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                           Image.Resampling.BOX)
    background = small.filter(ImageFilter.MinFilter(11)).filter(ImageFilter.GaussianBlur(3))
    background = np.asarray(background.resize((w, h), Image.Resampling.BILINEAR), np.float32)
    return np.clip(work - background, 0, 255)


def _ink_mask(work: np.ndarray) -> np.ndarray:
    """Pixels that are ink: above Otsu's threshold after a median filter, isolated specks removed.

    The median filter and the morphological opening keep paper grain and sensor noise out
    of the bounding box, which would otherwise stretch to the picture's corners.
    """
    smooth = np.asarray(Image.fromarray(work.astype(np.uint8)).filter(ImageFilter.MedianFilter(3)))
    threshold = otsu_threshold(smooth)
    if smooth.max() - smooth.min() < 24:   # a flat picture: no ink to find
        return np.zeros(work.shape, bool)
    mask = Image.fromarray(((smooth > threshold) * 255).astype(np.uint8))
    if min(work.shape) >= 40:   # small pictures (an MNIST digit itself) have no specks worth a filter
        mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3))
    return np.asarray(mask) > 0


def _stretch(work: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Paper -> 0 and ink -> 255, as in MNIST, whatever the lighting and the pen.

    "Paper" is its median plus twice its noise (a robust sigma), so that grain and sensor
    noise become the flat black that MNIST's background is, instead of a grey box.
    """
    paper = work[~mask]
    background = 0.0
    if paper.size:
        level = float(np.median(paper))
        background = level + 2 * 1.4826 * float(np.median(np.abs(paper - level)))
    ink = float(np.percentile(work[mask], 90))
    if ink - background < 1:
        return np.zeros_like(work)
    return np.clip((work - background) * (255.0 / (ink - background)), 0, 255)


def _scale_longest_side(crop: np.ndarray, box: int) -> np.ndarray:
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, min(box, round(w * scale))), max(1, min(box, round(h * scale))))
    resized = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 255)


def _place_by_mass(digit: np.ndarray) -> np.ndarray:
    """Paste into 28x28 so that the centre of mass lands on MNIST's centre (14, 14)."""
    h, w = digit.shape
    total = float(digit.sum())
    if total <= 0:
        return np.zeros((DIGIT_SIZE, DIGIT_SIZE), np.uint8)
    cy = float((digit.sum(axis=1) * np.arange(h)).sum()) / total
    cx = float((digit.sum(axis=0) * np.arange(w)).sum()) / total
    top = int(np.clip(round(DIGIT_CENTRE - cy), 0, DIGIT_SIZE - h))
    left = int(np.clip(round(DIGIT_CENTRE - cx), 0, DIGIT_SIZE - w))
    canvas = np.zeros((DIGIT_SIZE, DIGIT_SIZE), np.float32)
    canvas[top:top + h, left:left + w] = digit
    return np.rint(canvas).clip(0, 255).astype(np.uint8)
