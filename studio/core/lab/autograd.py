"""Autograd and loss labs: seed 000's logistic regression and curve fit, seed 001's softmax.

Random data comes from a private `torch.Generator` seeded like the lecture's
`torch.manual_seed(...)`, drawn in the lecture's order, so the numbers equal the notebook's
run with that seed (the tests run the lecture code verbatim and compare) without touching
torch's global random state, which the rest of the app may be using.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from studio.core.lab.conv import ConvLabError

# ----------------------------------------------------------------------------------------
# Logistic regression: autograd vs the hand-derived gradient (seed 000, lines 231-267)
# ----------------------------------------------------------------------------------------


@dataclass
class LogRegGrads:
    seed: int
    X: np.ndarray            # (n, m)
    y_true: np.ndarray       # (n,) int64
    w: np.ndarray            # (m,) the random weights the gradient is taken at
    b: float
    loss: float              # summed binary cross-entropy
    w_grad_autograd: np.ndarray
    b_grad_autograd: float
    w_grad_hand: np.ndarray
    b_grad_hand: float

    @property
    def max_abs_diff(self) -> float:
        return float(max(np.max(np.abs(self.w_grad_autograd - self.w_grad_hand)),
                         abs(self.b_grad_autograd - self.b_grad_hand)))


HAND_FORMULA = ("dL/dw = Σ over samples of (−y_true/y + (1 − y_true)/(1 − y)) · y(1 − y) · x\n"
                "dL/db = Σ over samples of (−y_true/y + (1 − y_true)/(1 − y)) · y(1 − y)")


def logistic_regression_grads(seed: int = 0, n: int = 100, m: int = 3) -> LogRegGrads:
    """Seed 000's cells: random X, labels, w, b; BCE loss; loss.backward(); the hand formula."""
    if n < 1 or m < 1:
        raise ConvLabError("Need at least one sample and one feature.")
    g = torch.Generator().manual_seed(int(seed))
    X = torch.randn(n, m, generator=g)
    y_true = torch.randint(2, size=(n,), generator=g)
    w = torch.randn(m, generator=g).requires_grad_(True)
    b = torch.randn(1, generator=g).requires_grad_(True)

    y = torch.sigmoid(X @ w + b)
    loss = -(1 - y_true) * torch.log(1 - y) - y_true * torch.log(y)
    loss = loss.sum()
    loss.backward()

    with torch.no_grad():
        w_grad = (-y_true / y + (1 - y_true) / (1 - y)) * y * (1 - y) @ X
        b_grad = ((-y_true / y + (1 - y_true) / (1 - y)) * y * (1 - y)).sum()
    return LogRegGrads(seed=int(seed), X=X.numpy(), y_true=y_true.numpy(), w=w.detach().numpy(),
                       b=float(b.item()), loss=float(loss.item()),
                       w_grad_autograd=w.grad.numpy().copy(), b_grad_autograd=float(b.grad.item()),
                       w_grad_hand=w_grad.numpy(), b_grad_hand=float(b_grad.item()))


# ----------------------------------------------------------------------------------------
# Logistic curve fit by gradient descent (seed 000, lines 326-393)
# ----------------------------------------------------------------------------------------


def logistic(x, L, k, x0):
    """Seed 000 line 331: L / (1 + exp(-k (x - x0)))."""
    return L / (1 + torch.exp(-k * (x - x0)))


class LogisticFit:
    """The lecture's fit, one epoch at a time so a GUI can animate it.

    Defaults are the lecture's: seed 42, L=10, k=1.5, x0=5, 100 points on [0, 10], noise 2,
    start at L=5, k=1, x0=-2, lr=0.05, 700 epochs, a log line every 50 epochs.
    """

    TRUE = (10.0, 1.5, 5.0)
    START = (5.0, 1.0, -2.0)

    def __init__(self, lr: float = 0.05, seed: int = 42, noise_std: float = 2.0,
                 n_points: int = 100, start: tuple[float, float, float] = START):
        if not lr > 0:
            raise ConvLabError("The learning rate must be positive.")
        if n_points < 2:
            raise ConvLabError("Need at least two points to fit a curve.")
        self.lr = float(lr)
        g = torch.Generator().manual_seed(int(seed))
        self.x = torch.linspace(0, 10, steps=n_points)
        self.y_true = logistic(self.x, *self.TRUE)
        self.y_noisy = self.y_true + noise_std * torch.randn(self.y_true.shape, generator=g,
                                                             dtype=self.y_true.dtype)
        self.L = torch.tensor(float(start[0]), requires_grad=True)
        self.k = torch.tensor(float(start[1]), requires_grad=True)
        self.x0 = torch.tensor(float(start[2]), requires_grad=True)
        self.epoch = 0              # epochs done
        self.losses: list[float] = []   # loss of each epoch, computed before its update
        self.diverged = False

    def step(self, n: int = 1) -> list[float]:
        """Run n epochs of the lecture's loop; returns their losses. Stops on a non-finite loss."""
        out = []
        for _ in range(n):
            if self.diverged:
                break
            y_pred = logistic(self.x, self.L, self.k, self.x0)
            loss = torch.mean((y_pred - self.y_noisy) ** 2)
            loss.backward()
            with torch.no_grad():
                self.L -= self.lr * self.L.grad
                self.k -= self.lr * self.k.grad
                self.x0 -= self.lr * self.x0.grad
            self.L.grad.zero_()
            self.k.grad.zero_()
            self.x0.grad.zero_()
            value = float(loss.item())
            self.losses.append(value)
            out.append(value)
            self.epoch += 1
            if not (math.isfinite(value) and all(math.isfinite(v) for v in self.params)):
                self.diverged = True
        return out

    @property
    def params(self) -> tuple[float, float, float]:
        return float(self.L.item()), float(self.k.item()), float(self.x0.item())

    def curve(self, x: np.ndarray | None = None) -> np.ndarray:
        xs = self.x if x is None else torch.as_tensor(x, dtype=torch.float32)
        with torch.no_grad():
            return logistic(xs, self.L, self.k, self.x0).numpy()

    @staticmethod
    def log_line(epoch: int, loss: float) -> str:
        """Seed 000 line 383."""
        return f"Epoch {epoch}: Loss = {loss:.4f}"

    def params_line(self) -> str:
        """Seed 000 line 393."""
        L, k, x0 = self.params
        return f"Learned parameters: L={L:.2f}, k={k:.2f}, x0={x0:.2f}"

    def lecture_log(self, every: int = 50) -> list[str]:
        """The lines the lecture's loop prints for the epochs done so far."""
        return [self.log_line(e, v) for e, v in enumerate(self.losses) if e % every == 0]


# ----------------------------------------------------------------------------------------
# Softmax and cross-entropy (seed 001, lines 118-177)
# ----------------------------------------------------------------------------------------

# Seed 001 lines 168-175: p_c -> -log(p_c), as the lecture rounds them.
LECTURE_CE_POINTS: tuple[tuple[float, float], ...] = ((0.0, math.inf), (0.1, 2.3), (0.9, 0.1), (1.0, 0.0))


@dataclass
class SoftmaxCE:
    logits: np.ndarray
    target: int
    exps: np.ndarray           # e^{x_i}
    probs: np.ndarray          # softmax
    loss: float                # F.cross_entropy(logits, target)
    neg_log_p: float           # -log(p_target) from the probabilities

    @property
    def predicted(self) -> int:
        return int(np.argmax(self.probs))


def softmax_cross_entropy(logits, target: int) -> SoftmaxCE:
    """torch.softmax and F.cross_entropy (which takes logits, seed 001 line 695) in float64."""
    z = torch.as_tensor(np.asarray(logits, dtype=np.float64))
    if z.ndim != 1 or z.numel() < 2:
        raise ConvLabError("Give at least two logits.")
    if not torch.all(torch.isfinite(z)):
        raise ConvLabError("Every logit must be a finite number.")
    if not 0 <= int(target) < z.numel():
        raise ConvLabError(f"The true class must be between 0 and {z.numel() - 1}.")
    probs = torch.softmax(z, dim=0)
    loss = F.cross_entropy(z[None], torch.tensor([int(target)]))
    with np.errstate(over="ignore"):
        exps = np.exp(z.numpy())
    p = float(probs[int(target)])
    return SoftmaxCE(logits=z.numpy(), target=int(target), exps=exps, probs=probs.numpy(),
                     loss=float(loss.item()), neg_log_p=-math.log(p) if p > 0 else math.inf)


def neg_log_curve(n: int = 400, p_min: float = 0.005) -> tuple[np.ndarray, np.ndarray]:
    """Points of -log(p) on (0, 1] for the plot."""
    p = np.linspace(p_min, 1.0, n)
    return p, -np.log(p)
