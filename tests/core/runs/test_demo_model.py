"""The demo model shipped in models/: small, safe to load, and right about real digits and photos of them."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.data import load_dataset
from studio.core.pixels import prepare_batch
from studio.core.inspect.predict import probabilities
from studio.core.runs.sources import checkpoint_source, demo_sources, load_source, run_sources
from studio.core.paths import DEMO_MODELS
from studio.core.inspect.preprocess import is_digit_model, model_input, prepare_input
from studio.core.runs import load_checkpoint, write_json, write_status

DEMO = DEMO_MODELS / "lenet5-mnist-sample.pt"
CARD = DEMO.with_suffix(".md")


@pytest.fixture(scope="module")
def loaded():
    return load_checkpoint(DEMO)


@pytest.fixture(scope="module")
def mnist_test_split():
    return load_dataset("mnist-sample").test


def handwritten_on_paper(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit made to look like a photo of a page: dark ink, light paper, off-centre, noisy."""
    side = int(rng.integers(70, 160))
    ink = np.asarray(Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BICUBIC), np.float64)
    height, width = int(side * rng.uniform(1.4, 2.4)), int(side * rng.uniform(1.4, 2.4))
    paper = rng.uniform(185, 235)
    page = np.full((height, width), paper)
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    page[top:top + side, left:left + side] = ink / 255 * paper     # ink darkens the paper under it
    page += rng.normal(0, 8, page.shape)
    gray = page.clip(0, 255).astype(np.uint8)
    return np.stack([gray, gray, (gray * 0.96).astype(np.uint8)], axis=-1)  # a slightly warm white balance


def test_the_demo_model_is_small_and_has_a_card():
    assert DEMO.is_file(), "models/lenet5-mnist-sample.pt must ship with the studio"
    assert DEMO.stat().st_size < 1024 * 1024
    card = CARD.read_text(encoding="utf-8")
    assert "cnn-studio train --dataset mnist-sample --model lenet5" in card
    assert re.search(r"--epochs \d+", card) and "--seed 0" in card
    assert re.search(r"Test accuracy.*\d+\.\d %", card)
    sources = demo_sources()
    assert any(s.path == DEMO and s.title == "Demo: LeNet-5 on the MNIST sample" for s in sources)


def test_the_demo_model_loads_weights_only_as_a_digit_model(loaded):
    assert loaded.model_name == "lenet5"
    assert loaded.classes == [str(i) for i in range(10)]
    assert tuple(loaded.input_shape) == (1, 28, 28)
    assert is_digit_model(loaded.classes, loaded.input_shape)
    assert not loaded.model.training
    again = load_source(demo_sources()[0])
    assert again.model_name == "lenet5"


def test_the_card_states_the_accuracy_the_model_has(loaded, mnist_test_split):
    x = prepare_batch(mnist_test_split.images, loaded.input_shape, loaded.mean, loaded.std)
    predicted = probabilities(loaded.model, x).argmax(axis=1)
    accuracy = float((predicted == mnist_test_split.labels.numpy()).mean())
    assert accuracy >= 0.95
    stated = float(re.search(r"Test accuracy \| \*\*(\d+\.\d) %", CARD.read_text(encoding="utf-8")).group(1))
    assert abs(100 * accuracy - stated) < 0.05


def test_a_photo_of_a_handwritten_digit_is_read_after_preprocessing(loaded, mnist_test_split):
    """Take test digits, write them dark-on-light on a bigger noisy page, off-centre; the recipe makes them MNIST."""
    rng = np.random.default_rng(7)
    picks = [int(np.flatnonzero(mnist_test_split.labels.numpy() == d)[k]) for d in range(10) for k in range(3)]
    photos = [handwritten_on_paper(mnist_test_split.images[i, 0].numpy(), rng) for i in picks]
    labels = mnist_test_split.labels.numpy()[picks]

    prepared = [prepare_input(p, loaded.input_shape, loaded.mean, loaded.std, digit=True) for p in photos]
    assert all(p.inverted and p.centred for p in prepared)      # polarity detected, digit centred
    guesses = probabilities(loaded.model, torch.cat([p.tensor for p in prepared])).argmax(axis=1)
    assert (guesses == labels).mean() >= 0.95

    # model_input (what the CLI uses) decides the digit recipe from the model's classes.
    one = photos[0]
    assert torch.equal(model_input(one, loaded), prepared[0].tensor)

    # Without the preprocessing, the same photos are mostly misread: it is the recipe that works.
    raw = [prepare_input(p, loaded.input_shape, loaded.mean, loaded.std, invert=False, centre=False).tensor
           for p in photos]
    raw_guesses = probabilities(loaded.model, torch.cat(raw)).argmax(axis=1)
    assert (raw_guesses == labels).mean() < 0.5


def test_saved_runs_and_files_are_model_sources(tmp_path):
    runs = tmp_path / "runs"
    run = runs / "20260101-120000-lenet5-mnist-sample"
    (run / "checkpoints").mkdir(parents=True)
    shutil.copy(DEMO, run / "checkpoints" / "best.pt")
    write_json(run / "config.json", {"model": "lenet5", "dataset": "mnist-sample"})
    write_status(run, "done", epochs_done=15, best_test_acc=0.984)
    (runs / "20260101-130000-no-checkpoint").mkdir()
    write_json(runs / "20260101-130000-no-checkpoint" / "config.json", {"model": "lenet5"})
    (runs / "holiday photos").mkdir()
    sources = run_sources(runs)
    assert [s.title for s in sources] == ["Run: 20260101-120000-lenet5-mnist-sample, test 98.4%"]
    assert load_source(sources[0]).classes == [str(i) for i in range(10)]
    as_file = checkpoint_source(run / "checkpoints" / "best.pt")
    assert as_file.title == "File: best.pt" and load_source(as_file).model_name == "lenet5"
