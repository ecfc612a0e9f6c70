"""The training configuration: plain dataclasses that round-trip through JSON."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "onecycle")
MAX_CROP_PADDING = 256
MAX_IMAGE_SIZE = 1024     # folder datasets are preloaded: 1,000 RGB images of 1024 px are 3 GB already
MAX_SEED = 2**32 - 1      # numpy's range; the trainer derives per-epoch seeds as seed * 100_003 + epoch


def _whole(value: Any, low: int, high: int | None = None) -> bool:
    """A whole number (not a bool, not a float) in [low, high]."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= low
            and (high is None or value <= high))


def _real(value: Any, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> bool:
    """A finite number in the range; NaN and infinity fail every comparison, so they are refused here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    return above and below


@dataclass
class AugmentConfig:
    """Batch augmentations (seed 001's list). All off by default."""

    hflip: bool = False
    crop_padding: int = 0          # random crop back to size after padding by this many pixels
    rotation: float = 0.0          # max degrees either way
    scale: float = 0.0             # max relative zoom either way (0.1 = 0.9x..1.1x)
    translate: float = 0.0         # max shift as a fraction of the side
    color_jitter: float = 0.0      # max relative brightness/contrast/saturation change
    noise_std: float = 0.0         # Gaussian noise std, in normalised units

    def any(self) -> bool:
        return any(bool(getattr(self, f.name)) for f in dataclasses.fields(self))

    def problems(self) -> list[str]:
        """What is wrong with these settings, in words (empty when they are usable)."""
        from studio.core.config.fields import augment_problems

        return augment_problems(self)


@dataclass
class TrainConfig:
    dataset: str = "mnist-sample"
    model: str = "lenet5"
    model_options: dict[str, Any] = field(default_factory=dict)
    pretrained: bool = False
    optimizer: str = "adam"
    # Adam at 2e-3 annealed by a cosine over the run: LeNet-5 passes 97 % on mnist-sample in 5 epochs
    # for every seed tried (0.974-0.978), where the lectures' constant 1e-3 lands at 0.966-0.972.
    lr: float = 2e-3
    momentum: float = 0.9          # SGD momentum, RMSprop momentum
    weight_decay: float = 0.0      # L2
    batch_size: int = 64
    epochs: int = 5
    schedule: str = "cosine"
    step_size: int = 5             # epochs between LR drops for the step schedule
    gamma: float = 0.1
    label_smoothing: float = 0.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    device: str = "auto"           # auto / cpu / cuda / cuda:N / mps
    amp: bool = False              # mixed precision, CUDA only
    early_stop_patience: int = 0   # 0 = off; epochs without validation-loss improvement (test without one)
    compile: bool = False          # torch.compile, opt-in (slow to start on CPU)
    num_threads: int = 0           # 0 = automatic: every core headless, all but one in the window
    processes: int = 1            # >1: a distributed run (torchrun, DDP) with this many processes on this machine
    sync_bn: bool = False          # distributed runs: SyncBatchNorm instead of per-process BatchNorm (CUDA)
    image_size: int = 64           # side for folder datasets, which have no fixed size
    # "running": accuracy of the epoch's training batches as they go (seed 003); "full-pass": one more
    # pass over the training split in eval mode after the epoch, counted in the epoch time (seed 001).
    train_accuracy: str = "running"
    # Share of the training split held out, stratified by the run's seed, to choose the best epoch and to
    # stop early; the test split is only reported. 0 reproduces a lecture that has no validation split.
    val_fraction: float = 0.1
    snapshots: int = 200           # MB of per-epoch weights kept for the timeline (runs/snapshots.py); 0: none
    normalize: str = "auto"        # auto / dataset / half / seed001 / imagenet (studio.core.normalization)
    data_dir: str | None = None
    data_fixes: str = ""           # a data-fixes file (core/data/fixes.py): a folder dataset's relabels/exclusions

    def __post_init__(self) -> None:
        if isinstance(self.augment, dict):
            self.augment = AugmentConfig(**self.augment)

    def validate(self) -> None:
        from studio.core.errors import StudioError

        problems = self.problems()
        if problems:
            raise StudioError("Invalid training settings: " + "; ".join(problems) + ".")

    def problems(self) -> list[str]:
        """Every setting that cannot be trained with, in words. Values may come from a hand-edited
        config.json or a GUI field, so types are checked too: a string where a number belongs is a
        message here, never a TypeError deep in the trainer. The limits live in the field table."""
        from studio.core.config.fields import problems

        if not isinstance(self.augment, AugmentConfig):
            return problems(self, augment=False) + ["augmentation settings must be a mapping"]
        return problems(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Known fields only; a value of the wrong type is kept for validate() to name."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if isinstance(kwargs.get("augment"), dict):
            aug_known = {f.name for f in dataclasses.fields(AugmentConfig)}
            kwargs["augment"] = AugmentConfig(**{k: v for k, v in kwargs["augment"].items() if k in aug_known})
        if kwargs.get("model_options") is None:
            kwargs.pop("model_options", None)
        return cls(**kwargs)
