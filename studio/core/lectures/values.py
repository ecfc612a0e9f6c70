"""The studio's side of the tours' checks: small functions that compute a lecture's printed
number with studio.core (models, lab, inspect). Models are built on the meta device where only
shapes and counts are needed, so no weights are allocated; slow results are cached. torch is
imported inside the functions: the tours' text is read by the window before torch is loaded.
"""

from __future__ import annotations

import math
from functools import lru_cache
from types import SimpleNamespace


def _meta_model(name: str, shape, classes: int = 10, options: dict | None = None):
    import torch

    from studio.core.models import build_model

    with torch.device("meta"):
        return build_model(name, tuple(shape), classes, options)


def param_count(name: str, shape=(3, 32, 32), classes: int = 10, options: dict | None = None) -> int:
    return int(sum(p.numel() for p in _meta_model(name, shape, classes, options).parameters()))


def size_mb(name: str, shape=(3, 32, 32), classes: int = 10) -> float:
    """Seed 001's model size (parameters and buffers, MiB), rounded as it prints it."""
    from studio.core.inspect.summary import model_size_mb

    return round(model_size_mb(_meta_model(name, shape, classes)), 2)


def module_output_shape(name: str, part: str, shape=(3, 32, 32)) -> str:
    """torch.Size of one named part of the model (e.g. cifar-cnn's conv_layer) for a batch of one."""
    import torch

    model = _meta_model(name, shape)
    out = dict(model.named_modules())[part](torch.zeros(1, *shape, device="meta"))
    return repr(out.shape)


def flattened_size(name: str, part: str, shape=(3, 32, 32)) -> str:
    import torch

    model = _meta_model(name, shape)
    out = dict(model.named_modules())[part](torch.zeros(1, *shape, device="meta"))
    return repr(out.view(out.size(0), -1).shape)


def printed_module(name: str, part: str = "", shape=(3, 32, 32), classes: int = 10) -> str:
    """print(model) or print(model.part), in the lectures' torch format."""
    from studio.core.lectures.model_text import lecture_repr

    model = _meta_model(name, shape, classes)
    return lecture_repr(dict(model.named_modules())[part] if part else model)


@lru_cache(maxsize=8)
def _summary_rows(name: str, shape: tuple, batch: int) -> tuple:
    from studio.core.inspect.summary import model_summary
    from studio.core.models import build_model

    model = build_model(name, shape, 10)
    return tuple(model_summary(model, shape, batch_size=batch).rows)


def summary_column(name: str, layers: tuple[str, ...], column: str, shape=(3, 32, 32), batch: int = 1) -> list:
    """One column of the torchinfo table (output_shape or params) for the named layers."""
    rows = {r.name: r for r in _summary_rows(name, tuple(shape), batch)}
    values = [getattr(rows[n], column) for n in layers]
    return [list(v) if isinstance(v, tuple) else v for v in values]


def correlation(example: str) -> list:
    from studio.core.lab.conv import get_example, run_example

    out = run_example(get_example(example)).output[0]
    return [_whole(v) for v in out.ravel().tolist()] if out.ndim == 1 else [[_whole(v) for v in r] for r in out.tolist()]


def correlation_cells(example: str, cells) -> list:
    from studio.core.lab.conv import get_example, run_example

    out = run_example(get_example(example)).output[0]
    return [_whole(float(out[tuple(c)])) for c in cells]


def correlation_shape(example: str) -> list:
    from studio.core.lab.conv import get_example, run_example

    return list(run_example(get_example(example)).output[0].shape)


def _whole(v: float):
    return round(v) if abs(v - round(v)) < 1e-9 else v


def same_paddings(kernels=(3, 5, 7)) -> list[int]:
    from studio.core.lab.conv import same_padding

    return [same_padding(k)[0] for k in kernels]


def cross_entropy_of(p: float) -> float:
    """−log(p) from F.cross_entropy on logits whose softmax gives the true class probability p."""
    from studio.core.lab.autograd import softmax_cross_entropy

    if p >= 1.0:
        return round(softmax_cross_entropy([0.0, -1e3], 0).loss + 0.0, 1)
    return round(softmax_cross_entropy([math.log(p), math.log(1 - p)], 0).loss, 1)


def lecture_pool_shape() -> list[int]:
    from studio.core.lab.pool import LECTURE_GRID, LECTURE_SETTINGS, pool

    return list(pool(LECTURE_GRID, LECTURE_SETTINGS).output.shape)


def lecture_pool_padded_shape() -> list[int]:
    from studio.core.lab.pool import LECTURE_GRID, LECTURE_SETTINGS, pool

    return list(pool(LECTURE_GRID, LECTURE_SETTINGS).tensor.shape)


def maxpool_hwc(h: int, w: int, c: int, k: int, s: int) -> list[int]:
    """Seed 000's H×W×C example through F.max_pool2d (zeros; only the shape matters)."""
    import torch

    out = torch.nn.functional.max_pool2d(torch.zeros(1, c, h, w), kernel_size=k, stride=s)
    return [int(out.shape[2]), int(out.shape[3]), int(out.shape[1])]


def multichannel_hwc() -> list[int]:
    from studio.core.lab.multichannel import lecture_example

    o, h, w = lecture_example().output.shape
    return [h, w, o]


def log_kernel_side(sigma: float) -> int:
    from studio.core.lab.kernels import log_kernel

    return int(log_kernel(sigma).shape[0])


def tensor_fact(index: int) -> str:
    from studio.core.lab.tensors import lecture_facts

    return lecture_facts()[index].result


@lru_cache(maxsize=1)
def _grads():
    from studio.core.lab.autograd import logistic_regression_grads

    return logistic_regression_grads()


def autograd_matches_hand() -> bool:
    return _grads().max_abs_diff < 1e-4


@lru_cache(maxsize=1)
def logistic_fit_params() -> tuple[float, float, float]:
    from studio.core.lab.autograd import LogisticFit

    fit = LogisticFit()
    fit.step(700)
    return tuple(round(v, 2) for v in fit.params)


@lru_cache(maxsize=1)
def seed004_losses() -> tuple[float, ...]:
    from studio.core.lab.train import one_batch_loop

    return tuple(round(v, 4) for v in one_batch_loop().losses)


def params_table(preset: str = "seed002") -> tuple[str, list[int]]:
    from studio.core.lab.params import PRESETS, recipe_table

    recipe = next(p for p in PRESETS if p.key == preset).recipe
    _model, table = recipe_table(recipe)
    return table.total_formula, [r.count for r in table.rows if r.has_params]


def params_formulas(preset: str = "seed002") -> list[str]:
    """Each layer's "(c × k × k + 1) × n" as the lecture's table writes it (without "= count")."""
    from studio.core.lab.params import PRESETS, recipe_table

    recipe = next(p for p in PRESETS if p.key == preset).recipe
    _model, table = recipe_table(recipe)
    return [r.total_formula.rsplit(" = ", 1)[0] for r in table.rows if r.has_params]


def recipe_sides(preset: str = "seed001-28") -> list[int]:
    """Spatial side after each conv and pool of a Lab recipe (seed 001's 28 → 28 → 14 → 14 → 7)."""
    from studio.core.lab.params import PRESETS, recipe_table

    recipe = next(p for p in PRESETS if p.key == preset).recipe
    _model, table = recipe_table(recipe)
    return [r.output_shape[-1] for r in table.rows if r.kind in ("Conv2d", "MaxPool2d")]


def normalization(name: str) -> list:
    from studio.core.normalization import FIXED

    mean, std = FIXED[name]
    return [list(mean), list(std)]


def preset_values(name: str, keys: tuple[str, ...]) -> list:
    from studio.core.config.presets import get_preset

    settings = get_preset(name).settings
    return [settings[k] for k in keys]


def epoch_line(epoch: int, loss: float, train_acc: float, test_acc: float, seconds: float) -> str:
    """The studio's per-epoch log line for the lecture's numbers (accuracies in %)."""
    from studio.core.engine.events import epoch_log_line

    return epoch_log_line(SimpleNamespace(epoch=epoch, train_loss=loss, train_acc=train_acc / 100,
                                          test_acc=test_acc / 100, epoch_time=seconds))


def first_conv_filters(name: str, shape=(3, 32, 32)) -> list[int]:
    from studio.core.inspect.kernels import conv_layer_names

    model = _meta_model(name, shape)
    first = conv_layer_names(model)[0]
    return list(dict(model.named_modules())[first].weight.shape)


def alexnet_feature_shape() -> list[int]:
    """AlexNet's maps before flattening on a 227×227 input: (256, 6, 6) in seed 000's comment."""
    import torch

    model = _meta_model("alexnet", (3, 227, 227))
    return list(model._conv_features(torch.zeros(1, 3, 227, 227, device="meta")).shape[1:])
