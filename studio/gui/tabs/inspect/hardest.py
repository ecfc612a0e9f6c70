"""Hardest examples: the held-out images the model gets most wrong, with why (fastai's plot_top_losses).

A page of the Evaluation tab. Each tile is an image with the highest loss, -log p(true class), its
true and predicted class, the model's confidence, and Grad-CAM of the predicted class laid over it
(what made the model say so). Filters: true class, predicted class, mistakes only. A click opens
the image in Predict and Activations; a right-click relabels or excludes it (folder datasets), and
"Retrain with fixes" trains a new run with the marks applied.

The ranking comes from the Evaluation tab's result (set_evaluation) and is redone for every filter
(numpy, instant); Grad-CAM for the tiles on screen runs in the background with progress, cached
per image for the model on view.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.core.inspect.hardest import HardExample, grad_cams, image_losses, rank_hardest
from studio.gui.tabs.inspect.common import InspectTab, guarded, inspect_lock
from studio.gui.tabs.inspect.fixes_store import fixes_store, retrain_with_fixes
from studio.gui.tabs.inspect.image_actions import ImageActions, image_ref, split_keys
from studio.gui.widgets.tile_grid import TileGrid

TILE_LIMIT = 40
RIGHT, WRONG = "#1a7f37", "#c62828"
EMPTY_TEXT = "The hardest examples appear once the model is evaluated (Evaluate, above)."
CAM_OPACITY = 0.45


def tile_picture(chw: np.ndarray, cam: np.ndarray | None) -> np.ndarray:
    """The image as the split holds it, with the Grad-CAM heat laid over when there is one."""
    from studio.core.inspect.cams import overlay, to_rgb
    from studio.core.pixels import display_image

    image = display_image(chw)
    return to_rgb(image) if cam is None else overlay(image, cam, CAM_OPACITY)


class HardestView(InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.loaded = None                 # the model on view (a LoadedModel)
        self.split, self.split_name = None, "test"
        self.result = None                 # its EvalResult on `split`
        self.losses: np.ndarray | None = None
        self.keys: list[str] | None = None
        self.shown: list[HardExample] = []
        self.cams: dict[int, np.ndarray | None] = {}
        self._build_ui()
        self.store = fixes_store(state)
        self.store.changed.connect(self._fixes_changed)
        self._fixes_changed()
        self.show_empty(EMPTY_TEXT)

    def _build_ui(self) -> None:
        self.true_filter, self.pred_filter = QComboBox(), QComboBox()
        for combo in (self.true_filter, self.pred_filter):
            combo.currentIndexChanged.connect(self._filters_changed)
        self.mistakes = QCheckBox("Mistakes only")
        self.mistakes.toggled.connect(self._filters_changed)
        self.show_cam = QCheckBox("Grad-CAM")
        self.show_cam.setChecked(True)
        self.show_cam.setToolTip("Lay Grad-CAM of the predicted class over each image: where the model looked")
        self.show_cam.toggled.connect(self._filters_changed)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.grid = TileGrid(tile_size=84, spacing=16, placeholder="")
        self.actions = ImageActions(self.grid, self._ref_at, self._classes, self.state)
        self.fixes_label = QLabel()
        self.fixes_label.setWordWrap(True)
        self.retrain_button = QPushButton("Retrain with fixes")
        self.retrain_button.setToolTip("A new run with this run's settings, the marked images relabelled or left out")
        self.retrain_button.clicked.connect(self._retrain)
        # Two short rows: this page shares the Evaluation tab's right half, which is narrow at 1024 px.
        filters, options = QHBoxLayout(), QHBoxLayout()
        for text, widget in (("True:", self.true_filter), ("Predicted:", self.pred_filter)):
            widget.setMinimumContentsLength(4)
            widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            filters.addWidget(QLabel(text))
            filters.addWidget(widget, 1)
        options.addWidget(self.mistakes)
        options.addWidget(self.show_cam)
        options.addStretch(1)
        fixes = QHBoxLayout()
        fixes.addWidget(self.fixes_label, 1)
        fixes.addWidget(self.retrain_button)
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(filters)
        lay.addLayout(options)
        lay.addWidget(self.title)
        lay.addWidget(self.grid, 1)
        lay.addLayout(fixes)

    # -- entry point --------------------------------------------------------------------------
    def set_evaluation(self, loaded, split, split_name: str = "test", result=None) -> None:
        """The model on view and the split it is judged on; `result` its EvalResult when already made
        (None: this view evaluates it, in the background). The timeline calls it with an epoch's model."""
        same_classes = self.loaded is not None and list(self.loaded.classes) == list(loaded.classes)
        self.loaded, self.split, self.split_name, self.result = loaded, split, split_name, result
        self.losses, self.cams, self.shown = None, {}, []   # the old ranking's indices mean nothing in `split`
        self.grid.clear("")
        self.keys = split_keys(self.state, split)
        if not same_classes:
            self._fill_filters()
        self.mark_stale()

    def _fill_filters(self) -> None:
        for combo, first in ((self.true_filter, "any class"), (self.pred_filter, "any class")):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(first, None)
            for i, name in enumerate(self._classes()):
                combo.addItem(name, i)
            combo.blockSignals(False)

    def _classes(self) -> list[str]:
        return list(self.loaded.classes) if self.loaded is not None else []

    # -- computing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        if self.loaded is None or self.split is None:
            self.show_empty(EMPTY_TEXT)
            return
        self.show_content()
        if self.result is None:
            self._evaluate()
        else:
            self._rank()

    def _evaluate(self) -> None:
        loaded, split = self.loaded, self.split

        def work(progress, should_stop):
            from studio.core.engine.evaluate import evaluate

            with inspect_lock:
                return evaluate(loaded.model, split, tuple(loaded.input_shape), loaded.mean, loaded.std,
                                progress=progress, should_stop=should_stop, num_classes=len(loaded.classes))

        def done(result) -> None:
            if result is not None and not result.cancelled and loaded is self.loaded:
                self.result = result
                self._rank()

        self.start(f"Evaluating {len(split):,} {self.split_name} images…", work, done)

    def _filters_changed(self, *_args) -> None:
        if self.result is not None:
            self._rank()

    @guarded
    def _rank(self) -> None:
        if self.losses is None:
            self.losses = image_losses(self.result)
        self.shown = rank_hardest(self.result, true_class=self.true_filter.currentData(),
                                  pred_class=self.pred_filter.currentData(), mistakes_only=self.mistakes.isChecked(),
                                  limit=TILE_LIMIT, losses=self.losses)
        self._draw()
        missing = [h for h in self.shown if h.index not in self.cams]
        if missing and self.show_cam.isChecked():
            self._compute_cams(missing)

    def _compute_cams(self, wanted: list[HardExample]) -> None:
        loaded, split = self.loaded, self.split
        images = split.images[[h.index for h in wanted]]

        def work(progress, should_stop):
            with inspect_lock:   # Grad-CAM hooks the model the other tabs use too
                return grad_cams(loaded, images, [h.pred for h in wanted], progress=progress, should_stop=should_stop)

        def done(cams) -> None:
            if cams is None or loaded is not self.loaded:
                return
            self.cams.update({h.index: cam for h, cam in zip(wanted, cams)})
            self._draw()

        self.start(f"Grad-CAM for {len(wanted)} images…", work, done)

    # -- showing ------------------------------------------------------------------------------
    @guarded
    def _draw(self) -> None:
        classes, store = self._classes(), self.store
        cam_on = self.show_cam.isChecked()
        pictures, captions, colours, tips = [], [], [], []
        marked = any(store.status(self._key(h.index)) for h in self.shown)
        for h in self.shown:
            pictures.append(tile_picture(self.split.images[h.index].numpy(), self.cams.get(h.index) if cam_on else None))
            fix = store.status(self._key(h.index))
            lines = [f"{classes[h.true]} → {classes[h.pred]}", f"loss {h.loss:.2f} · {h.confidence:.0%}"]
            captions.append("\n".join(lines + ([fix.replace("relabelled as", "now") if fix else ""] if marked else [])))
            colours.append(WRONG if h.wrong else RIGHT)
            tips.append(self._tooltip(h, fix))
        self.grid.set_tiles(pictures, captions=captions, caption_colors=colours, tooltips=tips)
        n = len(self.result.y_true)
        what = f"The {len(self.shown)} {self.split_name} images with the highest loss" if self.shown else \
            "No image matches these filters"
        epoch = getattr(self.loaded, "epoch", None)
        self.title.setText(f"<b>{what}</b> (of {n:,}{f', model after epoch {epoch}' if epoch else ''}). "
                           "Captions: true → predicted, loss, confidence. Click one to explain it, "
                           "right-click to fix it.")

    def _tooltip(self, h: HardExample, fix: str) -> str:
        classes = self._classes()
        where = self.split.files[h.index] if getattr(self.split, "files", None) else f"{self.split_name} image #{h.index}"
        return (f"{where}\ntrue {classes[h.true]} (p = {h.p_true:.1%}), predicted {classes[h.pred]} "
                f"({h.confidence:.1%})\nloss {h.loss:.3f}" + (f"\n{fix}" if fix else ""))

    def _key(self, index: int) -> str | None:
        return self.keys[index] if self.keys is not None else None

    def _ref_at(self, i: int):
        if not 0 <= i < len(self.shown):
            return None
        return image_ref(self.state, self.split, self.shown[i].index, self.split_name, self._classes(), self.result,
                         self.keys)

    # -- fixes --------------------------------------------------------------------------------
    def _fixes_changed(self) -> None:
        why_not = self.store.why_not()
        self.fixes_label.setText(why_not or self.store.summary())
        self.fixes_label.setToolTip(str(self.store.path or ""))
        self.retrain_button.setEnabled(not why_not and len(self.store.fixes) > 0)
        if self.result is not None and self.shown:
            self._draw()

    def _retrain(self) -> None:
        reason = retrain_with_fixes(self)
        if reason:
            self.show_error(reason)
