"""The one prediction pipeline (studio.core.inspect.pipeline) and the one formula module."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from studio.core.data import load_dataset
from studio.core.images import IMAGE_SUFFIXES, decode_image
from studio.core.inspect import formulas, pipeline
from studio.core.inspect.predict import probabilities, rank_probabilities
from studio.core.inspect.preprocess import network_input
from studio.core.paths import DEMO_MODELS, RESOURCES
from studio.core.runs import load_checkpoint

STUDIO = Path(__file__).resolve().parents[3] / "studio"


@pytest.fixture(scope="module")
def demo():
    return load_checkpoint(min(DEMO_MODELS.glob("*.pt")))


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Three MNIST test digits as PNG files, with their labels."""
    test = load_dataset("mnist-sample").test
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for label in (1, 4, 7):
        i = int(np.flatnonzero(test.labels.numpy() == label)[0])
        path = folder / f"digit{label}.png"
        Image.fromarray(test.images[i, 0].numpy()).save(path)
        files.append((path, str(label)))
    return files


def test_predict_files_is_decode_prepare_run_rank(demo, digits):
    settings = pipeline.settings_for(demo)
    assert settings.digit and settings.k == 10 and settings.centre
    results = pipeline.predict_files(demo, [str(p) for p, _ in digits], settings)
    for (path, label), result in zip(digits, results):
        x = network_input(decode_image(path), demo).tensor            # one image at a time, by hand
        expected = rank_probabilities(probabilities(demo.model, x)[0], demo.classes, 10)
        assert result.label == label and not result.error
        assert [c for c, _ in result.topk] == [c for c, _ in expected]
        np.testing.assert_allclose([p for _, p in result.topk], [p for _, p in expected], atol=1e-6)


def test_a_bad_file_is_a_result_with_its_reason(demo, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_text("not a picture")
    good = min((RESOURCES / "images").glob("*.png"))
    bad, fine = pipeline.predict_files(demo, [str(junk), str(good)], pipeline.settings_for(demo, k=3))
    assert bad.error == "not-an-image" and "junk.png" in bad.message and not bad.topk
    assert len(fine.topk) == 3 and not fine.error


def test_explain_and_attack_prepare_the_input_as_predict_does(demo, digits):
    path, _label = digits[1]
    item = pipeline.InputItem(name=path.name, path=str(path))
    settings = pipeline.settings_for(demo)
    [predicted] = pipeline.predict_items(demo, [item], settings)
    detail = pipeline.explain_item(demo, item, settings)
    assert detail.topk == predicted.topk and detail.cam is not None and detail.cam.shape == (28, 28)
    outcome = pipeline.attack_item(demo, item, settings, 0, eps=0.0, steps=1, target=None)
    assert outcome.result.before == outcome.result.after
    np.testing.assert_allclose([p for _, p in outcome.result.before], [p for _, p in predicted.topk], atol=1e-6)
    np.testing.assert_array_equal(outcome.network, detail.network)


def test_activations_for_a_photo_answer_like_predict(demo, digits):
    path, _label = digits[2]
    result = pipeline.photo_activations(demo, path)
    [predicted] = pipeline.predict_files(demo, [str(path)], pipeline.settings_for(demo))
    assert [c for c, _ in result.prediction] == [c for c, _ in predicted.topk[:3]]
    assert result.source == f"Photo {path.name} (digit centred like MNIST)"
    assert result.input_rgb.shape == (28, 28, 3)


def test_folders_are_walked_for_every_image_suffix(tmp_path):
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    for suffix in sorted(IMAGE_SUFFIXES):
        (folder / f"a{suffix}").write_bytes(b"")
    (folder / "sub" / "b.PNG").write_bytes(b"")
    (folder / "notes.txt").write_text("skipped")
    items, note = pipeline.expand_paths([folder])
    assert len(items) == len(IMAGE_SUFFIXES) + 1 and not note
    assert "drop/sub/b.PNG" in [i.name.replace("\\", "/") for i in items]
    assert {".png", ".jpg", ".webp", ".tiff", ".qoi", ".avif"} <= IMAGE_SUFFIXES


def test_one_definition_each():
    """issue 10: top-k, IMAGE_SUFFIXES and the output-size formula text are each defined once."""
    sources = {p: p.read_text(encoding="utf-8") for p in STUDIO.rglob("*.py")}
    topk = [p for p, text in sources.items() for _ in re.finditer(r"def (topk|_topk)\b", text)]
    suffixes = [p for p, text in sources.items() for _ in re.finditer(r"^IMAGE_SUFFIXES\s*=", text, re.MULTILINE)]
    floors = [p for p, text in sources.items() if "/{s}⌋" in text or "/{stride}⌋" in text]
    assert [p.name for p in topk] == ["predict.py"]
    assert [p.name for p in suffixes] == ["images.py"]
    assert [p.name for p in floors] == ["formulas.py"]


@pytest.mark.parametrize("n, k, p, s, d", [(28, 5, 2, 1, 1), (8, 3, 0, 2, 1), (32, 3, 2, 1, 2), (7, 2, 0, 2, 1)])
def test_size_text_matches_torch(n, k, p, s, d):
    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, stride=s, dilation=d).shape[-1]
    text = formulas.size_text(n, k, p, s, d)
    assert text.endswith(f"= {out}") and formulas.output_size(n, k, p, p, s, d) == out
    assert ("⌊" in text) == ((n - d * (k - 1) - 1 + 2 * p) % s != 0)   # floor brackets only when S does not divide


def test_every_place_writes_the_lecture_formula_the_same_way():
    from types import SimpleNamespace

    from studio.core.lab import conv, kernels

    row = SimpleNamespace(type="Conv2d", input_shape=(1, 1, 28, 28), output_shape=(1, 6, 28, 28),
                          kernel_size=(5, 5), stride=(1, 1), padding=(2, 2), dilation=(1, 1))
    seed_001 = "(28 − 5 + 2·2)/1 + 1 = 28"
    assert formulas.layer_size_text(row) == seed_001                       # the Model tab
    assert conv.output_size_text(28, 5, 2, 1, 1).endswith(seed_001)        # the Lab's convolution
    assert kernels.pool_output_text(28, 2, 2, "H") == "H_out = (28 − 2 + 2·0)/2 + 1 = 14"   # the photo kernels
    assert formulas.receptive_field_text(5) == "5×5" and formulas.receptive_field_text(None) == ""


def test_a_big_jpeg_is_decoded_in_draft_mode_for_prediction(tmp_path):
    """Issue 12: a 6000x4000 photo needs no 72 MB of pixels to answer; draft mode decodes it at 1/2..1/8."""
    import numpy as np
    from PIL import Image

    from studio.core.inspect import pipeline

    big = tmp_path / "big.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (4000, 6000, 3), dtype=np.uint8)).save(big, quality=70)
    pixels = pipeline.decode(pipeline.InputItem(name=big.name, path=str(big)))
    assert min(pixels.shape[:2]) >= pipeline.DECODE_SIDE
    assert pixels.shape[0] * pixels.shape[1] <= (4000 * 6000) // 4
