"""Memory kept by each MainWindow built and closed (issue 12, defect 7): RSS and leftover top-level widgets.

    python tools/window_cycles.py            # 12 windows, offscreen

Each cycle builds a MainWindow, waits until it has loaded, closes it, deletes it (DeferredDelete
sent explicitly, as the event loop would) and collects garbage; it prints the process's RSS after
each cycle, the growth per window after 3 warm-up cycles, and the top-level widgets left alive
by class (parentless Qt widgets nobody deleted). Linux (reads /proc/self/status).
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(cycles: int = 12) -> None:
    for kind in ("RUNS", "DATA", "WEIGHTS", "SETTINGS"):
        os.environ[f"CNN_STUDIO_{kind}_DIR"] = tempfile.mkdtemp(prefix="window-cycles-")
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from studio.gui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def settle(condition=lambda: True, limit=60.0):
        end = time.monotonic() + limit
        while not condition() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    sizes = []
    for i in range(cycles):
        window = MainWindow()
        window.confirm = lambda *args: True
        window.show()
        settle(lambda w=window: w.loaded)
        settle(lambda w=window: w.state.dataset is not None)
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        del window
        gc.collect()
        settle(limit=0.2)
        sizes.append(rss_mb())
        print(f"window {i + 1:2}: RSS {sizes[-1]:7.1f} MB", flush=True)
    warm = min(3, cycles - 1)
    print(f"growth per window after {warm} warm-up cycles: "
          f"{(sizes[-1] - sizes[warm - 1]) / max(1, cycles - warm):.2f} MB")
    alive = sum(isinstance(o, MainWindow) for o in gc.get_objects())
    left = collections.Counter(type(w).__qualname__ for w in QApplication.topLevelWidgets())
    print(f"MainWindow Python objects still alive: {alive} of {cycles}")
    print("top-level widgets left: " + (", ".join(f"{k} {v}" for k, v in left.most_common()) or "none"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
