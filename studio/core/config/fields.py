"""The training options, described once: every row names a TrainConfig field, its type, limits,
help text, command-line flag, settings-panel widget and group.

`train`'s options (cli/train_options.py), the settings panel's widgets (gui/panels/settings.py) and the
checks of a config read from JSON (TrainConfig.problems) are all generated from FIELDS, so adding
an option is one row here plus the dataclass attribute it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.config.train_config import (
    MAX_CROP_PADDING,
    MAX_IMAGE_SIZE,
    MAX_SEED,
    OPTIMIZERS,
    SCHEDULES,
    AugmentConfig,
    TrainConfig,
    _real,
    _whole,
)
from studio.core.normalization import CHOICES as NORMALIZATIONS
from studio.core.normalization import TITLES as NORMALIZATION_TITLES

GROUPS = {"data": "Data", "model": "Model", "optimisation": "Optimisation",
          "augmentation": "Augmentation (training images only)", "device": "Device"}


@dataclass(frozen=True)
class Field:
    name: str                   # TrainConfig attribute; "augment.NAME" for an augmentation
    kind: type                  # int, float, bool, str or dict
    help: str                   # one sentence for --help and the widget's tooltip
    label: str                  # the settings panel's row label
    group: str                  # a key of GROUPS
    low: float | None = None    # limits of a usable value (None: unbounded)
    high: float | None = None
    low_open: bool = False      # the limit itself is not allowed
    high_open: bool = False
    choices: tuple = ()         # allowed values, shown with `titles` in the window
    titles: dict = field(default_factory=dict)
    problem: str = ""           # what TrainConfig.problems() says when the value is unusable
    flag: str | None = ""       # "" derives --name-with-dashes; None: no command-line option
    metavar: str | None = None
    widget: str = "spin"        # spin, ladder (1-2-5 steps), doubling, combo, check, augment, or a panel's
                                # own widget (dataset, model, options, device); "" for no widget
    widget_range: tuple | None = None   # a narrower range for the widget than the limits
    step: float | None = None
    decimals: int = 2
    suffix: str = ""
    special: str = ""           # the widget's text for its lowest value ("off")
    switch_on: Any = None       # an augmentation's value when its box is ticked

    @property
    def key(self) -> str:
        """The attribute inside its owner: 'hflip' for 'augment.hflip'."""
        return self.name.rpartition(".")[2]

    @property
    def option(self) -> str | None:
        if self.flag is None:
            return None
        return self.flag or "--" + self.key.replace("_", "-")

    @property
    def dest(self) -> str:
        """The argparse destination: the dotted name with dots made safe."""
        return self.name.replace(".", "__")

    def default(self) -> Any:
        return get_value(TrainConfig(), self.name)

    def accepts(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if self.kind is bool:
            return isinstance(value, bool)
        if self.kind is int:
            return _whole(value, int(self.low or 0), None if self.high is None else int(self.high))
        if self.kind is float:
            return _real(value, self.low, self.high, low_open=self.low_open, high_open=self.high_open)
        return isinstance(value, self.kind)


def _choice_help(titles: dict) -> str:
    return "; ".join(f"{key}: {text}" for key, text in titles.items())


_TRAIN_ACCURACY = {"running": "over the epoch's training batches as they go (the BatchNorm lecture)",
                   "full-pass": "one more pass over the training split in eval mode after each epoch, "
                                "counted in the epoch time (the augmentation lecture)"}
_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD (momentum)", "rmsprop": "RMSprop"}
_SCHEDULES = {"none": "Constant", "step": "Step decay", "cosine": "Cosine annealing", "onecycle": "One-cycle"}


FIELDS: tuple[Field, ...] = (
    # ---- data
    Field("dataset", str, "the dataset: mnist-sample, mnist, fashion-mnist, cifar10, cifar100, or folder:PATH "
          "(your own images, one sub-folder per class); see `cnn-studio datasets`", "Dataset", "data",
          problem="dataset and model must be names", widget="dataset"),
    Field("image_size", int, "side in pixels that the images of a folder dataset are resized to",
          "Folder image size", "data", low=8, high=MAX_IMAGE_SIZE, widget_range=(8, 512),
          problem=f"image size must be 8 to {MAX_IMAGE_SIZE} pixels"),
    Field("normalize", str, "input mean/std: " + _choice_help(NORMALIZATION_TITLES), "Normalise", "data",
          choices=NORMALIZATIONS, titles=NORMALIZATION_TITLES, widget="combo",
          problem=f"normalisation must be one of {', '.join(NORMALIZATIONS)}"),
    Field("val_fraction", float, "share of the training split held out (stratified, with the run's seed) to "
          "choose the best epoch and stop early; 0 = none, as in the lectures", "Validation share", "data",
          low=0, high=0.5, step=0.05, problem="validation fraction must be between 0 and 0.5"),
    Field("data_dir", str, "dataset and download cache", "", "data", flag=None, widget=""),
    Field("data_fixes", str, "a data-fixes file (JSON, written by the window's hardest examples) whose relabels "
          "and exclusions apply to a folder dataset; the image files are never changed", "", "data",
          metavar="FILE", widget="", problem="data_fixes must be the path of a data-fixes file, or empty"),
    # ---- model
    Field("model", str, "the architecture; see `cnn-studio models`", "Model", "model", widget="model",
          problem="dataset and model must be names"),
    Field("model_options", dict, "a model option as KEY=VALUE, the value in JSON (e.g. conv_channels=[8,16]); "
          "repeat for several", "Options", "model", flag="--option", metavar="KEY=VALUE", widget="options",
          problem="model options must be a mapping of names to values"),
    Field("pretrained", bool, "start from ImageNet weights (torchvision models)", "Start from ImageNet weights",
          "model", widget="check", problem="pretrained must be true or false"),
    # ---- optimisation
    Field("optimizer", str, "the optimiser", "Optimiser", "optimisation", choices=OPTIMIZERS, titles=_OPTIMIZERS,
          widget="combo", problem=f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
    Field("lr", float, "learning rate", "Learning rate", "optimisation", low=0, high=1e3, low_open=True,
          widget="ladder", widget_range=(1e-6, 10.0), metavar="LR",
          problem="learning rate must be a positive number (at most 1000)"),
    Field("momentum", float, "momentum of SGD and RMSprop", "Momentum", "optimisation", low=0, high=1,
          high_open=True, widget_range=(0.0, 0.999), step=0.05, decimals=3, problem="momentum must be in [0, 1)"),
    Field("weight_decay", float, "L2 regularisation (0 is off; 5e-4 is a common value)", "Weight decay",
          "optimisation", low=0, high=1e3, widget="ladder", widget_range=(0.0, 1.0),
          problem="weight decay must be 0 or a positive number"),
    Field("batch_size", int, "images per training step", "Batch size", "optimisation", low=1, high=1_000_000,
          widget="doubling", widget_range=(1, 8192), problem="batch size must be a whole number of at least 1"),
    Field("epochs", int, "passes over the training split", "Epochs", "optimisation", low=1, high=1_000_000,
          widget_range=(1, 10000), problem="epochs must be a whole number of at least 1"),
    Field("schedule", str, "how the learning rate changes over the run", "LR schedule", "optimisation",
          choices=SCHEDULES, titles=_SCHEDULES, widget="combo",
          problem=f"schedule must be one of {', '.join(SCHEDULES)}"),
    Field("step_size", int, "epochs between learning-rate drops of the step schedule", "Step every",
          "optimisation", low=1, widget_range=(1, 1000), suffix=" epochs",
          problem="step size must be a whole number of epochs, at least 1"),
    Field("gamma", float, "factor of each learning-rate drop of the step schedule", "Step factor", "optimisation",
          low=0, high=1e3, low_open=True, widget_range=(0.01, 0.99), step=0.05,
          problem="gamma must be a positive number"),
    Field("label_smoothing", float, "share of each target spread over the other classes", "Label smoothing",
          "optimisation", low=0, high=1, high_open=True, widget_range=(0.0, 0.5), step=0.05,
          problem="label smoothing must be in [0, 1)"),
    Field("early_stop_patience", int, "stop when the validation loss (the test loss without a validation "
          "split) has not improved for this many epochs; 0: off", "Early stopping", "optimisation", low=0, flag="--early-stop", metavar="PATIENCE",
          widget_range=(0, 100), special="off", problem="early-stop patience must be 0 (off) or more epochs"),
    Field("seed", int, "random seed of the weights, the shuffling and the validation split", "Random seed",
          "optimisation", low=0, high=MAX_SEED, widget_range=(0, 2**31 - 1),
          problem=f"the seed must be a whole number from 0 to {MAX_SEED}"),
    Field("train_accuracy", str, "training accuracy: " + _choice_help(_TRAIN_ACCURACY), "Train accuracy",
          "optimisation", choices=("running", "full-pass"), widget="combo",
          titles={"running": "Running, over the epoch's batches", "full-pass": "A full pass after each epoch"},
          problem="training accuracy must be 'running' or 'full-pass'"),
    # ---- augmentation
    Field("augment.hflip", bool, "flip images left-right at random", "Horizontal flip", "augmentation",
          widget="augment", switch_on=True, problem="hflip must be true or false"),
    Field("augment.crop_padding", int, "random crop back to size after padding by this many pixels",
          "Random crop, padding (px)", "augmentation", low=0, high=MAX_CROP_PADDING, widget="augment",
          widget_range=(1, 16), step=1, switch_on=4, metavar="PX",
          problem=f"crop padding must be 0 to {MAX_CROP_PADDING} pixels"),
    Field("augment.rotation", float, "rotate by up to this many degrees either way", "Rotation ± (degrees)",
          "augmentation", low=0, high=180, widget="augment", widget_range=(5.0, 180.0), step=5.0, switch_on=15.0,
          metavar="DEGREES", problem="rotation must be between 0 and 180 degrees"),
    Field("augment.scale", float, "zoom by up to this fraction either way (0.1 = 0.9x..1.1x)", "Zoom ± (fraction)",
          "augmentation", low=0, high=1, high_open=True, widget="augment", widget_range=(0.05, 0.9), step=0.05,
          switch_on=0.1, problem="scale must be in [0, 1)"),
    Field("augment.translate", float, "shift by up to this fraction of the side", "Shift ± (fraction of side)",
          "augmentation", low=0, high=1, high_open=True, widget="augment", widget_range=(0.05, 0.5), step=0.05,
          switch_on=0.1, problem="translate must be in [0, 1)"),
    Field("augment.color_jitter", float, "change brightness, contrast and saturation by up to this fraction",
          "Colour jitter (strength)", "augmentation", low=0, high=1, widget="augment", widget_range=(0.05, 1.0),
          step=0.05, switch_on=0.2, problem="colour jitter must be in [0, 1]"),
    Field("augment.noise_std", float, "add Gaussian noise of this standard deviation (normalised units)",
          "Gaussian noise (σ)", "augmentation", low=0, high=100, flag="--noise", metavar="STD", widget="augment",
          widget_range=(0.01, 1.0), step=0.01, switch_on=0.05, problem="noise std must be a number from 0 to 100"),
    # ---- device
    Field("device", str, "auto, cpu, cuda, cuda:N or mps", "Train on", "device", widget="device",
          problem="device must be a name such as cpu or cuda"),
    Field("amp", bool, "mixed precision (CUDA only)", "Mixed precision (CUDA only)", "device", widget="check",
          problem="amp must be true or false"),
    Field("compile", bool, "torch.compile the model (slow to start on CPU)", "", "device", widget="",
          problem="compile must be true or false"),
    Field("snapshots", int, "megabytes of weights kept per run to look back at any epoch: every epoch while they "
          "fit, then epoch 0 and log-spaced epochs (0: none)", "Weights kept per run", "device", low=0,
          high=1_000_000, metavar="MB", widget_range=(0, 100_000), suffix=" MB", special="none",
          problem="snapshots must be 0 or a whole number of megabytes"),
    Field("num_threads", int, "CPU threads (0: all cores but one)", "", "device", low=0, high=4096, flag="--threads",
          metavar="N",
          widget="", problem="threads must be 0 (automatic) or a positive number"),
    Field("processes", int, "training processes on this machine (torchrun + DistributedDataParallel, one per GPU "
          "on CUDA; 1: train in this process); the batch size stays the global batch; BatchNorm normalises "
          "each process's share unless --sync-bn", "Processes", "device",
          low=1, high=1024, flag="--nproc-per-node", metavar="N", widget="spin", widget_range=(1, 64),
          problem="processes must be a whole number from 1"),
    Field("sync_bn", bool, "distributed runs: normalise BatchNorm over the whole global batch (SyncBatchNorm, "
          "CUDA only) instead of each process's share", "", "device", widget="",
          problem="sync_bn must be true or false"),
)

BY_NAME = {f.name: f for f in FIELDS}


def get_value(config: TrainConfig, name: str) -> Any:
    owner, _, key = name.rpartition(".")
    return getattr(getattr(config, owner) if owner else config, key)


def set_value(config: TrainConfig, name: str, value: Any) -> None:
    owner, _, key = name.rpartition(".")
    setattr(getattr(config, owner) if owner else config, key, value)


def in_group(group: str) -> list[Field]:
    return [f for f in FIELDS if f.group == group]


def problems(config: TrainConfig, *, augment: bool = True) -> list[str]:
    """Every field whose value cannot be trained with, in words, once per message."""
    return _problems(config, [f for f in FIELDS if augment or not f.name.startswith("augment.")])


def augment_problems(augment: AugmentConfig) -> list[str]:
    return _problems(TrainConfig(augment=augment), [f for f in FIELDS if f.name.startswith("augment.")])


def _problems(config: TrainConfig, fields: list[Field]) -> list[str]:
    messages: list[str] = []
    for f in fields:
        if f.problem and f.problem not in messages and not f.accepts(get_value(config, f.name)):
            messages.append(f.problem)
    return messages
