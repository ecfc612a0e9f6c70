"""The lectures' architectures, copied from the seed notebooks (/work/shared/seeds).

Each class keeps the notebook's layers, order and attribute names, so a student can put the
notebook and the studio side by side, and so checkpoints saved by the notebooks
({'net': model.state_dict()}) load with matching keys. The only changes: the input channel
count, the number of classes and the flattened feature size follow the data instead of being
fixed to 3x32x32 / 10 classes. Flattened sizes are measured with a dry run of the
convolutional part on the real input shape, never hard-coded.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from studio.core.errors import ModelError
from studio.core.models import options as opt

Shape = tuple[int, int, int]


def probe_output(module: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], in_shape: Shape,
                 model: str) -> torch.Size:
    """Shape of `forward` on one zero image; eval mode so BatchNorm's running stats stay untouched."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return forward(torch.zeros(1, *in_shape)).shape
    except RuntimeError as exc:
        raise ModelError(f"Images of {in_shape[1]}x{in_shape[2]} pixels are too small for {model}: "
                         "its convolutions and poolings shrink them to nothing.") from exc
    finally:
        module.train(was_training)


MAX_FC_WEIGHTS = 2**28  # 1 GiB of float32: cifar-cnn on 256x256 images; beyond, the flatten-FC layer explodes


def _flat(shape: torch.Size, width: int, model: str) -> int:
    """Features after flattening, checked before the first linear layer (flat -> width) allocates them.

    The lectures' models flatten the conv maps into a linear layer, whose weights grow with the
    image's area: a big image would ask for tens of gigabytes and take the machine down.
    """
    flat = int(torch.Size(shape[1:]).numel())
    if flat * width > MAX_FC_WEIGHTS:
        raise ModelError(f"{model} on these images would need a {flat:,} x {width:,} fully connected layer "
                         f"({flat * width * 4 / 1024**3:.1f} GB of weights); use smaller images.")
    return flat


# --------------------------------------------------------------------------- lenet5

class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998), listed in seed 002's "popular architectures" ("LeNet-5 (1998)").

    conv 6@5x5 -> pool 2 -> conv 16@5x5 -> pool 2 -> fc 120 -> fc 84 -> fc classes.
    Modern variant by default: ReLU and max pooling (the 1998 net used tanh-like squashing and
    average "subsampling"; activation='tanh', pool='avg' bring that flavour back).
    Inputs smaller than 32 px get padding=2 on the first conv: the classic MNIST adaptation
    (seed 001's output-size example: 28x28, 5x5 filter, padding 2 -> 28), so a 28x28 digit
    follows the same geometry as the original 32x32 input (16x5x5 features before the fc).
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, input_size: tuple[int, int] = (32, 32),
                 activation: str = "relu", pool: str = "max"):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pool_layer = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        first_padding = 2 if min(input_size) < 32 else 0
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=first_padding),
            act(),
            pool_layer(kernel_size=2),
            nn.Conv2d(6, 16, kernel_size=5),
            act(),
            pool_layer(kernel_size=2),
        )
        flat = _flat(probe_output(self.features, self.features, (in_channels, *input_size), "lenet5"), 120, "lenet5")
        self.classifier = nn.Sequential(
            nn.Linear(flat, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def build_lenet5(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    activation = opt.choice("lenet5", "activation", options["activation"], ("relu", "tanh"))
    pool = opt.choice("lenet5", "pool", options["pool"], ("max", "avg"))
    return LeNet5(shape[0], num_classes, shape[1:], activation=activation, pool=pool)


# ----------------------------------------------------------------------- lecture-cnn

_ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "tanh": nn.Tanh}


class LectureCNN(nn.Module):
    """Seed 003 ("Define a simple CNN", class CNN): three blocks of conv3x3 (padding 1) + BatchNorm + ReLU +
    MaxPool2, 32/64/128 channels, then one linear layer (128*4*4 -> 10 on 32x32 images).

    `activation` answers the notebook's question "what happens as you change the activation
    function?" (ReLU, LeakyReLU, Tanh are the ones seed 003 discusses); ReLU is the notebook's.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_size: tuple[int, int] = (32, 32),
                 activation: str = "relu"):
        super().__init__()
        act = _ACTIVATIONS[activation]
        self.layer1 = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            act(),
            nn.MaxPool2d(2),
        )
        self.layer2 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            act(),
            nn.MaxPool2d(2),
        )
        self.layer3 = nn.Sequential(
            nn.Conv2d(64, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            act(),
            nn.MaxPool2d(2),
        )
        flat = _flat(probe_output(self, self._blocks, (in_channels, *input_size), "lecture-cnn"), num_classes,
                     "lecture-cnn")
        self.fc = nn.Linear(flat, num_classes)

    def _blocks(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer3(self.layer2(self.layer1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self._blocks(x)
        out = out.view(out.size(0), -1)
        return self.fc(out)


def build_lecture_cnn(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    activation = opt.choice("lecture-cnn", "activation", options["activation"], tuple(_ACTIVATIONS))
    return LectureCNN(shape[0], num_classes, shape[1:], activation=activation)


# ------------------------------------------------------------------------- cifar-cnn

class CifarCNN(nn.Module):
    """Seed 001, "Building a CNN-Classifier for CIFAR-10 with PyTorch" (In [2], class CifarCNN), layer for layer.

    5,852,170 parameters and 22.33 MB on 3x32x32 with 10 classes, as the notebook prints.
    `conv_layer` / `fc_layer` keep the notebook's names and indices, so its checkpoints load.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 10, input_size: tuple[int, int] = (32, 32)):
        super().__init__()
        self.conv_layer = nn.Sequential(
            # Conv Layer block 1
            nn.Conv2d(in_channels=in_channels, out_channels=32, kernel_size=3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            # Conv Layer block 2
            nn.Conv2d(in_channels=64, out_channels=128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=128, out_channels=128, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Dropout2d(p=0.05),
            # Conv Layer block 3
            nn.Conv2d(in_channels=128, out_channels=256, kernel_size=3, padding=1),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=256, out_channels=256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        # 256 * 4 * 4 = 4096 on 32x32 images; measured so other sizes work too.
        flat = _flat(probe_output(self.conv_layer, self.conv_layer, (in_channels, *input_size), "cifar-cnn"), 1024,
                     "cifar-cnn")
        self.fc_layer = nn.Sequential(
            nn.Dropout(p=0.1),
            nn.Linear(flat, 1024),
            nn.ReLU(inplace=True),
            nn.Linear(1024, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.1),
            nn.Linear(512, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_layer(x)
        x = x.view(x.size(0), -1)
        return self.fc_layer(x)


def build_cifar_cnn(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    return CifarCNN(shape[0], num_classes, shape[1:])


# ------------------------------------------------------------------ configurable-cnn

class PytorchCNN(nn.Module):
    """Seed 002 (class PytorchCNN): blocks of Conv2d(padding=kernel_size // 2) + ReLU + MaxPool2d(2) for each entry
    of `conv_channels`, then Linear + ReLU for each entry of `hidden_sizes`, then Linear to the classes.
    The notebook's example (conv_channels=[8, 16], kernel_size=3, hidden_sizes=[32], 3x32x32, 10 classes)
    has 34,522 parameters. The notebook computes the flattened size as c * (h // 2**n) * (w // 2**n),
    which is right for odd kernels only; here it is measured, so even kernels work too.
    """

    def __init__(self, in_channels: int, conv_channels: list[int], kernel_size: int, hidden_sizes: list[int],
                 n_output: int, input_height: int, input_width: int):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = in_channels
        for c_out in conv_channels:
            layers.append(nn.Conv2d(c_in, c_out, kernel_size=kernel_size, padding=kernel_size // 2))
            layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(kernel_size=2))
            c_in = c_out
        self.features = nn.Sequential(*layers)

        in_shape = (in_channels, input_height, input_width)
        in_features = _flat(probe_output(self.features, self.features, in_shape, "configurable-cnn"),
                            (list(hidden_sizes) + [n_output])[0], "configurable-cnn")
        fc_layers: list[nn.Module] = []
        for h_size in hidden_sizes:
            fc_layers.append(nn.Linear(in_features, h_size))
            fc_layers.append(nn.ReLU())
            in_features = h_size
        fc_layers.append(nn.Linear(in_features, n_output))
        self.classifier = nn.Sequential(*fc_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, start_dim=1)
        return self.classifier(x)


def configurable_options(options: dict) -> tuple[list[int], int, list[int]]:
    """The checked (conv_channels, kernel_size, hidden_sizes)."""
    name = "configurable-cnn"
    conv = opt.int_list(name, "conv_channels", options["conv_channels"], min_len=1, max_len=8, low=1, high=1024)
    kernel = opt.integer(name, "kernel_size", options["kernel_size"], 1, 15)
    hidden = opt.int_list(name, "hidden_sizes", options["hidden_sizes"], min_len=0, max_len=8, low=1, high=8192)
    return conv, kernel, hidden


def configurable_min_size(options: dict) -> int:
    """Smallest image side that survives every conv (padding k // 2) + MaxPool2d(2) block."""
    conv, kernel, _ = configurable_options(options)
    for side in range(1, 4097):
        size = side
        for _ in conv:
            size = size + 2 * (kernel // 2) - kernel + 1  # 'same' for odd kernels, one more for even ones
            size //= 2
            if size < 1:
                break
        else:
            return side
    raise ModelError("configurable-cnn: too many conv blocks for any reasonable image size.")


def configurable_max_blocks(kernel: int, side: int) -> int:
    """How many conv + MaxPool2d(2) blocks an image side survives with this kernel (padding k // 2)."""
    blocks = 0
    while True:
        side = (side + 2 * (kernel // 2) - kernel + 1) // 2
        if side < 1:
            return blocks
        blocks += 1


MAX_MAP_VALUES = 2**27  # one feature map of 512 MB (float32): the build's dry run allocates it


def build_configurable_cnn(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    conv, kernel, hidden = configurable_options(options)
    # Free-form widths: 1024 channels on 1024x1024 images would be a 4 GB map in the dry run alone.
    h, w = shape[1], shape[2]
    for i, channels in enumerate(conv):
        if channels * (h >> i) * (w >> i) > MAX_MAP_VALUES:
            raise ModelError(f"configurable-cnn: block {i + 1} would make {channels} maps of {h >> i}x{w >> i} "
                             "pixels, too large to build; use fewer channels or smaller images.")
    return PytorchCNN(shape[0], conv, kernel, hidden, num_classes, shape[1], shape[2])


# --------------------------------------------------------------------- cifar10-model

class CIFAR10Model(nn.Module):
    """Seed 004 (In [10], class CIFAR10Model): two valid 3x3 convs, each with BatchNorm, ReLU and MaxPool2d(2),
    then AdaptiveAvgPool2d(1) and one linear layer. The global pooling makes it size-agnostic."""

    def __init__(self, in_channels: int, output_dim: int):
        super().__init__()
        self.feature_extractor = nn.Sequential(
            # 3x32x32
            nn.Conv2d(in_channels, out_channels=32, kernel_size=3),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            # 32x15x15
            nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2),
            # 64x6x6
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
            # 64x1x1
        )
        self.flatten = nn.Flatten(start_dim=1)
        self.classifier = nn.Sequential(
            nn.Linear(64, output_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.feature_extractor(x)
        x = self.flatten(x)
        return self.classifier(x)


def build_cifar10_model(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    model = CIFAR10Model(shape[0], num_classes)
    probe_output(model, model, shape, "cifar10-model")  # a clear error for images that are too small
    return model


# --------------------------------------------------------------------------- alexnet

class AlexNet(nn.Module):
    """Seed 000 ("AlexNet", In [None] after "Translation Equivariance", class AlexNet): five convs
    (96@11x11/4, 256@5x5, 384, 384, 256@3x3) with overlapping 3x3/2 max pooling, one shared in-place
    ReLU, fc 4096 -> 4096 -> classes with Dropout(p=0.6). Made for 227x227 inputs (256*6*6 features);
    the flattened size is measured so the channel count and image size may differ.
    """

    def __init__(self, num_classes: int, in_channels: int = 3, input_size: tuple[int, int] = (227, 227),
                 dropout: float = 0.6):
        super().__init__()
        # Convolutional layers
        self.conv1 = nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=0)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, padding=2)
        self.pool2 = nn.MaxPool2d(kernel_size=3, stride=2)
        self.conv3 = nn.Conv2d(256, 384, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(384, 256, kernel_size=3, padding=1)
        self.pool5 = nn.MaxPool2d(kernel_size=3, stride=2)
        # Activation function (one module, called seven times, as in the notebook)
        self.relu = nn.ReLU(inplace=True)
        flat = _flat(probe_output(self, self._conv_features, (in_channels, *input_size), "alexnet"), 4096, "alexnet")
        # Fully connected layers
        self.fc1 = nn.Linear(flat, 4096)  # 256 * 6 * 6 on 227x227
        self.fc2 = nn.Linear(4096, 4096)
        self.fc3 = nn.Linear(4096, num_classes)
        # Dropout layers
        self.dropout = nn.Dropout(p=dropout)

    def _conv_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.conv1(x))
        x = self.pool1(x)
        x = self.relu(self.conv2(x))
        x = self.pool2(x)
        x = self.relu(self.conv3(x))
        x = self.relu(self.conv4(x))
        x = self.relu(self.conv5(x))
        return self.pool5(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._conv_features(x)
        x = torch.flatten(x, 1)  # Flatten from (B, 256, 6, 6) to (B, 256*6*6)
        x = self.dropout(self.relu(self.fc1(x)))
        x = self.dropout(self.relu(self.fc2(x)))
        return self.fc3(x)


def build_alexnet(shape: Shape, num_classes: int, options: dict) -> nn.Module:
    dropout = opt.fraction("alexnet", "dropout", options["dropout"])
    return AlexNet(num_classes, in_channels=shape[0], input_size=shape[1:], dropout=dropout)
