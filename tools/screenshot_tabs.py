"""Make docs/screenshots/tab_{model,kernels,activations,evaluation}.png from real widgets.

Trains a small model on the bundled MNIST sample for a few epochs (about half a minute on a
laptop CPU) into a temporary run folder, opens each inspection tab on it, clicks what a
student would click, and saves what the tab shows. Runs headless:

    python tools/screenshot_tabs.py [--out docs/screenshots] [--epochs 3] [--model lenet5]
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

SIZE = (1280, 800)


def wait(app, tab, timeout: float = 120.0) -> None:
    """Let the tab's background task finish and the event loop settle."""
    end = time.time() + timeout
    while time.time() < end:
        app.processEvents()
        if not getattr(tab, "busy", False):
            break
        time.sleep(0.02)
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)


def train(model: str, epochs: int, runs_dir: Path):
    from studio.core.config.train_config import TrainConfig
    from studio.core.engine.trainer import Trainer
    from studio.core.runs import load_checkpoint

    cfg = TrainConfig(dataset="mnist-sample", model=model, epochs=epochs, batch_size=64, lr=2e-3, seed=0)
    trainer = Trainer(cfg, runs_dir=runs_dir)
    trainer.prepare()
    end = trainer.fit()
    print(f"trained {model}: {end.status}, best test accuracy {end.best_test_acc:.1%}")
    return trainer.run_dir, load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt"), trainer.bundle, cfg


def dispose(app, tab) -> None:
    """Delete a tab now, in this thread: a widget left to Python's cycle collector could be
    destroyed in whichever thread the collector happens to run, a background task's included."""
    import gc

    from PySide6.QtCore import QEvent

    from studio.gui.concurrency.tasks import wait_for_all_tasks

    wait_for_all_tasks()
    tab.close()
    tab.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


def shoot(app, tab, path: Path) -> None:
    tab.resize(*SIZE)
    tab.show()
    wait(app, tab)
    tab.grab().save(str(path))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--extra", help="also save the prediction-grid page of the evaluation tab here")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
    from studio.core.config.train_config import TrainConfig
    from studio.gui.state import StudioState
    from studio.gui.tabs.inspect.activations import ActivationsTab
    from studio.gui.tabs.inspect.evaluation import EvaluationTab
    from studio.gui.tabs.inspect.kernels import KernelsTab
    from studio.gui.tabs.inspect.model import ModelTab
    with tempfile.TemporaryDirectory() as tmp:
        run_dir, loaded, bundle, cfg = train(args.model, args.epochs, Path(tmp))

        # Model tab: seed 001's CifarCNN straight from the settings, before any training.
        before = StudioState(TrainConfig(dataset="cifar10", model="cifar-cnn"))
        tab = ModelTab(before)
        shoot(app, tab, out / "tab_model.png")
        dispose(app, tab)

        state = StudioState(cfg)
        state.set_dataset(bundle)
        state.set_run(run_dir)
        state.set_model(loaded)

        tab = KernelsTab(state)
        tab.resize(*SIZE)
        tab.show()
        wait(app, tab)
        if tab.layer_box.count() > 1:
            tab.layer_box.setCurrentIndex(1)
        shoot(app, tab, out / "tab_kernels.png")
        dispose(app, tab)

        tab = ActivationsTab(state)
        tab.resize(*SIZE)
        tab.show()
        wait(app, tab)
        tab.test_index.setValue(3)
        wait(app, tab)
        if tab.result is not None and tab.result.spatial_layers:
            tab.show_layer(tab.result.spatial_layers[0])
            tab._map_clicked(2)
        shoot(app, tab, out / "tab_activations.png")
        dispose(app, tab)

        tab = EvaluationTab(state)
        tab.resize(*SIZE)
        tab.show()
        wait(app, tab)
        pairs = [tab.confused.item(i).data(0x0100) for i in range(tab.confused.count())]
        pairs = [p for p in pairs if p]
        if pairs:
            tab.show_cell(*pairs[0])
        shoot(app, tab, out / "tab_evaluation.png")
        if args.extra:
            tab.pages.setCurrentIndex(2)
            wait(app, tab)
            tab.grab().save(str(Path(args.extra) / "tab_evaluation_grid.png"))
        dispose(app, tab)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
