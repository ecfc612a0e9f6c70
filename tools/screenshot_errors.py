#!/usr/bin/env python3
"""Screenshots of the error loop (hardest examples, image -> explanation, comparison) under real X.

    python tools/screenshot_errors.py [--sizes 1024x768,1280x800] [--out docs/screenshots]

Needs what tools/screenshot_x11.py needs (xvfb-run, openbox, ImageMagick's `import`, xprop) and
reuses its window-manager start, its step timer idea and its capture. Inside the app it writes a
folder dataset of real MNIST digits (PNG files, 10 classes), trains LeNet-5 on it, opens
Evaluation > Hardest examples, excludes one image and relabels another (the fixes go to the run
folder), shoots errors_WxH_hardest.png; clicks a hardest example and shoots Predict explaining it
(errors_WxH_explain.png); then compares epoch 1 with the best epoch in the Compare tab
(errors_WxH_compare.png).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshot_x11 as x11  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ("hardest", "explain", "compare")
PER_CLASS = 60


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1024x768,1280x800")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = [size for size in args.sizes.split(",") if not shoot_size(size.strip(), args)]
    if failures:
        print(f"screenshot_errors: FAILED at {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def shoot_size(size: str, args) -> bool:
    width, height = (int(v) for v in size.lower().split("x"))
    prefix = f"errors_{width}x{height}"
    expected = [args.out / f"{prefix}_{shot}.png" for shot in SHOTS]
    tmp = Path(tempfile.mkdtemp(prefix=f"cnn-studio-errors-{width}x{height}-"))
    env = dict(os.environ, CNN_STUDIO_RUNS_DIR=str(tmp / "runs"), CNN_STUDIO_SETTINGS_DIR=str(tmp / "settings"),
               CNN_STUDIO_SCRIPT=str(Path(__file__).resolve()), CNN_STUDIO_SHOTS_OUT=str(args.out),
               CNN_STUDIO_SHOTS_PREFIX=prefix, CNN_STUDIO_SHOTS_TMP=str(tmp))
    for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {width}x{height}x24", "sh", "-c", x11.WITH_WM,
               sys.executable, str(ROOT / "main.py")]
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        code = process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        code = -1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    absent = [p.name for p in expected if not p.is_file()]
    print(f"screenshot_errors: {size}: exit code {code}, missing {absent or 'nothing'}", flush=True)
    return code == 0 and not absent


# ------------------------------------------------------------------ inside the app (CNN_STUDIO_SCRIPT)

def drive(window) -> None:
    out, prefix = Path(os.environ["CNN_STUDIO_SHOTS_OUT"]), os.environ["CNN_STUDIO_SHOTS_PREFIX"]
    x11.run_steps(window, _steps(window, out, prefix), f"screenshot_errors: {prefix}")


def _digit_folder() -> Path:
    """PER_CLASS real MNIST digits of each class as PNG files, one folder per class."""
    import numpy as np
    from PIL import Image

    from studio.core.data import load_dataset

    bundle = load_dataset("mnist-sample")
    root = Path(os.environ["CNN_STUDIO_SHOTS_TMP"]) / "digits"
    labels = bundle.train.labels.numpy()
    for k, name in enumerate(bundle.classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for n, i in enumerate(np.flatnonzero(labels == k)[:PER_CLASS]):
            Image.fromarray(bundle.train.images[i, 0].numpy()).save(root / name / f"{name}_{n:03d}.png")
    return root


def _steps(window, out: Path, prefix: str):
    from studio.core.config.train_config import TrainConfig
    from studio.gui.tabs.inspect.fixes_store import fixes_store
    from studio.gui.tabs.inspect.image_actions import open_in_explainers

    state, session = window.state, window.session
    pause = x11._Pause(2.0)
    box: dict = {}

    def configure() -> None:
        box["dataset"] = f"folder:{_digit_folder()}"
        window.apply_config(TrainConfig(dataset=box["dataset"], image_size=28, model="lenet5", epochs=4,
                                        batch_size=32, val_fraction=0, lr=2e-3))

    def train() -> None:
        if not window.start_training():
            raise RuntimeError("Train did not start")

    def trained() -> bool:
        live = session._live_model
        return (not session.is_running() and window.progress.format().startswith("Done")
                and state.model is not None and (live is None or not live.running))

    yield "writing and loading a folder of digits", configure, \
        lambda: state.dataset is not None and state.dataset.name == box.get("dataset")
    yield "training", train, trained

    def hardest() -> None:
        evaluation = window.show_tab("evaluation")
        box["hardest"] = evaluation.hardest
        evaluation.pages.setCurrentWidget(evaluation.hardest)

    def ranked() -> bool:
        view = box.get("hardest")
        return view is not None and view.result is not None and not view.busy and view.grid.count() > 0 \
            and all(view.cams.get(h.index) is not None for h in view.shown)

    def mark() -> None:
        view, store = box["hardest"], fixes_store(state)
        first, second = view.shown[0], view.shown[1]
        store.exclude(view._key(first.index))
        store.relabel(view._key(second.index), view._classes()[second.pred])

    yield "ranking the hardest examples", hardest, ranked
    yield "marking two images", mark, lambda: True
    yield "letting it draw", pause.start, pause.over
    yield "shooting hardest", lambda: x11._capture(window, out / f"{prefix}_hardest.png"), lambda: True

    def explain() -> None:
        view = box["hardest"]
        box["predict"] = window.tab("predict")
        open_in_explainers(view.grid, view._ref_at(2))

    def explained() -> bool:
        tab = box.get("predict")
        return tab is not None and tab.detail is not None and not tab.is_busy()

    yield "explaining a hardest example", explain, explained
    yield "letting it draw", pause.start, pause.over
    yield "shooting explain", lambda: x11._capture(window, out / f"{prefix}_explain.png"), lambda: True

    def compare() -> None:
        box["compare"] = window.show_tab("compare")

    def listed() -> bool:
        tab = box.get("compare")
        return tab is not None and tab.pick_a.run.count() > 0 and not tab.busy

    def run_compare() -> None:
        tab = box["compare"]
        tab.pick_a.select(state.run_dir, 1)
        tab.pick_b.select(state.run_dir, None)
        tab.compare_chosen()

    yield "opening Compare", compare, listed
    yield "comparing epoch 1 with the best", run_compare, \
        lambda: box["compare"].comparison is not None and not box["compare"].busy
    yield "letting it draw", pause.start, pause.over
    yield "shooting compare", lambda: x11._capture(window, out / f"{prefix}_compare.png"), lambda: True


if __name__ == "__main__":
    sys.exit(main())
