"""Autograd: seed 000's logistic-regression gradients and its logistic-curve fit, animated.

Left, autograd's w.grad and b.grad beside the chain-rule formula the lecture derives. Right,
gradient descent on L/(1+e^(-k(x-x0))) one step at a time: a QTimer in the GUI thread runs a
few epochs per tick (each is a tiny tensor op), so the curve moves and the loss plot grows
without any thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QDoubleSpinBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPlainTextEdit, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from studio.core.lab import autograd as ca
from studio.core.lab.conv import ConvLabError
from studio.gui.tabs.lab.common import MessageLine, make_plot, mono_font, note_label, row

TICK_MS = 30


def _spin(lo: int, hi: int, value: int) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    return s


def _dspin(lo: float, hi: float, value: float, decimals: int, step: float) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    return s


class AutogradSection(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grads: ca.LogRegGrads | None = None
        self.fit: ca.LogisticFit | None = None
        self._build()
        self.compute_grads()
        self.reset_fit()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        # logistic regression gradients
        self.seed_spin = _spin(0, 99999, 0)
        self.samples_spin = _spin(1, 10000, 100)
        self.features_spin = _spin(1, 8, 3)
        self.grad_table = QTableWidget(0, 4)
        self.grad_table.setHorizontalHeaderLabels(["", "autograd (.grad)", "hand-derived", "|difference|"])
        self.grad_table.verticalHeader().hide()
        self.grad_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grad_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grad_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.grad_table.setFont(mono_font())
        formula = QLabel(ca.HAND_FORMULA)
        formula.setFont(mono_font(-0.5))
        formula.setWordWrap(True)
        self.grad_summary = MessageLine()
        self.loss_label = QLabel()
        note = note_label("y.grad is None: y = σ(Xw + b) is not a leaf tensor, and autograd keeps .grad only "
                      "for leaves created with requires_grad=True (here w and b).")
        left_box = QGroupBox("Autograd vs the chain rule (the lecture, lines 231-267)")
        ll = QVBoxLayout(left_box)
        ll.addWidget(QLabel("X = torch.randn(n, m), y_true = torch.randint(2, (n,)), w = torch.randn(m), "
                            "b = torch.randn(1); loss = binary cross-entropy summed; loss.backward()"))
        ll.itemAt(0).widget().setWordWrap(True)
        ll.addLayout(row("torch.manual_seed", self.seed_spin))
        ll.addLayout(row("samples n", self.samples_spin, "features m", self.features_spin))
        ll.addWidget(self.loss_label)
        ll.addWidget(self.grad_table)
        ll.addWidget(formula)
        ll.addWidget(self.grad_summary)
        ll.addWidget(note)
        ll.addStretch(1)

        # logistic curve fit
        self.lr_spin = _dspin(0.0001, 5.0, 0.05, 4, 0.01)
        self.epochs_spin = _spin(1, 100000, 700)
        self.noise_spin = _dspin(0.0, 10.0, 2.0, 2, 0.5)
        self.fit_seed_spin = _spin(0, 99999, 42)
        self.speed_spin = _spin(1, 500, 5)
        self.speed_spin.setToolTip("gradient-descent epochs per animation frame")
        self.start_button = QPushButton("Start")
        self.start_button.setCheckable(True)
        self.reset_button = QPushButton("Reset")
        self.finish_button = QPushButton("Run to the end")
        self.fit_status = QLabel()
        self.fit_status.setFont(mono_font())
        self.fit_message = MessageLine()
        self.curve_plot = make_plot("f(x) = L / (1 + e^(−k(x − x0)))", "x", "y")
        self.loss_plot = make_plot("MSE loss", "epoch", "loss")
        self.scatter = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(31, 119, 180, 150), pen=None)
        self.true_curve = pg.PlotDataItem(pen=pg.mkPen("#2ca02c", width=2, style=Qt.PenStyle.DashLine))
        self.fit_curve = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=2.5))
        legend = self.curve_plot.addLegend(offset=(10, 10), labelTextColor="#202020")
        for item, name in ((self.scatter, "noisy data"), (self.true_curve, "true curve"),
                           (self.fit_curve, "fitted curve")):
            self.curve_plot.addItem(item)
            legend.addItem(item, name)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=1.5))
        self.log_text = QPlainTextEdit()
        self.log_text.setReadOnly(True)
        self.log_text.setFont(mono_font(-1))
        self.log_text.setMaximumWidth(300)
        right_box = QGroupBox("Fitting a logistic curve by gradient descent (the lecture, lines 326-393)")
        rl = QVBoxLayout(right_box)
        rl.addLayout(row("learning rate", self.lr_spin, "epochs", self.epochs_spin))
        rl.addLayout(row("noise", self.noise_spin, "seed", self.fit_seed_spin))
        rl.addLayout(row(self.start_button, self.reset_button, self.finish_button, "epochs per frame",
                         self.speed_spin))
        plots = QHBoxLayout()
        plots.addWidget(self.curve_plot, 3)
        side = QVBoxLayout()
        side.addWidget(self.loss_plot, 1)
        side.addWidget(QLabel("What the lecture's loop prints:"))
        side.addWidget(self.log_text, 1)
        plots.addLayout(side, 2)
        rl.addLayout(plots, 1)
        rl.addWidget(self.fit_status)
        rl.addWidget(self.fit_message)

        lay = QHBoxLayout(self)
        lay.addWidget(left_box, 2)
        lay.addWidget(right_box, 3)

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_tick)

        for w in (self.seed_spin, self.samples_spin, self.features_spin):
            w.valueChanged.connect(lambda _v: self.compute_grads())
        for w in (self.lr_spin, self.noise_spin, self.fit_seed_spin, self.epochs_spin):
            w.valueChanged.connect(lambda _v: self.reset_fit())
        self.start_button.toggled.connect(self._on_start_toggled)
        self.reset_button.clicked.connect(self.reset_fit)
        self.finish_button.clicked.connect(self.run_to_end)

    # ------------------------------------------------------------------ gradients
    def compute_grads(self) -> None:
        try:
            g = ca.logistic_regression_grads(self.seed_spin.value(), self.samples_spin.value(),
                                             self.features_spin.value())
        except ConvLabError as exc:
            self.grad_summary.error(str(exc))
            return
        self.grads = g
        names = [f"w[{i}]" for i in range(len(g.w))] + ["b"]
        auto = list(g.w_grad_autograd) + [g.b_grad_autograd]
        hand = list(g.w_grad_hand) + [g.b_grad_hand]
        self.grad_table.setRowCount(len(names))
        for i, (name, a, h) in enumerate(zip(names, auto, hand)):
            for j, text in enumerate((name, f"{a:.6f}", f"{h:.6f}", f"{abs(a - h):.1e}")):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.grad_table.setItem(i, j, item)
        self.loss_label.setText(f"loss = {g.loss:.4f} (sum over {len(g.y_true)} samples)")
        rows_h = sum(self.grad_table.rowHeight(i) for i in range(len(names)))
        table_h = self.grad_table.horizontalHeader().sizeHint().height() + rows_h + 2 * self.grad_table.frameWidth() + 4
        self.grad_table.setMaximumHeight(table_h)
        if g.max_abs_diff <= 1e-4 * max(1.0, max(abs(v) for v in auto)):
            self.grad_summary.ok(f"✓ autograd and the formula agree (largest difference {g.max_abs_diff:.1e}, "
                                 "float32 rounding).")
        else:
            self.grad_summary.error(f"✗ they differ by {g.max_abs_diff:.3g}.")

    # ------------------------------------------------------------------ curve fit
    def reset_fit(self) -> None:
        self.stop()
        self._new_fit()

    def _new_fit(self) -> None:
        try:
            self.fit = ca.LogisticFit(lr=self.lr_spin.value(), seed=self.fit_seed_spin.value(),
                                      noise_std=self.noise_spin.value())
        except ConvLabError as exc:
            self.fit_message.error(str(exc))
            return
        f = self.fit
        self.scatter.setData(f.x.numpy(), f.y_noisy.numpy())
        xs = np.linspace(0, 10, 200)
        true_y = ca.logistic(torch.tensor(xs, dtype=torch.float32), *ca.LogisticFit.TRUE)
        self.true_curve.setData(xs, true_y.numpy())
        self.log_text.clear()
        self.fit_message.clear_message()
        self._draw_fit()

    def _draw_fit(self) -> None:
        f = self.fit
        if f is None:
            return
        xs = np.linspace(0, 10, 200)
        self.fit_curve.setData(xs, f.curve(xs))
        if f.losses:
            self.loss_curve.setData(np.arange(len(f.losses)), np.asarray(f.losses))
        else:
            self.loss_curve.setData([], [])
        L, k, x0 = f.params
        last = f"{f.losses[-1]:.4f}" if f.losses else "—"
        self.fit_status.setText(f"epoch {f.epoch} / {self.epochs_spin.value()}   loss {last}   "
                                f"L={L:.2f} k={k:.2f} x0={x0:.2f}")

    def _run_epochs(self, n: int) -> None:
        f = self.fit
        n = min(n, self.epochs_spin.value() - f.epoch)
        start = f.epoch
        f.step(n)
        lines = [f.log_line(e, f.losses[e]) for e in range(start, f.epoch) if e % 50 == 0]
        if lines:
            self.log_text.appendPlainText("\n".join(lines))
        if f.diverged:
            self.stop()
            self.fit_message.error(f"Gradient descent blew up at epoch {f.epoch}: the loss or the parameters "
                                   "are no longer finite numbers, so the learning rate is too large. Lower it "
                                   "(the lecture uses 0.05).")
        elif f.epoch >= self.epochs_spin.value():
            self.stop()
            self.log_text.appendPlainText(f.params_line())
            self.fit_message.ok(f"Done: {f.params_line()} (true: L=10, k=1.5, x0=5).")
        self._draw_fit()

    def _on_start_toggled(self, on: bool) -> None:
        if on:
            if self.fit is None or self.fit.diverged or self.fit.epoch >= self.epochs_spin.value():
                self._new_fit()
            self.start_button.setText("Pause")
            self._timer.start()
        else:
            self._timer.stop()
            self.start_button.setText("Start")

    def _on_tick(self) -> None:
        if self.fit is None:
            self.stop()
            return
        self._run_epochs(self.speed_spin.value())

    def run_to_end(self) -> None:
        if self.fit is None:
            return
        self.stop()
        if self.fit.diverged or self.fit.epoch >= self.epochs_spin.value():
            self.reset_fit()
        self._run_epochs(self.epochs_spin.value())

    def stop(self) -> None:
        self._timer.stop()
        if self.start_button.isChecked():
            self.start_button.setChecked(False)
        self.start_button.setText("Start")

    def is_running(self) -> bool:
        return self._timer.isActive()

    def hideEvent(self, event) -> None:
        self.stop()
        super().hideEvent(event)
