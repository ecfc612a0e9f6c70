"""One batch by hand: seed 004's ten Adam steps and seed 002's forward/backward pass, exactly.

Both run studio.core.lab.train on the thread pool (a few hundred milliseconds; longer for
many steps), the first time the section is shown and after every change. The loss per step
fills a table beside the lines seed 004 printed (lines 401-410) and a small plot; seed 002's
cells print the logits, the loss and the first conv layer's gradient, shown as printed.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy,
                               QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.lab import train as ct
from studio.gui.tabs.lab.common import ERROR_COLOUR, OK_COLOUR, MessageLine, make_plot, mono_font, note_label, row
from studio.gui.concurrency.tasks import Task, run_task

MAX_STEPS = 200


def code_view(label: QLabel) -> QScrollArea:
    """A code listing that scrolls sideways instead of widening the window: its longest line,
    in a desktop font, would otherwise push the Lab past a 1280-pixel screen."""
    area = QScrollArea()
    area.setWidget(label)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    area.setMinimumWidth(120)
    return area


def fit_height(area: QScrollArea) -> None:
    """As tall as the listing, plus room for the sideways scroll bar."""
    area.setFixedHeight(area.widget().sizeHint().height() + area.horizontalScrollBar().sizeHint().height() + 2)


class TrainSection(QWidget):
    """Public widgets are attributes so tests can drive them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.loop_result: ct.LoopResult | None = None
        self.forward_result: ct.ForwardResult | None = None
        self._loop_task: Task | None = None
        self._forward_task: Task | None = None
        self._loop_gen = 0
        self._forward_gen = 0
        self._started = False
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(ct.LECTURE_SEED)
        self.seed_spin.setToolTip("torch.manual_seed(...) of the notebook")
        self.seed_spin.setMaximumWidth(100)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(ct.LECTURE_STEPS)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(4)
        self.lr_spin.setRange(0.0001, 10.0)
        self.lr_spin.setSingleStep(0.005)
        self.lr_spin.setValue(ct.LECTURE_LR)
        self.opt_combo = QComboBox()
        self.opt_combo.addItems(list(ct.OPTIMISERS))
        self.lecture_button = QPushButton("Lecture settings")
        self.code_label = QLabel()
        self.code_label.setFont(mono_font(-1.5))
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setStyleSheet("background: #f6f6f6; border: 1px solid #dddddd; padding: 4px;")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["the loop prints", "the lecture printed", ""])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setFont(mono_font(-1))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.status_label = note_label()
        self.check_label = MessageLine()
        self.info_label = note_label()

        # Short box titles, the rest wrapped inside: a group box is at least as wide as its title.
        left = QGroupBox("One batch of 3, as in the lecture")
        ll = QVBoxLayout(left)
        ll.addWidget(note_label("Lines 322-410: CIFAR10Model trained on one batch of three images."))
        # Two rows and the seed above the code (not beside it): side by side, this section asked for
        # 1,145 px and pushed the whole Lab wider than a 1280-pixel screen leaves for it.
        ll.addLayout(row("seed", self.seed_spin, "steps", self.steps_spin, "lr", self.lr_spin))
        ll.addLayout(row(self.opt_combo, self.lecture_button))
        self.code_area = code_view(self.code_label)
        ll.addWidget(self.code_area)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.status_label)
        ll.addWidget(self.check_label)
        ll.addWidget(self.info_label)

        self.plot = make_plot("loss per step (green: the lecture's printout)", "step (epoch)", "loss")
        self.loss_curve = self.plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=6,
                                         symbolBrush="#1f77b4", symbolPen=None)
        lecture = [float(v) for v in ct.LECTURE_LOSSES]
        self.lecture_points = self.plot.plot(np.arange(1, len(lecture) + 1), lecture, pen=None, symbol="o",
                                             symbolSize=12, symbolBrush=pg.mkBrush(0, 0, 0, 0),
                                             symbolPen=pg.mkPen("#2ca02c", width=2))
        self.log_check = QCheckBox("log scale")
        self.log_check.setChecked(True)
        self.log_check.toggled.connect(self._on_log_toggled)
        self._on_log_toggled(True)

        self.fwd_seed_spin = QSpinBox()
        self.fwd_seed_spin.setRange(0, 2**31 - 1)
        self.fwd_seed_spin.setValue(ct.LECTURE_SEED)
        self.fwd_seed_spin.setMaximumWidth(100)
        self.fwd_code_label = QLabel(ct.SEED002_CODE)
        self.fwd_code_label.setFont(mono_font(-1.5))
        self.fwd_code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fwd_code_label.setStyleSheet("background: #f6f6f6; border: 1px solid #dddddd; padding: 4px;")
        self.fwd_summary = QLabel()
        self.fwd_summary.setFont(mono_font(-0.5))
        self.fwd_summary.setWordWrap(True)
        self.fwd_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fwd_output = QPlainTextEdit()
        self.fwd_output.setReadOnly(True)
        self.fwd_output.setFont(mono_font(-1.5))
        self.fwd_output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.fwd_message = MessageLine()
        fwd_box = QGroupBox("Forward and backward")
        fl = QVBoxLayout(fwd_box)
        fl.addWidget(note_label("Lines 626-675: one forward and backward pass of PytorchCNN."))
        fl.addLayout(row("seed", self.fwd_seed_spin))
        self.fwd_code_area = code_view(self.fwd_code_label)
        fit_height(self.fwd_code_area)
        fl.addWidget(self.fwd_code_area)
        fl.addWidget(self.fwd_summary)
        prints_label = QLabel("What its print() calls write (the notebook's saved copy shows no outputs):")
        prints_label.setWordWrap(True)
        fl.addWidget(prints_label)
        fl.addWidget(self.fwd_output, 1)
        fl.addWidget(self.fwd_message)

        right = QVBoxLayout()
        self.plot.setMinimumHeight(170)   # the forward-pass box below must not squash the plot to a strip
        right.addWidget(self.plot, 2)
        right.addLayout(row(self.log_check))
        right.addWidget(fwd_box, 3)
        lay = QHBoxLayout(self)
        lay.addWidget(left, 1)
        lay.addLayout(right, 1)

        for spin in (self.seed_spin, self.steps_spin):
            spin.valueChanged.connect(lambda _v: self.run_loop())
        self.lr_spin.valueChanged.connect(lambda _v: self.run_loop())
        self.opt_combo.currentIndexChanged.connect(lambda _i: self.run_loop())
        self.lecture_button.clicked.connect(self.lecture_settings)
        self.fwd_seed_spin.valueChanged.connect(lambda _v: self.run_forward())
        self._show_code()

    def _on_log_toggled(self, on: bool) -> None:
        self.plot.setLogMode(y=on)
        self.plot.getPlotItem().getAxis("left").setLabel("loss (log scale)" if on else "loss", color="#202020")
        self.plot.enableAutoRange()

    # ------------------------------------------------------------------ running
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            QTimer.singleShot(0, self.start)

    def start(self) -> None:
        """Run both cells (the first time the section is shown)."""
        self._started = True
        self.run_loop()
        self.run_forward()

    def lecture_settings(self) -> None:
        for w, v in ((self.seed_spin, ct.LECTURE_SEED), (self.steps_spin, ct.LECTURE_STEPS),
                     (self.lr_spin, ct.LECTURE_LR)):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)
        self.opt_combo.blockSignals(True)
        self.opt_combo.setCurrentText("Adam")
        self.opt_combo.blockSignals(False)
        self.run_loop()

    def _show_code(self) -> None:
        self.code_label.setText(ct.SEED004_CODE.replace("torch.manual_seed(42)",
                                                        f"torch.manual_seed({self.seed_spin.value()})").format(
            opt=self.opt_combo.currentText(), lr=self.lr_spin.value(), steps=self.steps_spin.value()))
        fit_height(self.code_area)

    def run_loop(self) -> None:
        self._show_code()
        self._loop_gen += 1
        gen = self._loop_gen
        if self._loop_task is not None:
            self._loop_task.cancel()
        seed, steps, lr, opt = (self.seed_spin.value(), self.steps_spin.value(), self.lr_spin.value(),
                                self.opt_combo.currentText())
        self.status_label.setText(f"running {steps} steps…")
        self._loop_task = run_task(
            lambda progress, stop: ct.one_batch_loop(seed, steps, lr, opt, progress, stop),
            on_done=lambda r: self._show_loop(gen, r),
            on_error=lambda m, _d: self._on_loop_error(gen, m),
            on_progress=lambda d, t: self._on_progress(gen, d, t), owner=self)

    def run_forward(self) -> None:
        self._forward_gen += 1
        gen = self._forward_gen
        if self._forward_task is not None:
            self._forward_task.cancel()
        seed = self.fwd_seed_spin.value()
        self.fwd_summary.setText("running…")
        self._forward_task = run_task(lambda _p, _s: ct.seed002_forward(seed),
                                      on_done=lambda r: self._show_forward(gen, r),
                                      on_error=lambda m, _d: self._on_forward_error(gen, m), owner=self)

    def is_busy(self) -> bool:
        return any(t is not None and t.running for t in (self._loop_task, self._forward_task))

    def cancel_work(self) -> None:
        for t in (self._loop_task, self._forward_task):
            if t is not None:
                t.cancel()

    # ------------------------------------------------------------------ results
    def _alive(self, gen: int, current: int) -> bool:
        return gen == current   # an older request finished after a newer one started

    def _on_progress(self, gen: int, done: int, total: int) -> None:
        if self._alive(gen, self._loop_gen):
            self.status_label.setText(f"step {done} of {total}…")

    def _on_loop_error(self, gen: int, message: str) -> None:
        if self._alive(gen, self._loop_gen):
            self.status_label.setText("")
            self.check_label.error(message)

    def _show_loop(self, gen: int, r: ct.LoopResult) -> None:
        if not self._alive(gen, self._loop_gen):
            return
        self._loop_task = None
        self.loop_result = r
        matches = r.lecture_matches()
        self.table.setRowCount(len(r.lines))
        for i, (line, match) in enumerate(zip(r.lines, matches)):
            lecture = (f"epoch {i + 1:3}/{ct.LECTURE_STEPS}  ->  Loss: {ct.LECTURE_LOSSES[i]}"
                       if i < len(ct.LECTURE_LOSSES) else "")
            mark = "" if match is None else ("✓" if match else "✗")
            for col, text in enumerate((line, lecture, mark)):
                item = QTableWidgetItem(text)
                if col == 2 and match is not None:
                    item.setForeground(pg.mkColor(OK_COLOUR if match else ERROR_COLOUR))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, col, item)
        losses = np.asarray(r.losses, dtype=np.float64)
        finite = np.isfinite(losses)
        steps = np.arange(1, len(losses) + 1)
        self.loss_curve.setData(steps[finite], losses[finite])
        self.lecture_points.setVisible(r.seed == ct.LECTURE_SEED and r.lr == ct.LECTURE_LR
                                       and r.optimiser == "Adam")
        self.plot.enableAutoRange()
        bad = r.first_bad_step()
        self.status_label.setText(f"{len(r.losses)} steps on the same batch. After x, the model's {r.n_params:,} "
                                  f"parameters are drawn in the order they are created: {', '.join(r.param_order)}.")
        checked = [m for m in matches if m is not None]
        if bad is not None:
            self.check_label.error(f"The loss became {r.losses[bad - 1]} at step {bad}: the learning rate is too "
                                   "large for this model; lower it.")
        elif checked and all(checked):
            self.check_label.ok(f"✓ {len(checked)} of {len(checked)} printed losses equal the lecture's "
                                f"(lines {ct.LECTURE_LOSS_LINES[0]}-{ct.LECTURE_LOSS_LINES[1]}), "
                                f"{r.lines[0].split(': ')[1]} → {r.lines[min(9, len(r.lines) - 1)].split(': ')[1]}")
        elif checked:
            self.check_label.error(f"✗ {checked.count(False)} of {len(checked)} printed losses differ from "
                                   "the lecture's")
        else:
            self.check_label.note("Not the lecture's seed, learning rate and optimiser: nothing to compare with.")
        first, last = r.losses[0], r.losses[-1]
        if math.isfinite(first) and math.isfinite(last):
            self.info_label.setText(
                f"The first loss, {first:.4f}, is that of an untrained model (ln 10 = {math.log(10):.4f} for a "
                f"uniform guess over 10 classes); after {len(r.losses)} steps on the same three images it is "
                f"{last:.4f}: the model memorises one batch, which says nothing about new images.")

    def _on_forward_error(self, gen: int, message: str) -> None:
        if self._alive(gen, self._forward_gen):
            self.fwd_message.error(message)

    def _show_forward(self, gen: int, r: ct.ForwardResult) -> None:
        if not self._alive(gen, self._forward_gen):
            return
        self._forward_task = None
        self.forward_result = r
        self.fwd_message.clear_message()
        g = r.grad
        self.fwd_summary.setText(
            f"logits.shape = {tuple(r.logits.shape)};  loss: {r.loss}  (ln 10 = {math.log(10):.4f})\n"
            f"features[0].weight.grad.shape = {tuple(g.shape)}, largest |grad| {np.abs(g).max():.4e}\n"
            f"{r.n_params:,} parameters (the lecture counts 34522)")
        self.fwd_output.setPlainText(r.printed)
