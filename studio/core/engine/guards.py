"""Two ways a run fails that deserve a sentence instead of a number or a traceback.

- LossWatch: a loss that explodes (lr far too high) long before it becomes NaN. With Adam at
  lr 10 the batch losses reach 1e12 and accuracy sits at chance, yet nothing is NaN; the run
  must stop, say so and suggest a learning rate.
- out_of_memory_message: the allocator's text ("[enforce fail at alloc_cpu.cpp:127] ...
  DefaultCPUAllocator: can't allocate memory", "CUDA out of memory") becomes what to change.
"""

from __future__ import annotations

import math

SMOOTHING = 0.3          # weight of the newest batch in the smoothed loss
EXPLODE_FACTOR = 10.0    # smoothed loss above FACTOR x the first batch's loss ...
EXPLODE_MARGIN = 5.0     # ... and above first + MARGIN (a tiny first loss, as on resume, is no baseline)
EXPLODE_BATCHES = 3      # for this many consecutive batches


class LossWatch:
    """Follows the batch losses of one fit; `observe` returns a reason to stop once the loss explodes."""

    def __init__(self, lr: float):
        self.lr = lr
        self.first: float | None = None
        self.smoothed: float | None = None
        self.over = 0

    @property
    def limit(self) -> float:
        return max(EXPLODE_FACTOR * self.first, self.first + EXPLODE_MARGIN)

    def observe(self, loss: float, epoch: int, batch: int) -> str | None:
        if not math.isfinite(loss):
            return None  # the trainer's NaN/Inf check has its own sentence
        if self.first is None:
            self.first = self.smoothed = loss
            return None
        self.smoothed = SMOOTHING * loss + (1 - SMOOTHING) * self.smoothed
        self.over = self.over + 1 if self.smoothed > self.limit else 0
        if self.over < EXPLODE_BATCHES:
            return None
        return (f"The loss exploded: {self.smoothed:.3g} (smoothed) at epoch {epoch}, batch {batch}, against "
                f"{self.first:.3g} at the start, for {self.over} batches in a row; training diverged. "
                f"Lower the learning rate, e.g. to {self.lr / 10:g} (it is {self.lr:g}).")


_OOM_MARKERS = ("out of memory", "can't allocate memory", "defaultcpuallocator", "cannot allocate memory",
                "failed to allocate")


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    oom_type = getattr(__import__("torch"), "OutOfMemoryError", ())
    if oom_type and isinstance(exc, oom_type):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(marker in text for marker in _OOM_MARKERS)


def out_of_memory_message(exc: BaseException, batch_size: int, input_shape=None) -> str | None:
    """The sentence for an out-of-memory error, or None when `exc` is something else."""
    if not is_out_of_memory(exc):
        return None
    size = f" ({'x'.join(str(v) for v in input_shape)})" if input_shape else ""
    if batch_size > 1:
        advice = f"try {max(1, batch_size // 4)}"
    else:
        advice = "choose a smaller model or a smaller image size"
    return f"Not enough memory for batch size {batch_size} of this model at this input size{size}; {advice}."
