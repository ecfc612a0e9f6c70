"""CNN_STUDIO_QUIT_WHEN_READY: what CI runs from the wheel. Exit 0 only on a ready window with an icon,
its dataset loaded, and no error dialog."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from studio.gui.app import app_icon
from studio.gui.self_test import ENV, SelfTest
from studio.gui.widgets.error_dialog import open_dialogs, show_error


class FakeWindow(QWidget):
    ready = Signal()

    def __init__(self):
        super().__init__()
        self.state = SimpleNamespace(dataset=None)


@pytest.fixture
def app_with_icon(qapp):
    before = qapp.windowIcon()
    qapp.setWindowIcon(app_icon())
    yield qapp
    qapp.setWindowIcon(before)


def _check(qtbot, window):
    codes: list[int] = []
    SelfTest(window, quit_app=codes.append)
    window.ready.emit()
    qtbot.waitUntil(lambda: bool(codes), timeout=10_000)
    return codes


def test_passes_when_ready_with_an_icon_and_a_dataset(qtbot, app_with_icon, capsys):
    window = FakeWindow()
    qtbot.addWidget(window)
    window.setWindowIcon(app_icon())
    window.state.dataset = SimpleNamespace(name="mnist-sample")
    assert _check(qtbot, window) == [0]
    assert "self-test passed" in capsys.readouterr().out


def test_fails_on_an_error_dialog(qtbot, app_with_icon, capsys):
    window = FakeWindow()
    qtbot.addWidget(window)
    window.setWindowIcon(app_icon())
    dialog = show_error(window, "The bundled MNIST sample is missing")
    try:
        assert _check(qtbot, window) == [1]
        assert "error dialog" in capsys.readouterr().out
    finally:
        dialog.close()
    assert not open_dialogs()


def test_fails_on_a_null_icon(qtbot, qapp, capsys):
    before = qapp.windowIcon()
    qapp.setWindowIcon(QIcon())
    try:
        window = FakeWindow()
        qtbot.addWidget(window)
        window.state.dataset = SimpleNamespace(name="mnist-sample")
        assert _check(qtbot, window) == [1]
        assert "icon is null" in capsys.readouterr().out
    finally:
        QApplication.instance().setWindowIcon(before)


@pytest.mark.slow
def test_the_real_window_reports_ready_and_quits(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "share"), **{ENV: "1"})
    out = subprocess.run([sys.executable, "-m", "studio"], capture_output=True, text=True, timeout=300, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "self-test passed" in out.stdout
