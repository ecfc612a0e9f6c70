"""Rules on the health records: dead ReLU layers, vanishing and exploding gradients."""

from __future__ import annotations

import numpy as np

from studio.core.diagnosis.findings import Finding, describe_action
from studio.core.diagnosis.records import RunRecords

DEAD = 0.5                  # a layer with this share of dead units is in trouble
VANISHING = 1e-4            # a layer's gradient this many times smaller than the largest layer's
TINY = 1e-7                 # gradient norms below this are zero for practical purposes
EXPLODING = 1e3             # a gradient norm above this (and 100 x its start) explodes


def dead_relus(run: RunRecords) -> Finding | None:
    if not run.health_epochs:
        return None
    last = run.health_epochs[-1]
    layers, dead = list(last.get("relu_layers") or []), list(last.get("dead_fraction") or [])
    bad = [(name, float(d)) for name, d in zip(layers, dead) if isinstance(d, (int, float)) and d >= DEAD]
    if not bad:
        return None
    config = run.config
    lr = float(config.get("lr", 0) or 0)
    if config.get("model") == "lecture-cnn":
        action = {"model_options": dict(config.get("model_options") or {}, activation="leaky_relu")}
    else:
        action = {"lr": float(f"{lr / 10:.0e}")} if lr else {}
    listed = ", ".join(f"{name} ({100 * d:.0f} %)" for name, d in bad[:6])
    epoch = int(last.get("epoch", 0) or 0)
    return Finding("dead_relu", "problem", "Dead ReLU units",
                   f"After epoch {epoch}, {len(bad)} ReLU layer{'s' if len(bad) > 1 else ''} output zero for every image "
                   f"of a held-out batch in most of their units: {listed}. A unit that never fires gets no gradient and "
                   "never recovers. Usual causes: too high a learning rate, or an initialisation with large negative "
                   "biases.", evidence={"epoch": epoch, "layers": dict(bad)},
                   highlight={"plot": "dead", "x": [max(0.0, epoch - 1.0), float(epoch)], "layers": [n for n, _ in bad]},
                   action=action, action_text=describe_action(action))


def gradients(run: RunRecords) -> Finding | None:
    layers, x, norms = run.health_matrix("grad_norm")
    if norms.shape[0] < 2 or not layers:
        return None
    recent = norms[-max(1, len(norms) // 3):]
    typical = np.nanmedian(recent, axis=0)
    start = np.nanmedian(norms[:max(1, len(norms) // 3)], axis=0)
    span = [float(x[-len(recent)]), float(x[-1])]
    worst = float(np.nanmax(typical)) if np.isfinite(typical).any() else float("nan")
    if np.isfinite(worst) and worst > EXPLODING and worst > 100 * float(np.nanmax(start)):
        i = int(np.nanargmax(typical))
        return Finding("exploding_gradients", "problem", "Exploding gradients",
                       f"The gradient of {layers[i]} grew from {start[i]:.3g} to {typical[i]:.3g}: the steps become "
                       "huge and training is unstable.", evidence={"layer": layers[i], "start": float(start[i]),
                                                                  "recent": float(typical[i])},
                       highlight={"plot": "grad_norm", "x": span, "layers": [layers[i]]},
                       action=_lower_lr(run), action_text=describe_action(_lower_lr(run)))
    if not np.isfinite(worst):
        return None
    small = [i for i, v in enumerate(typical) if np.isfinite(v) and (v < TINY or v < VANISHING * worst)]
    if not small:
        return None
    names = [layers[i] for i in small]
    listed = ", ".join(f"{layers[i]} ({typical[i]:.1e})" for i in small[:6])
    return Finding("vanishing_gradients", "problem", "Vanishing gradients",
                   f"The gradients of {listed} are {'zero' if worst < TINY else f'over {1 / VANISHING:,.0f} times smaller than the largest ({worst:.1e})'}: "
                   "these layers barely learn. Deep plain stacks, saturating activations or dead units cause it; "
                   "BatchNorm, ReLU-family activations and residual connections help.",
                   evidence={"layers": {layers[i]: float(typical[i]) for i in small}, "largest": worst},
                   highlight={"plot": "grad_norm", "x": span, "layers": names})


def _lower_lr(run: RunRecords) -> dict:
    lr = float(run.config.get("lr", 0) or 0)
    return {"lr": float(f"{lr / 10:.0e}")} if lr else {}
