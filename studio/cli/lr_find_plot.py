"""`lr-find --plot`: the loss against the LR on a log axis, drawn with Pillow (no plotting package)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = (800, 500)
MARGIN = (70, 30, 30, 60)   # left, top, right, bottom
RAW, SMOOTH, SUGGESTED, OTHER = (180, 180, 180), (31, 119, 180), (214, 39, 40), (44, 160, 44)


def save_plot(result, path: str | Path) -> Path:
    path = Path(path)
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    lrs = np.log10(np.asarray(result.lrs, dtype=float))
    raw, smooth = np.asarray(result.losses, dtype=float), np.asarray(result.smoothed, dtype=float)
    finite = smooth[np.isfinite(smooth)]
    both = np.concatenate([finite, raw[np.isfinite(raw)]])
    low = float(both.min()) if finite.size else 0.0
    high = float(min(both.max(), 4 * finite.min())) if finite.size else 1.0   # past 4x the minimum: the blow-up
    box = _Box(lrs.min(), lrs.max() if lrs.max() > lrs.min() else lrs.min() + 1, low, high if high > low else low + 1)
    _axes(draw, box)
    _line(draw, box, lrs, raw, RAW, 1)
    _line(draw, box, lrs, smooth, SMOOTH, 2)
    for lr, colour, text in ((result.min_loss_lr_div10, OTHER, "minimum/10"),
                             (result.suggested_lr, SUGGESTED, f"suggested ({result.method})")):
        if lr:
            x = box.x(math.log10(lr))
            draw.line([(x, MARGIN[1]), (x, SIZE[1] - MARGIN[3])], fill=colour, width=2)
            draw.text((x + 4, MARGIN[1] + (0 if colour == SUGGESTED else 14)), f"{text} {lr:.1e}", fill=colour)
    draw.text((MARGIN[0], 8), "loss (grey) and smoothed loss (blue) against the learning rate", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


class _Box:
    def __init__(self, x0, x1, y0, y1):
        self.x0, self.x1, self.y0, self.y1 = x0, x1, y0, y1

    def x(self, value: float) -> float:
        return MARGIN[0] + (value - self.x0) / (self.x1 - self.x0) * (SIZE[0] - MARGIN[0] - MARGIN[2])

    def y(self, value: float) -> float:
        value = min(max(value, self.y0), self.y1)
        return SIZE[1] - MARGIN[3] - (value - self.y0) / (self.y1 - self.y0) * (SIZE[1] - MARGIN[1] - MARGIN[3])


def _axes(draw: ImageDraw.ImageDraw, box: _Box) -> None:
    bottom, left = SIZE[1] - MARGIN[3], MARGIN[0]
    draw.line([(left, MARGIN[1]), (left, bottom), (SIZE[0] - MARGIN[2], bottom)], fill="black")
    for decade in range(math.ceil(box.x0), math.floor(box.x1) + 1):
        x = box.x(decade)
        draw.line([(x, bottom), (x, bottom + 5)], fill="black")
        draw.text((x - 12, bottom + 8), f"1e{decade}", fill="black")
    for i in range(5):
        value = box.y0 + i * (box.y1 - box.y0) / 4
        y = box.y(value)
        draw.line([(left - 5, y), (left, y)], fill="black")
        draw.text((8, y - 6), f"{value:.3g}", fill="black")
    draw.text((SIZE[0] // 2 - 60, SIZE[1] - 22), "learning rate (log scale)", fill="black")


def _line(draw: ImageDraw.ImageDraw, box: _Box, xs, ys, colour, width: int) -> None:
    points = [(box.x(x), box.y(y)) for x, y in zip(xs, ys) if math.isfinite(y)]
    if len(points) > 1:
        draw.line(points, fill=colour, width=width)
