"""Rules on the loss curve: diverging, learning rate too high (oscillating), too low (flat)."""

from __future__ import annotations

import numpy as np

from studio.core.diagnosis.findings import Finding, describe_action
from studio.core.diagnosis.records import RunRecords

ADAPTIVE = ("adam", "adamw", "rmsprop")
DIVERGE_FACTOR = 3.0        # smoothed loss this many times the starting loss: diverging
FLAT_DROP = 0.05            # the training loss fell less than this share of its start: flat
RATIO_HIGH = 1e-2           # median update/weight ratio above this: steps too big for the weights
RATIO_LOW = 1e-4            # below this: steps too small to move them


def typical_lr(config: dict) -> float:
    return 1e-3 if config.get("optimizer", "adam") in ADAPTIVE else 1e-2


def start_loss(losses: np.ndarray) -> float:
    """The loss the run started from: the mean of its first batches (an oscillating loss averages out)."""
    finite = losses[np.isfinite(losses)]
    return float(np.mean(finite[:max(1, min(20, len(finite) // 10))])) if len(finite) else float("nan")


def smoothed(losses: np.ndarray, factor: float = 0.9) -> np.ndarray:
    out, ema, weight = np.empty_like(losses), 0.0, 0.0
    for i, value in enumerate(losses):
        if np.isfinite(value):
            ema, weight = factor * ema + (1 - factor) * value, factor * weight + (1 - factor)
        out[i] = ema / weight if weight else np.nan
    return out


def median_update_ratio(run: RunRecords) -> float:
    """The typical update/weight ratio of the run's layers (median over layers of their median)."""
    _, _, ratios = run.health_matrix("update_ratio")
    if ratios.size == 0 or not np.isfinite(ratios).any():
        return float("nan")
    return float(np.nanmedian(np.nanmedian(ratios, axis=0)))


def diverging(run: RunRecords) -> Finding | None:
    b = run.batches()
    loss, x = b["loss"], b["x"]
    reason = str(run.fit_end.get("reason", ""))
    stopped = run.fit_end.get("status") == "failed" and ("diverged" in reason or "exploded" in reason)
    first = start_loss(loss)
    smooth = smoothed(loss)
    peak = float(np.nanmax(smooth)) if np.isfinite(smooth).any() else float("nan")
    rising = bool(np.isfinite(peak) and np.isfinite(first) and smooth[-1] > DIVERGE_FACTOR * first
                  and smooth[-1] > first + 1.0)
    if not (stopped or rising or (len(loss) and not np.isfinite(loss).all())):
        return None
    lr = float(run.config.get("lr", 0) or 0)
    action = {"lr": _round(min(lr / 10, typical_lr(run.config)))} if lr else {}
    above = np.nonzero(smooth > 2 * first)[0] if np.isfinite(first) else []
    start = float(x[above[0]]) if len(above) else (float(x[0]) if len(x) else 0.0)
    end = float(x[-1]) if len(x) else 1.0
    how = f"The run stopped: {reason}" if stopped else "The loss grows instead of falling."
    return Finding("diverging", "problem", "Training diverged",
                   f"{how} It started at {first:.3g} and reached {peak:.3g} (smoothed): each step overshoots and the "
                   f"weights fly apart. The learning rate ({lr:g}) is far too high for this model and optimiser.",
                   evidence={"start_loss": first, "peak_loss": peak, "lr": lr, "reason": reason},
                   highlight={"plot": "loss", "x": [start, end]},
                   action=action, action_text=f"lower the learning rate: {describe_action(action)}")


def learning_stalled(run: RunRecords) -> Finding | None:
    """The loss did not fall over the first epochs: LR too low (tiny steps) or too high (oscillating)."""
    b = run.batches()
    loss, x = b["loss"], b["x"]
    epochs = run.column("train_loss")
    if len(epochs) < 2 or len(loss) < 10:
        return None
    first = start_loss(loss)
    window = epochs[:3]
    drop = (first - float(np.nanmin(window))) / first if first > 0 else 0.0
    if not np.isfinite(drop) or drop >= FLAT_DROP:
        return None
    lr = float(run.config.get("lr", 0) or 0)
    ratio = median_update_ratio(run)
    last_epoch = loss[b["epoch"] == b["epoch"][-1]]
    noise = float(np.nanstd(last_epoch) / max(np.nanmean(last_epoch), 1e-12)) if len(last_epoch) > 1 else 0.0
    too_high = ratio > RATIO_HIGH if np.isfinite(ratio) else noise > 0.3
    evidence = {"start_loss": first, "lowest_epoch_loss": float(np.nanmin(window)), "drop": drop,
                "epochs": len(window), "update_ratio": ratio, "loss_noise": noise, "lr": lr}
    highlight = {"plot": "loss", "x": [0.0, float(x[b["epoch"] <= len(window)][-1])]}
    ratio_text = f" A typical step changes the weights by {ratio:.1e} of their size (about 1e-3 is healthy)." \
        if np.isfinite(ratio) else ""
    if too_high:
        action = {"lr": _round(min(lr / 10, typical_lr(run.config)))}
        return Finding("lr_too_high", "problem", "Learning rate too high: the loss oscillates",
                       f"In {len(window)} epochs the training loss fell only {100 * max(drop, 0):.0f} % (from {first:.3g}); it "
                       f"jumps around (spread {100 * noise:.0f} % of its mean in the last epoch).{ratio_text} "
                       f"The steps overshoot the minimum.", evidence, highlight, action,
                       f"lower the learning rate: {describe_action(action)}")
    if np.isfinite(ratio) and ratio > RATIO_LOW * 10 and noise > 0.3:
        return None   # neither tiny steps nor clear oscillation: other rules (dead units, data) say more
    action = {"lr": _round(max(lr * 10, typical_lr(run.config)))}
    fell = f"fell only {100 * drop:.1f} %" if drop > 0 else "did not fall"
    return Finding("lr_too_low", "problem", "Learning rate too low: the loss is flat",
                   f"In the first {len(window)} epochs the training loss {fell} "
                   f"(from {first:.3g} to {np.nanmin(window):.3g}).{ratio_text} The steps are too small "
                   f"to get anywhere in this many epochs.", evidence, highlight, action,
                   f"raise the learning rate: {describe_action(action)}")


def _round(value: float) -> float:
    """A learning rate people type: one significant digit."""
    return float(f"{value:.0e}") if value > 0 else value
