"""Make docs/screenshots/tab_predict.png: the Predict tab explaining a photo of a handwritten digit.

Writes a few pictures to a temporary folder (digits in blue ink on unevenly lit paper, made
from real MNIST test digits, a photo, and a file that is not an image), drops them on the tab
with the shipped demo model, selects the first digit and saves what the tab shows. Headless:

    python tools/screenshot_predict.py [--out docs/screenshots/tab_predict.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZE = (1280, 800)


def ink_on_paper(digit, seed: int, canvas=(360, 480), side: int = 190, at=(60, 230)):
    """A photo-like RGB picture: blue ink on warm paper with a lighting gradient and sensor noise."""
    import numpy as np
    from PIL import Image, ImageFilter

    rng = np.random.default_rng(seed)
    h, w = canvas
    light = np.linspace(1.0, 0.84, w)[None, :] * np.linspace(1.0, 0.93, h)[:, None]
    paper = np.array([238, 232, 218], np.float64)[None, None, :] * light[..., None]
    stroke = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    stroke = np.asarray(stroke.filter(ImageFilter.GaussianBlur(1.2)), np.float64) / 255
    cover = np.zeros((h, w))
    cover[at[0]:at[0] + side, at[1]:at[1] + side] = stroke
    ink = np.array([32, 44, 120], np.float64)[None, None, :]
    rgb = paper * (1 - cover[..., None]) + ink * cover[..., None]
    rgb += rng.normal(0, 4, rgb.shape)
    return rgb.clip(0, 255).astype(np.uint8)


def write_inputs(folder: Path) -> list[Path]:
    import numpy as np
    from PIL import Image

    from studio.core.data import load_dataset

    test = load_dataset("mnist-sample").test
    labels = test.labels.numpy()
    paths = []
    for n, (label, at) in enumerate([(7, (70, 250)), (2, (40, 60)), (5, (120, 180)), (9, (30, 270))]):
        digit = test.images[int(np.flatnonzero(labels == label)[1]), 0].numpy()
        path = folder / f"handwritten-{label}.jpg"
        Image.fromarray(ink_on_paper(digit, n, at=at)).save(path, quality=92)
        paths.append(path)
    shutil.copy(ROOT / "resources" / "images" / "coffee.png", folder / "coffee.png")
    paths.append(folder / "coffee.png")
    (folder / "notes.png").write_text("a shopping list saved with the wrong name")
    paths.append(folder / "notes.png")
    return paths


def settle(app, tab, timeout: float = 120.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        app.processEvents()
        done = not tab.is_busy() and all(r is not None for r in tab.results)
        if done and tab.detail is not None:
            break
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "tab_predict.png"))
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.gui.state import StudioState
    from studio.gui.tabs.predict.tab import PredictTab
    from studio.gui.concurrency.tasks import wait_for_all_tasks
    from studio.gui.widgets.bar_chart import format_probability

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CNN_STUDIO_RUNS_DIR", str(Path(tmp) / "runs"))   # no personal runs on screen
        os.environ.setdefault("CNN_STUDIO_WEIGHTS_DIR", str(Path(tmp) / "weights"))
        inputs = write_inputs(Path(tmp))
        tab = PredictTab(StudioState())
        tab.resize(*SIZE)
        tab.show()
        settle(app, tab)
        tab.details.opacity.setValue(45)
        tab.add_paths([str(p) for p in inputs])
        settle(app, tab)
        tab.select_row(0)
        settle(app, tab)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tab.grab().save(str(out))
        name, p = tab.detail.topk[0]
        print(f"wrote {out}: {tab.rows()[0][0]} -> {name} ({format_probability(p)})")
        wait_for_all_tasks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
