"""The Predict tab's background work, as plain functions (no Qt: they run in worker threads).

Two passes: `predict_items` gives each input its top-k (decoded, prepared and batched, fast
enough for a folder of thousands); `explain_item` gives one selected input everything the
detail view shows (original, network input, probabilities, Grad-CAM). A file that cannot be
used becomes a result with its reason, never an exception.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.core.errors import ImageDecodeError, StudioError
from studio.core.images import decode_image
from studio.core.inspect.preprocess import is_digit_model, prepare_input

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
                  ".tga", ".ico", ".qoi", ".avif", ".dib"}
MAX_FILES = 10_000        # per drop: more would only fill memory with rows nobody reads
ORIGINAL_SIDE = 640       # the original is kept at most this large for display


@dataclass
class InputItem:
    """A file, or pasted image bytes, waiting to be predicted."""

    name: str
    path: str | None = None
    data: bytes | None = None
    invert: bool | None = None      # the user's polarity choice; None: detect it

    @property
    def source(self):
        return self.path if self.path is not None else self.data


@dataclass
class Settings:
    """How inputs are prepared: fixed for one pass over the model."""

    digit: bool
    centre: bool = True
    k: int = 5


@dataclass
class ItemResult:
    topk: list[tuple[str, float]] = field(default_factory=list)
    size: tuple[int, int] | None = None      # (width, height) of the decoded image
    inverted: bool = False
    error: str = ""                          # the reason tag ("truncated") when the file can't be used
    message: str = ""                        # the readable explanation

    @property
    def label(self) -> str:
        return self.topk[0][0] if self.topk else ""

    @property
    def confidence(self) -> float:
        return self.topk[0][1] if self.topk else float("nan")


@dataclass
class Detail:
    original: np.ndarray | None
    network: np.ndarray | None               # what the model sees, de-normalised
    topk: list[tuple[str, float]]
    cam: np.ndarray | None                   # Grad-CAM (H, W) 0..1 at the network input size
    cam_note: str = ""
    inverted: bool = False
    centred: bool = False
    error: str = ""
    message: str = ""
    size: tuple[int, int] | None = None      # (width, height) of the decoded original


# ---------------------------------------------------------------- inputs

def expand_paths(paths, limit: int = MAX_FILES) -> tuple[list[InputItem], str]:
    """Dropped files and folders -> items (folders: their images, recursively, sorted).

    Files named explicitly are all tried, so a mislabelled file shows its reason; inside a
    folder only image-like names are taken, so a README does not become an error row.
    """
    items: list[InputItem] = []
    note = ""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk_images(path):
                items.append(InputItem(name=str(file.relative_to(path.parent)), path=str(file)))
                if len(items) >= limit:
                    break
        else:
            items.append(InputItem(name=path.name, path=str(path)))
        if len(items) >= limit:
            note = f"Only the first {limit:,} files were taken."
            break
    return items[:limit], note


def _walk_images(folder: Path):
    for root, dirs, files in os.walk(folder, onerror=lambda err: None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES:
                yield Path(root) / name


def decode(item: InputItem):
    """decode_image, after making sure a path is a plain file: opening a named pipe or a
    device would block the worker (and every job queued behind it) forever."""
    if item.path is not None:
        path = Path(item.path)
        if path.exists() and not path.is_file() and not path.is_dir():
            raise ImageDecodeError(f"{path.name} is not a regular file (a pipe, socket or device).",
                                   "unreadable", str(path))
    return decode_image(item.source)


# ---------------------------------------------------------------- model

def private_copy(loaded):
    """A copy of a LoadedModel whose network no other tab touches (their hooks stay theirs)."""
    from studio.core.models import build_model

    try:
        model = build_model(loaded.model_name, tuple(loaded.input_shape), len(loaded.classes),
                            loaded.model_options or {})
        model.load_state_dict(loaded.model.state_dict())
    except (StudioError, RuntimeError, KeyError, TypeError):
        model = copy.deepcopy(loaded.model)
        for module in model.modules():
            module._forward_hooks.clear()
            module._forward_pre_hooks.clear()
            module._backward_hooks.clear()
    model.eval()
    return dataclasses.replace(loaded, model=model)


def settings_for(loaded, *, centre: bool = True) -> Settings:
    classes = len(loaded.classes)
    return Settings(digit=is_digit_model(loaded.classes, loaded.input_shape), centre=centre,
                    k=classes if classes <= 10 else 5)


# ---------------------------------------------------------------- pass 1: top-k for many

def predict_items(loaded, items: list[InputItem], settings: Settings, should_stop=lambda: False,
                  batch_size: int = 32) -> list[ItemResult]:
    """Top-k of every item (in order); a bad file gets its reason instead."""
    results = [ItemResult() for _ in items]
    pending: list[tuple[int, torch.Tensor]] = []
    for i, item in enumerate(items):
        if should_stop():
            break
        try:
            image = decode(item)
        except ImageDecodeError as exc:
            results[i] = ItemResult(error=exc.reason, message=str(exc))
            continue
        prepared = _prepare(loaded, image, item, settings)
        results[i].size = (image.shape[1], image.shape[0])
        results[i].inverted = prepared.inverted
        pending.append((i, prepared.tensor))
        if len(pending) >= batch_size:
            _classify(loaded, pending, results, settings.k)
            pending = []
    if pending:
        _classify(loaded, pending, results, settings.k)
    return results


def _prepare(loaded, image, item: InputItem, settings: Settings):
    return prepare_input(image, loaded.input_shape, loaded.mean, loaded.std, digit=settings.digit,
                         invert=item.invert, centre=settings.centre)


def _classify(loaded, pending, results, k: int) -> None:
    from studio.core.inspect.predict import probabilities

    batch = torch.cat([x for _, x in pending])
    probs = np.asarray(probabilities(loaded.model, batch))
    for (i, _), row in zip(pending, probs):
        results[i].topk = _topk(row, loaded.classes, k)


def _topk(row: np.ndarray, classes, k: int) -> list[tuple[str, float]]:
    order = np.argsort(-row, kind="stable")[:k]
    return [(str(classes[j]), float(row[j])) for j in order]


# ---------------------------------------------------------------- pass 2: one, explained

def explain_item(loaded, item: InputItem, settings: Settings, *, saliency: bool = True) -> Detail:
    """Everything the detail view shows for one input."""
    try:
        image = decode(item)
    except ImageDecodeError as exc:
        return Detail(None, None, [], None, error=exc.reason, message=str(exc))
    prepared = _prepare(loaded, image, item, settings)
    from studio.core.inspect.predict import probabilities

    probs = np.asarray(probabilities(loaded.model, prepared.tensor))[0]
    topk = _topk(probs, loaded.classes, settings.k)
    cam, note = (None, "Saliency is switched off.")
    if saliency:
        cam, note = _grad_cam(loaded, prepared.tensor, int(np.argmax(probs)))
    return Detail(original=_small(image), network=prepared.display, topk=topk, cam=cam, cam_note=note,
                  inverted=prepared.inverted, centred=prepared.centred, size=(image.shape[1], image.shape[0]))


def _grad_cam(loaded, x: torch.Tensor, class_idx: int) -> tuple[np.ndarray | None, str]:
    from studio.core.inspect.saliency import grad_cam

    try:
        cam = grad_cam(loaded.model, x, class_idx=class_idx)
    except (StudioError, RuntimeError, ValueError, TypeError) as exc:
        return None, f"No Grad-CAM for this model: {exc}"
    return np.asarray(cam, dtype=np.float32), f"Grad-CAM for '{loaded.classes[class_idx]}'"


def _small(image: np.ndarray) -> np.ndarray:
    """The original, shrunk for display so a 50-megapixel photo does not travel to the GUI."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = ORIGINAL_SIDE / max(h, w)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


# ---------------------------------------------------------------- export

def write_csv(path: Path, rows) -> None:
    """rows: (name, ItemResult) pairs -> file, prediction, confidence, error, message."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "prediction", "confidence", "error", "message"])
        for name, result in rows:
            confidence = "" if result.error or not result.topk else f"{result.confidence:.6f}"
            writer.writerow([name, result.label, confidence, result.error, result.message])
