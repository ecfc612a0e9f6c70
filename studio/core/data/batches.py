"""Batches straight from a preloaded Split: index, move, augment, prepare. No DataLoader.

The whole dataset already sits in one uint8 tensor, so a batch is one index_select; worker
processes would only add start-up time and pickling (and need a __main__ guard).
The uint8 batch is moved to the device first (4x fewer bytes than float), and everything
after that (augmentation, resizing, normalisation) runs there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from studio.core.config.train_config import AugmentConfig
from studio.core.data.augment import build_augment
from studio.core.data.bundle import Split
from studio.core.pixels import prepare_batch

_EPOCH_STRIDE = 1_000_003  # keeps (seed, epoch) pairs apart: seed 1 epoch 0 != seed 0 epoch 1


class BatchLoader:
    """Iterate (x float32 normalised, y int64) batches of `split` on `device`.

    Shuffling and augmentation are driven by generators seeded from (seed, epoch): the same
    seed and epoch give the same batches. Call set_epoch(e) before each epoch for a new
    order; without it every pass repeats the same order (like DistributedSampler).
    Augmentation is applied to the 0..1 float batch before normalisation.
    """

    def __init__(self, split: Split, batch_size: int, *, shuffle: bool, seed: int = 0,
                 input_shape: Sequence[int], mean: Sequence[float], std: Sequence[float],
                 augment: AugmentConfig | None = None, device: str | torch.device = "cpu",
                 channels_last: bool = False, drop_last: bool = False):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.split = split
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.input_shape = tuple(int(v) for v in input_shape)
        self.mean, self.std = tuple(mean), tuple(std)
        self.augment = build_augment(augment, std=std)
        self.device = torch.device(device)
        self.channels_last = channels_last
        self.drop_last = drop_last
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.split)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self._order()
        augment_rng = self._generator(stream=1)
        cuda = self.device.type == "cuda"
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            images = self.split.images.index_select(0, index)
            labels = self.split.labels.index_select(0, index)
            if cuda:  # pinned memory lets the copy overlap with the previous batch's work
                images, labels = images.pin_memory(), labels.pin_memory()
            images = images.to(self.device, non_blocking=cuda)
            labels = labels.to(self.device, non_blocking=cuda)
            yield self._prepare(images, augment_rng), labels

    def _prepare(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        if self.augment is not None:
            images = self.augment(images.float().div_(255.0), rng)
        x = prepare_batch(images, self.input_shape, self.mean, self.std)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    def _order(self) -> torch.Tensor:
        n = len(self.split)
        if not self.shuffle:
            return torch.arange(n)
        return torch.randperm(n, generator=self._generator(stream=0))

    def _generator(self, stream: int) -> torch.Generator:
        seed = (self.seed * _EPOCH_STRIDE + self.epoch) * 2 + stream
        return torch.Generator().manual_seed(seed % (2**63))
