"""The Predict tab's explanation of one picture: original, network input, saliency map, top-k.

A view only: the tab hands it a Detail (studio.core.inspect.pipeline) and listens to the
person's choices (invert, centre); the saliency overlay is re-blended here when the opacity
slider moves, without asking the network again.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from studio.core.inspect.cams import overlay
from studio.gui.tabs.predict.cam_controls import CamControls
from studio.gui.tabs.predict.views import ImageView
from studio.gui.widgets.bar_chart import BarChart, format_probability


class DetailPanel(QWidget):
    invertClicked = Signal(bool)    # the person overrides the detected polarity of this picture
    centreToggled = Signal(bool)    # MNIST-style centring on or off (all pictures)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.detail = None
        self.original_view = ImageView("Original")
        self.network_view = ImageView("What the network sees")
        self.cam_view = ImageView("Why: Grad-CAM")
        self.answer = QLabel("")
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = BarChart(placeholder="Select a picture to see the network's answer")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(_ViewsRow([self.original_view, self.network_view, self.cam_view]))
        layout.addLayout(self._controls())
        layout.addWidget(self.answer)
        layout.addWidget(self.chart)
        layout.addStretch(1)
        self.set_digit_controls(single_channel=False, digit=False)

    def _controls(self) -> QVBoxLayout:
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMaximumWidth(180)
        self.opacity.setToolTip("How strongly the saliency map covers the network's input")
        self.opacity.valueChanged.connect(self.render_cam)
        self.opacity_value = QLabel("50 %")
        self.invert_box = QCheckBox("Invert: dark ink on light paper")
        self.invert_box.setToolTip("MNIST digits are light on black. Detected from the picture's border; "
                                   "click to override for this picture.")
        self.invert_box.clicked.connect(self.invertClicked)
        self.polarity_note = QLabel("")
        self.centre_box = QCheckBox("Centre like MNIST")
        self.centre_box.setChecked(True)
        self.centre_box.setToolTip("Crop the ink, scale it into a 20×20 box and place it in 28×28 "
                                   "with its centre of mass in the middle, as MNIST was made")
        self.centre_box.toggled.connect(self.centreToggled)
        self.polarity_note.setToolTip(self.invert_box.toolTip())
        self.cam_controls = CamControls()   # which explanation, at which layer: the tab recomputes on change
        self.cam_controls.changed.connect(self._cam_method_changed)
        # Two rows: the digit options must not be cut off when the panel is narrow.
        overlay_row = QHBoxLayout()
        overlay_row.addWidget(QLabel("Overlay opacity:"))
        overlay_row.addWidget(self.opacity)
        overlay_row.addWidget(self.opacity_value)
        overlay_row.addStretch(1)
        digit_row = QHBoxLayout()
        digit_row.addWidget(self.invert_box)
        digit_row.addWidget(self.polarity_note)
        digit_row.addSpacing(16)
        digit_row.addWidget(self.centre_box)
        digit_row.addStretch(1)
        rows = QVBoxLayout()
        rows.setSpacing(2)
        rows.addWidget(self.cam_controls)
        rows.addLayout(overlay_row)
        rows.addLayout(digit_row)
        return rows

    # ---------------------------------------------------------------- showing

    def show_detail(self, detail, input_shape, *, polarity_chosen: bool) -> None:
        """Everything about one picture; a file that can't be used shows its reason instead."""
        self.detail = detail
        if detail.error:
            self.show_message(f"Can't use this file ({detail.error}): {detail.message}")
            self.detail = detail
            return
        c, h, w = input_shape
        size = detail.size
        self.original_view.set_image(detail.original)
        self.original_view.set_caption(f"{size[0]}×{size[1]} px" if size else "")
        self.network_view.set_image(detail.network)
        steps = [f"{c}×{h}×{w}"] + ["inverted"] * detail.inverted + ["digit centred in 20×20"] * detail.centred
        self.network_view.set_caption(", ".join(steps))
        self.render_cam()
        self.chart.set_items(detail.topk)
        name, p = detail.topk[0]
        self.answer.setText(f"The network says <b>{html.escape(name)}</b> with {format_probability(p)} "
                            "probability.")
        self.invert_box.setChecked(detail.inverted)
        self.polarity_note.setText("(your choice)" if polarity_chosen else "(auto-detected)")

    def show_message(self, text: str) -> None:
        """No picture to explain: the message takes the original's place."""
        self.detail = None
        for view in (self.original_view, self.network_view, self.cam_view):
            view.set_image(None, text if view is self.original_view else "")
            view.set_caption("")
        self.chart.clear()
        self.answer.setText("")

    def set_digit_controls(self, *, single_channel: bool, digit: bool) -> None:
        """Polarity matters to single-channel models; the MNIST recipe only to digit models."""
        self.invert_box.setVisible(single_channel)
        self.polarity_note.setVisible(single_channel)
        self.centre_box.setVisible(digit)

    @Slot()
    def _cam_method_changed(self) -> None:
        self.cam_view.set_title(self.cam_controls.title())

    @Slot()
    def render_cam(self) -> None:
        self.opacity_value.setText(f"{self.opacity.value()} %")
        detail = self.detail
        if detail is None or detail.network is None:
            return
        if detail.cam is None:
            self.cam_view.set_image(None, detail.cam_note)
            self.cam_view.set_caption("")
            return
        self.cam_view.set_image(overlay(detail.network, detail.cam, self.opacity.value() / 100))
        self.cam_view.set_caption(detail.cam_note)


class _ViewsRow(QWidget):
    """The three image panes side by side, never taller than square cells need.

    The width decides how large the images can be; capping the height to match keeps spare
    height out of the row (it goes below the chart) instead of leaving empty bands around the
    images. Qt's height-for-width does not apply to a widget with a layout, hence the cap.
    """

    def __init__(self, views, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for view in views:
            layout.addWidget(view, 1)
        self._count = len(views)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def height_for(self, width: int) -> int:
        spacing = self.layout().spacing() * (self._count - 1)
        cell = max(120, (width - spacing) // self._count)
        return min(cell, 460) + 4 * self.fontMetrics().height() + 16   # title above, two caption lines below

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        cap = self.height_for(event.size().width())
        if self.maximumHeight() != cap:
            self.setMaximumHeight(cap)

    def sizeHint(self) -> QSize:
        return QSize(3 * 260, self.height_for(3 * 260))
