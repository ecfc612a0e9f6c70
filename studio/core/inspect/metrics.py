"""Classification metrics on label arrays and confusion matrices (numpy only)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """Counts[i, j] = how many images of true class i were predicted as class j."""
    y_true = np.asarray(y_true, dtype=np.int64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.int64).ravel()
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat[: num_classes * num_classes].reshape(num_classes, num_classes)


def accuracy(cm: np.ndarray) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def per_class_prf(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support; 0 where a class was never predicted or seen."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def normalize_rows(cm: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the fraction of class i predicted as j."""
    rows = cm.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(cm, rows, out=np.zeros(cm.shape, dtype=np.float64), where=rows > 0)


def most_confused(cm: np.ndarray, classes: list[str], n: int = 5) -> list[tuple[str, str, int]]:
    """The n largest off-diagonal cells as (true class, predicted class, count)."""
    off = np.array(cm, dtype=np.int64, copy=True)
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:n]
    pairs = []
    for flat in order:
        i, j = divmod(int(flat), off.shape[1])
        if off[i, j] > 0:
            pairs.append((classes[i], classes[j], int(off[i, j])))
    return pairs


def cell_indices(result, true: int, pred: int) -> np.ndarray:
    """Images of one (true, predicted) cell of an evaluation, the most confident prediction first."""
    idx = np.flatnonzero((result.y_true == true) & (result.y_pred == pred))
    conf = result.probs[idx, pred] if len(idx) else np.zeros(0)
    return idx[np.argsort(-conf, kind="stable")]
