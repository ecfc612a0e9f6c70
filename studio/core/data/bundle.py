"""The in-memory shape every dataset is loaded into: preloaded uint8 tensors."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Split:
    """Images (uint8, N x C x H x W) and their class indices (int64, N)."""

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"Split.images must be uint8 N x C x H x W, got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"Split.labels must be int64 of length {self.images.shape[0]}, got "
                             f"{self.labels.dtype} {tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self, num_classes: int) -> list[int]:
        return torch.bincount(self.labels, minlength=num_classes).tolist()


@dataclass
class DatasetBundle:
    """A loaded dataset: both splits, class names and train-split statistics.

    mean/std are per channel in 0..1 pixel units, computed from the train split.
    `skipped` lists (file, reason) for folder datasets' files that could not be decoded.
    `val` is the validation split carved out of the training split for a run (split.carve_validation).
    """

    name: str
    classes: list[str]
    train: Split
    test: Split
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    val: Split | None = None

    @property
    def input_shape(self) -> tuple[int, int, int]:
        _, c, h, w = self.train.images.shape
        return (int(c), int(h), int(w))

    @property
    def num_classes(self) -> int:
        return len(self.classes)


@dataclass(frozen=True)
class DatasetInfo:
    """One entry of the dataset menu. offline: usable without ever downloading anything."""

    name: str
    title: str
    description: str
    offline: bool
