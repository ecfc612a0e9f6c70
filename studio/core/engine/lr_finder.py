"""The learning-rate finder: Smith's LR range test, as fastai's `lr_find`.

A short run whose learning rate grows exponentially, one step per batch, from `start_lr` to
`end_lr`; the loss is recorded at every step with fastai's bias-corrected exponential smoothing,
and the test stops early once the smoothed loss passes 4x its minimum (it diverged). The
suggested LR is where the smoothed loss falls fastest against log(LR) (fastai's "steep"); the
minimum's LR / 10 is reported beside it, and is the suggestion when the loss never falls.

The model, optimiser and loader are those training would use: `find_lr` asks the Trainer to
prepare them (record=False: no run folder is opened, no checkpoint is read or written). The
model's weights (buffers included) and the optimiser's state are put back afterwards, so a
model handed in comes back as it went in.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from studio.core.config.train_config import TrainConfig

START_LR = 1e-7
END_LR = 10.0
# fastai takes 100 steps. Measured on LeNet-5 / mnist-sample with Adam (5 seeds): after 100 steps the
# steepest descent lands at 7e-3..2.2e-2, where 5 epochs end at 10-95 %; the loss needs more steps per
# decade to follow the LR. After 300 it lands at 1.2e-3..2.4e-3, and those train to >= 97 %.
NUM_ITER = 300
DIVERGENCE = 4.0    # stop once the smoothed loss passes this many times its minimum (fastai's rule)
BETA = 0.98         # fastai's smoothing of the loss

STEEPEST = "steepest"
MINIMUM_DIV10 = "minimum/10"
METHOD_WORDS = {STEEPEST: "steepest descent of the smoothed loss",
                MINIMUM_DIV10: "the LR of the lowest smoothed loss, divided by 10"}


@dataclass
class LRFindResult:
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)      # the raw loss of each step's batch
    smoothed: list[float] = field(default_factory=list)    # bias-corrected exponential average
    suggested_lr: float | None = None
    method: str = STEEPEST                                  # which rule gave suggested_lr
    steepest_lr: float | None = None
    min_loss_lr_div10: float | None = None
    stopped: str = "finished"                               # finished, diverged or cancelled

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def explanation(self) -> str:
        return METHOD_WORDS.get(self.method, self.method)


@dataclass(frozen=True)
class Suggestion:
    lr: float | None
    method: str
    steepest_lr: float | None
    min_loss_lr_div10: float | None


def exponential_lrs(start_lr: float, end_lr: float, num_iter: int) -> np.ndarray:
    """num_iter learning rates from start_lr to end_lr, evenly spaced on a log scale."""
    if not (0 < start_lr < end_lr) or num_iter < 2:
        raise ValueError("the range test needs 0 < start_lr < end_lr and at least 2 steps")
    return start_lr * (end_lr / start_lr) ** (np.arange(num_iter) / (num_iter - 1))


class SmoothedLoss:
    """fastai's running average: an exponential moving average divided by (1 - beta^n) so the
    first values are not pulled towards the zero it starts from."""

    def __init__(self, beta: float = BETA):
        self.beta = beta
        self._average = 0.0
        self._count = 0

    def update(self, loss: float) -> float:
        self._count += 1
        self._average = self.beta * self._average + (1 - self.beta) * loss
        return self._average / (1 - self.beta ** self._count)


def suggest(lrs, smoothed, skip_start: int | None = None, skip_end: int = 5) -> Suggestion:
    """Steepest descent of the smoothed loss against log(LR), and min-loss LR / 10.

    As fastai: the first tenth of the steps (the average still settling) and the last five
    (the blow-up) are left out. The steepest descent is looked for on the way down to the
    minimum only: after it the loss is diverging, and a fall after a spike there is no place
    to train. A curve that never falls has no steepest descent: minimum/10 is suggested then.
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(smoothed, dtype=float)
    if len(lrs) == 0:
        return Suggestion(None, MINIMUM_DIV10, None, None)
    skip_start = len(lrs) // 10 if skip_start is None else skip_start
    lrs_kept, losses_kept = _trimmed(lrs, losses, skip_start, skip_end)
    finite = np.isfinite(losses_kept)
    if not finite.any():
        return Suggestion(None, MINIMUM_DIV10, None, None)
    lowest = int(np.argmin(np.where(finite, losses_kept, np.inf)))
    minimum = float(lrs_kept[lowest] / 10)
    steepest = _steepest(lrs_kept[:lowest + 1], losses_kept[:lowest + 1])
    if steepest is None:
        return Suggestion(minimum, MINIMUM_DIV10, None, minimum)
    return Suggestion(steepest, STEEPEST, steepest, minimum)


def _trimmed(lrs: np.ndarray, losses: np.ndarray, skip_start: int, skip_end: int):
    """The curve without its ends; a short curve (an early divergence) keeps what it can."""
    end = len(lrs) - skip_end
    if end - skip_start >= 3:
        return lrs[skip_start:end], losses[skip_start:end]
    if len(lrs) - skip_start >= 3:
        return lrs[skip_start:], losses[skip_start:]
    return lrs, losses


def _steepest(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    if len(lrs) < 2:
        return None
    with np.errstate(invalid="ignore"):
        slopes = np.diff(losses) / np.diff(np.log(lrs))
    slopes = np.where(np.isfinite(slopes), slopes, np.inf)
    best = int(np.argmin(slopes))
    return float(lrs[best]) if slopes[best] < 0 else None


# ------------------------------------------------------------------ the range test


def range_test(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Callable[[], Iterator],
               criterion: Callable, *, start_lr: float = START_LR, end_lr: float = END_LR,
               num_iter: int = NUM_ITER, progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None, amp: bool = False) -> LRFindResult:
    """Train num_iter steps at growing LRs; `batches()` starts a pass over the data (called again
    when a pass ends before the test does). Model and optimiser are restored afterwards."""
    schedule = exponential_lrs(start_lr, end_lr, num_iter)
    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    was_training = model.training
    result, smoother, best = LRFindResult(), SmoothedLoss(), math.inf
    device_type = _device_type(model)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)   # as the trainer: mixed precision is CUDA only
    try:
        model.train()
        stream = _cycle(batches)
        for step, lr in enumerate(schedule):
            if should_stop and should_stop():
                result.stopped = "cancelled"
                break
            x, y = next(stream)
            loss = _train_step(model, optimizer, criterion, x, y, float(lr), scaler, amp, device_type)
            smooth = smoother.update(loss) if math.isfinite(loss) else math.inf
            result.lrs.append(float(lr))
            result.losses.append(loss)
            result.smoothed.append(smooth)
            best = min(best, smooth)
            if progress:
                progress(step + 1, num_iter)
            if not math.isfinite(smooth) or smooth > DIVERGENCE * best:
                result.stopped = "diverged"
                break
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        model.train(was_training)
    _fill_suggestion(result)
    return result


def _fill_suggestion(result: LRFindResult) -> None:
    finite = [(lr, s) for lr, s in zip(result.lrs, result.smoothed) if math.isfinite(s)]
    chosen = suggest([lr for lr, _ in finite], [s for _, s in finite])
    result.suggested_lr, result.method = chosen.lr, chosen.method
    result.steepest_lr, result.min_loss_lr_div10 = chosen.steepest_lr, chosen.min_loss_lr_div10


def _train_step(model, optimizer, criterion, x, y, lr: float, scaler, amp: bool, device_type: str) -> float:
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(device_type, dtype=torch.float16, enabled=amp):
        loss = criterion(model(x), y)
    value = float(loss.detach())
    if not math.isfinite(value):
        return value   # no step on a NaN: the test ends here anyway
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    return value


def _cycle(batches: Callable[[], Iterator]) -> Iterator:
    """Batches without end: an epoch shorter than the test starts over (a new order each pass)."""
    while True:
        empty = True
        for batch in batches():
            empty = False
            yield batch
        if empty:
            raise ValueError("the training split has no batches")


def _device_type(model: nn.Module) -> str:
    first = next(model.parameters(), None)
    return first.device.type if first is not None else "cpu"


# ------------------------------------------------------------------ from a TrainConfig


def find_lr(config: TrainConfig, *, model: nn.Module | None = None, optimizer: torch.optim.Optimizer | None = None,
            start_lr: float = START_LR, end_lr: float = END_LR, num_iter: int = NUM_ITER,
            progress: Callable[[int, int], None] | None = None, should_stop: Callable[[], bool] | None = None,
            keep_cores_free: int = 0) -> LRFindResult:
    """The range test for the run `config` describes: same data, batches, model and optimiser.

    A `model` handed in (moved to the config's device) is tested instead of a fresh one, with
    `optimizer` or a new one from the config; both are restored afterwards. Nothing is written.
    """
    from studio.core.engine.optim import make_optimizer
    from studio.core.engine.trainer import Trainer

    config = copy.deepcopy(config)
    config.compile = False   # a few dozen steps: compiling would take longer than the test
    trainer = Trainer(config, record=False, keep_cores_free=keep_cores_free)
    trainer.prepare()
    trainer.health.enabled = False   # its step hooks on this optimiser would measure the range test
    if model is not None:
        model = model.to(trainer.device)
        optimizer = optimizer or make_optimizer(trainer.config, model.parameters())
    else:
        model, optimizer = trainer.model, trainer.optimizer
    loader, pass_number = trainer.train_loader, [0]

    def one_pass():
        pass_number[0] += 1
        loader.set_epoch(pass_number[0])
        return iter(loader)

    return range_test(model, optimizer, one_pass, trainer.criterion, start_lr=start_lr, end_lr=end_lr,
                      num_iter=num_iter, progress=progress, should_stop=should_stop, amp=trainer.amp)
