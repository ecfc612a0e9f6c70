"""Make docs/screenshots/timeline_WxH_{kernels,activations,evaluation}_eN.png: the timeline driving the tabs.

Trains LeNet-5 on the bundled MNIST sample for a few epochs into a temporary runs folder, opens
the run in the real main window (offscreen Qt, a fresh settings folder), and for each window size
moves the timeline to epochs 0, 1 and the last on Kernels, Activations and Evaluation, saving the
whole window each time:

    python tools/screenshot_timeline.py [--out docs/screenshots] [--epochs 4] [--sizes 1024x768,1280x800]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def settle(app, tab, timeout: float = 120.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        app.processEvents()
        if not getattr(tab, "busy", False):
            break
        time.sleep(0.02)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--sizes", default="1024x768,1280x800")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="timeline-shots-"))
    os.environ["CNN_STUDIO_SETTINGS_DIR"] = str(tmp / "settings")
    os.environ["CNN_STUDIO_RUNS_DIR"] = str(tmp / "runs")

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine.trainer import Trainer
    from studio.gui.window.main_window import MainWindow

    trainer = Trainer(TrainConfig(dataset="mnist-sample", model="lenet5", epochs=args.epochs, seed=0),
                      runs_dir=tmp / "runs")
    trainer.prepare()
    trainer.fit()
    window = MainWindow()
    window.confirm = lambda *a: True
    window.show()
    while not (window.loaded and window.state.dataset is not None):
        app.processEvents()
        time.sleep(0.02)
    window.open_run(trainer.run_dir)
    while window.state.model is None:
        app.processEvents()
        time.sleep(0.02)
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.split("x"))
        window.resize(w, h)
        window.splitter.setSizes([300, w - 300])
        for key in ("kernels", "activations", "evaluation"):
            tab = window.show_tab(key)
            for epoch in (0, 1, args.epochs):
                window.timeline.set_epoch(epoch)
                settle(app, tab)
                if key == "kernels" and tab.layer_box.count() > 1:
                    tab.layer_box.setCurrentIndex(1)
                    settle(app, tab)
                path = out / f"timeline_{w}x{h}_{key}_e{epoch}.png"
                window.grab().save(str(path))
                print(f"wrote {path}")
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
