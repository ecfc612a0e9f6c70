"""Which mean and std a model's input is normalised with.

The studio's default computes them from the training split. The lectures also use fixed
constants, and a student should be able to train exactly as a notebook does:
seeds 000 and 003 use 0.5 per channel (pixels to [-1, 1]), seed 001 its CIFAR-10 constants,
and ImageNet-pretrained torchvision models expect ImageNet's statistics.
"""

from __future__ import annotations

from studio.core.errors import StudioError

FIXED = {
    "half": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "seed001": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
CHOICES = ("auto", "dataset", *FIXED)
TITLES = {
    "auto": "Auto (split's; ImageNet's if pretrained)",
    "dataset": "From the training split",
    "half": "0.5 / 0.5 (CNN basics, why CNNs work)",
    "seed001": "CIFAR-10 constants of the augmentation lecture",
    "imagenet": "ImageNet's",
}


def resolve(name: str, dataset_mean, dataset_std, *, pretrained: bool = False):
    """(mean, std) for the dataset's channels; fixed RGB constants shrink to one value for gray data."""
    if name not in CHOICES:
        raise StudioError(f"Unknown normalisation '{name}'; choose one of {', '.join(CHOICES)}.")
    if name == "dataset" or (name == "auto" and not pretrained):
        return tuple(dataset_mean), tuple(dataset_std)
    mean, std = FIXED["imagenet" if name == "auto" else name]
    if len(dataset_mean) == 1:
        return (_luma(mean),), (_luma(std),)
    return mean, std


def _luma(values) -> float:
    if len(set(values)) == 1:
        return float(values[0])  # 0.5 stays exactly 0.5
    return 0.299 * values[0] + 0.587 * values[1] + 0.114 * values[2]
