"""Rules on the epoch curves: overfitting, underfitting, and how much the test set can tell."""

from __future__ import annotations

import numpy as np

from studio.core.diagnosis.findings import Finding, describe_action
from studio.core.diagnosis.records import RunRecords
from studio.core.diagnosis.stats import accuracy_margin, difference_margin

TRAIN_FELL = 0.30           # the training loss fell by this share since the held-out loss's best epoch
MIN_GAP = 0.02              # an accuracy gap below 2 points is never called overfitting
LOW_ACCURACY = 0.60         # training accuracy below this is low ...
FLAT_GAIN = 0.03            # ... and flat when the last epochs added less than this per epoch
OVERFIT_GAP = 0.15          # a low training accuracy this far above the held-out one is no capacity problem
SMALL_TEST = 0.025          # a test accuracy known to worse than ±2.5 points is a warning


def held_out(run: RunRecords) -> tuple[str, int]:
    """The split the run chose on ("val", or "test" without a validation split) and its size."""
    if np.isfinite(run.column("val_loss")).any():
        return "val", int(run.fit_start.get("val_size", 0) or 0)
    return "test", int(run.fit_start.get("test_size", 0) or 0)


def overfitting(run: RunRecords) -> Finding | None:
    split, size = held_out(run)
    loss, acc = run.column(f"{split}_loss"), run.column(f"{split}_acc")
    train_loss, train_acc, epochs = run.column("train_loss"), run.column("train_acc"), run.column("epoch")
    if len(loss) < 3 or not np.isfinite(loss).any():
        return None
    best = int(np.nanargmin(loss))
    last = len(loss) - 1
    if last - best < 2 or not loss[last] > loss[best] or not train_loss[last] < (1 - TRAIN_FELL) * train_loss[best]:
        return None   # the held-out loss must have stopped improving while the training loss kept falling
    gap = float(train_acc[last] - acc[last])
    margin = accuracy_margin(float(acc[last]), size) if size else float("nan")
    if not gap > max(MIN_GAP, margin if np.isfinite(margin) else 0.0):
        return None
    config = dict(run.config)
    action = {"weight_decay": float(config.get("weight_decay") or 0) * 5 or 5e-4,
              "early_stop_patience": int(config.get("early_stop_patience") or 0) or 3}
    name = "validation" if split == "val" else "test"
    spread = f" (± {100 * margin:.1f} points, 95 %, {size} images)" if np.isfinite(margin) else ""
    return Finding("overfitting", "warning", "Overfitting: the model memorises its training images",
                   f"Since epoch {int(epochs[best])} the {name} loss went up from {loss[best]:.3g} to {loss[last]:.3g} "
                   f"while the training loss kept falling ({train_loss[best]:.3g} to {train_loss[last]:.3g}). Training "
                   f"accuracy is {100 * gap:.1f} points above {name} accuracy{spread}, more than chance explains. "
                   f"Epoch {int(epochs[best])} was the best; later epochs learn the training set by heart.",
                   evidence={"best_epoch": int(epochs[best]), "held_out_loss_best": float(loss[best]),
                             "held_out_loss_last": float(loss[last]), "accuracy_gap": gap, "margin": margin,
                             "split": split, "split_size": size},
                   highlight={"plot": "loss", "x": [float(epochs[best]), float(epochs[last])]},
                   action=action, action_text=f"regularise and stop at the best epoch: {describe_action(action)}")


def underfitting(run: RunRecords) -> Finding | None:
    split, size = held_out(run)
    train_acc, epochs = run.column("train_acc"), run.column("epoch")
    if len(train_acc) < 3 or not np.isfinite(train_acc[-1]) or train_acc[-1] >= LOW_ACCURACY:
        return None
    recent = max(2, len(train_acc) // 3)
    gain = float(train_acc[-1] - np.nanmin(train_acc[-recent - 1:]))
    if gain >= FLAT_GAIN * recent:
        return None
    held = run.column(f"{split}_acc")[-1]
    margin = accuracy_margin(float(held), size) if size else 0.0
    if np.isfinite(held) and train_acc[-1] - held > max(OVERFIT_GAP, margin):
        return None   # it learns its training images and not the rest: that is not a capacity problem
    action = _bigger(run.config)
    classes = len(run.fit_start.get("classes") or []) or 10
    return Finding("underfitting", "warning", "Underfitting: the model is too small or trains too briefly",
                   f"Training accuracy is only {100 * train_acc[-1]:.1f} % (chance is {100 / classes:.0f} %) and rose "
                   f"only {100 * gain:.1f} points over the last {recent} epochs: the model cannot even fit its training "
                   f"images. Give it more capacity, more epochs or a higher learning rate.",
                   evidence={"train_acc": float(train_acc[-1]), "gain": gain, "epochs": recent},
                   highlight={"plot": "accuracy", "x": [float(epochs[-recent - 1]), float(epochs[-1])]},
                   action=action, action_text=f"a bigger model, trained longer: {describe_action(action)}")


def _bigger(config: dict) -> dict:
    options = dict(config.get("model_options") or {})
    action: dict = {"epochs": int(config.get("epochs") or 5) * 2}
    if config.get("model") == "configurable-cnn":
        channels = options.get("conv_channels") or [8, 16]
        options["conv_channels"] = [min(256, max(16, int(c) * 4)) for c in channels]
        action["model_options"] = options
    return action


def test_precision(run: RunRecords) -> Finding | None:
    size = int(run.fit_start.get("test_size", 0) or 0)
    acc = run.column("test_acc")
    if not size or not len(acc) or not np.isfinite(acc[-1]):
        return None
    margin, diff = accuracy_margin(float(acc[-1]), size), difference_margin(float(acc[-1]), size)
    small = margin > SMALL_TEST
    text = (f"Test accuracy {100 * acc[-1]:.1f} % is measured on {size:,} images: it is known to ± {100 * margin:.1f} "
            f"points (95 %). Two runs whose test accuracies differ by less than about {100 * diff:.1f} points "
            "cannot be told apart on this test set.")
    if small:
        text += " Compare runs on a bigger test set (the full dataset) before choosing between them."
    return Finding("test_too_small" if small else "test_precision", "warning" if small else "info",
                   "Test set too small to separate runs" if small else "How precise the test accuracy is", text,
                   evidence={"test_size": size, "test_acc": float(acc[-1]), "margin": margin, "difference_margin": diff},
                   highlight={"plot": "accuracy", "x": [float(run.column("epoch")[-1])] * 2})
