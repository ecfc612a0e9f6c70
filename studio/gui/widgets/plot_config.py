"""pyqtgraph's global options, set once pyqtgraph is loaded (it is imported after the window shows)."""

from __future__ import annotations


def configure_pyqtgraph() -> None:
    """Row-major images, no antialiasing, no OpenGL (idempotent)."""
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, useOpenGL=False)
