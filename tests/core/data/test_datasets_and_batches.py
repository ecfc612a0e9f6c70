"""The bundled MNIST sample, prepare_batch/denormalize, augmentation, BatchLoader, folder datasets."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.config.train_config import AugmentConfig
from studio.core.data import DatasetBundle, Split, list_datasets, load_dataset
from studio.core.data.augment import build_augment
from studio.core.data.batches import BatchLoader
from studio.core.data.split import stratified_split
from studio.core.pixels import denormalize, prepare_batch
from studio.core.errors import DatasetError, StudioError


@pytest.fixture(scope="module")
def sample() -> DatasetBundle:
    return load_dataset("mnist-sample")


# ----------------------------------------------------------------------------- bundled sample

def test_mnist_sample_split_and_stats(sample):
    assert sample.name == "mnist-sample" and sample.classes == [str(d) for d in range(10)]
    assert len(sample.train) == 4500 and len(sample.test) == 500
    assert sample.train.class_counts(10) == [450] * 10
    assert sample.test.class_counts(10) == [50] * 10
    assert sample.input_shape == (1, 28, 28)
    assert sample.train.images.dtype == torch.uint8 and sample.train.labels.dtype == torch.int64
    assert 0.12 < sample.mean[0] < 0.14 and 0.29 < sample.std[0] < 0.32
    assert len(sample.mean) == len(sample.std) == 1
    assert "LeCun" in sample.source and "CC BY-SA" in sample.source
    assert sample.skipped == []
    # real digits: mostly black background, bright strokes
    assert sample.train.images.float().mean() / 255 == pytest.approx(sample.mean[0], abs=1e-4)
    train_rows = {bytes(img.numpy()) for img in sample.train.images[:200]}
    assert not train_rows & {bytes(img.numpy()) for img in sample.test.images}


def test_mnist_sample_is_fresh_each_call(sample):
    first = load_dataset("mnist-sample")
    first.train.images.zero_()
    first.train.labels.fill_(3)
    second = load_dataset("mnist-sample")
    assert second.train.images.float().mean() > 20
    assert torch.equal(second.train.labels, sample.train.labels)


def test_list_and_unknown_datasets():
    names = [info.name for info in list_datasets()]
    assert names == ["mnist-sample", "cifar10-sample", "mnist", "fashion-mnist", "cifar10", "cifar100"]
    assert [info.offline for info in list_datasets()] == [True, True, False, False, False, False]
    with pytest.raises(DatasetError, match="Unknown dataset"):
        load_dataset("imagenet-22k")
    with pytest.raises(DatasetError, match="needs a path"):
        load_dataset("folder:")


def test_stratified_split_is_fixed_and_balanced():
    labels = np.repeat(np.arange(3), [10, 5, 1])
    train, test = stratified_split(labels, test_fraction=0.2, seed=7)
    assert np.bincount(labels[test], minlength=3).tolist() == [2, 1, 0]
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(16))
    again = stratified_split(labels, test_fraction=0.2, seed=7)
    assert np.array_equal(test, again[1])


# ----------------------------------------------------------------------------- prepare_batch

def test_prepare_batch_normalises_uint8():
    images = torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1).expand(2, 1, 4, 4).contiguous()
    x = prepare_batch(images, (1, 4, 4), (0.5,), (0.25,))
    assert x.dtype == torch.float32 and x.shape == (2, 1, 4, 4)
    assert torch.allclose(x[0], torch.full((1, 4, 4), -2.0)) and torch.allclose(x[1], torch.full((1, 4, 4), 2.0))


def test_prepare_batch_adapts_channels_and_size(sample):
    gray = sample.test.images[:8]
    x = prepare_batch(gray, (3, 32, 32), sample.mean, sample.std)
    assert x.shape == (8, 3, 32, 32)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 1], x[:, 2])
    rgb = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    rgb[0, 0] = 255  # pure red
    y = prepare_batch(rgb, (1, 2, 2), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert y.shape == (1, 1, 2, 2) and torch.allclose(y, torch.full_like(y, 0.299))
    # 3-channel stats applied to 1-channel input: luma-weighted
    z = prepare_batch(rgb, (1, 2, 2), (0.1, 0.2, 0.3), (1.0, 1.0, 1.0))
    assert torch.allclose(z, torch.full_like(z, 0.299 - (0.299 * 0.1 + 0.587 * 0.2 + 0.114 * 0.3)))
    big = prepare_batch(gray, (1, 227, 227), sample.mean, sample.std)
    assert big.shape == (8, 1, 227, 227)
    small = prepare_batch(gray, (1, 9, 9), sample.mean, sample.std) * sample.std[0] + sample.mean[0]
    pixels = gray.float() / 255
    smooth = torch.nn.functional.interpolate(pixels, size=(9, 9), mode="bilinear", antialias=True)
    aliased = torch.nn.functional.interpolate(pixels, size=(9, 9), mode="bilinear", antialias=False)
    assert torch.allclose(small, smooth, atol=1e-5) and not torch.allclose(small, aliased, atol=1e-2)


def test_prepare_batch_leaves_float_input_alone():
    x = torch.rand(4, 3, 8, 8)
    before = x.clone()
    out = prepare_batch(x, (3, 8, 8), (0.5, 0.5, 0.5), (0.2, 0.2, 0.2))
    assert torch.equal(x, before)
    assert torch.allclose(out, (before - 0.5) / 0.2, atol=1e-5)
    with pytest.raises(ValueError):
        prepare_batch(torch.zeros(2, 4, 8, 8, dtype=torch.uint8), (3, 8, 8), (0.5,), (0.2,))


def test_denormalize_inverts_prepare_batch(sample):
    images = sample.test.images[:5]
    x = prepare_batch(images, (1, 28, 28), sample.mean, sample.std)
    back = denormalize(x, sample.mean, sample.std)
    assert back.shape == (5, 28, 28, 1) and back.dtype == np.uint8
    assert np.abs(back[..., 0].astype(int) - images[:, 0].numpy().astype(int)).max() <= 1
    assert denormalize(x[0], sample.mean, sample.std).shape == (28, 28, 1)


# ----------------------------------------------------------------------------- augmentation

def test_build_augment_none_when_off_and_validates():
    assert build_augment(AugmentConfig()) is None
    assert build_augment(None) is None
    with pytest.raises(StudioError, match="rotation"):
        build_augment(AugmentConfig(rotation=500))


ALL_ON = AugmentConfig(hflip=True, crop_padding=4, rotation=15, scale=0.1, translate=0.1, color_jitter=0.3,
                       noise_std=0.05)


@pytest.mark.parametrize("shape", [(16, 1, 28, 28), (16, 3, 32, 32), (4, 3, 20, 36)])
def test_augment_keeps_shape_dtype_and_input(shape):
    x = torch.rand(shape)
    before = x.clone()
    out = build_augment(ALL_ON)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert torch.equal(x, before) and not torch.equal(out, x)
    assert torch.isfinite(out).all()


def test_augment_is_reproducible_with_a_generator():
    x = torch.rand(8, 3, 32, 32)
    aug = build_augment(ALL_ON)
    a = aug(x, torch.Generator().manual_seed(1))
    b = aug(x, torch.Generator().manual_seed(1))
    c = aug(x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_flip_is_drawn_per_sample():
    x = torch.rand(1, 1, 6, 6).expand(64, 1, 6, 6).contiguous()
    out = build_augment(AugmentConfig(hflip=True))(x, torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(o, x[0].flip(2)) for o in out])
    kept = torch.tensor([torch.equal(o, x[0]) for o in out])
    assert (flipped | kept).all() and 10 < int(flipped.sum()) < 54


def test_crop_shifts_each_sample_by_whole_pixels():
    image = torch.arange(1, 65, dtype=torch.float32).view(1, 1, 8, 8) / 64
    x = image.expand(32, 1, 8, 8).contiguous()
    out = build_augment(AugmentConfig(crop_padding=2))(x, torch.Generator().manual_seed(3))
    padded = torch.nn.functional.pad(image, (2, 2, 2, 2))[0, 0]
    offsets = set()
    for sample_out in out[:, 0]:
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(sample_out, padded[dy:dy + 8, dx:dx + 8])]
        assert len(matches) == 1  # an exact window of the zero-padded image
        offsets.add(matches[0])
    assert len(offsets) > 5


def test_affine_and_jitter_params_differ_per_sample():
    x = torch.rand(1, 3, 16, 16).expand(8, 3, 16, 16).contiguous()
    for cfg in (AugmentConfig(rotation=30), AugmentConfig(scale=0.2), AugmentConfig(translate=0.2),
                AugmentConfig(color_jitter=0.5)):
        out = build_augment(cfg)(x, torch.Generator().manual_seed(0))
        assert len({round(float(o.sum()), 3) for o in out}) == 8, cfg
        assert out.min() >= 0 and out.max() <= 1


def test_affine_with_tiny_range_is_nearly_identity():
    x = torch.rand(4, 1, 12, 12)
    out = build_augment(AugmentConfig(rotation=1e-4))(x, torch.Generator().manual_seed(0))
    assert torch.allclose(out, x, atol=1e-3)


class FixedDraw:
    """Stands in for the random draws: hands out the given values in order."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, n, low, high):
        return torch.full((n,), self.values.pop(0))


def test_affine_geometry_is_exact():
    from studio.core.data.augment import _random_affine

    square = torch.rand(1, 1, 8, 8)
    turned = _random_affine(square, 90, 0, 0, FixedDraw(90.0, 1.0, 0.0, 0.0))  # angle, zoom, tx, ty
    assert torch.allclose(turned, torch.rot90(square, -1, (2, 3)), atol=1e-5)
    wide = torch.rand(1, 1, 4, 8)  # a rotation, not a shear, on a non-square image
    turned = _random_affine(wide, 90, 0, 0, FixedDraw(90.0, 1.0, 0.0, 0.0))
    assert torch.allclose(turned[..., 2:6], torch.rot90(wide[..., 2:6], -1, (2, 3)), atol=1e-5)
    shifted = _random_affine(square, 0, 0, 0.3, FixedDraw(0.0, 1.0, 0.25, 0.0))  # a quarter of 8 = 2 px
    assert torch.allclose(shifted[..., 2:], square[..., :-2], atol=1e-5) and shifted[..., :2].abs().max() == 0


def test_noise_std_is_in_normalised_units_when_std_given():
    x = torch.full((32, 1, 32, 32), 0.5)
    out = build_augment(AugmentConfig(noise_std=0.5), std=(0.2,))(x, torch.Generator().manual_seed(0))
    assert (out - x).std().item() == pytest.approx(0.1, rel=0.05)


def test_augment_speed():
    """Every augmentation on at once stays a few ms per batch (best of 10, one thread: the
    machine running the tests may be busy)."""
    aug = build_augment(ALL_ON)
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for shape in ((64, 1, 28, 28), (64, 3, 32, 32)):
            x = torch.rand(shape)
            best = float("inf")
            for _ in range(10):
                start = time.perf_counter()
                aug(x, gen)
                best = min(best, time.perf_counter() - start)
            assert best < 0.05, f"{shape}: {best * 1000:.1f} ms per batch"
    finally:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- BatchLoader

def make_loader(sample, **kwargs) -> BatchLoader:
    options = dict(shuffle=True, seed=0, input_shape=sample.input_shape, mean=sample.mean, std=sample.std)
    options.update(kwargs)
    return BatchLoader(sample.train, 64, **options)


def test_batch_loader_shapes_and_normalised_values(sample):
    loader = make_loader(sample)
    assert len(loader) == 71  # ceil(4500 / 64)
    batches = list(loader)
    assert len(batches) == 71
    x, y = batches[0]
    assert x.shape == (64, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (64,) and y.dtype == torch.int64
    assert batches[-1][0].shape[0] == 4500 - 70 * 64
    everything = torch.cat([b[0] for b in batches])
    assert abs(everything.mean().item()) < 0.01 and abs(everything.std().item() - 1) < 0.01
    labels = torch.cat([b[1] for b in batches])
    assert sorted(labels.tolist()) == sorted(sample.train.labels.tolist())


def test_batch_loader_is_reproducible_and_reshuffles_per_epoch(sample):
    first = [y for _, y in make_loader(sample, seed=5)]
    again = [y for _, y in make_loader(sample, seed=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    loader = make_loader(sample, seed=5)
    loader.set_epoch(1)
    assert not torch.equal(next(iter(loader))[1], first[0])
    ordered = BatchLoader(sample.test, 100, shuffle=False, input_shape=(1, 28, 28), mean=sample.mean,
                          std=sample.std)
    assert torch.equal(torch.cat([y for _, y in ordered]), sample.test.labels)


def test_batch_loader_augments_reproducibly(sample):
    plain = next(iter(make_loader(sample)))[0]
    aug_a = next(iter(make_loader(sample, augment=ALL_ON)))[0]
    aug_b = next(iter(make_loader(sample, augment=ALL_ON)))[0]
    assert torch.equal(aug_a, aug_b) and not torch.equal(aug_a, plain)
    assert build_augment(AugmentConfig()) is None and make_loader(sample, augment=AugmentConfig()).augment is None


def test_batch_loader_model_shape_channels_last_and_drop_last(sample):
    loader = BatchLoader(sample.test, 64, shuffle=True, input_shape=(3, 32, 32), mean=sample.mean,
                         std=sample.std, channels_last=True, drop_last=True)
    assert len(loader) == 7  # 500 // 64
    x, _ = next(iter(loader))
    assert x.shape == (64, 3, 32, 32) and x.is_contiguous(memory_format=torch.channels_last)
    assert sum(1 for _ in loader) == 7


def test_split_validates_its_tensors():
    with pytest.raises(ValueError):
        Split(torch.zeros(2, 1, 4, 4), torch.zeros(2, dtype=torch.int64))
    with pytest.raises(ValueError):
        Split(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64))


# ----------------------------------------------------------------------------- folder datasets

def write_image(path, size=(40, 30), colour=(200, 40, 40), mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    value = colour if mode == "RGB" else colour[0]
    Image.new(mode, size, value).save(path)


def test_folder_dataset_with_a_corrupt_file(tmp_path):
    for i in range(5):
        write_image(tmp_path / "cats" / f"cat{i}.png", colour=(200, 40 + i, 40))
        write_image(tmp_path / "dogs" / f"dog{i}.jpg", size=(30, 60), colour=(40, 40, 200 + i))
    (tmp_path / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "dogs" / "empty.png").write_bytes(b"")
    (tmp_path / "cats" / ".DS_Store").write_bytes(b"\0\0junk")  # hidden files are ignored
    progress = []
    bundle = load_dataset(f"folder:{tmp_path}", image_size=16, progress=lambda d, t: progress.append((d, t)))
    assert bundle.classes == ["cats", "dogs"]
    assert sorted(bundle.skipped) == [(str(tmp_path / "dogs" / "broken.jpg"), "truncated"),
                                      (str(tmp_path / "dogs" / "empty.png"), "empty")]
    assert len(bundle.train) == 8 and len(bundle.test) == 2
    assert bundle.test.class_counts(2) == [1, 1]
    assert bundle.input_shape == (3, 16, 16)
    assert progress[-1] == (12, 12)
    cat = bundle.train.images[bundle.train.labels == 0][0]
    assert cat[0].float().mean() > 190 and cat[2].float().mean() < 50  # RGB order kept
    assert len(bundle.mean) == 3 and bundle.std[0] > 0


def test_folder_dataset_grayscale_and_train_test_layout(tmp_path):
    for split, count in (("train", 3), ("val", 1)):
        for name, value in (("zeros", 10), ("ones", 240)):
            for i in range(count):
                write_image(tmp_path / split / name / f"{i}.png", size=(64, 32), colour=(value,), mode="L")
    bundle = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert bundle.classes == ["ones", "zeros"]
    assert bundle.input_shape == (1, 8, 8)  # every image grayscale
    assert len(bundle.train) == 6 and len(bundle.test) == 2
    assert bundle.mean[0] == pytest.approx((10 + 240) / 2 / 255, abs=1e-3)


def test_folder_dataset_mixed_gray_and_colour_is_rgb(tmp_path):
    """Also: a train/ folder without test/ is split 80/20 by itself."""
    write_image(tmp_path / "train" / "a" / "1.png", mode="L", colour=(100,))
    write_image(tmp_path / "train" / "a" / "2.png", mode="L", colour=(100,))
    write_image(tmp_path / "train" / "b" / "1.png", colour=(1, 2, 3))
    write_image(tmp_path / "train" / "b" / "2.png", colour=(1, 2, 3))
    bundle = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert bundle.input_shape == (3, 8, 8) and bundle.classes == ["a", "b"]
    assert len(bundle.train) == 2 and len(bundle.test) == 2
    gray = bundle.train.images[bundle.train.labels == 0][0]
    assert (gray == 100).all()  # a gray image repeated into R, G and B


def test_folder_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'missing'}")
    with pytest.raises(DatasetError, match="no class subfolders"):
        load_dataset(f"folder:{tmp_path}")
    write_image(tmp_path / "only" / "1.png")
    with pytest.raises(DatasetError, match="at least 2"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "bad.png").write_text("not an image")
    with pytest.raises(DatasetError, match="other") as info:
        load_dataset(f"folder:{tmp_path}")
    assert "no usable image" in str(info.value)


def test_folder_dataset_of_real_photos(tmp_path):
    import shutil

    from studio.core.paths import RESOURCES

    photos = RESOURCES / "images"
    for cls, names in (("indoor", ["chelsea.png", "coffee.png"]), ("outdoor", ["rocket.jpg", "horse.png",
                                                                                "astronaut.png"])):
        (tmp_path / cls).mkdir()
        for name in names:
            shutil.copy(photos / name, tmp_path / cls / name)
    bundle = load_dataset(f"folder:{tmp_path}", image_size=32)
    assert bundle.input_shape == (3, 32, 32) and len(bundle.train) + len(bundle.test) == 5
    assert bundle.test.class_counts(2) == [1, 1] and bundle.skipped == []
    assert all(0.05 < m < 0.95 for m in bundle.mean) and all(s > 0.05 for s in bundle.std)
