"""The statistics the diagnosis quotes: how precisely a measured accuracy is known."""

from __future__ import annotations

import math

Z95 = 1.96                     # a 95 % normal interval


def accuracy_margin(accuracy: float, count: int) -> float:
    """Half-width of the 95 % interval of an accuracy measured on `count` images (binomial, normal
    approximation with the Agresti-Coull adjustment, so 0 % or 100 % on 8 images is not "exact")."""
    if count <= 0:
        return float("nan")
    n = count + Z95 ** 2
    p = (accuracy * count + Z95 ** 2 / 2) / n
    return Z95 * math.sqrt(p * (1 - p) / n)


def difference_margin(accuracy: float, count: int) -> float:
    """Half-width of the 95 % interval of the difference between two runs measured on the same number
    of images (independent errors): sqrt(2) times one run's margin."""
    return math.sqrt(2) * accuracy_margin(accuracy, count)
