"""Regression guard for the PySide6 6.12.0 refcount bug ("Fatal Python error: bool_dealloc").

PySide6 6.12.0 on Python 3.11 loses a reference to True/None per signal emit and per Python
override of a void virtual, and aborts after about a thousand of them. The project pins
PySide6-Essentials<6.12; this test emits 100,000 signals from a worker thread into @Slot
methods and repaints a widget with a Python paintEvent a thousand times. On a broken build
the process dies here, loudly, instead of in a student's training run.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

N_SIGNALS = 100_000
N_REPAINTS = 1_000


class Emitter(QObject):
    flag = Signal(bool)
    nothing = Signal(object)
    done = Signal()

    def __init__(self, count: int):
        super().__init__()
        self.count = count

    @Slot()
    def run(self) -> None:
        for i in range(self.count):
            self.flag.emit(i % 2 == 0)     # True and False alternately
            if i % 10 == 0:
                self.nothing.emit(None)
        self.done.emit()


class Receiver(QObject):
    def __init__(self):
        super().__init__()
        self.trues = self.falses = self.nones = 0
        self.finished = False

    @Slot(bool)
    def on_flag(self, value: bool) -> None:
        if value is True:
            self.trues += 1
        else:
            self.falses += 1

    @Slot(object)
    def on_nothing(self, value) -> None:
        if value is None:
            self.nones += 1

    @Slot()
    def on_done(self) -> None:
        self.finished = True


class Painted(QWidget):
    def __init__(self):
        super().__init__()
        self.paints = 0
        self.resize(64, 64)

    def paintEvent(self, event) -> None:  # a Python override of a void virtual
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().window())
        painter.end()
        self.paints += 1


def test_100k_signals_from_a_worker_thread_reach_their_slots(qtbot):
    true_refs = sys.getrefcount(True)
    emitter, receiver = Emitter(N_SIGNALS), Receiver()
    thread = QThread()
    emitter.moveToThread(thread)
    emitter.flag.connect(receiver.on_flag)
    emitter.nothing.connect(receiver.on_nothing)
    emitter.done.connect(receiver.on_done)
    emitter.done.connect(thread.quit)
    thread.started.connect(emitter.run)
    thread.start()
    qtbot.waitUntil(lambda: receiver.finished, timeout=120_000)
    assert thread.wait(10_000)
    assert receiver.trues == N_SIGNALS // 2 and receiver.falses == N_SIGNALS // 2
    assert receiver.nones == N_SIGNALS // 10
    # A leak of one reference per emit would show as a drop of about 50,000 here.
    assert sys.getrefcount(True) > true_refs - 1000


def test_a_thousand_repaints_of_a_python_paint_event(qtbot):
    widget = Painted()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    before = widget.paints
    for _ in range(N_REPAINTS):
        widget.grab()       # renders through paintEvent synchronously (repaint() may be a no-op offscreen)
        widget.repaint()
    assert widget.paints - before >= N_REPAINTS


def test_pyside_is_below_the_broken_release():
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12), "PySide6 6.12.0 aborts with bool_dealloc; pyproject pins <6.12"
