"""Small views of the Predict tab: an image pane, the saliency overlay, the results table model."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

# The "jet" map Grad-CAM papers use: blue (ignored) -> red (decisive).
_JET = np.array([[0, 0, 128], [0, 0, 255], [0, 255, 255], [255, 255, 0], [255, 0, 0], [128, 0, 0]], np.float32)
_JET_AT = np.array([0.0, 0.125, 0.375, 0.625, 0.875, 1.0], np.float32)
JET_LUT = np.stack([np.interp(np.linspace(0, 1, 256), _JET_AT, _JET[:, c]) for c in range(3)], 1).astype(np.uint8)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ("File", "Prediction", "Confidence")


def to_rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def overlay(base: np.ndarray, cam: np.ndarray, opacity: float) -> np.ndarray:
    """Blend the jet-coloured saliency over the network input; opacity 0..1."""
    rgb = to_rgb(base).astype(np.float32)
    if cam.shape != rgb.shape[:2]:  # saliency at another size: nearest-neighbour it onto the input
        rows = (np.arange(rgb.shape[0]) * cam.shape[0] // rgb.shape[0])
        cols = (np.arange(rgb.shape[1]) * cam.shape[1] // rgb.shape[1])
        cam = cam[rows][:, cols]
    heat = JET_LUT[np.clip(np.nan_to_num(cam) * 255, 0, 255).astype(np.uint8)].astype(np.float32)
    blended = (1 - opacity) * rgb + opacity * heat
    return np.rint(blended).clip(0, 255).astype(np.uint8)


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (H, W) or (H, W, 3) -> a QImage that owns its pixels."""
    array = np.ascontiguousarray(image)
    h, w = array.shape[:2]
    if array.ndim == 2:
        return QImage(array.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageView(QWidget):
    """Paints an image scaled to fit, keeping its aspect; small images keep crisp pixels."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._image: QImage | None = None
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)

    def set_image(self, image: np.ndarray | None, text: str = "") -> None:
        self._image = None if image is None else to_qimage(image)
        self._text = text
        self.update()

    def has_image(self) -> bool:
        return self._image is not None

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(240, 240)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        frame = self.palette().color(QPalette.ColorRole.Mid)
        if self._image is None or self._image.isNull():
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(6, 6, -6, -6),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text)
            painter.end()
            return
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        target = QRectF((self.width() - w * scale) / 2, (self.height() - h * scale) / 2, w * scale, h * scale)
        # Nearest neighbour when enlarging a small input: its pixels are what the network sees.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 2)
        painter.drawImage(target, self._image)
        painter.setPen(frame)
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class CaptionedView(QWidget):
    """An ImageView with a title above and a one-line note below."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.view = ImageView()
        self.note = QLabel("")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.note)


class ResultsModel(QStandardItemModel):
    """One row per input; column 0 carries the row's index in the tab's list (ROW_ROLE)."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))

    def append(self, index: int, name: str) -> None:
        file_item = QStandardItem(name)
        file_item.setData(index, ROW_ROLE)
        file_item.setData(name.lower(), SORT_ROLE)
        file_item.setToolTip(name)
        pending = [QStandardItem("…"), QStandardItem("")]
        for item in pending:
            item.setData(-2.0 if item is pending[1] else "", SORT_ROLE)
        for item in [file_item, *pending]:
            item.setEditable(False)
        self.appendRow([file_item, *pending])

    def set_result(self, index: int, result) -> None:
        row = self._row_of(index)
        if row is None:
            return
        label, conf = self.item(row, 1), self.item(row, 2)
        if result is None:
            label.setText("…")
            conf.setText("")
            conf.setData(-2.0, SORT_ROLE)
            label.setForeground(self.item(row, 0).foreground())
            return
        if result.error:
            label.setText(f"can't use: {result.error}")
            label.setToolTip(result.message)
            label.setForeground(QColor(200, 40, 40))
            label.setData("~" + result.error, SORT_ROLE)   # errors sort after every class name
            conf.setText("—")
            conf.setData(-1.0, SORT_ROLE)
            return
        label.setText(result.label)
        label.setToolTip(", ".join(f"{n} {p:.1%}" for n, p in result.topk))
        label.setForeground(self.item(row, 0).foreground())
        label.setData(result.label.lower(), SORT_ROLE)
        conf.setText(f"{result.confidence:.1%}" if not math.isnan(result.confidence) else "")
        conf.setData(float(result.confidence), SORT_ROLE)
        conf.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _row_of(self, index: int) -> int | None:
        # Rows are appended in index order and never reordered in the source model.
        if 0 <= index < self.rowCount() and self.item(index, 0).data(ROW_ROLE) == index:
            return index
        for row in range(self.rowCount()):
            if self.item(row, 0).data(ROW_ROLE) == index:
                return row
        return None


def sorting_proxy(model: ResultsModel, parent=None) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    return proxy
