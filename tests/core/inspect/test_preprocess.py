"""studio.core.inspect.preprocess: a picture -> exactly what the network receives (photos and digits)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.data import load_dataset
from studio.core.pixels import denormalize, prepare_batch
from studio.core.images import decode_image
from studio.core.paths import RESOURCES
from studio.core.inspect.preprocess import (DIGIT_BOX, centre_digit, fit_to_input, is_digit_model, looks_dark_on_light,
                                    model_input, otsu_threshold, prepare_input, to_gray)

MNIST_MEAN, MNIST_STD = (0.1307,), (0.3081,)


@pytest.fixture(scope="module")
def digits():
    """Ten real MNIST test digits, one per class (light ink on black, 28x28)."""
    test = load_dataset("mnist-sample").test
    picks = [int(np.flatnonzero(test.labels.numpy() == d)[0]) for d in range(10)]
    return [test.images[i, 0].numpy() for i in picks]


def on_paper(digit: np.ndarray, *, seed: int = 0, side: int = 120, canvas=(260, 340), at=(40, 190)) -> np.ndarray:
    """A 'photo' of the digit written in dark ink on light paper, off-centre, with sensor noise."""
    rng = np.random.default_rng(seed)
    big = np.asarray(Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BICUBIC), np.float64)
    paper = np.full(canvas, 212.0)
    top, left = at
    paper[top:top + side, left:left + side] = big / 255 * 212
    paper += rng.normal(0, 8, canvas)
    gray = paper.clip(0, 255).astype(np.uint8)
    return np.stack([gray] * 3, axis=-1)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    image = image.astype(np.float64)
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation, allowing a shift of one pixel (rounding the centre of mass may move it)."""
    return max(np.corrcoef(np.roll(a, (dy, dx), axis=(0, 1)).ravel(), b.ravel())[0, 1]
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def ink_box(image: np.ndarray, level: int = 60) -> tuple[int, int]:
    rows = np.flatnonzero((image > level).any(axis=1))
    cols = np.flatnonzero((image > level).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# ---------------------------------------------------------------- small pieces

def test_digit_models_are_recognised_by_their_classes_and_channels():
    digits10 = [str(i) for i in range(10)]
    assert is_digit_model(digits10, (1, 28, 28))
    assert is_digit_model([f"{i} - name" for i in range(10)], (1, 28, 28))   # torchvision's MNIST names
    assert not is_digit_model(digits10, (3, 32, 32))                          # an RGB model
    assert not is_digit_model(["T-shirt"] + digits10[1:], (1, 28, 28))       # Fashion-MNIST-like
    assert not is_digit_model(["cat", "dog"], (1, 28, 28))


def test_polarity_is_read_from_the_border(digits):
    assert not looks_dark_on_light(digits[3])                # MNIST: light ink on black
    assert looks_dark_on_light(to_gray(on_paper(digits[3])))  # a page: dark ink on light paper


def test_otsu_splits_a_two_level_picture_between_the_levels():
    rng = np.random.default_rng(0)
    picture = np.where(rng.random((50, 50)) < 0.2, 200, 40) + rng.integers(-10, 10, (50, 50))
    threshold = otsu_threshold(picture.clip(0, 255).astype(np.uint8))
    assert 80 < threshold < 160   # the middle of the gap between 30..49 and 190..209


def test_fit_to_input_crops_the_centre_to_the_aspect_then_resizes():
    wide = np.zeros((100, 300, 3), np.uint8)
    wide[:, :100] = (255, 0, 0)
    wide[:, 100:200] = (0, 255, 0)
    wide[:, 200:] = (0, 0, 255)
    out = fit_to_input(wide, (32, 32))
    assert out.shape == (32, 32, 3)
    assert (out[..., 1] > 240).all() and out[..., 0].max() < 15   # only the green centre is left
    tall = fit_to_input(np.zeros((400, 100), np.uint8), (20, 40))
    assert tall.shape == (20, 40)


# ---------------------------------------------------------------- MNIST's recipe

def test_an_mnist_digit_survives_the_recipe(digits):
    scores = []
    for digit in digits:
        out = centre_digit(digit)
        assert out.shape == (28, 28) and out.dtype == np.uint8
        cy, cx = centre_of_mass(out)
        assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
        assert max(ink_box(out)) <= DIGIT_BOX + 1
        scores.append(similarity(out, digit))
    # Thresholding trims faint edges, so a digit may come back a pixel larger; the shape stays.
    assert min(scores) > 0.75 and np.mean(scores) > 0.9, scores


def test_a_photo_of_a_digit_is_made_to_look_like_mnist(digits):
    scores = []
    for label, digit in enumerate(digits):
        photo = on_paper(digit, seed=label, at=(20 + 10 * label, 30 + 15 * label))
        gray = to_gray(photo)
        out = centre_digit(255 - gray)
        cy, cx = centre_of_mass(out)
        assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75, label
        assert DIGIT_BOX - 2 <= max(ink_box(out)) <= DIGIT_BOX + 1, label
        corners = [out[:3, :3], out[:3, -3:], out[-3:, :3], out[-3:, -3:]]
        assert max(c.max() for c in corners) < 40, "paper must become black background"
        assert (out < 10).mean() > 0.6, "most of the picture is paper, so most of it is black"
        scores.append(similarity(out, centre_digit(digit)))
    assert min(scores) > 0.75 and np.mean(scores) > 0.9, scores


def test_uneven_lighting_is_not_taken_for_ink(digits):
    """A page lit from the left: paper 240 on one side, 140 on the other."""
    photo = to_gray(on_paper(digits[7], at=(60, 110))).astype(np.float64)
    photo *= np.linspace(1.13, 0.66, photo.shape[1])[None, :]
    gray = photo.clip(0, 255).astype(np.uint8)
    assert looks_dark_on_light(gray)
    out = centre_digit(255 - gray)
    reference = centre_digit(digits[7])
    assert similarity(out, reference) > 0.85
    background = out[reference == 0]
    assert np.median(background) < 10 and np.percentile(background, 95) < 60   # no grey box around the digit


def test_the_aspect_ratio_is_kept():
    tall_bar = np.zeros((300, 300), np.uint8)
    tall_bar[50:250, 140:160] = 255            # 200 x 20: a '1'
    out = centre_digit(tall_bar)
    height, width = ink_box(out, level=100)
    assert height == DIGIT_BOX
    assert width <= 4


def test_a_blank_picture_gives_a_black_digit():
    assert centre_digit(np.full((50, 80), 30, np.uint8)).max() == 0
    assert centre_digit(np.zeros((28, 28), np.uint8)).max() == 0


# ---------------------------------------------------------------- the whole path

def test_a_photo_goes_through_prepare_batch_exactly():
    photo = decode_image(RESOURCES / "images" / "chelsea.png")
    mean, std = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
    prepared = prepare_input(photo, (3, 32, 32), mean, std)
    expected = prepare_batch(torch.from_numpy(fit_to_input(photo, (32, 32)).transpose(2, 0, 1).copy())[None],
                             (3, 32, 32), mean, std)
    assert prepared.tensor.shape == (1, 3, 32, 32) and prepared.tensor.dtype == torch.float32
    assert torch.equal(prepared.tensor, expected)
    assert np.array_equal(prepared.display, denormalize(expected, mean, std)[0])
    assert not prepared.inverted and not prepared.centred


def test_gray_pictures_feed_rgb_models_and_colour_feeds_gray_models():
    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    assert prepare_input(gray, (3, 40, 40), (0.5,) * 3, (0.5,) * 3).tensor.shape == (1, 3, 40, 40)
    colour = decode_image(RESOURCES / "images" / "coffee.png")
    out = prepare_input(colour, (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=False)
    assert out.tensor.shape == (1, 1, 28, 28) and out.display.shape == (28, 28)


def test_digit_models_get_polarity_and_centring(digits):
    photo = on_paper(digits[7])
    auto = prepare_input(photo, (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=True)
    assert auto.inverted and auto.centred
    assert auto.display.shape == (28, 28)
    assert auto.display[0].max() < 40                        # black background like MNIST
    forced = prepare_input(photo, (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=True, invert=False)
    assert not forced.inverted
    plain = prepare_input(photo, (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=True, centre=False)
    assert plain.inverted and not plain.centred
    mnist_itself = prepare_input(digits[7], (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=True)
    assert not mnist_itself.inverted


def test_model_input_reads_the_loaded_models_shape_and_stats(digits):
    class Loaded:
        classes = [str(i) for i in range(10)]
        input_shape = (1, 32, 32)
        mean, std = MNIST_MEAN, MNIST_STD

    x = model_input(on_paper(digits[2]), Loaded())
    assert x.shape == (1, 1, 32, 32)
    pixels = denormalize(x, MNIST_MEAN, MNIST_STD)[0, ..., 0]
    assert pixels[:2].max() < 40                             # inverted and centred: dark border


def test_a_huge_photo_is_prepared_quickly():
    import time

    big = np.full((3000, 4000), 220, np.uint8)
    big[1000:2200, 1500:1700] = 20
    start = time.perf_counter()
    out = prepare_input(big, (1, 28, 28), MNIST_MEAN, MNIST_STD, digit=True)
    assert time.perf_counter() - start < 2.0
    assert out.inverted and out.display.max() > 200
