"""Each rank's share of the data: the training batches and the held-out splits.

Training: every rank walks the single-process loader's seeded order in global batches (the batch
size the user asked for) and keeps a contiguous slice of each; `global_size` is the whole batch's
size, so the trainer can weight its loss by its share (an uneven last batch stays exact). With
augmentation each rank prepares the whole global batch and slices it, so the random transforms are
the single-process run's; without, it prepares only its slice.

Evaluation: each rank measures a contiguous shard of the split; the sums (loss x count, count,
confusion matrix) are added over ranks, so every rank gets the whole split's numbers.
"""

from __future__ import annotations

import numpy as np
import torch

from studio.core.data.batches import BatchLoader
from studio.core.data.bundle import Split


def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """[lo, hi) of rank's contiguous share of n items: sizes differ by at most one."""
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def drops_last_batch(n: int, batch_size: int, world: int) -> bool:
    """A last global batch too small to give every rank two images is left out (the shuffle leaves out
    different images each epoch): one image per rank breaks BatchNorm in training, none breaks DDP."""
    rest = n % batch_size
    if world == 1:
        return n > 1 and rest == 1
    return n > batch_size and 0 < rest < 2 * world


class ShardedBatchLoader(BatchLoader):
    def __init__(self, split: Split, batch_size: int, *, rank: int, world: int, **kwargs):
        super().__init__(split, batch_size, **kwargs)
        self.rank, self.world = rank, world
        self.global_size = 0   # the size of the global batch whose share was yielded last

    def __iter__(self):
        order = self._order()
        augment_rng = self._generator(stream=1)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            index = order[start:start + self.batch_size]
            lo, hi = shard_bounds(len(index), self.rank, self.world)
            self.global_size = len(index)
            whole = self.augment is not None   # the augmentation's random draws are the whole batch's
            chosen = index if whole else index[lo:hi]
            images = self.split.images.index_select(0, chosen).to(self.device)
            labels = self.split.labels.index_select(0, index[lo:hi]).to(self.device)
            x = self._prepare(images, augment_rng)
            yield (x[lo:hi] if whole else x), labels


def shard_split(split: Split, rank: int, world: int) -> Split:
    lo, hi = shard_bounds(len(split), rank, world)
    return Split(split.images[lo:hi], split.labels[lo:hi])


def evaluate_sharded(ctx, model: torch.nn.Module, split: Split, num_classes: int, **kwargs):
    """evaluate() on this rank's shard, then the whole split's loss, accuracy and confusion on every rank.
    The per-image arrays (y_true, y_pred, probs) stay this rank's own."""
    from studio.core.engine.evaluate import evaluate

    own = evaluate(model, shard_split(split, ctx.rank, ctx.world_size), num_classes=num_classes, **kwargs)
    seen_here = len(own.y_pred)
    sums = torch.tensor([own.loss * seen_here, float(seen_here)], dtype=torch.float64)
    confusion = torch.from_numpy(own.confusion.astype(np.float64)).flatten()
    totals = ctx.all_sum(torch.cat([sums, confusion]), slow=True).cpu()
    seen = int(totals[1].item())
    confusion = totals[2:].round().to(torch.int64).numpy().reshape(num_classes, num_classes)
    own.loss = float(totals[0].item()) / max(seen, 1)
    own.accuracy = float(np.trace(confusion)) / seen if seen else 0.0
    own.confusion = confusion.astype(own.confusion.dtype)
    return own
