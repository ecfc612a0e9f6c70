"""A fixed grid of images with captions, painted in one widget and scaled to the space it gets.

The Data tab shows a few dozen sample images with their class names and the augmentation
preview with it. The grid has a fixed number of cells (rows x columns) and fits them into
whatever room the layout gives: no scroll bars, no widget per image.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

try:  # pyqtgraph may draw images elsewhere in the window: same axis order everywhere
    import pyqtgraph as pg

    pg.setConfigOptions(imageAxisOrder="row-major")
except ImportError:  # pragma: no cover
    pass


def to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (H, W), (H, W, 1) or (H, W, 3) -> a QImage that owns a copy of the pixels."""
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        image = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8)
    elif arr.shape[2] == 3:
        image = QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888)
    else:
        raise ValueError(f"expected (H, W) or (H, W, 3) pixels, got {arr.shape}")
    return image.copy()  # the numpy buffer may go away; the QImage must not point into it


class ImageGrid(QWidget):
    """rows x columns cells, each an image with an optional caption (and caption colour)."""

    CAPTION_GAP = 2
    SPACING = 6

    def __init__(self, columns: int = 8, rows: int = 4, parent: QWidget | None = None,
                 placeholder: str = "No images"):
        super().__init__(parent)
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        self.placeholder = placeholder
        self._images: list[QImage] = []
        self._arrays: list[np.ndarray] = []
        self._captions: list[str] = []
        self._colors: list[str | None] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ------------------------------------------------------------ data

    def set_images(self, images: Sequence[np.ndarray], captions: Sequence[str] | None = None,
                   colors: Sequence[str | None] | None = None) -> None:
        """Show up to rows x columns images; captions and colours are matched by position."""
        limit = self.rows * self.columns
        self._arrays = [np.array(img, dtype=np.uint8) for img in list(images)[:limit]]
        self._images = [to_qimage(img) for img in self._arrays]
        self._captions = [str(c) for c in (captions or [])][:limit]
        self._colors = list(colors or [])[:limit]
        self.update()

    def set_shape(self, rows: int, columns: int) -> None:
        self.rows, self.columns = max(1, rows), max(1, columns)
        self.updateGeometry()
        self.update()

    def clear(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self._images, self._arrays, self._captions, self._colors = [], [], [], []
        self.update()

    def count(self) -> int:
        return len(self._images)

    def captions(self) -> list[str]:
        return list(self._captions)

    def pixels(self, i: int) -> np.ndarray:
        """The pixels of image i as shown (a copy)."""
        return self._arrays[i].copy()

    # ------------------------------------------------------------ geometry

    def sizeHint(self) -> QSize:
        return self._size_for(72)

    def minimumSizeHint(self) -> QSize:
        return self._size_for(28)

    def _caption_height(self) -> int:
        return self.fontMetrics().height() + self.CAPTION_GAP if self._has_captions() else 0

    def _has_captions(self) -> bool:
        return bool(self._captions) or not self._images

    def _size_for(self, cell: int) -> QSize:
        s = self.SPACING
        return QSize(self.columns * (cell + s) + s, self.rows * (cell + self._caption_height() + s) + s)

    def cell_size(self) -> int:
        s, cap = self.SPACING, self._caption_height()
        by_width = (self.width() - s) // self.columns - s
        by_height = (self.height() - s) // self.rows - s - cap
        return max(8, min(by_width, by_height))

    def cell_rect(self, i: int) -> QRect:
        """Where image i goes (captions sit below it); the grid is centred horizontally."""
        s, cell, cap = self.SPACING, self.cell_size(), self._caption_height()
        used = self.columns * (cell + s) - s
        left = max(s, (self.width() - used) // 2)
        row, col = divmod(i, self.columns)
        return QRect(left + col * (cell + s), s + row * (cell + cap + s), cell, cell)

    # ------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        if not self._images:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        fm = p.fontMetrics()
        for i, image in enumerate(self._images):
            cell = self.cell_rect(i)
            # Upscaled small images (28x28 digits) stay pixel-sharp; large ones are smoothed.
            upscaling = cell.width() >= image.width() and cell.height() >= image.height()
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not upscaling)
            scale = min(cell.width() / image.width(), cell.height() / image.height())
            w, h = max(1, int(image.width() * scale)), max(1, int(image.height() * scale))
            target = QRect(cell.left() + (cell.width() - w) // 2, cell.top() + (cell.height() - h) // 2, w, h)
            p.drawImage(target, image)
            p.setPen(QPen(QColor("#b8b8b8"), 1))
            p.drawRect(target.adjusted(0, 0, -1, -1))
            if i < len(self._captions):
                color = self._colors[i] if i < len(self._colors) and self._colors[i] else None
                p.setPen(QColor(color) if color else self.palette().windowText().color())
                text = fm.elidedText(self._captions[i], Qt.TextElideMode.ElideRight, cell.width() + self.SPACING)
                caption = QRect(cell.left() - self.SPACING // 2, cell.bottom() + self.CAPTION_GAP,
                                cell.width() + self.SPACING, fm.height())
                p.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
        p.end()
