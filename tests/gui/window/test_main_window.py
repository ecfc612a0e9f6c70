"""The main window, driven like a person would: click Train, Stop, Resume, close mid-run, open runs."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.gui.conftest import is_running
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from studio.core.config.train_config import TrainConfig
from studio.gui.window.main_window import MainWindow, open_settings
from studio.gui.widgets import error_dialog


@pytest.fixture(autouse=True)
def close_error_dialogs():
    yield
    for dialog in error_dialog.open_dialogs():
        dialog.close()


def make_window(qtbot, epochs=1, batch_size=128) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.confirm = lambda *args: True
    window.runs_panel.confirm = lambda *args: True
    window.show()
    qtbot.waitUntil(lambda: window.loaded, timeout=120_000)
    qtbot.waitUntil(lambda: window.state.dataset is not None, timeout=60_000)
    window.settings_panel.epochs_spin.setValue(epochs)
    window.settings_panel.batch_spin.setValue(batch_size)
    return window


def finish(qtbot, window: MainWindow, timeout=120_000) -> None:
    qtbot.waitUntil(lambda: not window.runner.is_running(), timeout=timeout)


def close_window(qtbot, window: MainWindow) -> None:
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    yield w
    if w.isVisible():
        close_window(qtbot, w)


# ------------------------------------------------------------------ start-up and layout

def test_the_window_shows_a_loading_state_before_torch(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.stack.currentWidget() is window.loading_page
    assert not window.actions_by_key["train"].isEnabled()
    assert "Loading" in window.loading_page.label.text()
    qtbot.waitUntil(lambda: window.loaded, timeout=120_000)
    assert window.stack.currentWidget() is window.tabs
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Data", "Training", "Model", "Kernels", "Activations", "Evaluation", "Predict", "Lab", "Compare"]
    close_window(qtbot, window)


def test_window_module_imports_no_torch():
    import subprocess

    code = ("import sys; import studio.gui.app, studio.gui.window.main_window; "
            "bad = [m for m in ('torch', 'torchvision', 'pyqtgraph') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "[]", out.stderr


def test_main_py_starts_the_window_from_any_folder(tmp_path):
    import os
    import subprocess

    main = Path(__file__).resolve().parents[3] / "main.py"
    assert main.read_text().startswith("#!/usr/bin/env python3")
    assert os.access(main, os.X_OK), "main.py must be executable to be double-clickable"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(QT_QPA_PLATFORM="offscreen", CNN_STUDIO_STARTUP_PROBE="1")
    out = subprocess.run([sys.executable, str(main)], capture_output=True, text=True, timeout=180, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "probe shown" in out.stdout and "probe ready" in out.stdout


def test_desktop_entry_points_at_this_interpreter(tmp_path, monkeypatch):
    from studio.desktop import install_desktop_entry, quote_exec_arg

    path = install_desktop_entry(tmp_path / "applications")
    text = path.read_text()
    assert path.name == "cnn-studio.desktop" and text.startswith("[Desktop Entry]")
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert quote_exec_arg(sys.executable) in exec_line and "main.py" in exec_line
    assert "Icon=" in text and "Terminal=false" in text
    assert quote_exec_arg("/opt/my python/bin/python") == '"/opt/my python/bin/python"'
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    default = install_desktop_entry()
    assert default == tmp_path / "share" / "applications" / "cnn-studio.desktop"
    assert (tmp_path / "share" / "icons" / "hicolor" / "256x256" / "apps" / "cnn-studio.png").is_file()


def test_defaults_and_lists(window):
    panel = window.settings_panel
    cfg = panel.config()
    assert (cfg.dataset, cfg.model) == ("mnist-sample", "lenet5")
    assert "mnist-sample" in panel.dataset_names() and "lenet5" in panel.model_names()
    devices = [panel.device_combo.itemData(i) for i in range(panel.device_combo.count())]
    assert devices[:2] == ["auto", "cpu"]
    assert window.state.dataset.name == "mnist-sample"


def test_model_info_shows_parameters_and_input_size(qtbot, window):
    # "Counting parameters…" comes first: wait for the count itself
    qtbot.waitUntil(lambda: "parameters" in window.settings_panel.model_info.text()
                    and "Counting" not in window.settings_panel.model_info.text(), timeout=30_000)
    assert "61,706" in window.settings_panel.model_info.text()     # LeNet-5 on 28x28 digits
    assert "1×28×28" in window.settings_panel.model_info.text()


def test_menus_and_shortcuts(window):
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[:2] == ["&File", "&Training"]
    a = window.actions_by_key
    for key in ("new", "open", "export_plot", "export_csv", "quit", "train", "stop", "pause", "resume"):
        assert not a[key].shortcut().isEmpty(), key


# ------------------------------------------------------------------ training from the window

@pytest.mark.slow
def test_click_train_one_epoch(qtbot, window):
    received = []
    window.state.epochEnded.connect(received.append)
    qtbot.mouseClick(window.control_buttons["train"], Qt.MouseButton.LeftButton)
    assert window.runner.is_running()
    assert window.current_tab() is window.training_tab
    assert not window.settings_panel.widget().isEnabled()      # settings are locked while training
    finish(qtbot, window)

    tab = window.training_tab
    tab.redraw(force=True)
    batches = tab.histories[0].batches
    assert len(batches) == window.session.fit_start.batches_per_epoch
    assert tab.plots["loss"].point_count("0:batch") == len(batches)
    assert tab.plots["loss"].point_count("0:test_loss") == 1
    assert tab.plots["accuracy"].point_count("0:test_acc") == 1
    assert tab.plots["accuracy"].point_count("0:val_acc") == tab.plots["loss"].point_count("0:val_loss") == 1
    assert "chosen on validation" in tab.summary.text()
    assert tab.plots["lr"].point_count("0:lr") == len(batches)
    assert tab.plots["time"].point_count("0:time") == 1
    assert window.progress.value() == window.progress.maximum() > 0
    assert "Epoch: 1 | Loss:" in tab.log_view.toPlainText()
    assert "test accuracy" in tab.summary.text() and "Finished" in tab.summary.text()

    run_dir = window.state.run_dir
    assert run_dir is not None and run_dir.is_dir()
    for name in ("config.json", "metrics.jsonl", "status.json", "checkpoints/last.pt"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "status.json").read_text())["status"] == "done"
    qtbot.waitUntil(lambda: len(received) == 1, timeout=30_000)
    assert window.state.model is not None and window.state.model.epoch == 1
    assert window.settings_panel.widget().isEnabled()
    assert window.actions_by_key["train"].isEnabled()
    qtbot.waitUntil(lambda: run_dir in window.runs_panel.run_paths(), timeout=30_000)   # read in the background


@pytest.mark.slow
def test_stop_halfway_then_resume(qtbot):
    window = make_window(qtbot, epochs=3, batch_size=128)
    window.start_training()
    qtbot.waitUntil(lambda: window.training_tab.histories and len(window.training_tab.histories[0].epochs) >= 1
                    and len(window.training_tab.histories[0].batches) > window.session.fit_start.batches_per_epoch + 2,
                    timeout=120_000)
    qtbot.mouseClick(window.control_buttons["stop"], Qt.MouseButton.LeftButton)
    finish(qtbot, window)
    run_dir = window.state.run_dir
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "stopped" and status["epochs_done"] == 1
    assert window.progress.value() < window.progress.maximum()
    qtbot.waitUntil(lambda: window.actions_by_key["resume"].isEnabled(), timeout=30_000)   # runs read in the background

    window.resume_training()
    finish(qtbot, window)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "done" and status["epochs_done"] == 3
    history = window.training_tab.histories[0]
    assert history.epochs.column("epoch").tolist() == [1.0, 2.0, 3.0]
    assert np.all(np.diff(history.batches.column("step")) > 0)   # the stopped epoch's partial batches are gone
    assert window.progress.value() == window.progress.maximum()
    close_window(qtbot, window)


@pytest.mark.slow
def test_pause_and_resume_buttons(qtbot):
    window = make_window(qtbot, epochs=2, batch_size=32)
    window.start_training()
    qtbot.waitUntil(lambda: window.training_tab.histories and len(window.training_tab.histories[0].batches) > 2,
                    timeout=120_000)
    qtbot.mouseClick(window.control_buttons["pause"], Qt.MouseButton.LeftButton)
    assert window.actions_by_key["resume"].isEnabled() and not window.actions_by_key["pause"].isEnabled()
    qtbot.waitUntil(lambda: window.state.training_state == "paused", timeout=30_000)   # once really held
    assert window.progress.format().endswith(" · paused")
    qtbot.mouseClick(window.control_buttons["resume"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.state.training_state == "running", timeout=30_000)
    window.stop_training()
    finish(qtbot, window)
    assert window.state.training_state == "idle"
    close_window(qtbot, window)


@pytest.mark.slow
def test_close_mid_run_stops_saves_and_leaves_no_thread(qtbot, no_thread_left):
    window = make_window(qtbot, epochs=20, batch_size=32)
    asked = []
    window.confirm = lambda *args: asked.append(args) or True
    window.start_training()
    qtbot.waitUntil(lambda: window.state.run_dir is not None and window.training_tab.histories
                    and len(window.training_tab.histories[0].batches) > 0, timeout=120_000)
    thread = window.runner.thread
    run_dir = window.state.run_dir
    window.close()
    assert asked, "closing during training must ask first"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert window.runner.thread is None and not thread.isRunning()
    assert not [t for t in no_thread_left if is_running(t)]
    assert json.loads((run_dir / "status.json").read_text())["status"] == "stopped"


@pytest.mark.slow
def test_close_mid_run_can_be_cancelled(qtbot):
    window = make_window(qtbot, epochs=20, batch_size=32)
    window.confirm = lambda *args: False
    window.start_training()
    qtbot.waitUntil(lambda: window.state.run_dir is not None, timeout=120_000)
    window.close()
    assert window.isVisible() and window.runner.is_running()
    window.stop_training()
    finish(qtbot, window)
    close_window(qtbot, window)


def test_a_failing_run_shows_a_dialog_and_is_marked_failed(qtbot, window, monkeypatch):
    from studio.core.engine import trainer as trainer_module

    def broken_step(self, *args):
        raise RuntimeError("the GPU caught fire")

    monkeypatch.setattr(trainer_module.Trainer, "_step", broken_step)
    window.start_training()
    finish(qtbot, window)
    dialogs = error_dialog.open_dialogs()
    assert dialogs and "the GPU caught fire" in dialogs[-1].text()
    assert "Traceback" in dialogs[-1].detailedText()
    status = json.loads((window.state.run_dir / "status.json").read_text())
    assert status["status"] == "failed" and "GPU caught fire" in status["reason"]
    assert window.actions_by_key["train"].isEnabled()            # the app lives on


def test_invalid_settings_are_refused_readably(qtbot, window):
    window.settings_panel.augment_checks["scale"].setChecked(True)
    window.settings_panel.augment_spins["scale"].setValue(0.9)
    cfg = window.settings_panel.config()
    assert cfg.augment.scale == pytest.approx(0.9)
    window.settings_panel.set_config(cfg)  # still a valid config: no dialog
    assert not error_dialog.open_dialogs()


def test_excepthook_turns_a_slot_error_into_a_dialog(qtbot, window):
    from studio.gui import app

    saved = sys.excepthook
    app.install_excepthook()
    try:
        try:
            raise ZeroDivisionError("division by zero in a slot")
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: bool(error_dialog.open_dialogs()), timeout=5_000)
        dialog = error_dialog.open_dialogs()[-1]
        assert "ZeroDivisionError" in dialog.text()
        assert "Traceback" in dialog.detailedText()
    finally:
        sys.excepthook = saved


SLOT_ERROR_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QPushButton
from studio.gui.app import install_excepthook
from studio.gui.widgets.error_dialog import open_dialogs
app = QApplication([])
install_excepthook()
button = QPushButton()
def broken_slot():
    raise KeyError("a bug in a slot")
button.clicked.connect(broken_slot)
QTimer.singleShot(0, button.click)
QTimer.singleShot(400, lambda: print("dialogs", [d.text().splitlines()[-1] for d in open_dialogs()], flush=True))
QTimer.singleShot(500, app.quit)    # quitting with the dialog still open must not crash either
sys.exit(app.exec())
"""


def test_an_exception_in_a_real_slot_shows_a_dialog_and_the_app_lives_on(tmp_path):
    import os
    import subprocess

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    out = subprocess.run([sys.executable, "-c", SLOT_ERROR_SCRIPT], capture_output=True, text=True, timeout=60,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "dialogs [\"KeyError: 'a bug in a slot'\"]" in out.stdout
    assert "Traceback" in out.stderr          # and it is printed for the terminal


# ------------------------------------------------------------------ runs: open, compare, tidy, export

def _train(qtbot, window, epochs=1) -> Path:
    window.settings_panel.epochs_spin.setValue(epochs)
    window.start_training()
    finish(qtbot, window)
    return window.state.run_dir


@pytest.mark.slow
def test_a_past_run_looks_exactly_as_it_did_live(qtbot, window):
    run_dir = _train(qtbot, window, epochs=2)
    tab = window.training_tab
    tab.redraw(force=True)
    live = {(name, key): (plot.getPlotItem().listDataItems(), plot._curves[key].getData())
            for name, plot in tab.plots.items() for key in plot.curve_keys()}
    window.new_run()
    assert window.state.run_dir is None and not tab.histories
    assert window.open_run(run_dir)
    qtbot.waitUntil(lambda: window.state.run_dir == run_dir, timeout=30_000)   # read in the background
    for (name, key), (_, (x, y)) in live.items():
        x2, y2 = tab.plots[name]._curves[key].getData()
        np.testing.assert_allclose(x2, x, err_msg=f"{name} {key}")
        np.testing.assert_allclose(y2, y, rtol=1e-12, err_msg=f"{name} {key}")
    assert tab.log_view.toPlainText().count("Epoch: ") == 2
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=30_000)


@pytest.mark.slow
def test_compare_two_runs_on_the_same_axes(qtbot, window):
    first = _train(qtbot, window)
    window.settings_panel.lr_spin.setValue(0.01)
    second = _train(qtbot, window)
    with qtbot.waitSignal(window.runs_panel.refreshed, timeout=30_000):
        window.runs_panel.refresh()
    window.runs_panel.select_runs([first, second])
    window.runs_panel.buttons["compare"].click()
    tab = window.training_tab
    qtbot.waitUntil(lambda: tab.compare_mode, timeout=30_000)   # read in the background
    assert tab.compare_mode and len(tab.histories) == 2
    for i in (0, 1):
        assert tab.plots["accuracy"].point_count(f"{i}:test_acc") == 1
        assert tab.plots["loss"].point_count(f"{i}:test_loss") == 1
    labels = sorted(item.name() for item in tab.plots["accuracy"].getPlotItem().listDataItems() if item.name())
    assert len(labels) == 2
    # The legends name what differs: the first run keeps the default learning rate.
    assert labels == sorted([f"lr {TrainConfig().lr:g}", "lr 0.01"])


@pytest.mark.slow
def test_export_plots_and_metrics(qtbot, window, tmp_path):
    _train(qtbot, window)
    png = window.export_plot("accuracy", tmp_path / "acc.png")
    svg = window.export_plot("loss", tmp_path / "loss.svg")
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 800
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    csv_path = window.export_metrics(tmp_path / "metrics.csv")
    rows = list(csv.DictReader(open(csv_path)))
    assert len(rows) == 1 and rows[0]["epoch"] == "1" and 0 <= float(rows[0]["test_acc"]) <= 1
    assert 0 <= float(rows[0]["val_acc"]) <= 1 and float(rows[0]["val_loss"]) > 0   # train / val / test


@pytest.mark.slow
def test_rename_delete_reveal_from_the_runs_list(qtbot, window):
    run_dir = _train(qtbot, window)
    panel = window.runs_panel
    with qtbot.waitSignal(panel.refreshed, timeout=30_000):
        panel.refresh()
    panel.select_runs([run_dir])
    opened = []
    panel.reveal = lambda url: opened.append(url.toLocalFile()) or True
    assert panel.reveal_selected() and opened == [str(run_dir)]
    new = panel.rename_selected("my first run")
    assert new.name == "my first run" and new.is_dir() and not run_dir.exists()
    assert window.state.run_dir == new
    panel.select_runs([new])
    panel.confirm = lambda *args: False
    assert not panel.delete_selected() and new.exists()       # "No" keeps it
    panel.confirm = lambda *args: True
    assert panel.delete_selected() and not new.exists()
    assert window.state.run_dir is None


def test_drop_files_anywhere_goes_to_predict(qtbot, window, tmp_path):
    image = Path(__file__).resolve().parents[3] / "resources" / "images" / "chelsea.png"
    dropped = []
    window.state.filesDropped.connect(dropped.append)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(image))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert dropped == [[str(image)]]
    assert window.current_tab() is window.tab("predict")


# ------------------------------------------------------------------ persistence

def test_settings_and_geometry_persist(qtbot):
    window = make_window(qtbot)
    window.settings_panel.lr_spin.setValue(0.005)
    window.settings_panel.epochs_spin.setValue(7)
    window.settings_panel.augment_checks["hflip"].setChecked(True)
    window.resize(1100, 640)
    window.tabs.setCurrentIndex(1)
    size = (window.width(), window.height())
    close_window(qtbot, window)
    assert (Path(__import__("os").environ["CNN_STUDIO_SETTINGS_DIR"]) / "cnn-studio.ini").is_file()

    again = MainWindow()
    qtbot.addWidget(again)
    cfg = again.settings_panel.config()
    assert cfg.lr == pytest.approx(0.005) and cfg.epochs == 7 and cfg.augment.hflip
    # The offscreen screen is 800 px wide and restoreGeometry keeps a window on its screen, so only
    # the height (which fits) is compared exactly.
    assert again.height() == size[1] == 640
    again.show()
    qtbot.waitUntil(lambda: again.loaded, timeout=120_000)
    assert again.tabs.currentIndex() == 1
    close_window(qtbot, again)


def test_a_corrupt_settings_file_falls_back_to_defaults(qtbot):
    settings = open_settings()
    settings.setValue("config/last", "{not json")
    settings.sync()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.settings_panel.config().model == "lenet5"
