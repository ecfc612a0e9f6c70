"""Guided tours of the five lectures: steps that say what an idea is, where the lecture has it,
which view of the studio shows it, and which printed numbers the studio reproduces.

A Step's `action` is a plain dict the GUI turns into "open this view, set up like this"
(studio/gui/lectures/actions.py); the CLI prints it. A Check pairs a number the lecture printed
(typed from the notebook) with a function that computes the same number with studio.core.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    label: str
    lecture_value: Any                 # as the lecture printed it: a number, a text, a list
    compute: Callable[[], Any]         # the studio's value, computed with studio.core
    tolerance: float = 0.0             # for numbers: the printed precision (half a unit of the last digit)


@dataclass(frozen=True)
class Step:
    title: str
    explanation: str                   # in our own words, not the notebook's
    source: str                        # where in the lecture: section heading, cell, printed lines
    action: dict                       # the view to open, e.g. {"view": "lab", "section": "pool"}
    checks: tuple[Check, ...] = ()


@dataclass(frozen=True)
class Tour:
    number: int                        # the seed notebook's number: 0 .. 4
    title: str                         # "Lecture: CNN basics on CIFAR-10"
    notebook: str                      # the seed file
    steps: tuple[Step, ...] = ()


@dataclass
class CheckResult:
    label: str
    lecture_value: Any
    studio_value: Any = None
    ok: bool = False
    error: str = ""                    # why the studio value could not be computed

    def as_dict(self) -> dict:
        return {"label": self.label, "lecture": _plain(self.lecture_value), "studio": _plain(self.studio_value),
                "ok": self.ok, "error": self.error}


def agrees(lecture: Any, studio: Any, tolerance: float = 0.0) -> bool:
    """Numbers within `tolerance`, sequences item by item, texts line by line.

    Texts ignore each line's indentation: the notebooks' saved outputs lost print()'s indents.
    """
    if isinstance(lecture, bool) or isinstance(studio, bool):
        return lecture is studio or lecture == studio
    if isinstance(lecture, (int, float)) and isinstance(studio, (int, float)):
        if math.isinf(lecture) or math.isinf(studio):
            return lecture == studio
        return abs(float(lecture) - float(studio)) <= tolerance + 1e-12
    if isinstance(lecture, str) and isinstance(studio, str):
        return [line.strip() for line in lecture.strip().splitlines()] == \
               [line.strip() for line in studio.strip().splitlines()]
    if isinstance(lecture, (list, tuple)) and isinstance(studio, (list, tuple)):
        return len(lecture) == len(studio) and all(agrees(a, b, tolerance) for a, b in zip(lecture, studio))
    return lecture == studio


def run_check(check: Check) -> CheckResult:
    """The check's studio value and whether it agrees; a failure to compute is a result, not an exception."""
    result = CheckResult(check.label, check.lecture_value)
    try:
        result.studio_value = check.compute()
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.ok = agrees(check.lecture_value, result.studio_value, check.tolerance)
    return result


def run_step(step: Step) -> list[CheckResult]:
    return [run_check(c) for c in step.checks]


def show(value: Any, _inner: bool = False) -> str:
    """A value in one short line: long texts as their first line and line count.

    Thousands separators only outside lists, where "32,800" would read as two items.
    """
    if isinstance(value, str):
        lines = value.strip().splitlines()
        return value if len(lines) <= 1 else f"{lines[0]} … ({len(lines)} lines)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 and not _inner else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v, True) for v in value) + "]"
    return str(value)


def describe_action(action: dict) -> str:
    """'lab › pool' or 'model: cifar-cnn (input 3x32x32)': where Open takes the student."""
    view = action.get("view", "?")
    details = []
    for key in ("section", "model", "preset", "example", "photo"):
        if key in action:
            details.append(str(action[key]))
    if "dataset" in action:
        details.append(f"on {action['dataset']}")
    if "epoch" in action:
        details.append(f"epoch {action['epoch']}")
    if "adversarial" in action:
        details.append(f"adversarial ε = {action['adversarial'].get('eps')}")
    return view + (" › " + ", ".join(details) if details else "")


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@dataclass
class StepReport:
    number: str                       # "1.3"
    step: Step
    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)
