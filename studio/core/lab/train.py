"""One batch by hand: seed 004's minimal training loop and seed 002's forward/backward pass.

Seed 004 (In [2], lines 16-20; In [11]-[14], lines 322-410): `torch.manual_seed(42)`, then
`x = torch.randn(3, 3, 32, 32)`, `y = [1, 0, 1]`, `CIFAR10Model(3, 10)`, Adam(lr=0.01),
CrossEntropyLoss and ten steps of forward, backward, step, zero_grad on that one batch. It
prints "epoch   1/10  ->  Loss: 2.8423" ... "epoch  10/10  ->  Loss: 0.0133".

Seed 002 (lines 60-63 and 626-675): `torch.manual_seed(42)`, then a random batch of 100
3x32x32 images with random labels, `PytorchCNN(3, [8, 16], 3, [32], 10, 32, 32)`, one
forward pass, the cross-entropy loss and loss.backward(); the notebook prints the logits, the
loss and the gradient of the first conv layer's weights (its saved copy has no outputs).

Both run the studio's own models (studio.core.models.build_model). The random numbers come
from a private torch.Generator seeded like the notebook's `torch.manual_seed(seed)` and drawn
in the notebook's order: the batch first, then every parameter in the order the model creates
it, with the formulas of PyTorch's own reset_parameters (kaiming_uniform_ with a = sqrt(5) for
the weights, U(+-1/sqrt(fan_in)) for the biases). That is exactly what the notebook's global
seed produces (the tests run the notebook's code verbatim and compare), without reading or
advancing torch's global random state, which a training run in another thread may be using:
the model is built on the meta device and only then given memory and values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import init

from studio.core.lab.conv import ConvLabError
from studio.core.models import build_model

# Seed 004, lines 401-410: what the notebook printed.
LECTURE_SEED = 42
LECTURE_STEPS = 10
LECTURE_LR = 0.01
LECTURE_LABELS = (1, 0, 1)                      # y = torch.tensor([1, 0, 1]) (line 326)
LECTURE_LOSSES = ("2.8423", "1.0186", "0.3171", "0.1235", "0.0634",
                  "0.0399", "0.0284", "0.0215", "0.0168", "0.0133")
LECTURE_LOSS_LINES = (401, 410)

SEED004_CODE = """\
torch.manual_seed(42)
x = torch.randn(3, 3, 32, 32)
y = torch.tensor([1, 0, 1], dtype=torch.int64)
model = build_model('cifar10-model', (3, 32, 32), 10)   # CIFAR10Model(3, 10)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.{opt}(model.parameters(), lr={lr:g})
num_epochs = {steps}
for epoch in range(num_epochs):
    output = model(x)
    loss = criterion(output, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    print(f'epoch {{epoch+1:3}}/{{num_epochs}}  ->  Loss: {{loss.item():.4f}}')"""

SEED002_CODE = """\
torch.manual_seed(42)
X = torch.randn(100, 3, 32, 32)
y_true = torch.randint(0, 10, (100,))
# PytorchCNN(3, [8, 16], 3, [32], 10, 32, 32):
pytorch_model = build_model('configurable-cnn', (3, 32, 32), 10,
    dict(conv_channels=[8, 16], kernel_size=3, hidden_sizes=[32]))
logits = pytorch_model(X)
loss = nn.CrossEntropyLoss()(logits, y_true)
loss.backward()"""

OPTIMISERS = ("Adam", "SGD")


def seeded_default_init(model: nn.Module, generator: torch.Generator) -> list[str]:
    """Redo PyTorch's default initialisation of every parameter, in creation order, from `generator`.

    Conv and Linear layers: weight ~ kaiming_uniform_(a=sqrt(5)), bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    exactly as their reset_parameters() draws them; BatchNorm has no random part. Returns the
    names of the parameters drawn, in order. Other layer types with parameters are refused.
    """
    drawn: list[str] = []
    with torch.no_grad():
        for name, module in model.named_modules():
            own = list(module.named_parameters(recurse=False))
            if not own:
                continue
            prefix = f"{name}." if name else ""
            if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)):
                init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                drawn.append(prefix + "weight")
                if module.bias is not None:
                    fan_in, _ = init._calculate_fan_in_and_fan_out(module.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    init.uniform_(module.bias, -bound, bound, generator=generator)
                    drawn.append(prefix + "bias")
            elif isinstance(module, nn.modules.batchnorm._NormBase):
                module.reset_parameters()            # ones and zeros: nothing random
            else:
                raise ConvLabError(f"{type(module).__name__} layers are not supported by the seeded replay.")
    return drawn


def fresh_model(name: str, shape: tuple[int, int, int], num_classes: int, options: dict | None,
                generator: torch.Generator) -> tuple[nn.Module, list[str]]:
    """build_model(...) with its parameters drawn from `generator` only.

    The model is built on the meta device (nothing is drawn from torch's global generator,
    and the device context is local to this thread), moved to empty CPU memory, then every
    parameter is drawn by seeded_default_init in creation order.
    """
    with torch.device("meta"):
        model = build_model(name, shape, num_classes, options)
    model = model.to_empty(device="cpu")
    order = seeded_default_init(model, generator)
    return model, order


def _loss_line(step: int, steps: int, loss: float) -> str:
    return f"epoch {step:3}/{steps}  ->  Loss: {loss:.4f}"


@dataclass
class LoopResult:
    seed: int
    steps: int
    lr: float
    optimiser: str
    losses: list[float] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)     # what the notebook's print writes, one per step
    param_order: list[str] = field(default_factory=list)
    n_params: int = 0
    stopped: bool = False                              # cancelled before the last step

    @property
    def is_lecture_setting(self) -> bool:
        return (self.seed == LECTURE_SEED and self.steps == LECTURE_STEPS and self.lr == LECTURE_LR
                and self.optimiser == "Adam")

    def lecture_matches(self) -> list[bool | None]:
        """Per step: does the printed loss equal seed 004's (None past step 10 or off the lecture setting)."""
        same = self.seed == LECTURE_SEED and self.lr == LECTURE_LR and self.optimiser == "Adam"
        return [(f"{loss:.4f}" == LECTURE_LOSSES[i]) if same and i < len(LECTURE_LOSSES) else None
                for i, loss in enumerate(self.losses)]

    def first_bad_step(self) -> int | None:
        """1-based step whose loss is NaN or infinite, if any."""
        for i, loss in enumerate(self.losses):
            if not math.isfinite(loss):
                return i + 1
        return None


def one_batch_loop(seed: int = LECTURE_SEED, steps: int = LECTURE_STEPS, lr: float = LECTURE_LR,
                   optimiser: str = "Adam", progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> LoopResult:
    """Seed 004's loop (lines 374-398) on the studio's CIFAR10Model; see the module docstring."""
    if not 1 <= steps <= 1000:
        raise ConvLabError("Take between 1 and 1000 steps.")
    if not (math.isfinite(lr) and lr > 0):
        raise ConvLabError("The learning rate must be a positive number.")
    if optimiser not in OPTIMISERS:
        raise ConvLabError(f"Unknown optimiser {optimiser!r}; use one of {', '.join(OPTIMISERS)}.")
    g = torch.Generator().manual_seed(int(seed))
    x = torch.randn(3, 3, 32, 32, generator=g)
    y = torch.tensor(LECTURE_LABELS, dtype=torch.int64)
    model, order = fresh_model("cifar10-model", (3, 32, 32), 10, None, g)
    criterion = nn.CrossEntropyLoss()
    cls = torch.optim.Adam if optimiser == "Adam" else torch.optim.SGD
    optimizer = cls(model.parameters(), lr=lr)
    result = LoopResult(seed=int(seed), steps=steps, lr=lr, optimiser=optimiser, param_order=order,
                        n_params=sum(p.numel() for p in model.parameters()))
    for epoch in range(steps):
        if should_stop is not None and should_stop():
            result.stopped = True
            break
        output = model(x)
        loss = criterion(output, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        value = loss.item()
        result.losses.append(value)
        result.lines.append(_loss_line(epoch + 1, steps, value))
        if progress is not None:
            progress(epoch + 1, steps)
        if not math.isfinite(value):
            break                    # the loop diverged: nothing more to learn from it
    return result


@dataclass
class ForwardResult:
    seed: int
    logits: np.ndarray          # (100, 10)
    labels: np.ndarray          # (100,)
    loss: float
    grad: np.ndarray            # (8, 3, 3, 3): pytorch_model.features[0].weight.grad
    logits_print: str           # print(f"Logits:\n{logits}")
    loss_print: str             # print(f"loss: {loss.item()}")
    grad_print: str             # print(f"gradients for first layer weights:\n{...grad}")
    n_params: int

    @property
    def printed(self) -> str:
        return "\n".join((self.logits_print, self.loss_print, self.grad_print))


def seed002_forward(seed: int = LECTURE_SEED) -> ForwardResult:
    """Seed 002's cells (lines 626-675): random batch, PytorchCNN, forward, loss, backward."""
    batch_size, n_channels, height, width, n_output = 100, 3, 32, 32, 10
    g = torch.Generator().manual_seed(int(seed))
    X = torch.randn(batch_size, n_channels, height, width, generator=g)
    y_true = torch.randint(0, n_output, (batch_size,), generator=g)
    model, _order = fresh_model("configurable-cnn", (n_channels, height, width), n_output,
                                {"conv_channels": [8, 16], "kernel_size": 3, "hidden_sizes": [32]}, g)
    logits = model(X)
    loss = nn.CrossEntropyLoss()(logits, y_true)
    loss.backward()
    grad = model.features[0].weight.grad
    return ForwardResult(
        seed=int(seed), logits=logits.detach().numpy().copy(), labels=y_true.numpy().copy(), loss=loss.item(),
        grad=grad.detach().numpy().copy(), logits_print=f"Logits:\n{logits}", loss_print=f"loss: {loss.item()}",
        grad_print=f"gradients for first layer weights:\n{grad}",
        n_params=sum(p.numel() for p in model.parameters()))
