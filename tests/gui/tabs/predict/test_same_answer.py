"""Issue 10: the prediction `cnn-studio predict` prints and the one the Predict tab shows for the same
file and checkpoint come from the same function, studio.core.inspect.pipeline.predict_items."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from studio.cli import main as cli_main
from studio.core.data import load_dataset
from studio.core.inspect import pipeline
from studio.core.paths import DEMO_MODELS
from studio.gui.concurrency.tasks import wait_for_all_tasks
from studio.gui.state import StudioState
from studio.gui.tabs.predict.tab import PredictTab

WAIT_MS = 60_000


def test_cli_and_predict_tab_answer_through_the_same_function(qtbot, capsys, monkeypatch, tmp_path):
    test = load_dataset("mnist-sample").test
    image = tmp_path / "four.png"
    Image.fromarray(test.images[int(np.flatnonzero(test.labels.numpy() == 4)[0]), 0].numpy()).save(image)
    checkpoint = min(DEMO_MODELS.glob("*.pt"))

    calls: list[tuple[list[str], list]] = []
    real = pipeline.predict_items

    def spy(loaded, items, settings, *args, **kwargs):
        results = real(loaded, items, settings, *args, **kwargs)
        calls.append(([item.path for item in items], [r.topk for r in results]))
        return results

    monkeypatch.setattr(pipeline, "predict_items", spy)

    assert cli_main(["predict", str(checkpoint), str(image), "--json", "--top-k", "10"]) == 0
    printed = json.loads(capsys.readouterr().out)["results"][0]["top"]
    assert len(calls) == 1 and calls[0][0] == [str(image)]
    cli_top = [(row["class"], row["probability"]) for row in printed]

    tab = PredictTab(StudioState())   # answers with the demo model: the same checkpoint
    qtbot.addWidget(tab, before_close_func=lambda _w: wait_for_all_tasks(WAIT_MS))
    tab.show()
    qtbot.waitUntil(lambda: tab.model is not None and not tab.is_busy(), timeout=WAIT_MS)
    assert tab.model.source == str(checkpoint) or checkpoint.name in str(tab.model.source)
    tab.add_paths([image])
    qtbot.waitUntil(lambda: bool(tab.results) and tab.results[0] is not None and not tab.is_busy(), timeout=WAIT_MS)

    assert len(calls) == 2 and calls[1][0] == [str(image)]   # the tab went through the same function
    shown = tab.results[0].topk
    assert shown == calls[1][1][0] == calls[0][1][0] == cli_top   # identical top-k, to the last bit
    assert shown[0][0] == "4" and tab.table_model.item(0, 1).text() == "4"
