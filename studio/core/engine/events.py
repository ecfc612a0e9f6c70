"""What the trainer tells the world: plain dataclasses holding Python numbers and numpy copies.

They cross threads (the GUI worker) and go to disk (metrics.jsonl), so no tensor ever rides in
one: a listener can keep an event forever without pinning GPU memory or the live model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class FitStart:
    config: dict
    run_dir: str | None
    epochs: int
    start_epoch: int              # epochs already done (a resumed run starts after them)
    batches_per_epoch: int
    device: str
    num_params: int
    classes: list[str]
    input_shape: tuple[int, int, int]
    train_size: int
    test_size: int
    skipped: list = field(default_factory=list)   # (file, reason) a folder dataset could not use
    val_size: int = 0             # images held out of the training split to choose the best epoch


@dataclass
class BatchEnd:
    epoch: int                    # 1-based
    batch: int                    # 1-based within the epoch
    batches: int
    step: int                     # global optimiser step, continues across a resume
    loss: float
    accuracy: float               # 0..1 on this batch
    lr: float
    images_per_sec: float


@dataclass
class EpochEnd:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    epoch_time: float
    images_per_sec: float
    lr: float                     # the learning rate the epoch trained with (its first batch's)
    confusion: np.ndarray | None = field(default=None, repr=False)
    kernels: np.ndarray | None = field(default=None, repr=False)
    val_loss: float | None = None  # None: no validation split (val_fraction 0, or a run from before it)
    val_acc: float | None = None
    best_epoch: int = 0           # the best epoch so far, chosen on `selected_on`
    selected_on: str = "test"     # "val", or "test" when there is no validation split


@dataclass
class FitEnd:
    status: str                   # "done" | "stopped" | "failed"
    reason: str
    epochs_done: int
    best_test_acc: float          # test accuracy of the best epoch (the one chosen on `selected_on`)
    elapsed: float
    best_epoch: int = 0
    best_val_acc: float | None = None
    selected_on: str = "test"


@dataclass
class FitError:
    message: str
    details: str


@dataclass
class HealthStep:
    """Every few steps (engine/health.py): per-layer gradient norms and update/weight ratios."""
    epoch: int
    step: int
    x: float                      # fractional epoch, the Training tab's x axis
    layers: list[str]
    grad_norm: list[float]
    update_ratio: list[float]     # |weights after - before| / |weights before| of this step


@dataclass
class HealthEpoch:
    """Per epoch (engine/health.py): dead ReLU units on one held-out batch, gaps, class counts and recall."""
    epoch: int
    relu_layers: list[str]
    dead_fraction: list[float]    # units whose output is 0 for every image of the batch
    gaps: dict                    # train minus val/test accuracy, val/test minus train loss
    class_counts: list[int]       # training images per class
    class_recall: list             # test accuracy per class (None: no test image of the class)


@dataclass
class Diagnosis:
    """The diagnosis rules' findings so far (core/diagnosis), as plain dicts."""
    epoch: int
    findings: list[dict]


EVENT_NAMES = {FitStart: "fit_start", BatchEnd: "batch", EpochEnd: "epoch", FitEnd: "fit_end", FitError: "error",
               HealthStep: "health", HealthEpoch: "health_epoch", Diagnosis: "diagnosis"}


def event_record(event: Any) -> dict:
    """The JSON line of an event: its fields plus "event"; arrays are left out (they go to npz files)."""
    record = {"event": EVENT_NAMES[type(event)]}
    for key, value in asdict(event).items():
        if isinstance(value, np.ndarray) or value is None and key in ("confusion", "kernels"):
            continue
        record[key] = list(value) if isinstance(value, tuple) else value
    return record


def epoch_log_line(event: EpochEnd) -> str:
    """Seed 001's per-epoch line, word for word."""
    return (
        f"Epoch: {event.epoch} | Loss: {event.train_loss:.4f} | "
        f"Training accuracy: {100 * event.train_acc:.3f}% | Test accuracy: {100 * event.test_acc:.3f}% | "
        f"Epoch Time: {event.epoch_time:.2f} secs"
    )
