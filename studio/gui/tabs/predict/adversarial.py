"""The Predict tab's Adversarial panel: seed 001's "changed by at most 0.005" on the selected picture.

The person picks eps (the largest change of any pixel, in 0..1 units), the number of steps
(1: FGSM; more: the basic iterative method) and optionally a class to steer towards, and
presses Attack. The attack runs in the tab's job queue (studio.gui.concurrency.serial_queue, on
studio.gui.concurrency.tasks.run_task): one job at a time on the tab's model, because Grad-CAM hooks that
same network. The panel shows what the network saw, the perturbation magnified, the attacked
input, and the top-k before and after.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QSizePolicy, QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from studio.core.inspect import pipeline
from studio.core.inspect.pipeline import AttackOutcome, perturbation_picture  # noqa: F401 - re-exported
from studio.gui.tabs.predict.detail import _ViewsRow
from studio.gui.tabs.predict.views import ImageView
from studio.gui.widgets.bar_chart import BarChart, format_probability

DEFAULT_EPS = 0.005      # seed 001: "every pixel ... changed by at most 0.005"
MAX_EPS = 0.3            # LeNet on MNIST needs about 0.1-0.2 (784 pixels); ImageNet models fall for 0.005
SLIDER_STEPS = 1000      # the slider is quadratic in eps: fine steps near 0.005, still reaching MAX_EPS
MAX_STEPS = 100
NO_TARGET = "none: away from the answer"


# ---------------------------------------------------------------- the panel

class AdversarialPanel(QWidget):
    """Attack the Predict tab's selected picture; the tab calls refresh() when its model changes."""

    def __init__(self, tab, parent=None):
        super().__init__(parent)
        self.tab = tab
        self.outcome: AttackOutcome | None = None
        self._classes: list[str] | None = None
        self._pending: tuple | None = None                   # (item, model) of the running attack
        self._build_ui()
        tab.picker.sourceChosen.connect(self.refresh)
        tab.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.refresh()

    def _build_ui(self) -> None:
        intro = QLabel("The lecture “CNN basics”: change every pixel (0..1) by at most ε and the network may answer something "
                       "else. <b>FGSM</b> takes one step of ε along the sign of the loss gradient; more steps is "
                       "the basic iterative method (smaller steps, kept within ε).")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)

        self.eps_slider = QSlider(Qt.Orientation.Horizontal)
        self.eps_slider.setRange(0, SLIDER_STEPS)
        self.eps_slider.setToolTip(f"ε from 0 to {MAX_EPS} (finer near small values)")
        self.eps_spin = QDoubleSpinBox()
        self.eps_spin.setDecimals(4)
        self.eps_spin.setRange(0.0, MAX_EPS)
        self.eps_spin.setSingleStep(0.001)
        self.eps_spin.setToolTip("The largest change of any pixel, in 0..1 pixel units (1/255 ≈ 0.0039)")
        self.eps_slider.valueChanged.connect(self._slider_moved)
        self.eps_spin.valueChanged.connect(self._spin_changed)
        self.eps_spin.setValue(DEFAULT_EPS)
        self._spin_changed(DEFAULT_EPS)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(1)
        self.steps_spin.setToolTip("1: FGSM (one step of ε). More: the basic iterative method")
        self.target_combo = QComboBox()
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.target_combo.setToolTip("Steer towards this class, or just away from the current answer")
        self.attack_button = QPushButton("Attack")
        self.attack_button.setDefault(True)
        self.attack_button.clicked.connect(self.attack)

        controls = QGridLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("ε (pixel units):"), 0, 0)
        controls.addWidget(self.eps_slider, 0, 1)
        controls.addWidget(self.eps_spin, 0, 2)
        controls.addWidget(QLabel("Steps:"), 0, 3)
        controls.addWidget(self.steps_spin, 0, 4)
        controls.setColumnStretch(1, 1)
        second = QHBoxLayout()
        second.addWidget(QLabel("Target:"))
        second.addWidget(self.target_combo)
        second.addStretch(1)
        second.addWidget(self.attack_button)
        controls.addLayout(second, 1, 0, 1, 5)

        self.input_view = ImageView("What the network sees")
        self.perturbation_view = ImageView("Perturbation (magnified)")
        self.adversarial_view = ImageView("Adversarial input")
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.before_chart = BarChart(placeholder="Press Attack")
        self.after_chart = BarChart(placeholder="")
        charts = QGridLayout()
        charts.setContentsMargins(0, 0, 0, 0)
        for column, (title, chart) in enumerate((("Before", self.before_chart), ("After", self.after_chart))):
            label = QLabel(f"<b>{title}</b>")
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            charts.addWidget(label, 0, column)
            charts.addWidget(chart, 1, column)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(controls)
        layout.addWidget(_ViewsRow([self.input_view, self.perturbation_view, self.adversarial_view]))
        layout.addWidget(self.verdict)
        layout.addLayout(charts)
        layout.addStretch(1)
        self.verdict.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    # ---------------------------------------------------------------- eps: slider <-> spin box

    @staticmethod
    def slider_to_eps(position: int) -> float:
        return MAX_EPS * (position / SLIDER_STEPS) ** 2

    @staticmethod
    def eps_to_slider(eps: float) -> int:
        return round(SLIDER_STEPS * math.sqrt(max(0.0, eps) / MAX_EPS))

    @Slot(int)
    def _slider_moved(self, position: int) -> None:
        if self.eps_slider.signalsBlocked():
            return
        self.eps_spin.blockSignals(True)
        self.eps_spin.setValue(round(self.slider_to_eps(position), 4))
        self.eps_spin.blockSignals(False)

    @Slot(float)
    def _spin_changed(self, value: float) -> None:
        self.eps_slider.blockSignals(True)
        self.eps_slider.setValue(self.eps_to_slider(value))
        self.eps_slider.blockSignals(False)

    def set_eps(self, eps: float) -> None:
        self.eps_spin.setValue(eps)

    def eps(self) -> float:
        return float(self.eps_spin.value())

    # ---------------------------------------------------------------- state from the tab

    @Slot()
    def refresh(self, *_args) -> None:
        """Follow the tab: its model (class list, whether Attack can run) and its selection."""
        model = self.tab.model
        classes = list(model.classes) if model is not None else None
        if classes != self._classes:
            self._classes = classes
            chosen = self.target_combo.currentText()
            self.target_combo.blockSignals(True)
            self.target_combo.clear()
            self.target_combo.addItem(NO_TARGET)
            self.target_combo.addItems(classes or [])
            found = self.target_combo.findText(chosen)
            self.target_combo.setCurrentIndex(max(0, found))
            self.target_combo.blockSignals(False)
        if self.outcome is not None and not self._is_current(self._outcome_for):
            self._show_outcome(None)
        self._update_controls()

    def _is_current(self, pair) -> bool:
        """pair is (item, model): are they still the selected picture and the tab's model? (identity:
        two items of the same file may differ in polarity, and LoadedModel holds tensors)"""
        item, model = pair
        return item is not None and item is self._current_item() and model is self.tab.model

    def _current_item(self):
        index = self.tab.detail_index
        return self.tab.items[index] if index is not None and index < len(self.tab.items) else None

    @Slot(object, object)
    def _selection_changed(self, *_args) -> None:
        self.refresh()

    def _update_controls(self) -> None:
        busy = self._pending is not None
        ready = self.tab.model is not None and self.tab.detail_index is not None and not busy
        self.attack_button.setEnabled(ready)
        self.attack_button.setText("Attacking…" if busy else "Attack")
        if self.outcome is None and not busy:
            if self.tab.model is None:
                hint = "Waiting for a model…"
            elif self.tab.detail_index is None:
                hint = "Add a picture and select it, then press Attack."
            else:
                hint = f"Press Attack to perturb {html.escape(self._selected_name())} within ε."
            self.verdict.setText(hint)

    def _selected_name(self) -> str:
        item = self._current_item()
        return item.name if item is not None else ""

    def target(self) -> int | None:
        return self.target_combo.currentIndex() - 1 if self.target_combo.currentIndex() > 0 else None

    # ---------------------------------------------------------------- attacking

    @Slot()
    def attack(self) -> None:
        """Attack the selected picture with the chosen eps, steps and target, in the background."""
        tab = self.tab
        index, loaded, settings = tab.detail_index, tab.model, tab.settings
        if loaded is None or settings is None or index is None or index >= len(tab.items) or self._pending:
            return
        item = tab.items[index]
        eps, steps, target = self.eps(), self.steps_spin.value(), self.target()
        self._pending = (item, loaded)
        tab._jobs.submit(lambda stop: pipeline.attack_item(loaded, item, settings, index, eps, steps, target),
                         self._attacked, self._failed, tag="attack", replace=True, on_dropped=self._dropped)
        self._update_controls()

    def _attacked(self, outcome: AttackOutcome) -> None:
        pending, self._pending = self._pending, None
        if pending is None or not self._is_current(pending):
            self.refresh()   # the picture or the model changed meanwhile: this answer is about something else
            return
        self._outcome_for = pending
        self._show_outcome(outcome)
        self._update_controls()

    def _failed(self, message: str, details: str) -> None:
        self._pending = None
        self._show_outcome(None)
        self._update_controls()
        self.verdict.setText(f"The attack failed: {html.escape(message)}")

    def _dropped(self) -> None:
        """The tab's queue dropped the attack (a new model, the list cleared): no answer will come."""
        self._pending = None
        self.refresh()

    def is_busy(self) -> bool:
        return self._pending is not None

    # ---------------------------------------------------------------- showing

    _outcome_for: tuple = (None, None)   # (item, model) the shown outcome belongs to

    def _show_outcome(self, outcome: AttackOutcome | None) -> None:
        self.outcome = outcome
        views = (self.input_view, self.perturbation_view, self.adversarial_view)
        if outcome is None or outcome.error:
            for view in views:
                view.set_image(None, "")
                view.set_caption("")
            self.before_chart.clear()
            self.after_chart.clear()
            self.verdict.setText(f"Can't use this file: {html.escape(outcome.error)}" if outcome else "")
            return
        r = outcome.result
        self.input_view.set_image(outcome.network)
        self.input_view.set_caption(f"before: {r.before[0][0]} ({format_probability(r.before[0][1])})")
        self.perturbation_view.set_image(outcome.perturbation)
        if r.max_abs_change > 0:
            colours = ("red brighter, blue darker" if r.perturbation.shape[-1] == 1 else "grey: unchanged")
            self.perturbation_view.set_caption(f"scaled to its range ±{r.max_abs_change:.4f} "
                                               f"(×{outcome.magnification:.3g}); {colours}")
        else:
            self.perturbation_view.set_caption("no pixel changed")
        self.adversarial_view.set_image(outcome.adversarial)
        self.adversarial_view.set_caption(f"after: {r.after[0][0]} ({format_probability(r.after[0][1])}); "
                                          f"each pixel within {r.max_abs_change:.4f} "
                                          f"({255 * r.max_abs_change:.3g}/255)")
        self.before_chart.set_items(r.before)
        self.after_chart.set_items(r.after)
        self.verdict.setText(verdict_text(r, self._classes))


def verdict_text(result, classes=None) -> str:
    """One sentence: what the attack did to the answer."""
    (old, p_old), (new, p_new) = result.before[0], result.after[0]
    method = "FGSM" if result.steps == 1 else f"{result.steps} iterative steps"
    budget = f"ε = {result.eps:g}, {method}"
    if result.target is not None and classes is not None:
        goal = html.escape(str(classes[result.target]))
        reached = "reached" if result.target_reached else "not reached"
        budget += f", target <b>{goal}</b> {reached}"
    if result.flipped:
        return (f"<b>Flipped</b> ({budget}): the network now says <b>{html.escape(new)}</b> with "
                f"{format_probability(p_new)} instead of <b>{html.escape(old)}</b> ({format_probability(p_old)}).")
    p_kept = next((p for name, p in result.after if name == old), p_new)
    if format_probability(p_old) == format_probability(p_kept):   # both ">99.9 %": show what did move
        moved = f"the other classes' share went from {_percent(1 - p_old)} to {_percent(1 - p_kept)}"
    else:
        moved = f"{format_probability(p_old)} → {format_probability(p_kept)}"
    return (f"<b>Held</b> ({budget}): still <b>{html.escape(old)}</b>; {moved}. Try a larger ε or more steps.")


def _percent(value: float) -> str:
    return f"{100 * max(0.0, value):.2g} %"


def detail_tabs(details: QWidget, adversarial: AdversarialPanel) -> QTabWidget:
    """The Predict tab's right side: the explanation and the Adversarial panel as two tabs."""
    tabs = QTabWidget()
    tabs.setDocumentMode(True)
    tabs.addTab(details, "Explain")
    # Scrolled: after an attack the two ten-row charts need more height than a small screen has, and
    # unscrolled they either raised the window's minimum height or had their last bars cut off.
    scroll = QScrollArea()
    scroll.setWidget(adversarial)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    # Always there: the three pictures scale with the width, so the page gets shorter when a bar takes
    # width away; a bar that came and went then made itself unneeded and needed again, and at some window
    # sizes Qt resized back and forth inside one event until the stack overflowed (a segfault after
    # Attack at 1280x800). Text-only scroll areas grow taller when narrower and cannot swing like this.
    scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    tabs.addTab(scroll, "Adversarial")
    tabs.setTabToolTip(1, "The lecture “CNN basics”: a change of at most ε per pixel that flips the answer")
    return tabs
