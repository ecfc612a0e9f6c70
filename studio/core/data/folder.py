"""Datasets from a folder of images, one subfolder per class (torchvision ImageFolder layout).

    PATH/cat/*.jpg, PATH/dog/*.png          -> stratified 80/20 split, fixed seed
    PATH/train/cat/..., PATH/test/cat/...   -> the given split ("val" works as "test";
                                               train/ alone gets the 80/20 split)

Every file is decoded once with decode_image; files that cannot be used are listed in
bundle.skipped as (path, reason) and left out, never a crash. Images are resized (shorter
side to image_size, centre crop) into one preloaded uint8 tensor, grayscale when every
image is grayscale.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.core.data.bundle import DatasetBundle, Split
from studio.core.data.fixes import apply_fixes, read_fixes
from studio.core.data.split import stratified_split
from studio.core.data.stats import channel_stats
from studio.core.errors import DatasetError, ImageDecodeError
from studio.core.images import decode_image

PREFIX = "folder:"
TEST_FRACTION = 0.2
SPLIT_SEED = 0
_TEST_NAMES = ("test", "val", "valid", "validation")
_JUNK = {"thumbs.db", "desktop.ini", "__macosx"}

Progress = Callable[[int, int], None] | None
Labelled = list[tuple[Path, int]]


def load_folder(path: str | os.PathLike, *, image_size: int = 64, progress: Progress = None,
                fixes: str | os.PathLike | None = None) -> DatasetBundle:
    """`fixes`: a data-fixes file (core/data/fixes.py) whose exclusions and relabels are applied after the
    train/test split is drawn on the folder's own labels, so the test images stay the same ones."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"The dataset folder {root} does not exist or is not a folder.")
    if image_size < 8:
        raise DatasetError(f"Image size {image_size} is too small (at least 8 pixels).")
    marks = read_fixes(fixes) if fixes else None
    train_dir, test_dir = _split_dirs(root)
    classes = _class_names(train_dir)
    train_files = _files_by_class(train_dir, classes)
    test_files = _files_by_class(test_dir, classes, strict=True) if test_dir else []
    listed = train_files + test_files
    images, labels, kept, skipped = _decode_all(listed, image_size, progress)
    decoded = [str(file) for (file, _), ok in zip(listed, kept) if ok]
    labels = np.asarray(labels, dtype=np.int64)
    n_train = sum(kept[:len(train_files)])
    _check_classes(classes, labels[:n_train], train_dir, skipped)
    if test_dir is None:
        train_idx, test_idx = stratified_split(labels, test_fraction=TEST_FRACTION, seed=SPLIT_SEED)
    else:
        train_idx, test_idx = np.arange(n_train), np.arange(n_train, len(labels))
    if marks is not None:
        train_idx, test_idx, labels = _with_fixes(train_idx, test_idx, labels, decoded, root, classes, marks)
        _check_classes(classes, labels[train_idx], train_dir, skipped)
    if len(test_idx) == 0:
        where = test_dir or root
        raise DatasetError(f"{where} has no usable test images (put at least 2 images in each class folder).")
    stacked = _stack(images)
    train, test = (Split(stacked[idx], torch.from_numpy(labels[idx]), [decoded[i] for i in idx])
                   for idx in (train_idx, test_idx))
    mean, std = channel_stats(train.images)
    applied = marks.summary() if marks is not None else ""
    return DatasetBundle(name=PREFIX + str(root), classes=classes, train=train, test=test, mean=mean, std=std,
                         source=f"Images from {root}" + (f" (data fixes: {applied})" if applied else ""),
                         skipped=skipped, fixes=applied)


def _with_fixes(train_idx, test_idx, labels, decoded, root, classes, marks):
    """The split's indices without the excluded images, and the labels with the relabels applied."""
    kept, new_labels = apply_fixes([(Path(f), int(label)) for f, label in zip(decoded, labels)], root, classes, marks)
    labels = labels.copy()
    labels[kept] = new_labels
    keep = np.zeros(len(labels), dtype=bool)
    keep[kept] = True
    return train_idx[keep[train_idx]], test_idx[keep[test_idx]], labels


# ----------------------------------------------------------------------------- scanning

def _split_dirs(root: Path) -> tuple[Path, Path | None]:
    """(folder of training classes, folder of test classes or None for an 80/20 split)."""
    train = root / "train"
    if not train.is_dir():
        return root, None
    tests = [root / name for name in _TEST_NAMES if (root / name).is_dir()]
    return train, (tests[0] if tests else None)


def _visible(entry: Path) -> bool:
    return not entry.name.startswith(".") and entry.name.lower() not in _JUNK


def _class_names(folder: Path) -> list[str]:
    try:
        names = sorted(e.name for e in folder.iterdir() if e.is_dir() and _visible(e))
    except OSError as exc:
        raise DatasetError(f"The folder {folder} cannot be read ({exc}).") from None
    if not names:
        raise DatasetError(f"{folder} has no class subfolders. Put the images of each class in its own "
                           "subfolder (e.g. cats/ and dogs/).")
    if len(names) < 2:
        raise DatasetError(f"{folder} has only one class subfolder ({names[0]}); a classifier needs at least 2 "
                           "classes.")
    return names


def _files_by_class(folder: Path, classes: list[str], strict: bool = False) -> Labelled:
    """(file, class index), sorted so that the same folder always gives the same dataset."""
    present = sorted(e.name for e in folder.iterdir() if e.is_dir() and _visible(e))
    unknown = [name for name in present if name not in classes]
    if strict and unknown:
        raise DatasetError(f"{folder} has class folders that the training folder lacks: {', '.join(unknown)}.")
    files = []
    for index, name in enumerate(classes):
        for dirpath, dirnames, filenames in os.walk(folder / name):
            dirnames[:] = sorted(d for d in dirnames if _visible(Path(d)))
            files += [(Path(dirpath) / f, index) for f in sorted(filenames) if _visible(Path(f))]
    return files


# ----------------------------------------------------------------------------- decoding

def _decode_all(files: Labelled, size: int, progress: Progress):
    """Decoded images and labels of the usable files, a kept flag per file, and the skipped."""
    images, labels, kept, skipped = [], [], [], []
    for done, (file, label) in enumerate(files, 1):
        try:
            images.append(_fit(decode_image(file, min_side=size), size))
            labels.append(label)
            kept.append(True)
        except ImageDecodeError as exc:
            skipped.append((str(file), exc.reason))
            kept.append(False)
        if progress:
            progress(done, len(files))
    return images, labels, kept, skipped


def _fit(pixels: np.ndarray, size: int) -> np.ndarray:
    """Shorter side to `size` (antialiased), then the centred size x size square."""
    image = Image.fromarray(pixels)
    w, h = image.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    if (new_w, new_h) != (w, h):
        image = image.resize((new_w, new_h), Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def _stack(images: list[np.ndarray]) -> torch.Tensor:
    """N x C x S x S uint8: one channel only if every image is grayscale."""
    if all(image.ndim == 2 for image in images):
        return torch.from_numpy(np.stack(images)[:, None])
    rgb = [np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image for image in images]
    return torch.from_numpy(np.stack(rgb)).permute(0, 3, 1, 2).contiguous()


def _check_classes(classes: list[str], train_labels: np.ndarray, folder: Path, skipped) -> None:
    counts = np.bincount(train_labels, minlength=len(classes))
    empty = [name for name, count in zip(classes, counts) if count == 0]
    if empty:
        detail = f" ({len(skipped)} files could not be decoded)" if skipped else ""
        raise DatasetError(f"The class folder(s) {', '.join(empty)} in {folder} have no usable image{detail}; "
                           "every class needs at least one.")
