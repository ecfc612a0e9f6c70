"""Weight initialisation: the lectures' Kaiming/He formulas next to what PyTorch really does.

Seed 002 (lines 495-499) and seed 004 (lines 266-271) say the weights of nn.Conv2d are
initialised "based on a scheme similar to Kaiming/He": uniform U(-sqrt(6/n_in), sqrt(6/n_in))
[default] or normal N(0, 2/n_in), and that the biases are initialised to zero.

PyTorch's own default (Conv1d/2d/3d.reset_parameters and Linear.reset_parameters) is
kaiming_uniform_(weight, a=sqrt(5)): gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), bound =
gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in), so the weights are U(+-1/sqrt(fan_in)), sqrt(6)
times narrower than the lecture's He-uniform; and the biases are U(+-1/sqrt(fan_in)), not zero.
The lecture's He schemes are nn.init.kaiming_uniform_/kaiming_normal_(nonlinearity='relu')
with the biases set by nn.init.zeros_.

Here real modules are built (nn.Conv2d / nn.Linear with their own constructors) and, for
the He schemes, re-initialised with nn.init, so what is shown is what a model would get.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import init

from studio.core.lab.conv import ConvLabError

SCHEMES = ("pytorch", "he-uniform", "he-normal")
SCHEME_TITLES = {
    "pytorch": "PyTorch default: kaiming_uniform_(a=√5)",
    "he-uniform": "He uniform (lecture): U(±√(6/n_in)), bias 0",
    "he-normal": "He normal (lecture): N(0, 2/n_in), bias 0",
}
LAYER_KINDS = ("Conv2d", "Linear", "Conv1d")
MAX_NUMEL = 4_000_000


@dataclass(frozen=True)
class LayerSpec:
    kind: str            # "Conv2d", "Conv1d" or "Linear"
    n_in: int            # in_channels or in_features
    n_out: int           # out_channels or out_features
    kernel: int = 3      # square kernel (Conv2d) or length (Conv1d); ignored by Linear

    def describe(self) -> str:
        if self.kind == "Linear":
            return f"nn.Linear({self.n_in}, {self.n_out})"
        return f"nn.{self.kind}({self.n_in}, {self.n_out}, kernel_size={self.kernel})"


# The lectures' layers (seed 004's CIFAR10Model, seed 002's PytorchCNN) for the preset menu: (title, spec).
PRESETS = (
    ("notebook 004 conv 1", LayerSpec("Conv2d", 3, 32, 3)),
    ("notebook 004 conv 2", LayerSpec("Conv2d", 32, 64, 3)),
    ("notebook 004 classifier", LayerSpec("Linear", 64, 10)),
    ("notebook 002 conv 1", LayerSpec("Conv2d", 3, 8, 3)),
    ("notebook 002 hidden", LayerSpec("Linear", 1024, 32)),
    ("notebook 002 logits", LayerSpec("Linear", 32, 10)),
)


def fan_in(spec: LayerSpec) -> int:
    """n_in of the formulas: in_features, or in_channels x kernel area for a convolution."""
    if spec.kind == "Linear":
        return spec.n_in
    if spec.kind == "Conv1d":
        return spec.n_in * spec.kernel
    return spec.n_in * spec.kernel * spec.kernel


def fan_in_formula(spec: LayerSpec) -> str:
    n = fan_in(spec)
    if spec.kind == "Linear":
        return f"fan_in = in_features = {n}"
    if spec.kind == "Conv1d":
        return f"fan_in = in_channels × k = {spec.n_in} × {spec.kernel} = {n}"
    return f"fan_in = in_channels × kH × kW = {spec.n_in} × {spec.kernel} × {spec.kernel} = {n}"


def pytorch_bound(n: int) -> float:
    """kaiming_uniform_(a=sqrt(5)): gain sqrt(1/3) times sqrt(3/n) = 1/sqrt(n); the bias bound too."""
    gain = math.sqrt(2.0 / (1.0 + 5.0))
    return gain * math.sqrt(3.0 / n)


def he_uniform_bound(n: int) -> float:
    """The lecture's U(-sqrt(6/n_in), sqrt(6/n_in))."""
    return math.sqrt(6.0 / n)


def he_normal_std(n: int) -> float:
    """The lecture's N(0, 2/n_in): standard deviation sqrt(2/n_in)."""
    return math.sqrt(2.0 / n)


@dataclass(frozen=True)
class Expected:
    """What the scheme promises for the weights and biases."""
    weight_kind: str          # "uniform" or "normal"
    weight_bound: float       # uniform: the bound b of U(-b, b); normal: 3 sigma (for the plot range)
    weight_std: float         # b/sqrt(3) for uniform, sigma for normal
    bias_bound: float         # 0 when the biases are zero


def expected(scheme: str, n: int) -> Expected:
    if scheme == "pytorch":
        b = pytorch_bound(n)
        return Expected("uniform", b, b / math.sqrt(3.0), 1.0 / math.sqrt(n))
    if scheme == "he-uniform":
        b = he_uniform_bound(n)
        return Expected("uniform", b, b / math.sqrt(3.0), 0.0)
    if scheme == "he-normal":
        s = he_normal_std(n)
        return Expected("normal", 3.0 * s, s, 0.0)
    raise ConvLabError(f"Unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}.")


@dataclass
class InitResult:
    spec: LayerSpec
    scheme: str
    fan_in: int
    torch_fan_in: int         # torch.nn.init._calculate_fan_in_and_fan_out on the real weight
    weight: np.ndarray        # flattened
    bias: np.ndarray
    weight_shape: tuple[int, ...]
    expect: Expected

    def within_bounds(self) -> bool:
        """Uniform weights inside [-b, b] and biases inside their bound (normal weights: not bounded)."""
        ok_w = self.expect.weight_kind != "uniform" or bool(np.all(np.abs(self.weight) <= self.expect.weight_bound))
        return ok_w and bool(np.all(np.abs(self.bias) <= self.expect.bias_bound))


def check_spec(spec: LayerSpec) -> None:
    if spec.kind not in LAYER_KINDS:
        raise ConvLabError(f"Unknown layer type {spec.kind!r}; use one of {', '.join(LAYER_KINDS)}.")
    if spec.n_in < 1 or spec.n_out < 1 or spec.kernel < 1:
        raise ConvLabError("Sizes must be whole numbers of at least 1.")
    numel = spec.n_out * fan_in(spec)
    if numel > MAX_NUMEL:
        raise ConvLabError(f"That layer has {numel:,} weights; keep it under {MAX_NUMEL:,} so the "
                           "histogram stays quick.")


def build_layer(spec: LayerSpec) -> nn.Module:
    """A real module, initialised by its own constructor (PyTorch's default)."""
    check_spec(spec)
    if spec.kind == "Linear":
        return nn.Linear(spec.n_in, spec.n_out)
    if spec.kind == "Conv1d":
        return nn.Conv1d(spec.n_in, spec.n_out, spec.kernel)
    return nn.Conv2d(spec.n_in, spec.n_out, spec.kernel)


def initialise(spec: LayerSpec, scheme: str = "pytorch", generator: torch.Generator | None = None) -> InitResult:
    """Build the layer; for the He schemes re-initialise it as the lecture describes.

    With a generator the draws are reproducible and torch's global random state is left alone:
    the default is then redrawn exactly as reset_parameters() does, from that generator.
    """
    if scheme not in SCHEMES:
        raise ConvLabError(f"Unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}.")
    layer = build_layer(spec)
    w, b = layer.weight, layer.bias
    n = fan_in(spec)
    torch_n, _ = init._calculate_fan_in_and_fan_out(w)
    with torch.no_grad():
        if scheme == "pytorch":
            if generator is not None:
                init.kaiming_uniform_(w, a=math.sqrt(5), generator=generator)
                init.uniform_(b, -1 / math.sqrt(torch_n), 1 / math.sqrt(torch_n), generator=generator)
        elif scheme == "he-uniform":
            init.kaiming_uniform_(w, nonlinearity="relu", generator=generator)
            init.zeros_(b)
        else:
            init.kaiming_normal_(w, nonlinearity="relu", generator=generator)
            init.zeros_(b)
    return InitResult(spec=spec, scheme=scheme, fan_in=n, torch_fan_in=int(torch_n),
                      weight=w.detach().numpy().ravel().astype(np.float64),
                      bias=b.detach().numpy().ravel().astype(np.float64),
                      weight_shape=tuple(w.shape), expect=expected(scheme, n))


def formula_lines(spec: LayerSpec) -> list[str]:
    """The three schemes' numbers for this layer, written out."""
    n = fan_in(spec)
    b = pytorch_bound(n)
    return [
        fan_in_formula(spec),
        "PyTorch default (kaiming_uniform_, a = √5):",
        f"    gain = √(2/(1 + a²)) = √(1/3),  b = gain·√(3/fan_in) = 1/√{n} = {b:.5f}",
        f"    weight ~ U(±{b:.5f}),  bias ~ U(±1/√{n}) = U(±{1 / math.sqrt(n):.5f})",
        f"He uniform (lecture): weight ~ U(±√(6/{n})) = U(±{he_uniform_bound(n):.5f}),  bias = 0",
        f"He normal (lecture):  weight ~ N(0, 2/{n}),  σ = √(2/{n}) = {he_normal_std(n):.5f},  bias = 0",
    ]


def histogram(values: np.ndarray, lo: float, hi: float, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Counts and edges over [lo, hi]; values outside fall in the end bins (none do for uniform schemes)."""
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
    return counts, edges
