"""Stratified splits with a fixed seed: train/test for datasets, train/validation for a run."""

from __future__ import annotations

import numpy as np
import torch


def stratified_split(labels: np.ndarray, *, test_fraction: float | None = None, test_per_class: int | None = None,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices (sorted), the same share of every class in test.

    Give either test_fraction (each class with 2+ items keeps at least one in each side) or
    test_per_class. Deterministic for a given seed.
    """
    if (test_fraction is None) == (test_per_class is None):
        raise ValueError("give exactly one of test_fraction or test_per_class")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        members = members[rng.permutation(len(members))]
        n_test = _test_count(len(members), test_fraction, test_per_class)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _test_count(n: int, fraction: float | None, per_class: int | None) -> int:
    if per_class is not None:
        if per_class >= n:
            raise ValueError(f"cannot hold out {per_class} of a class with {n} items")
        return per_class
    if n < 2:
        return 0
    return min(max(1, round(n * fraction)), n - 1)


def carve_validation(bundle, fraction: float, seed: int):
    """The bundle with a stratified validation split taken out of its training split (same seed, same split).

    fraction 0 (the lectures' way) returns the bundle unchanged. The normalisation statistics stay
    those of the whole training split, so a run's input pipeline does not depend on the fraction.
    """
    from dataclasses import replace

    from studio.core.data.bundle import Split

    if fraction <= 0 or len(bundle.train) < 2:
        return bundle
    train_idx, val_idx = stratified_split(bundle.train.labels.numpy(), test_fraction=fraction, seed=seed)
    if len(val_idx) == 0:
        return bundle
    files = bundle.train.files
    train, val = (Split(bundle.train.images[torch.from_numpy(idx)], bundle.train.labels[torch.from_numpy(idx)],
                        None if files is None else [files[i] for i in idx])
                  for idx in (train_idx, val_idx))
    return replace(bundle, train=train, val=val)


def run_split(bundle, which: str, config: dict | None = None):
    """The test split, or ("val") the validation split a run with `config` (val_fraction, seed) held out.

    None when that run had no validation split (val_fraction 0, or a run from before them).
    """
    if which == "test":
        return bundle.test
    if bundle.val is not None:   # already carved (a trainer's bundle)
        return bundle.val
    config = config or {}
    fraction, seed = config.get("val_fraction", 0.0), config.get("seed", 0)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not isinstance(seed, int):
        return None
    return carve_validation(bundle, float(fraction), seed).val if fraction > 0 else None
