#!/usr/bin/env python3
"""Screenshots of the studio for the README: the window mid-training, rendered offscreen.

    python tools/screenshot.py [--out docs/screenshots] [--epochs 8] [--at-epoch 4]

Trains lenet5 on the bundled MNIST sample in a real window (offscreen Qt, a virtual
1920x1200 screen) and, while the run is in its (at-epoch + 1)th epoch, saves
window_1280x800.png and window_1920x1080.png (the Training tab), then window_data_1280x800.png
(the Data tab, with augmentation switched on). Runs and settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SIZES = ((1280, 800), (1920, 1080))


def _offscreen_with_a_big_screen(tmp: Path) -> None:
    """The offscreen platform's default screen is 800x800; windows larger than it get squeezed."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen").startswith("offscreen"):
        config = tmp / "offscreen.json"
        config.write_text(json.dumps({"screens": [{"name": "virtual", "x": 0, "y": 0, "width": 1920, "height": 1200,
                                                   "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--at-epoch", type=int, default=4, help="shoot after this many finished epochs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="cnn-studio-shots-"))
    os.environ["CNN_STUDIO_RUNS_DIR"] = str(tmp / "runs")
    os.environ["CNN_STUDIO_SETTINGS_DIR"] = str(tmp / "settings")
    _offscreen_with_a_big_screen(tmp)

    from PySide6.QtCore import QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    from studio.core.config.train_config import AugmentConfig, TrainConfig
    from studio.gui.app import app_icon
    from studio.gui.window.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    window = MainWindow()
    window.confirm = lambda *a: True
    window.resize(*SIZES[0])
    window.show()
    written: list[Path] = []

    def settle(ms: int = 300) -> None:
        """Let layouts, timers and pending paints run."""
        loop_until = QTimer()
        loop_until.setSingleShot(True)
        loop_until.start(ms)
        while loop_until.isActive():
            app.processEvents()

    def shoot(name: str, size: tuple[int, int]) -> None:
        window.resize(*size)
        settle()
        if window.training_tab is not None:
            window.training_tab.redraw(force=True)
        settle(100)
        path = args.out / name
        if not window.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        written.append(path)

    class Director(QObject):
        @Slot(object)
        def on_epoch(self, event) -> None:
            if event.epoch == args.at_epoch:
                QTimer.singleShot(600, self.take_training_shots)   # some batches into the next epoch

        @Slot()
        def take_training_shots(self) -> None:
            for width, height in SIZES:
                shoot(f"window_{width}x{height}.png", (width, height))
            window.stop_training()

        @Slot()
        def on_finished(self) -> None:
            window.tabs.setCurrentWidget(window.data_tab)
            shoot("window_data_1280x800.png", SIZES[0])
            window.close()
            app.quit()

    director = Director()
    window.runner.epochEnded.connect(director.on_epoch)
    window.runner.finished.connect(director.on_finished)

    def start_when_ready() -> None:
        if not window.loaded or window.state.dataset is None:
            QTimer.singleShot(100, start_when_ready)
            return
        config = TrainConfig(dataset="mnist-sample", model="lenet5", epochs=args.epochs, batch_size=64, lr=1e-3,
                             augment=AugmentConfig(rotation=15.0, translate=0.1))
        window.settings_panel.set_config(config)
        window.state.set_config(config)
        window.start_training()

    QTimer.singleShot(0, start_when_ready)
    app.exec()
    from studio.gui.concurrency.tasks import wait_for_all_tasks

    wait_for_all_tasks()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
