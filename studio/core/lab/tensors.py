"""Tensor basics from seed 000 ("Basic Operations"): shapes, reshape, broadcasting, the matrix
product's shape rule, and the errors torch gives when shapes do not fit.

Every answer comes from running the real torch operation on zero tensors of the asked shapes,
so the shapes and the error texts are torch's own. Shapes are capped so a typo cannot allocate
gigabytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from studio.core.lab.conv import ConvLabError

MAX_ELEMENTS = 1_000_000
OPERATIONS = ("add", "matmul", "reshape")


@dataclass
class ShapeAnswer:
    operation: str
    a_shape: tuple[int, ...]
    b_shape: tuple[int, ...]
    result_shape: tuple[int, ...] | None   # None when torch refused
    error: str = ""                         # torch's message, word for word
    error_type: str = ""                    # e.g. "RuntimeError"
    rule: str = ""                          # the rule that decides, with these numbers

    @property
    def ok(self) -> bool:
        return self.result_shape is not None


def parse_shape(text: str) -> tuple[int, ...]:
    """'3, 4' or '3x4' or '(3, 4)' -> (3, 4); '-1' is allowed (reshape infers it)."""
    cleaned = text.strip().strip("()[]")
    parts = [p for token in re.split(r"[\s,]+", cleaned) if token for p in re.split(r"[x×]", token)]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise ConvLabError(f"A shape is whole numbers separated by commas, like 3, 4 (got {text!r}).") from None
    if any(s < -1 for s in shape) or sum(1 for s in shape if s == -1) > 1:
        raise ConvLabError("Sizes must be 0 or more (one -1 is allowed for reshape).")
    return shape


def _zeros(shape: tuple[int, ...]) -> torch.Tensor:
    if any(s < 0 for s in shape):
        raise ConvLabError(f"{shape} is not a shape a tensor can have (no negative sizes).")
    n = 1
    for s in shape:
        n *= s
    if n > MAX_ELEMENTS:
        raise ConvLabError(f"A tensor of shape {shape} has {n:,} elements; the lab takes up to {MAX_ELEMENTS:,}.")
    return torch.zeros(shape)


def _size(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def add_rule(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Broadcasting: align from the right; each pair of sizes must be equal or one of them 1."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    parts = []
    for x, y in zip(pa, pb):
        verdict = "=" if x == y else ("→ " + str(max(x, y)) if 1 in (x, y) else "✗")
        parts.append(f"{x} vs {y} {verdict}")
    return "broadcast, from the right: " + "; ".join(parts)


def matmul_rule(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    if len(a) == 2 and len(b) == 2:
        return (f"(n × m) @ (m × p) → (n × p): ({a[0]} × {a[1]}) @ ({b[0]} × {b[1]}) needs {a[1]} = {b[0]}"
                + (f" → ({a[0]} × {b[1]})" if a[1] == b[0] else " ✗"))
    return "the last axis of the first must equal the second-to-last of the second; leading axes broadcast"


def reshape_rule(a: tuple[int, ...], new: tuple[int, ...]) -> str:
    n = 1
    for s in a:
        n *= s
    return f"reshape keeps the {n} elements: {_size(a)} = {n}, so the new shape must hold {n} too"


def shape_answer(operation: str, a_shape, b_shape) -> ShapeAnswer:
    """Run `operation` ('add', 'matmul' or 'reshape' (b is the new shape)) on zeros of these shapes."""
    if operation not in OPERATIONS:
        raise ConvLabError(f"Unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}.")
    a, b = tuple(a_shape), tuple(b_shape)
    x = _zeros(a)
    rules = {"add": add_rule, "matmul": matmul_rule, "reshape": reshape_rule}
    answer = ShapeAnswer(operation, a, b, None, rule=rules[operation](a, b))
    try:
        if operation == "reshape":
            out = x.reshape(b)
        else:
            y = _zeros(b)
            out = x + y if operation == "add" else torch.matmul(x, y)
    except RuntimeError as exc:
        answer.error, answer.error_type = str(exc).strip(), type(exc).__name__
        return answer
    answer.result_shape = tuple(out.shape)
    return answer


@dataclass(frozen=True)
class TensorFact:
    code: str                 # the lecture's line
    result: str               # what running it gives (shapes and dtypes as torch prints them)


def lecture_facts() -> list[TensorFact]:
    """Seed 000's "Basic Operations" cells, run here (on the CPU; the lecture moves M to its device)."""
    x = torch.tensor(0.)
    m = torch.tensor([[1., 2.], [3., 4.]])
    m1 = m.to(dtype=torch.int64)
    m2 = m1.reshape(1, 4)
    facts = [
        TensorFact("x = torch.tensor(0.)", f"x.shape={x.shape!r}, x.dtype={x.dtype}"),
        TensorFact("M = torch.tensor([[1., 2.], [3., 4.]])", f"M.shape={m.shape!r}, M.dtype={m.dtype}"),
        TensorFact("M1 = M.to(device, dtype=torch.int64)", f"M1.dtype={m1.dtype}"),
        TensorFact("M2 = M1.reshape(1, 4)", f"M2.shape={m2.shape!r}"),
    ]
    for code, op, a, b in (("C = A + B            # A, B: 3×4", "add", (3, 4), (3, 4)),
                           ("C = A + B.T          # 3×4 + 4×3", "add", (3, 4), (4, 3)),
                           ("D = torch.matmul(A, B.T)   # 3×4 @ 4×3", "matmul", (3, 4), (4, 3)),
                           ("C = torch.matmul(A, B)     # 3×4 @ 3×4", "matmul", (3, 4), (3, 4))):
        ans = shape_answer(op, a, b)
        text = repr(torch.Size(ans.result_shape)) if ans.ok else f"<class '{ans.error_type}'> {ans.error}"
        facts.append(TensorFact(code, text))
    return facts
