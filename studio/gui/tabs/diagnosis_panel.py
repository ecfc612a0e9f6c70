"""The diagnosis in the Training tab: each finding's words, its numbers, and two buttons.

"Show" highlights the part of a plot the finding is about; "Apply" puts its suggested change into
the settings for the next run. The findings are plain dicts (core/diagnosis Finding.to_dict), live
from the trainer or read from a run folder; this panel only displays them and forwards the clicks.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.diagnosis.findings import describe_action

COLORS = {"problem": "#b22222", "warning": "#b8860b", "info": "#4a6fa5"}
HEADS = {"problem": "Problem", "warning": "Warning", "info": "Note"}


class DiagnosisPanel(QScrollArea):
    applyRequested = Signal(dict)       # the finding's action: TrainConfig changes for the next run
    highlightRequested = Signal(dict)   # the finding's highlight: {"plot", "x", "layers"}

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)
        self.setWidget(self._body)
        self.findings: list[dict] = []
        self.cards: list[QFrame] = []
        self.setMaximumHeight(220)
        self.hide()

    def set_findings(self, findings: list[dict]) -> None:
        if findings == self.findings:
            return   # the same diagnosis again (the trainer repeats it at the end): no flicker
        self.findings = list(findings)
        for card in self.cards:
            card.deleteLater()
        self.cards = [self._card(f) for f in self.findings]
        for i, card in enumerate(self.cards):
            self._layout.insertWidget(i, card)
        self.setVisible(bool(self.cards))

    def clear(self) -> None:
        self.set_findings([])

    def _card(self, finding: dict) -> QFrame:
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        severity = finding.get("severity", "info")
        text = QLabel(f"<b style='color:{COLORS.get(severity, '#333')}'>{HEADS.get(severity, '')}: "
                      f"{html.escape(str(finding.get('title', '')))}</b> {html.escape(str(finding.get('text', '')))}")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(card)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(text, 1)
        buttons = QVBoxLayout()
        highlight = finding.get("highlight") or {}
        if highlight.get("plot") in ("loss", "accuracy", "grad_norm", "update_ratio", "dead"):
            show = QPushButton("Show")
            show.setToolTip("Highlight the part of the plot this is about")
            show.clicked.connect(lambda _=False, h=dict(highlight): self.highlightRequested.emit(h))
            buttons.addWidget(show)
        action = finding.get("action") or {}
        if action:
            apply = QPushButton(f"Apply: {describe_action(action)}")
            apply.setToolTip(f"Change the settings for the next run: {finding.get('action_text') or ''}")
            apply.clicked.connect(lambda _=False, a=dict(action): self.applyRequested.emit(a))
            buttons.addWidget(apply)
        buttons.addStretch(1)
        row.addLayout(buttons)
        card.setProperty("code", finding.get("code", ""))
        return card
