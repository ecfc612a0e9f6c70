"""The lectures' training recipes, one name each, so a student can train exactly as a notebook does.

Each preset is a partial TrainConfig: the dataset, model, optimiser, learning rate, batch size,
epochs, augmentation and normalisation the notebook used (with the notebook and lines it comes from).
Window text names a lecture by its topic (LECTURES); the notebooks' numbers (000-004, the
"seeds" of the lectures) stay in ids and sources, and "seed" alone means the random seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.errors import StudioError


# The five lecture notebooks (/seeds/README.md) by topic, for window text.
LECTURES = {
    "000": "PyTorch basics, convolution and AlexNet on CIFAR-10",
    "001": "CNN basics on CIFAR-10",
    "002": "Convolution in PyTorch, padding, stride and counting parameters",
    "003": "A 3-block CNN on CIFAR-10, from data to over- and underfitting",
    "004": "Padding, stride, dilation and a minimal training loop",
}


def lecture_title(number: str) -> str:
    """'Lecture: CNN basics on CIFAR-10' for '000'."""
    return f"Lecture: {LECTURES[number]}"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str
    settings: dict[str, Any] = field(default_factory=dict)

    def apply(self, config: TrainConfig | None = None) -> TrainConfig:
        data = (config or TrainConfig()).to_dict()
        data.update(self.settings)
        return TrainConfig.from_dict(data)


_NO_AUG = AugmentConfig().__dict__

PRESETS = [
    Preset("studio-default", "LeNet-5 on the bundled MNIST sample (the studio's defaults)",
           "CNN Studio: Adam 2e-3 with a cosine schedule; about 97-98 % after 5 epochs on a CPU",
           TrainConfig().to_dict() | {"data_dir": None}),
    Preset("seed000-alexnet", lecture_title("000") + " (AlexNet, 227x227)",
           "notebook 000, lines 745-830: Resize(227), Normalize(0.5), batch 64, Adam lr 0.001, 10 epochs",
           {"dataset": "cifar10", "model": "alexnet", "optimizer": "adam", "lr": 1e-3, "batch_size": 64,
            "epochs": 10, "schedule": "none", "normalize": "half", "augment": _NO_AUG, "weight_decay": 0.0,
            "val_fraction": 0.0}),
    Preset("seed001-cifarcnn", lecture_title("001") + " (CifarCNN, crop and flip)",
           "notebook 001, lines 456-470 and 679-701: RandomCrop(32, padding=4), RandomHorizontalFlip, its CIFAR-10 "
           "constants, batch 128, Adam lr 1e-4, 20 epochs",
           {"dataset": "cifar10", "model": "cifar-cnn", "optimizer": "adam", "lr": 1e-4, "batch_size": 128,
            "epochs": 20, "schedule": "none", "normalize": "seed001", "weight_decay": 0.0, "val_fraction": 0.0,
            "train_accuracy": "full-pass",
            "augment": AugmentConfig(hflip=True, crop_padding=4).__dict__}),
    Preset("seed003-cnn", lecture_title("003") + " (the 3-block BatchNorm CNN)",
           "notebook 003, lines 99-114 and 287-310: Normalize(0.5), batch 100, Adam lr 0.001, 10 epochs",
           {"dataset": "cifar10", "model": "lecture-cnn", "optimizer": "adam", "lr": 1e-3, "batch_size": 100,
            "epochs": 10, "schedule": "none", "normalize": "half", "augment": _NO_AUG, "weight_decay": 0.0,
            "val_fraction": 0.0}),
    Preset("seed004-cifar10model", lecture_title("004") + " (CIFAR10Model on CIFAR-10)",
           "notebook 004, lines 288-410: the valid-conv model with AdaptiveAvgPool, Adam lr 0.01",
           {"dataset": "cifar10", "model": "cifar10-model", "optimizer": "adam", "lr": 1e-2, "batch_size": 64,
            "epochs": 10, "schedule": "none", "normalize": "half", "augment": _NO_AUG, "weight_decay": 0.0,
            "val_fraction": 0.0}),
    # The studio's own recipes for the bundled CIFAR-10 sample (offline): numbers in the README's model table.
    Preset("sample-lecture-cnn", "Lecture CNN on the bundled CIFAR-10 sample (offline)",
           "CNN Studio: the 3-block CNN of \"" + LECTURES["003"] + "\" on cifar10-sample, Adam 2e-3 with a one-cycle schedule, batch 32, "
           "horizontal flips, 10 epochs",
           {"dataset": "cifar10-sample", "model": "lecture-cnn", "optimizer": "adam", "lr": 2e-3, "batch_size": 32,
            "epochs": 10, "schedule": "onecycle", "normalize": "dataset", "weight_decay": 0.0,
            "label_smoothing": 0.0, "augment": AugmentConfig(hflip=True).__dict__}),
    Preset("sample-cifar-cnn", "CifarCNN on the bundled CIFAR-10 sample (offline)",
           "CNN Studio: the CifarCNN of \"" + LECTURES["001"] + "\" on cifar10-sample, Adam 1e-3 with a one-cycle schedule, batch 64, "
           "horizontal flips, 10 epochs",
           {"dataset": "cifar10-sample", "model": "cifar-cnn", "optimizer": "adam", "lr": 1e-3, "batch_size": 64,
            "epochs": 10, "schedule": "onecycle", "normalize": "dataset", "weight_decay": 0.0,
            "label_smoothing": 0.0, "augment": AugmentConfig(hflip=True).__dict__}),
]


def get_preset(name: str) -> Preset:
    for preset in PRESETS:
        if preset.name == name:
            return preset
    raise StudioError(f"Unknown preset '{name}'; choose one of {', '.join(p.name for p in PRESETS)}.")
