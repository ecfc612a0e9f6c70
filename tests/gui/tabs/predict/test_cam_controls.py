"""The Predict tab's explanation choice: method and layer, recomputed in the background."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.core.data import load_dataset
from studio.core.inspect import cams
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.predict.tab import PredictTab

WAIT_MS = 30_000


@pytest.fixture
def tab(qtbot):
    widget = PredictTab(StudioState())
    qtbot.addWidget(widget)
    widget.resize(1200, 760)
    widget.show()
    qtbot.waitUntil(lambda: widget.model is not None and not widget.is_busy(), timeout=WAIT_MS)
    yield widget
    assert wait_for_all_tasks(WAIT_MS)


def shown_note(tab) -> str:
    return tab.detail.cam_note if tab.detail is not None else ""


def test_switching_method_and_layer_recomputes_the_map(qtbot, tab, tmp_path):
    test = load_dataset("mnist-sample").test
    path = tmp_path / "digit.png"
    Image.fromarray(test.images[3, 0].numpy()).save(path)
    label = str(int(test.labels[3]))
    tab.add_paths([str(path)])
    qtbot.waitUntil(lambda: shown_note(tab).startswith("Grad-CAM for"), timeout=WAIT_MS)
    controls = tab.details.cam_controls
    layers = [controls.layer_box.itemData(i) for i in range(controls.layer_box.count())]
    assert layers == [None, "features.0", "features.3"]
    first = tab.detail.cam.copy()

    controls.method_box.setCurrentIndex(controls.method_box.findData("layercam"))
    qtbot.waitUntil(lambda: shown_note(tab) == f"Layer-CAM for '{label}'", timeout=WAIT_MS)
    assert tab.details.cam_view.title() == "Why: Layer-CAM"
    assert tab.details.cam_view.caption() == f"Layer-CAM for '{label}'"
    controls.layer_box.setCurrentIndex(controls.layer_box.findData("features.0"))
    qtbot.waitUntil(lambda: shown_note(tab).endswith("at features.0"), timeout=WAIT_MS)
    assert not np.allclose(tab.detail.cam, first)
    assert not cams.has_hooks(tab.model.model)

    controls.method_box.setCurrentIndex(controls.method_box.findData("saliency"))
    qtbot.waitUntil(lambda: shown_note(tab) == f"Input gradients for '{label}'", timeout=WAIT_MS)
    assert not controls.layer_box.isEnabled() and tab.settings.cam_layer is None
    assert tab.detail.cam.shape == (28, 28) and tab.details.cam_view.has_image()
