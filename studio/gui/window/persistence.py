"""What the window remembers between sessions: the last settings, its geometry, the open tab, the last run.

The window opens within the screen's available area (the title bar and the status bar on
screen), at most 1280x800, whatever a settings file from a bigger screen says.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QTabWidget

from studio.core.config.train_config import TrainConfig
from studio.core.errors import StudioError

SETTINGS_FILE = "cnn-studio.ini"
DEFAULT_SIZE = (1280, 800)
FRAME_ALLOWANCE = (16, 48)   # a window manager's borders and title bar, not part of the geometry


def open_settings() -> QSettings:
    """The settings file: under $CNN_STUDIO_SETTINGS_DIR when set (tests), else the per-user default."""
    folder = os.environ.get("CNN_STUDIO_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / SETTINGS_FILE), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "cnn-studio", "cnn-studio")


def fit_rect(rect: QRect, available: QRect) -> QRect:
    """rect moved and shrunk until it (with a window frame around it) lies inside `available`."""
    width = min(rect.width(), available.width() - FRAME_ALLOWANCE[0])
    height = min(rect.height(), available.height() - FRAME_ALLOWANCE[1])
    left = min(max(rect.left(), available.left()), available.right() - width - FRAME_ALLOWANCE[0] + 1)
    top = min(max(rect.top(), available.top()), available.bottom() - height - FRAME_ALLOWANCE[1] + 1)
    return QRect(max(left, available.left()), max(top, available.top()), max(width, 1), max(height, 1))


class WindowSettings:
    def __init__(self, settings: QSettings):
        self.settings = settings

    def config(self) -> TrainConfig:
        raw = self.settings.value("config/last")
        if raw:
            try:
                config = TrainConfig.from_dict(json.loads(str(raw)))
                config.validate()
                return config
            except (ValueError, TypeError, StudioError):
                pass  # a settings file from another version: start from the defaults
        return TrainConfig()

    def save_config(self, config: TrainConfig) -> None:
        self.settings.setValue("config/last", json.dumps(config.to_dict()))

    def last_run(self) -> Path | None:
        """The run folder last opened or trained, if it is still there (moved or deleted: None)."""
        raw = self.settings.value("runs/last")
        if not raw:
            return None
        path = Path(str(raw))
        return path if path.is_dir() else None

    def save_last_run(self, run_dir: Path) -> None:
        self.settings.setValue("runs/last", str(run_dir))

    def restore_geometry(self, window: QMainWindow) -> None:
        geometry = self.settings.value("window/geometry")
        restored = isinstance(geometry, QByteArray) and not geometry.isEmpty() and window.restoreGeometry(geometry)
        if not restored:
            window.resize(*DEFAULT_SIZE)
        screen = window.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            rect = window.geometry()
            if not restored:   # a first launch: in the middle of the screen, not its corner
                rect.moveCenter(available.center())
            rect = fit_rect(rect, available)
            # move() places the frame, title bar included (setGeometry places the client area: under a
            # window manager at y=0 the title bar went above the screen's top edge).
            window.resize(rect.size())
            window.move(rect.topLeft())
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            window.splitter.restoreState(splitter)
        try:
            window.left_tabs.setCurrentIndex(int(self.settings.value("window/left_tab", 0)))
        except (TypeError, ValueError):
            pass

    def restore_tab(self, tabs: QTabWidget) -> None:
        try:
            tabs.setCurrentIndex(int(self.settings.value("window/tab", 0)))
        except (TypeError, ValueError):
            pass

    def save_window(self, window: QMainWindow, tabs: QTabWidget | None) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())
        self.settings.setValue("window/splitter", window.splitter.saveState())
        self.settings.setValue("window/left_tab", window.left_tabs.currentIndex())
        if tabs is not None:
            self.settings.setValue("window/tab", tabs.currentIndex())
