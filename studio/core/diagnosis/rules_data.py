"""Rules on the classes: imbalance in the training counts, a class the model fails on."""

from __future__ import annotations

import numpy as np

from studio.core.diagnosis.findings import Finding
from studio.core.diagnosis.records import RunRecords

IMBALANCE = 3.0             # the largest class this many times the smallest
FAILING = 0.5               # a class recalled at less than half the mean recall


def _classes(run: RunRecords, n: int) -> list[str]:
    names = list(run.fit_start.get("classes") or [])
    return names if len(names) == n else [str(i) for i in range(n)]


def class_imbalance(run: RunRecords) -> Finding | None:
    if not run.health_epochs:
        return None
    counts = np.asarray(run.health_epochs[-1].get("class_counts") or [], dtype=np.float64)
    if len(counts) < 2 or counts.max() <= 0:
        return None
    ratio = counts.max() / max(counts.min(), 1)
    if counts.min() > 0 and ratio < IMBALANCE:
        return None
    names = _classes(run, len(counts))
    lo, hi = int(np.argmin(counts)), int(np.argmax(counts))
    return Finding("class_imbalance", "warning", "Imbalanced classes",
                   f"The training split has {int(counts[hi]):,} images of {names[hi]} but only {int(counts[lo]):,} of "
                   f"{names[lo]}: the model learns that {names[lo]} is rare and guesses it less. Collect more images "
                   "of the small classes (or fewer of the big ones), and judge the run by its per-class accuracy.",
                   evidence={"counts": {n: int(c) for n, c in zip(names, counts)}, "ratio": float(ratio)},
                   highlight={"plot": "classes"})


def failing_classes(run: RunRecords) -> Finding | None:
    if not run.health_epochs:
        return None
    recall = np.asarray([v if isinstance(v, (int, float)) else np.nan
                         for v in run.health_epochs[-1].get("class_recall") or []], dtype=np.float64)
    if len(recall) < 2 or not np.isfinite(recall).any():
        return None
    mean = float(np.nanmean(recall))
    if mean <= 1.5 / len(recall):
        return None   # the whole model is near chance: the other rules say why
    bad = [i for i, r in enumerate(recall) if np.isfinite(r) and r < FAILING * mean]
    if not bad:
        return None
    names = _classes(run, len(recall))
    listed = ", ".join(f"{names[i]} ({100 * recall[i]:.0f} %)" for i in bad[:6])
    return Finding("class_failure", "warning", "Some classes fail",
                   f"The model recognises {listed} of the test images of {'these classes' if len(bad) > 1 else 'this class'}"
                   f", against {100 * mean:.0f} % on average. The Evaluation tab's confusion matrix shows what "
                   "they are taken for; more (or cleaner) training images of them usually help.",
                   evidence={"recall": {names[i]: float(recall[i]) for i in bad}, "mean_recall": mean},
                   highlight={"plot": "classes", "classes": [names[i] for i in bad]})
