"""The in-memory shape every dataset is loaded into: preloaded uint8 tensors."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Split:
    """Images (uint8, N x C x H x W) and their class indices (int64, N).

    `files`: for a folder dataset, the file each image was read from (None for the other datasets).
    """

    images: torch.Tensor
    labels: torch.Tensor
    files: list[str] | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"Split.images must be uint8 N x C x H x W, got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"Split.labels must be int64 of length {self.images.shape[0]}, got "
                             f"{self.labels.dtype} {tuple(self.labels.shape)}")
        if self.files is not None and len(self.files) != self.images.shape[0]:
            raise ValueError(f"Split.files must name {self.images.shape[0]} files, got {len(self.files)}")

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
    `fixes` says what a data-fixes file changed ("2 excluded, 1 relabelled"), empty without one.
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
    fixes: str = ""

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
