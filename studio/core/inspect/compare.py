"""Two evaluations side by side: what changed between two runs, or two epochs of one run.

From two evaluations (core/engine/evaluate.EvalResult, or anything with y_true, y_pred and probs)
of the same images: the confusion-matrix difference (B - A), per-class accuracy (recall) of each
and its change, and the images whose prediction flipped right -> wrong and wrong -> right.

Images are matched by key when both sides have keys (a folder dataset's file paths: a run retrained
with fixes has lost its excluded images, and its relabelled ones carry the new class), else by
position, which needs the same number of images. Only matched images are counted, so both matrices
describe the same images. "Right" on each side is against that side's own label. No Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from studio.core.errors import StudioError
from studio.core.inspect.metrics import confusion_matrix


@dataclass
class Comparison:
    num_classes: int
    index_a: np.ndarray          # (M,) matched images' positions in A's split
    index_b: np.ndarray          # (M,) the same images' positions in B's split
    confusion_a: np.ndarray      # K x K over the matched images, rows = true class
    confusion_b: np.ndarray
    accuracy_a: float
    accuracy_b: float
    class_accuracy_a: np.ndarray   # (K,) recall; NaN for a class with no image
    class_accuracy_b: np.ndarray
    right_to_wrong: np.ndarray     # positions into index_a / index_b (0..M-1) of the images A got right, B wrong
    wrong_to_right: np.ndarray
    relabelled: np.ndarray         # positions whose true class differs between A and B
    unmatched_a: int = 0           # images only one side has
    unmatched_b: int = 0

    @property
    def confusion_delta(self) -> np.ndarray:
        return self.confusion_b.astype(np.int64) - self.confusion_a.astype(np.int64)

    @property
    def class_accuracy_delta(self) -> np.ndarray:
        return self.class_accuracy_b - self.class_accuracy_a

    @property
    def matched(self) -> int:
        return len(self.index_a)


def match_images(n_a: int, n_b: int, keys_a: Sequence[str] | None = None,
                 keys_b: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(positions in A, positions in B) of the images both evaluations hold, in A's order."""
    if keys_a is not None and keys_b is not None:
        where_b = {key: i for i, key in enumerate(keys_b)}
        pairs = [(i, where_b[key]) for i, key in enumerate(keys_a) if key in where_b]
        if not pairs:
            raise StudioError("The two evaluations share no image: they were made on different data.")
        a, b = zip(*pairs)
        return np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if n_a != n_b:
        raise StudioError(f"The two evaluations have {n_a} and {n_b} images: compare runs of the same "
                          "dataset and split.")
    return np.arange(n_a, dtype=np.int64), np.arange(n_b, dtype=np.int64)


def class_accuracy(cm: np.ndarray) -> np.ndarray:
    support = cm.sum(axis=1).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def compare_results(a, b, *, keys_a: Sequence[str] | None = None, keys_b: Sequence[str] | None = None,
                    num_classes: int | None = None) -> Comparison:
    """Everything the comparison view shows, from two evaluations."""
    k = num_classes or max(np.asarray(a.probs).shape[1], np.asarray(b.probs).shape[1])
    ia, ib = match_images(len(a.y_true), len(b.y_true), keys_a, keys_b)
    ta, pa = np.asarray(a.y_true)[ia], np.asarray(a.y_pred)[ia]
    tb, pb = np.asarray(b.y_true)[ib], np.asarray(b.y_pred)[ib]
    cm_a, cm_b = confusion_matrix(ta, pa, k), confusion_matrix(tb, pb, k)
    right_a, right_b = ta == pa, tb == pb
    n = max(1, len(ia))
    return Comparison(num_classes=k, index_a=ia, index_b=ib, confusion_a=cm_a, confusion_b=cm_b,
                      accuracy_a=float(right_a.sum() / n), accuracy_b=float(right_b.sum() / n),
                      class_accuracy_a=class_accuracy(cm_a), class_accuracy_b=class_accuracy(cm_b),
                      right_to_wrong=np.flatnonzero(right_a & ~right_b),
                      wrong_to_right=np.flatnonzero(~right_a & right_b),
                      relabelled=np.flatnonzero(ta != tb),
                      unmatched_a=len(a.y_true) - len(ia), unmatched_b=len(b.y_true) - len(ib))
