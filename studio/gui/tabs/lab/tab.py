"""The Convolution Lab tab: small, exact experiments that reproduce the lectures' numbers.

Sections (one module each): correlation and convolution on editable grids (lab_conv), kernels
on a photo (lab_photo), counting parameters (lab_params), autograd (lab_autograd) and softmax
with cross-entropy (lab_softmax), pooling on a small grid (lab_pool), weight initialisation
(lab_init) and one batch trained by hand (lab_train). All maths lives in studio.core.lab.conv*;
this package only displays it and forwards edits.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy, QTabWidget, QVBoxLayout, QWidget

from studio.gui.tabs.lab.autograd import AutogradSection
from studio.gui.tabs.lab.conv import ConvSection
from studio.gui.tabs.lab.lecture_sections import add_lecture_sections
from studio.gui.tabs.lab.weight_init import InitSection
from studio.gui.tabs.lab.params import ParamsSection
from studio.gui.tabs.lab.photo import PhotoSection
from studio.gui.tabs.lab.pool import PoolSection
from studio.gui.tabs.lab.softmax import SoftmaxSection
from studio.gui.tabs.lab.train import TrainSection

pg.setConfigOptions(imageAxisOrder="row-major")


class LabTab(QWidget):
    """A self-contained tab with one sub-tab per lab section."""

    SECTIONS = (("conv", "Correlation && convolution"), ("photo", "Kernels on a photo"),
                ("pool", "Pooling"), ("params", "Counting parameters"), ("init", "Weight init"),
                ("autograd", "Autograd"), ("softmax", "Softmax && cross-entropy"),
                ("train", "One batch by hand"))

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.conv = ConvSection()
        self.photo = PhotoSection()
        self.params = ParamsSection()
        self.autograd = AutogradSection()
        self.softmax = SoftmaxSection()
        self.pool = PoolSection()
        self.init = InitSection()
        self.train = TrainSection()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for key, title in self.SECTIONS:
            self.tabs.addTab(getattr(self, key), title)  # "&&" shows one "&"
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
        self.tabs.currentChanged.connect(self._size_to_current)
        add_lecture_sections(self)
        self._size_to_current()

    def _size_to_current(self, *_args) -> None:
        """Only the section on screen sets the Lab's minimum size.

        A QTabWidget is as wide as its widest page; one wide section then made every section scroll
        sideways in a 1280-pixel window. Hidden sections ignore their size hints instead.
        """
        current = self.tabs.currentWidget()
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.tabs.updateGeometry()

    def show_section(self, key: str) -> None:
        """Bring a section to the front: 'conv', 'photo', 'params', 'autograd', 'softmax', 'pool', 'init' or 'train'."""
        self.tabs.setCurrentWidget(getattr(self, key))

    def shutdown(self) -> None:
        """Stop timers and background work (the main window calls this on close)."""
        self.conv._stop_playing()
        self.autograd.stop()
        self.photo.cancel_work()
        self.train.cancel_work()
