"""Counting parameters layer by layer, as seed 002 does, checked against the real module.

Seed 002 (lines 517-565) counts the parameters of its configurable `PytorchCNN` by hand:
(c_in × s1 × s2 + 1) × c_out per convolution, (d + 1) × h per linear layer, and totals
224 + 1168 + 32800 + 330 = 34522 for the example. Here the same table is written from a real
`nn.Sequential` built like `PytorchCNN` (lines 576-624), so the formula and
`sum(p.numel() for p in model.parameters())` can be compared. The count is first estimated
from the recipe alone, so a typo such as a 100000-unit hidden layer is refused before torch
allocates gigabytes for it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import torch
from torch import nn

from studio.core.lab.conv import ConvLabError

MAX_PARAMS = 20_000_000   # about 80 MB of float32 weights: beyond that it is a typo, not a lab model


@dataclass(frozen=True)
class CnnRecipe:
    """The arguments of seed 002's PytorchCNN, plus an optional BatchNorm after each conv."""

    in_channels: int = 3
    conv_channels: tuple[int, ...] = (8, 16)
    kernel_sizes: tuple[int, ...] = (3,)       # one per conv layer, or one for all
    hidden_sizes: tuple[int, ...] = (32,)
    n_output: int = 10
    height: int = 32
    width: int = 32
    batchnorm: bool = False

    def kernel_for(self, i: int) -> int:
        ks = self.kernel_sizes
        return ks[i] if i < len(ks) else ks[-1]


@dataclass(frozen=True)
class RecipePreset:
    key: str
    title: str
    source: str
    recipe: CnnRecipe
    expected_total: int | None = None


PRESETS: tuple[RecipePreset, ...] = (
    RecipePreset("seed002", "notebook 002: 32×32 RGB, 34,522 parameters",
                 "notebook 002, lines 517-565 (table) and 640-649 (model)", CnnRecipe(), 34522),
    RecipePreset("seed001-28", "notebook 001: 28×28, 5×5 kernels → 7×7",
                 "notebook 001, lines 273-279", CnnRecipe(1, (8, 16), (5,), (), 10, 28, 28)),
    RecipePreset("bn", "notebook 002 + BatchNorm after each conv", "BatchNorm adds 2 × C",
                 CnnRecipe(batchnorm=True)),
)


def parse_int_list(text: str, what: str, allow_empty: bool = False) -> tuple[int, ...]:
    """'8, 16' -> (8, 16), with a sentence for anything that is not a list of positive ints."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not parts and not allow_empty:
        raise ConvLabError(f"Give at least one number for {what}.")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ConvLabError(f"{what.capitalize()} must be whole numbers separated by commas, "
                           f"got {text!r}.") from None
    if any(v < 1 for v in values):
        raise ConvLabError(f"{what.capitalize()} must be at least 1.")
    return values


def estimate_params(recipe: CnnRecipe) -> int:
    """The recipe's parameter count by arithmetic alone (nothing is allocated)."""
    _check_recipe(recipe)
    total, c, h, w = 0, recipe.in_channels, recipe.height, recipe.width
    for i, c_out in enumerate(recipe.conv_channels):
        k = recipe.kernel_for(i)
        total += (c * k * k + 1) * c_out + (2 * c_out if recipe.batchnorm else 0)
        h, w, c = (h + 2 * (k // 2) - k + 1) // 2, (w + 2 * (k // 2) - k + 1) // 2, c_out
    d = c * h * w
    for size in (*recipe.hidden_sizes, recipe.n_output):
        total += (d + 1) * size
        d = size
    return total


def build_cnn(recipe: CnnRecipe, device: str | torch.device = "cpu") -> nn.Sequential:
    """A module laid out like seed 002's PytorchCNN: features, flatten, classifier.

    The flattened size comes from running the features on an input of the recipe's size
    (seed 002 halves h and w per block, which is the same for odd kernels).
    """
    _check_recipe(recipe)
    layers: list[nn.Module] = []
    c_in = recipe.in_channels
    for i, c_out in enumerate(recipe.conv_channels):
        k = recipe.kernel_for(i)
        layers.append(nn.Conv2d(c_in, c_out, kernel_size=k, padding=k // 2, device=device))
        if recipe.batchnorm:
            layers.append(nn.BatchNorm2d(c_out, device=device))
        layers += [nn.ReLU(), nn.MaxPool2d(kernel_size=2)]
        c_in = c_out
    features = nn.Sequential(*layers)
    c, h, w = _feature_shape(features, recipe)
    d_flat = c * h * w
    fc: list[nn.Module] = []
    in_features = d_flat
    for h_size in recipe.hidden_sizes:
        fc += [nn.Linear(in_features, h_size, device=device), nn.ReLU()]
        in_features = h_size
    fc.append(nn.Linear(in_features, recipe.n_output, device=device))
    return nn.Sequential(OrderedDict(features=features, flatten=nn.Flatten(start_dim=1),
                                     classifier=nn.Sequential(*fc)))


def _check_recipe(r: CnnRecipe) -> None:
    if min(r.in_channels, r.n_output, r.height, r.width) < 1:
        raise ConvLabError("Channels, outputs and the image size must be at least 1.")
    if not r.kernel_sizes:
        raise ConvLabError("Give at least one kernel size.")
    if any(v < 1 for v in (*r.conv_channels, *r.kernel_sizes, *r.hidden_sizes)):
        raise ConvLabError("Channels, kernel sizes and hidden sizes must be at least 1.")
    h, w = r.height, r.width
    for i in range(len(r.conv_channels)):
        k = r.kernel_for(i)
        h, w = h + 2 * (k // 2) - k + 1, w + 2 * (k // 2) - k + 1
        h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ConvLabError(f"After conv block {i + 1} the {r.height}×{r.width} input has shrunk "
                               "to nothing (each block halves it): use fewer conv layers or a "
                               "larger input.")


def _feature_shape(features: nn.Module, r: CnnRecipe) -> tuple[int, int, int]:
    device = next(features.parameters(), torch.zeros(0)).device
    with torch.no_grad():
        y = features(torch.zeros(1, r.in_channels, r.height, r.width, device=device))
    return tuple(y.shape[1:])


@dataclass
class ParamRow:
    name: str                 # module path, e.g. "features.0"
    kind: str                 # class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]
    weights_formula: str      # "(3 × 3 × 3) × 8 = 216" or "" for layers without parameters
    biases_formula: str
    total_formula: str        # "(3 × 3 × 3 + 1) × 8 = 224"
    count: int                # from the formula
    numel: int                # sum of p.numel() of this module's own parameters

    @property
    def has_params(self) -> bool:
        return self.numel > 0


@dataclass
class ParamTable:
    rows: list[ParamRow] = field(default_factory=list)
    total: int = 0            # sum of the formulas
    numel_total: int = 0      # sum(p.numel() for p in model.parameters())
    input_shape: tuple[int, ...] = ()

    @property
    def total_formula(self) -> str:
        parts = [str(r.count) for r in self.rows if r.has_params]
        return " + ".join(parts) + f" = {self.total}"

    @property
    def matches(self) -> bool:
        return self.total == self.numel_total


def _formulas(m: nn.Module) -> tuple[str, str, str, int]:
    """(weights, biases, total formula, count) for one layer, the way seed 002 writes them."""
    if isinstance(m, nn.Conv2d):
        c_in, (kh, kw), c_out = m.in_channels // m.groups, m.kernel_size, m.out_channels
        inner = f"{c_in} × {kh} × {kw}"
        weights = c_in * kh * kw * c_out
        bias = c_out if m.bias is not None else 0
        count = weights + bias
        total = (f"({inner} + 1) × {c_out} = {count}" if bias else f"({inner}) × {c_out} = {count}")
        return f"({inner}) × {c_out} = {weights}", str(bias), total, count
    if isinstance(m, nn.Linear):
        d, h = m.in_features, m.out_features
        bias = h if m.bias is not None else 0
        count = d * h + bias
        total = f"({d} + 1) × {h} = {count}" if bias else f"{d} × {h} = {count}"
        return f"{d} × {h} = {d * h}", str(bias), total, count
    if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
        c = m.num_features
        return f"γ: {c}", f"β: {c}", f"2 × {c} = {2 * c}", 2 * c
    own = sum(p.numel() for p in m.parameters(recurse=False))
    return "", "", (str(own) if own else "—"), own


def parameter_table(model: nn.Module, input_shape: tuple[int, int, int]) -> ParamTable:
    """One row per leaf module, with its output shape, formulas and real parameter count."""
    shapes: dict[str, tuple[int, ...]] = {}
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    hooks = []
    leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
    for name, m in leaves:
        hooks.append(m.register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))))
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
    table = ParamTable(input_shape=tuple(input_shape))
    for name, m in leaves:
        weights, biases, total, count = _formulas(m)
        numel = sum(p.numel() for p in m.parameters(recurse=False))
        table.rows.append(ParamRow(name, type(m).__name__, shapes.get(name, ()), weights, biases,
                                   total, count, numel))
    table.total = sum(r.count for r in table.rows)
    table.numel_total = sum(p.numel() for p in model.parameters())
    return table


def recipe_table(recipe: CnnRecipe) -> tuple[nn.Module, ParamTable]:
    """Build the recipe's model on the CPU and its parameter table."""
    estimate = estimate_params(recipe)
    if estimate > MAX_PARAMS:
        raise ConvLabError(f"That model would have {estimate:,} parameters ({estimate * 4 / 2**20:,.0f} MB); "
                           f"the lab builds models up to {MAX_PARAMS:,}. Use smaller layers.")
    model = build_cnn(recipe)
    return model, parameter_table(model, (recipe.in_channels, recipe.height, recipe.width))
