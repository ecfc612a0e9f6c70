"""How fast the window's timeline redraws the visible tab, step by step over a 20-epoch run.

For LeNet-5 and lecture-cnn on 32x32 colour images (a folder made from the bundled CIFAR-10
sample: 30 training images per class, the sample's 846 test images) the bench trains a real
20-epoch run (the epoch count matters here, not the accuracy), opens it in the real main window
(offscreen Qt), and on each of Kernels, Activations, Evaluation and Predict steps the timeline
through epochs 1..20 twice:

- "redraw": from the slider step until the tab has redrawn what it can at once (the step's
  handlers and the repaint of the window): what the student's drag waits for. Goal: under 150 ms.
- "complete": until the tab's background work for that epoch is shown too (the epoch's model
  loaded, its activations, its evaluation on the 846 test images, Predict's top-k and Grad-CAM).
  The first pass loads and evaluates each epoch; the second is served by the caches.

    python bench/timeline_slider.py [--epochs 20] [--models lenet5,lecture-cnn]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

GOAL_MS = 150.0
TABS = ("kernels", "activations", "evaluation", "predict")
TRAIN_PER_CLASS = 30


def make_folder(root: Path) -> Path:
    """train/<class>/*.png and test/<class>/*.png from the bundled CIFAR-10 sample."""
    from PIL import Image

    from studio.core.paths import RESOURCES

    found = list(Path(RESOURCES).rglob("cifar10_sample.npz")) or [Path("/work/shared/data/cifar10_sample.npz")]
    data = np.load(found[0])
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    for split, x, y, limit in (("train", data["x_train"], data["y_train"], TRAIN_PER_CLASS),
                               ("test", data["x_test"], data["y_test"], None)):
        counts = dict.fromkeys(range(10), 0)
        for i, (image, label) in enumerate(zip(x, y)):
            label = int(label)
            if limit is not None and counts[label] >= limit:
                continue
            counts[label] += 1
            folder = root / split / names[label]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0))).save(folder / f"{i}.png")
    return root


def train_run(model: str, folder: Path, epochs: int, runs: Path) -> Path:
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine import Trainer

    cfg = TrainConfig(dataset=f"folder:{folder}", model=model, epochs=epochs, batch_size=32, lr=2e-3,
                      image_size=32, val_fraction=0.1)
    trainer = Trainer(cfg, runs_dir=runs)
    trainer.prepare()
    start = time.perf_counter()
    assert trainer.fit().status == "done"
    print(f"  trained {model} for {epochs} epochs in {time.perf_counter() - start:.1f} s ({trainer.run_dir.name})")
    return trainer.run_dir


def busy(tab) -> bool:
    return tab.is_busy() if hasattr(tab, "is_busy") else tab.busy


def settle(app, tab, timeout=120.0) -> None:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        app.processEvents()
        if not busy(tab):
            app.processEvents()
            if not busy(tab):
                return
        time.sleep(0.002)
    raise TimeoutError("the tab did not finish")


def step_times(app, window, key: str, epochs: int) -> dict[str, list[float]]:
    tab = window.show_tab(key)
    timeline = window.timeline
    timeline.set_epoch(0)
    settle(app, tab)
    out: dict[str, list[float]] = {"redraw": [], "complete": [], "redraw (cached)": [], "complete (cached)": []}
    for suffix in ("", " (cached)"):
        for epoch in list(range(1, epochs + 1)) if not suffix else list(range(epochs - 1, -1, -1)):
            start = time.perf_counter()
            timeline.set_epoch(epoch)
            window.repaint()   # the visible tab redrawn now, as the screen would show it
            app.processEvents()
            out["redraw" + suffix].append(1000 * (time.perf_counter() - start))
            settle(app, tab)
            out["complete" + suffix].append(1000 * (time.perf_counter() - start))
    return out


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):7.1f}  p95 {p95:7.1f}  max {max(ordered):7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--models", default="lenet5,lecture-cnn")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="timeline-bench-"))
    os.environ["CNN_STUDIO_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ["CNN_STUDIO_RUNS_DIR"] = str(tmp / "runs")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    import torch

    from studio.core.data.registry import load_dataset
    from studio.gui.window.main_window import MainWindow

    print(f"timeline slider: {args.epochs}-epoch runs, 32x32 RGB, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, goal: redraw under {GOAL_MS:.0f} ms per step")
    folder = make_folder(tmp / "cifar-folder")
    image = next((folder / "test").rglob("*.png"))
    verdict = True
    for model in args.models.split(","):
        run_dir = train_run(model, folder, args.epochs, tmp / "runs")
        window = MainWindow()
        window.confirm = lambda *a: True
        window.resize(1280, 800)
        window.show()
        while not (window.loaded and window.state.dataset is not None):
            app.processEvents()
            time.sleep(0.01)
        window.state.set_dataset(load_dataset(f"folder:{folder}", image_size=32))
        window.open_run(run_dir)
        while window.state.model is None or window.state.run_dir != run_dir:
            app.processEvents()
            time.sleep(0.01)
        predict = window.show_tab("predict")
        predict.add_paths([str(image)])
        settle(app, predict)
        for key in TABS:
            times = step_times(app, window, key, args.epochs)
            for what, values in times.items():
                ok = "" if not what.startswith("redraw") else ("  ok" if max(values) < GOAL_MS else "  SLOW")
                verdict &= not ok.endswith("SLOW")
                print(f"  {model:11s} {key:11s} {what:18s} {percentiles(values)}{ok}")
        window.close()
        app.processEvents()
    print("verdict:", "every redraw under the goal" if verdict else "some redraws over the goal")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
