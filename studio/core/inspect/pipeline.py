"""The one prediction pipeline: files -> what the network answers, why, and what fools it.

Every caller (the CLI's predict and attack, the Predict tab, its Adversarial panel, the
Activations tab) goes through here, so a file gives the same answer everywhere:

    decode (core/images.decode_image) -> network input (preprocess.network_input: the digit
    recipe for digit models) -> run the model -> rank (predict.rank_probabilities)

Functions take a loaded model: any object with `model`, `classes`, `input_shape`, `mean` and
`std` (studio.core.runs.LoadedModel is one; this package does not import runs). A file that
cannot be used becomes a result with its reason, never an exception. No Qt: the GUI calls these
from its worker threads.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from studio.core.errors import ImageDecodeError, StudioError
from studio.core.images import IMAGE_SUFFIXES, decode_image
from studio.core.inspect.predict import probabilities, rank_probabilities
from studio.core.inspect.preprocess import NetworkInput, is_digit_model, network_input

MAX_FILES = 10_000        # per drop: more would only fill memory with rows nobody reads
ORIGINAL_SIDE = 640       # the original is kept at most this large for display

# A big JPEG is decoded in draft mode (libjpeg's 1/2, 1/4, 1/8 scaling) to about this shorter side: far more
# than any model here takes (224 px) and than the views show, at a fraction of the memory and time.
DECODE_SIDE = 1024


class ModelLike(Protocol):
    """What the pipeline needs of a loaded model (studio.core.runs.LoadedModel has it)."""

    model: torch.nn.Module
    classes: Sequence[str]
    input_shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]


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
    cam_method: str = "gradcam"             # a key of cams.METHODS: how the detail view explains the answer
    cam_layer: str | None = None            # the layer its map is taken at (None: cams' default)


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
    cam: np.ndarray | None                   # the explanation (H, W) 0..1 at the network input size
    cam_note: str = ""
    inverted: bool = False
    centred: bool = False
    error: str = ""
    message: str = ""
    size: tuple[int, int] | None = None      # (width, height) of the decoded original


def settings_for(loaded: ModelLike, *, centre: bool = True, k: int | None = None,
                 digit: bool | None = None) -> Settings:
    """The default preparation for a model: the digit recipe for digit models; every class up to ten."""
    classes = len(loaded.classes)
    if k is None:
        k = classes if classes <= 10 else 5
    if digit is None:
        digit = is_digit_model(loaded.classes, loaded.input_shape)
    return Settings(digit=bool(digit), centre=centre, k=k)


# ---------------------------------------------------------------- inputs

def expand_paths(paths, limit: int = MAX_FILES) -> tuple[list[InputItem], str]:
    """Dropped files and folders -> items (folders: their images, recursively, sorted).

    Files named explicitly are all tried, so a mislabelled file shows its reason; inside a
    folder only image-like names are taken, so a README does not become an error row. An item
    found in a folder is named by its path from the dropped folder's parent ("drop/more/a.png").
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


def decode(item: InputItem) -> np.ndarray:
    """decode_image, after making sure a path is a plain file: opening a named pipe or a
    device would block the worker (and every job queued behind it) forever."""
    if item.path is not None:
        path = Path(item.path)
        if path.exists() and not path.is_file() and not path.is_dir():
            raise ImageDecodeError(f"{path.name} is not a regular file (a pipe, socket or device).",
                                   "unreadable", str(path))
    return decode_image(item.source, min_side=DECODE_SIDE)


def prepare(loaded: ModelLike, image: np.ndarray, settings: Settings, invert: bool | None = None) -> NetworkInput:
    return network_input(image, loaded, digit=settings.digit, invert=invert, centre=settings.centre)


# ---------------------------------------------------------------- predict: top-k for many

def predict_items(loaded: ModelLike, items: list[InputItem], settings: Settings, should_stop=lambda: False,
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
        prepared = prepare(loaded, image, settings, item.invert)
        results[i].size = (image.shape[1], image.shape[0])
        results[i].inverted = prepared.inverted
        pending.append((i, prepared.tensor))
        if len(pending) >= batch_size:
            _classify(loaded, pending, results, settings.k)
            pending = []
    if pending:
        _classify(loaded, pending, results, settings.k)
    return results


def predict_files(loaded: ModelLike, paths: Sequence[str], settings: Settings) -> list[ItemResult]:
    """predict_items for file paths named on a command line (each tried, whatever its suffix)."""
    return predict_items(loaded, [InputItem(name=Path(p).name, path=str(p)) for p in paths], settings)


def _classify(loaded: ModelLike, pending, results, k: int) -> None:
    batch = torch.cat([x for _, x in pending])
    probs = np.asarray(probabilities(loaded.model, batch))
    for (i, _), row in zip(pending, probs):
        results[i].topk = rank_probabilities(row, loaded.classes, k)


# ---------------------------------------------------------------- explain: one, with its saliency map

def explain_item(loaded: ModelLike, item: InputItem, settings: Settings, *, saliency: bool = True) -> Detail:
    """Everything the Predict tab's detail view shows for one input."""
    try:
        image = decode(item)
    except ImageDecodeError as exc:
        return Detail(None, None, [], None, error=exc.reason, message=str(exc))
    prepared = prepare(loaded, image, settings, item.invert)
    probs = np.asarray(probabilities(loaded.model, prepared.tensor))[0]
    cam, note = (None, "Saliency is switched off.")
    if saliency:
        cam, note = explanation(loaded, prepared.tensor, int(np.argmax(probs)), settings.cam_method,
                                settings.cam_layer)
    return Detail(original=_small(image), network=prepared.display,
                  topk=rank_probabilities(probs, loaded.classes, settings.k), cam=cam, cam_note=note,
                  inverted=prepared.inverted, centred=prepared.centred, size=(image.shape[1], image.shape[0]))


def explanation(loaded: ModelLike, x: torch.Tensor, class_idx: int, method: str = "gradcam",
                layer: str | None = None) -> tuple[np.ndarray | None, str]:
    """The map of `method` (studio.core.inspect.cams) and its caption; a model it can't explain gets the reason."""
    from studio.core.inspect import cams

    label = cams.METHODS.get(method, str(method))
    try:
        cam = cams.explain(loaded, x, class_idx, method, layer)
    except (StudioError, RuntimeError, ValueError, TypeError) as exc:
        return None, f"No {label} for this model: {exc}"
    where = f" at {layer}" if layer and cams.uses_layer(method) else ""
    return np.asarray(cam, dtype=np.float32), f"{label} for '{loaded.classes[class_idx]}'{where}"


def _small(image: np.ndarray) -> np.ndarray:
    """The original, shrunk for display so a 50-megapixel photo does not travel to the GUI."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = ORIGINAL_SIDE / max(h, w)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


# ---------------------------------------------------------------- attack

@dataclass
class AttackOutcome:
    """An attack on one input: plain numpy pictures and the core's AdversarialResult."""

    index: int                               # the input's index in the caller's list
    network: np.ndarray | None = None        # what the network sees, uint8
    perturbation: np.ndarray | None = None   # the change, magnified, uint8 RGB
    adversarial: np.ndarray | None = None    # the attacked input as the network sees it, uint8
    magnification: float = 0.0               # perturbation shown = 0.5 + change * magnification
    result: object = None                    # studio.core.inspect.adversarial.AdversarialResult
    error: str = ""                          # why the file can't be used (the readable message)
    reason: str = ""                         # ImageDecodeError.reason ("truncated", ...)


# Diverging map for single-channel perturbations: blue darker, white unchanged, red brighter.
_BLUE, _WHITE, _RED = (np.array(c, np.float32) for c in ((33, 102, 172), (247, 247, 247), (178, 24, 43)))


def attack_item(loaded: ModelLike, item: InputItem, settings: Settings, index: int, eps: float, steps: int,
                target: int | None) -> AttackOutcome:
    """Decode and prepare `item` exactly as predict_items does, then attack it (FGSM / iterative)."""
    from studio.core.inspect.adversarial import fgsm
    from studio.core.pixels import denormalize

    try:
        image = decode(item)
    except ImageDecodeError as exc:
        return AttackOutcome(index=index, error=str(exc), reason=exc.reason)
    prepared = prepare(loaded, image, settings, item.invert)
    result = fgsm(loaded.model, prepared.tensor, target, eps, mean=loaded.mean, std=loaded.std, steps=steps,
                  classes=loaded.classes, k=settings.k)
    shown = denormalize(result.adversarial.detach().cpu(), loaded.mean, loaded.std)[0]
    picture, magnification = perturbation_picture(result.perturbation)
    return AttackOutcome(index=index, network=prepared.display, perturbation=picture,
                         adversarial=shown[..., 0] if shown.shape[-1] == 1 else shown,
                         magnification=magnification, result=result)


def perturbation_picture(delta: np.ndarray) -> tuple[np.ndarray, float]:
    """(H, W, C) change in pixel units -> uint8 RGB scaled to its own range, and the magnification.

    The largest |change| maps to full strength: one channel through a diverging map (red:
    brighter, blue: darker, white: unchanged), three channels as 0.5 + change * magnification
    (mid-grey: unchanged). magnification = 0.5 / max|change| (x100 for seed 001's 0.005).
    """
    peak = float(np.abs(delta).max(initial=0.0))
    magnification = 0.5 / peak if peak > 0 else 0.0
    scaled = np.clip(delta * magnification, -0.5, 0.5)        # -0.5 .. 0.5
    if delta.shape[-1] == 1:
        t = scaled[..., 0:1] * 2                                # -1 .. 1
        rgb = np.where(t >= 0, _WHITE + t * (_RED - _WHITE), _WHITE - t * (_BLUE - _WHITE))
    else:
        rgb = (scaled[..., :3] + 0.5) * 255
    return np.rint(rgb).clip(0, 255).astype(np.uint8), magnification


def predict_saved_pixels(loaded: ModelLike, pixels: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Top-k for (H, W, C) uint8 pixels already at the input size (an attacked image written to disk)."""
    from studio.core.pixels import prepare_batch

    batch = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)))[None]
    x = prepare_batch(batch, loaded.input_shape, loaded.mean, loaded.std)
    return rank_probabilities(probabilities(loaded.model, x)[0], loaded.classes, k)


# ---------------------------------------------------------------- activations for a picture

@dataclass
class ActivationResult:
    """Everything one forward pass showed, as numpy copies."""

    input_rgb: np.ndarray                       # (H, W, 3) uint8: the input as the model sees it
    acts: dict[str, np.ndarray]                 # every leaf layer's output, batch of one
    means: dict[str, np.ndarray]                # spatial layers only: channel mean (H, W)
    types: dict[str, str]                       # layer name -> module class
    prediction: list[tuple[str, float]] = field(default_factory=list)
    source: str = ""

    @property
    def spatial_layers(self) -> list[str]:
        return [n for n in self.acts if n in self.means]


def photo_input(loaded: ModelLike, image: np.ndarray) -> tuple[torch.Tensor, str]:
    """A decoded photo -> the model input predict_items would give it, and a note on what was done.

    A photo is not a test image: it is cropped to the model's aspect ratio (not stretched), and for a
    digit model a scan of dark ink on light paper is inverted and centred like MNIST, so the maps
    and the answer agree with the Predict tab's.
    """
    net = prepare(loaded, image, settings_for(loaded))
    notes = [text for flag, text in ((net.inverted, "inverted"), (net.centred, "digit centred like MNIST")) if flag]
    return net.tensor, (f" ({', '.join(notes)})" if notes else "")


def photo_activations(loaded: ModelLike, path, *, lock=None) -> ActivationResult:
    """Every layer's output for an image file, prepared as the Predict tab prepares it."""
    x, note = photo_input(loaded, decode_image(path, min_side=DECODE_SIDE))
    return compute_activations(loaded, None, f"Photo {Path(path).name}{note}", x=x, lock=lock)


def compute_activations(loaded: ModelLike, pixels_uint8: torch.Tensor | None, source: str = "", *,
                        x: torch.Tensor | None = None, lock=None) -> ActivationResult:
    """Pixels -> model input (the one prepare_batch) -> every layer's output; or a ready input x.

    lock: held around the hooked forward pass (hooks are per module, not per thread).
    """
    from studio.core.inspect.activations import capture, layer_means
    from studio.core.pixels import denormalize, prepare_batch

    if x is None:
        x = prepare_batch(pixels_uint8, tuple(loaded.input_shape), loaded.mean, loaded.std)
    with lock if lock is not None else nullcontext():
        acts = capture(loaded.model, x)
    spatial = {n: a for n, a in acts.items() if np.ndim(a) == 4}
    means = {n: np.asarray(m, dtype=np.float32) for n, m in layer_means(spatial).items()}
    modules = dict(loaded.model.named_modules())
    types = {n: type(modules[n.split("#")[0]]).__name__ if n.split("#")[0] in modules else "" for n in acts}
    shown = denormalize(x, loaded.mean, loaded.std)[0]
    rgb = np.repeat(shown, 3, axis=2) if shown.shape[2] == 1 else shown
    return ActivationResult(input_rgb=np.ascontiguousarray(rgb), acts=acts, means=means, types=types,
                            prediction=_last_layer_top3(acts, loaded.classes), source=source)


def _last_layer_top3(acts: dict[str, np.ndarray], classes: Sequence[str]) -> list[tuple[str, float]]:
    """Top 3 from the last layer, when its output is one score per class."""
    if not acts:
        return []
    last = np.asarray(list(acts.values())[-1], dtype=np.float64)
    if last.ndim != 2 or last.shape[-1] != len(classes):
        return []
    z = last[0] - last[0].max()
    return rank_probabilities(np.exp(z) / np.exp(z).sum(), classes, 3)


# ---------------------------------------------------------------- export

def write_csv(path: Path, rows) -> None:
    """rows: (name, ItemResult) pairs -> file, prediction, confidence, error, message."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "prediction", "confidence", "error", "message"])
        for name, result in rows:
            confidence = "" if result.error or not result.topk else f"{result.confidence:.6f}"
            writer.writerow([name, result.label, confidence, result.error, result.message])
