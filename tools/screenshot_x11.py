#!/usr/bin/env python3
"""Screenshots of the real app under a real X server with a window manager (the whole screen).

    python tools/screenshot_x11.py [--sizes 1024x768,1280x800,1920x1080] [--out docs/screenshots] [--epochs 3]

Needs xvfb-run, openbox and ImageMagick's `import` (apt: xvfb openbox imagemagick x11-utils).
For each screen size it starts Xvfb with openbox, launches main.py with a fresh runs folder and
settings folder, and drives the window from inside (CNN_STUDIO_SCRIPT=this file: the app calls
drive(window) once ready): it trains LeNet-5 on the bundled MNIST sample, then predicts a digit
and a photo and attacks the digit in Predict > Adversarial, then shows the Runs panel. After each
step it captures the root window (title bar, frame and status bar included) to
docs/screenshots/x11_WxH_{trained,attack,runs}.png, and prints whether the window's frame lies
inside the screen. Exits non-zero, saying which step, if any size fails or times out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = ("1024x768", "1280x800", "1920x1080")
SHOTS = ("trained", "health", "kernels_e0", "lesion", "lr_finder", "hardest", "attack", "runs", "export", "lecture0", "lecture1", "lecture2")
ATTACK_EPS = 0.25         # FGSM: enough to flip the demo run's answer on most digits
# (tour, what its step opens): a Lab section, an architecture in the Model tab, the parameter table
LECTURE_SHOTS = ((0, {"view": "lab", "section": "multichannel"}), (1, {"view": "model", "model": "cifar-cnn"}),
                 (2, {"view": "lab", "section": "params"}))
STEP_TIMEOUT_S = 240      # per step inside the app (training on 2 busy cores is the slow one)
# Start openbox, wait until it manages the screen (it sets _NET_SUPPORTING_WM_CHECK), then the app.
WITH_WM = ('openbox >/dev/null 2>&1 & '
           'for i in $(seq 100); do xprop -root _NET_SUPPORTING_WM_CHECK 2>/dev/null | grep -q "window id" '
           '&& break; sleep 0.1; done; exec "$0" "$@"')


# ------------------------------------------------------------------ outside: one X server per size

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated WxH (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per screen size")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("xvfb-run", "openbox", "import", "xprop") if shutil.which(tool) is None]
    if missing:
        print(f"screenshot_x11: missing {', '.join(missing)} (apt install xvfb openbox imagemagick x11-utils)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    failures = [size for size in args.sizes.split(",") if not shoot_size(size.strip(), args)]
    if failures:
        print(f"screenshot_x11: FAILED at {', '.join(failures)}", file=sys.stderr)
        return 1
    print("screenshot_x11: all screenshots written to", args.out)
    return 0


def shoot_size(size: str, args) -> bool:
    width, height = (int(v) for v in size.lower().split("x"))
    expected = [args.out / f"x11_{width}x{height}_{shot}.png" for shot in SHOTS]
    for path in expected:
        path.unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"cnn-studio-x11-{width}x{height}-"))
    env = dict(os.environ, CNN_STUDIO_RUNS_DIR=str(tmp / "runs"), CNN_STUDIO_SETTINGS_DIR=str(tmp / "settings"),
               CNN_STUDIO_SCRIPT=str(Path(__file__).resolve()), CNN_STUDIO_SHOTS_OUT=str(args.out),
               CNN_STUDIO_SHOTS_PREFIX=f"x11_{width}x{height}", CNN_STUDIO_SHOTS_EPOCHS=str(args.epochs),
               CNN_STUDIO_SHOTS_TMP=str(tmp))
    for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {width}x{height}x24", "sh", "-c", WITH_WM,
               sys.executable, str(ROOT / "main.py")]
    print(f"screenshot_x11: {width}x{height} …", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    try:
        code = process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        print(f"screenshot_x11: {width}x{height} timed out after {args.timeout} s", file=sys.stderr)
        code = -1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    absent = [p.name for p in expected if not p.is_file()]
    if code != 0 or absent:
        print(f"screenshot_x11: {width}x{height}: exit code {code}, missing {absent or 'nothing'}", file=sys.stderr)
        return False
    print(f"screenshot_x11: {width}x{height} done in {time.monotonic() - started:.0f} s", flush=True)
    return True


# ------------------------------------------------------------------ inside the app (CNN_STUDIO_SCRIPT)

def drive(window) -> None:
    """Called by the app once ready: run the steps, one condition at a time, polled from a GUI timer."""
    out = Path(os.environ["CNN_STUDIO_SHOTS_OUT"])
    prefix = os.environ["CNN_STUDIO_SHOTS_PREFIX"]
    run_steps(window, _steps(window, out, prefix), f"screenshot_x11: {prefix}")


def run_steps(window, steps, label: str) -> None:
    """Run (name, action, done-when) steps in order from a GUI timer; a failing or stuck step ends the
    app with exit code 3 and says which (the other screenshot tools drive their own steps with it)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window.confirm = lambda *a: True
    steps = iter(steps)
    timer = QTimer(window)
    timer.setInterval(200)
    current: dict = {}

    def tick() -> None:
        try:
            if current and not current["until"]():
                if time.monotonic() > current["deadline"]:
                    raise TimeoutError(f"step '{current['name']}' timed out after {STEP_TIMEOUT_S} s")
                return
            name, action, until = next(steps)
            current.update(name=name, until=until, deadline=time.monotonic() + STEP_TIMEOUT_S)
            print(f"{label}: {name}", flush=True)
            action()
        except StopIteration:
            timer.stop()
            window.close()
        except Exception as exc:  # noqa: BLE001 - say which step failed and leave with an error code
            timer.stop()
            print(f"{label}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            QApplication.exit(3)

    timer.timeout.connect(tick)
    timer.start()


def _steps(window, out: Path, prefix: str):
    """(name, action, done-when) in order; an action runs once the previous step's condition holds."""
    from PySide6.QtWidgets import QTabWidget

    state, session = window.state, window.session
    pause = _Pause()
    predict = {}

    def train() -> None:
        window.settings_panel.epochs_spin.setValue(int(os.environ.get("CNN_STUDIO_SHOTS_EPOCHS", "3")))
        if not window.start_training():
            raise RuntimeError("Train did not start (no dataset?)")

    def trained() -> bool:
        live = session._live_model
        return (not session.is_running() and window.progress.format().startswith("Done")
                and state.model is not None and (live is None or not live.running))

    yield "waiting for the dataset", lambda: None, lambda: state.dataset is not None
    yield "training", train, trained
    yield "letting the curves redraw", pause.start, pause.over
    yield "shooting trained", lambda: _capture(window, out / f"{prefix}_trained.png"), lambda: True

    def health_page() -> None:
        tab = window.show_tab("training")
        tab.pages.setCurrentWidget(tab.health_view)

    yield "showing the Health page", health_page, lambda: True
    yield "letting the health plots draw", pause.start, pause.over
    yield "shooting health", lambda: _capture(window, out / f"{prefix}_health.png"), lambda: True

    def kernels_at_zero() -> None:
        window.tab("training").pages.setCurrentIndex(0)
        window.show_tab("kernels")
        window.timeline.set_epoch(0)

    yield "the timeline at epoch 0 on Kernels", kernels_at_zero, lambda: not window.tab("kernels").busy
    yield "letting the kernels draw", pause.start, pause.over
    yield "shooting kernels_e0", lambda: _capture(window, out / f"{prefix}_kernels_e0.png"), lambda: True

    def rank_filters() -> None:
        window.timeline.set_epoch(window.timeline.maximum)
        panel = window.show_tab("kernels").lesion
        panel.toggle.setChecked(True)
        panel.rank()

    def ranked_filters() -> bool:
        panel = window.tab("kernels").lesion
        return panel.ranking is not None and not panel.busy

    yield "ranking the first layer's filters", rank_filters, ranked_filters
    yield "letting the lesion tables draw", pause.start, pause.over
    yield "shooting lesion", lambda: _capture(window, out / f"{prefix}_lesion.png"), lambda: True

    finder: dict = {}

    def find_lr() -> None:
        window.tab("kernels").lesion.toggle.setChecked(False)
        finder["dialog"] = window.settings_panel.lr_row.open_dialog()
        finder["dialog"].start()

    def lr_found() -> bool:
        dialog = finder["dialog"]
        return not dialog.running and dialog.chosen_lr() is not None

    def close_finder() -> None:
        finder["dialog"].close()

    yield "finding a learning rate", find_lr, lr_found
    yield "letting the LR plot draw", pause.start, pause.over
    yield "shooting lr_finder", lambda: _capture(window, out / f"{prefix}_lr_finder.png"), lambda: True
    yield "closing the LR finder", close_finder, lambda: True

    def hardest_page() -> None:
        window.timeline.set_epoch(window.timeline.maximum)
        tab = window.show_tab("evaluation")
        tab.pages.setCurrentWidget(tab.hardest)

    def ranked() -> bool:
        tab = window.tab("evaluation")
        return tab.hardest.result is not None and not tab.hardest.busy and not tab.busy

    yield "Evaluation's hardest examples", hardest_page, ranked
    yield "letting the tiles draw", pause.start, pause.over
    yield "shooting hardest", lambda: _capture(window, out / f"{prefix}_hardest.png"), lambda: True

    def add_pictures() -> None:
        tab = predict["tab"] = window.show_tab("predict")
        tab.add_paths([_digit_png(), ROOT / "resources" / "images" / "chelsea.png"])

    def attack() -> None:
        tab = predict["tab"]
        tab.select_row(0)
        panel = tab.adversarial
        panel.set_eps(ATTACK_EPS)
        tabs = panel.parentWidget()
        while tabs is not None and not isinstance(tabs, QTabWidget):
            tabs = tabs.parentWidget()
        tabs.setCurrentIndex(1)          # the Explain | Adversarial tabs
        panel.attack_button.click()

    def predicted() -> bool:
        tab = predict.get("tab")
        return tab is not None and tab.model is not None and len(tab.items) == 2 and tab.detail is not None \
            and not tab.is_busy()

    def attacked() -> bool:
        tab = predict["tab"]
        return tab.adversarial.outcome is not None and not tab.adversarial.is_busy() and not tab.is_busy()

    yield "predicting a digit and a photo", add_pictures, predicted
    yield "attacking the digit", attack, attacked
    yield "letting the charts draw", pause.start, pause.over
    yield "shooting attack", lambda: _capture(window, out / f"{prefix}_attack.png"), lambda: True

    def runs() -> None:
        window.show_runs_list()
        window.show_tab("training")
        if state.run_dir is not None:
            window.runs_panel.select_runs([state.run_dir])

    yield "showing the runs", runs, lambda: True
    yield "letting the list draw", pause.start, pause.over
    yield "shooting runs", lambda: _capture(window, out / f"{prefix}_runs.png"), lambda: True

    # File > Export model…: the run's best checkpoint as ONNX, checked against PyTorch in the dialog.
    dialog_box: dict = {}

    def export() -> None:
        from studio.gui.window import exports

        dialog = exports.model_dialog(window)
        dialog.path_edit.setText(str(Path(os.environ["CNN_STUDIO_SHOTS_TMP"]) / "model.onnx"))
        dialog.start_export()
        dialog_box["dialog"] = dialog

    yield "exporting the model", export, lambda: dialog_box["dialog"].result is not None or \
        "failed" in dialog_box["dialog"].report.text()
    yield "letting the dialog draw", pause.start, pause.over
    yield "shooting export", lambda: _capture(window, out / f"{prefix}_export.png"), lambda: True
    yield "closing the dialog", lambda: dialog_box["dialog"].close(), lambda: True

    # Three tour steps from different lectures, opened with the panel's own Open button.
    for n, (tour, wanted) in enumerate(LECTURE_SHOTS):
        def open_step(tour=tour, wanted=wanted) -> None:
            panel = window.lectures_panel
            window.left_tabs.setCurrentWidget(panel)
            steps = panel.tours[tour].steps
            index = next(i for i, s in enumerate(steps) if all(s.action.get(k) == v for k, v in wanted.items()))
            panel.select_tour(tour, index)
            panel.open_button.click()

        yield f"opening lecture {tour}'s step {wanted}", open_step, lambda: True
        yield "letting the step draw", pause.start, pause.over
        yield f"shooting lecture{n}", lambda n=n: _capture(window, out / f"{prefix}_lecture{n}.png"), lambda: True


class _Pause:
    """A second for timers (the 10 Hz curve redraw), layouts and paints to run before a capture."""

    def __init__(self, seconds: float = 1.5):
        self.seconds, self.until = seconds, 0.0

    def start(self) -> None:
        self.until = time.monotonic() + self.seconds

    def over(self) -> bool:
        return time.monotonic() >= self.until


def _digit_png() -> Path:
    """A 7 from the bundled MNIST sample's test split, as a PNG file to predict from."""
    import numpy as np
    from PIL import Image

    from studio.core.data import load_dataset

    test = load_dataset("mnist-sample").test
    index = int(np.flatnonzero(test.labels.numpy() == 7)[0])
    path = Path(os.environ["CNN_STUDIO_SHOTS_TMP"]) / "seven.png"
    Image.fromarray(test.images[index, 0].numpy()).save(path)
    return path


def _capture(window, path: Path) -> None:
    """The whole screen, as the X server shows it; and whether the framed window fits on it."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
    frame, screen = window.frameGeometry(), window.screen().geometry()
    fits = screen.contains(frame)
    print(f"screenshot_x11: wrote {path.name}: frame {frame.x()},{frame.y()} {frame.width()}x{frame.height()} "
          f"on {screen.width()}x{screen.height()}, minimum {window.minimumSizeHint().width()}x"
          f"{window.minimumSizeHint().height()}: {'fits' if fits else 'DOES NOT FIT'}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
