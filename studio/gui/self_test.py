"""CNN_STUDIO_QUIT_WHEN_READY=1: open the window, wait until it is ready and its dataset has loaded, quit.

CI runs this from an installed wheel (.ci/run): the exit code is 0 only when the window became
ready with a non-null icon, loaded its dataset, and opened no error dialog; one line on stdout
says what was seen. Without a display, QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

ENV = "CNN_STUDIO_QUIT_WHEN_READY"
TIMEOUT_MS = 180_000   # torch's first import on a cold, busy machine can take a minute


class SelfTest(QObject):
    def __init__(self, window, quit_app=None):
        super().__init__(window)
        self.window = window
        self._quit_app = quit_app or QApplication.instance().exit   # tests pass their own
        self.exit_code = 1
        self._done = False
        self._started = time.perf_counter()
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._check)
        window.ready.connect(self._on_ready)
        QTimer.singleShot(TIMEOUT_MS, self._on_timeout)

    @Slot()
    def _on_ready(self) -> None:
        self._ready_after = time.perf_counter() - self._started
        self._poll.start()

    @Slot()
    def _check(self) -> None:
        from studio.gui.widgets.error_dialog import open_dialogs

        dialogs = open_dialogs()
        if dialogs:
            self._finish(1, f"an error dialog opened: {dialogs[0].text()}")
        elif self.window.state.dataset is not None:
            icons = (QApplication.instance().windowIcon(), self.window.windowIcon())
            if any(icon.isNull() for icon in icons):
                self._finish(1, "the window icon is null (resources/icons not found)")
            else:
                self._finish(0, f"ready in {self._ready_after:.1f} s, icon set, dataset "
                                f"{self.window.state.dataset.name} loaded, no error dialog")

    @Slot()
    def _on_timeout(self) -> None:
        self._finish(1, f"not ready with a dataset after {TIMEOUT_MS // 1000} s")

    def _finish(self, code: int, message: str) -> None:
        if self._done:
            return
        self._done = True
        self._poll.stop()
        self.exit_code = code
        print(f"self-test {'passed' if code == 0 else 'FAILED'}: {message}", flush=True)
        self.window.close()
        self._quit_app(code)
