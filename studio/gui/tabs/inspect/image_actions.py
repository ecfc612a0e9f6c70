"""From any image to its explanation, and to its fix.

An image shown in Evaluation (a confusion cell, the prediction grid), in the hardest examples or
in the comparison view is an ImageRef. A click opens it in Predict (top-k and Grad-CAM) and in
Activations, with the window's model; a right-click offers the same, and for a folder dataset's
image: relabel it (mark it as mislabelled) or exclude it from training (fixes_store).

Activations shows a test image of the loaded dataset by its index (the exact pixels the evaluation
used); any other image goes as its file (a folder dataset's) or as a PNG of its pixels.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtWidgets import QMenu, QWidget

_TEMP: list[Path] = []


@dataclass
class ImageRef:
    pixels: np.ndarray            # (C, H, W) uint8, as the split holds it
    name: str                     # "test image #12"
    true: str = ""
    pred: str = ""
    file: str | None = None       # a folder dataset's file
    key: str | None = None        # its key for data fixes (path relative to the dataset folder)
    test_index: int | None = None   # its index in the loaded dataset's test split, when it is one of those

    @property
    def label(self) -> str:
        truth = f"true {self.true}" if self.true else ""
        return f"{self.name} ({truth}, predicted {self.pred})" if self.pred else \
            (f"{self.name} ({truth})" if truth else self.name)


def image_ref(state, split, index: int, split_name: str, classes, result=None, keys=None) -> ImageRef:
    """The ImageRef of image `index` of `split` (an evaluation's: result gives its prediction)."""
    index = int(index)
    true = classes[int(split.labels[index])]
    pred = classes[int(result.y_pred[index])] if result is not None and index < len(result.y_pred) else ""
    files = getattr(split, "files", None)
    bundle = state.dataset
    same_test = bundle is not None and split is bundle.test
    return ImageRef(pixels=split.images[index].numpy(), name=f"{split_name} image #{index}", true=true, pred=pred,
                    file=files[index] if files is not None else None,
                    key=keys[index] if keys is not None else None,
                    test_index=index if same_test else None)


def evaluation_image(tab, shown, i: int) -> ImageRef | None:
    """Tile i of an Evaluation tab grid showing images `shown` of its result; None for an epoch's kept matrix."""
    if tab.result is None or tab.shown_epoch is not None or not 0 <= i < len(shown):
        return None
    return image_ref(tab.state, tab.split, int(shown[i]), tab.split_name, tab._classes(), tab.result,
                     split_keys(tab.state, tab.split))


def split_keys(state, split) -> list[str] | None:
    """The data-fixes keys of a split of the loaded dataset (folder datasets only)."""
    from studio.core.engine.epoch_eval import image_keys

    return image_keys(state.dataset, split) if state.dataset is not None else None


def png_bytes(pixels: np.ndarray) -> bytes:
    import io

    from PIL import Image

    chw = np.asarray(pixels)
    image = chw[0] if chw.shape[0] == 1 else np.ascontiguousarray(chw.transpose(1, 2, 0))
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _png_file(ref: ImageRef) -> Path:
    """A PNG of the pixels in this process's own temporary folder (removed on exit)."""
    if not _TEMP:
        _TEMP.append(Path(tempfile.mkdtemp(prefix="cnn-studio-images-")))
        atexit.register(shutil.rmtree, _TEMP[0], True)
    path = _TEMP[0] / (ref.name.replace(" ", "_").replace("#", "") + ".png")
    path.write_bytes(png_bytes(ref.pixels))
    return path


def open_in_explainers(widget: QWidget, ref: ImageRef, show: str = "predict") -> bool:
    """Open the image in Predict and Activations of `widget`'s window and show one of them."""
    host = widget.window()
    if not hasattr(host, "tab") or not hasattr(host, "show_tab"):
        return False
    _to_activations(host.tab("activations"), ref)
    _to_predict(host.tab("predict"), ref)
    host.show_tab(show)
    return True


def _to_predict(tab, ref: ImageRef) -> None:
    from studio.core.inspect.pipeline import InputItem

    if tab is None:
        return
    if ref.file and Path(ref.file).is_file():
        item = InputItem(name=f"{Path(ref.file).name} ({ref.name})", path=ref.file, invert=False)
    else:   # the split's pixels, through the same decoder as any file; the dataset's polarity as it is
        item = InputItem(name=ref.label, data=png_bytes(ref.pixels), invert=False)
    tab.show_image(item)


def _to_activations(tab, ref: ImageRef) -> None:
    if tab is None:
        return
    if ref.test_index is not None:
        tab.source.setCurrentIndex(0)
        tab.test_index.setValue(ref.test_index)
        tab.mark_stale()
    else:
        tab.load_file(ref.file if ref.file and Path(ref.file).is_file() else _png_file(ref))


def image_menu(parent: QWidget, ref: ImageRef, classes, state) -> QMenu:
    """Explain, relabel, exclude: what can be done with one image."""
    from studio.gui.tabs.inspect.fixes_store import fixes_store

    menu = QMenu(parent)
    menu.addAction("Explain in Predict", lambda: open_in_explainers(parent, ref, "predict"))
    menu.addAction("Show its activations", lambda: open_in_explainers(parent, ref, "activations"))
    menu.addSeparator()
    store = fixes_store(state)
    why_not = store.why_not() if ref.key else "Only the images of a folder dataset can be fixed."
    relabel = menu.addMenu("Mark as mislabelled: it is…")
    for name in classes:
        action = relabel.addAction(name, lambda n=name: store.relabel(ref.key, n))
        action.setEnabled(name != ref.true or bool(store.status(ref.key)))
    exclude = menu.addAction("Exclude from training", lambda: store.exclude(ref.key))
    clear = menu.addAction("Clear this image's fix", lambda: store.clear(ref.key))
    clear.setEnabled(bool(store.status(ref.key)))
    for entry in (relabel.menuAction(), exclude, clear):
        if why_not:
            entry.setEnabled(False)
            entry.setToolTip(why_not)
    menu.setToolTipsVisible(True)
    if ref.key and store.status(ref.key):
        menu.addSeparator()
        menu.addAction(f"Now: {store.status(ref.key)}").setEnabled(False)
    return menu


class ImageActions(QObject):
    """Click and right-click on a TileGrid's tiles; `ref_at(i)` says which image tile i shows (None: none)."""

    def __init__(self, grid, ref_at: Callable[[int], ImageRef | None], classes: Callable[[], list], state):
        super().__init__(grid)
        self.grid, self.ref_at, self.classes, self.state = grid, ref_at, classes, state
        grid.tileClicked.connect(self._clicked)
        grid.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.canvas.customContextMenuRequested.connect(self._menu)
        self.last_menu: QMenu | None = None

    @Slot(int)
    def _clicked(self, i: int) -> None:
        ref = self.ref_at(i)
        if ref is not None:
            open_in_explainers(self.grid, ref)

    @Slot(QPoint)
    def _menu(self, pos: QPoint) -> None:
        i = self.grid.index_at(pos)
        ref = self.ref_at(i) if i is not None else None
        if ref is None:
            return
        self.grid.select(i)
        if self.last_menu is not None:
            self.last_menu.deleteLater()   # one menu at a time, not one more child of the grid per right-click
        self.last_menu = image_menu(self.grid, ref, self.classes(), self.state)
        self.last_menu.popup(self.grid.canvas.mapToGlobal(pos))
