"""Small views of the Predict tab: an image pane, the saliency overlay, the results table model."""

from __future__ import annotations

import math
from pathlib import PurePath

import numpy as np
from PySide6.QtCore import QRect, QRectF, QSize, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.gui.widgets.bar_chart import format_probability

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
# Short headers: the two fitted columns are as wide as their titles, and on a 1024-px screen every
# pixel they take is lost to the file name.
COLUMNS = ("File", "Class", "Prob.")
REASONS = {"empty": "empty file", "not-an-image": "not an image", "truncated": "truncated", "too-large": "too large",
           "unsupported": "unsupported", "unreadable": "unreadable"}   # ImageDecodeError.reason, in short words


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (H, W) or (H, W, 3) -> a QImage that owns its pixels."""
    array = np.ascontiguousarray(image)
    h, w = array.shape[:2]
    if array.ndim == 2:
        return QImage(array.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageView(QWidget):
    """A titled image with a caption, scaled to fit and kept together in the middle of the cell.

    Small images (a 28x28 network input) are enlarged with nearest neighbour: their pixels
    are what the network sees, and smoothing them would show something else.
    """

    def __init__(self, title: str = "", parent=None):
        super().__init__(parent)
        self._title = title
        self._image: QImage | None = None
        self._text = ""
        self._caption = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(140, 160)

    def set_image(self, image: np.ndarray | None, text: str = "") -> None:
        """Show `image`, or when it is None the message `text` in its place."""
        self._image = None if image is None else to_qimage(image)
        self._text = text
        self.update()

    def set_title(self, text: str) -> None:
        self._title = text
        self.update()

    def title(self) -> str:
        return self._title

    def set_caption(self, text: str) -> None:
        self._caption = text
        self.update()

    def caption(self) -> str:
        return self._caption

    def message(self) -> str:
        return self._text

    def has_image(self) -> bool:
        return self._image is not None

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:
        return QSize(260, 300)

    def caption_height(self) -> int:
        """The caption's height when wrapped at the current width (at least two lines, so images line up)."""
        if not self._caption:
            return 0
        metrics = self.fontMetrics()
        wrapped = metrics.boundingRect(QRect(0, 0, max(40, self.width() - 8), 10_000),
                                       int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap), self._caption)
        return max(2 * metrics.height(), wrapped.height()) + 6

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def title_height(self) -> int:
        """The bold title's height, wrapped at the current width (a narrow window: two lines, not clipped)."""
        if not self._title:
            return 0
        wrapped = QFontMetrics(self._title_font()).boundingRect(
            QRect(0, 0, max(40, self.width() - 8), 10_000),
            int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap), self._title)
        return wrapped.height() + 6

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt name
        painter = QPainter(self)
        palette = self.palette()
        title_h = self.title_height()
        caption_h = self.caption_height()
        if self._image is None or self._image.isNull():
            self._draw_title(painter, 0, title_h)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, title_h, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._text)
            painter.end()
            return
        w, h = self._image.width(), self._image.height()
        scale = max(1e-3, min(self.width() / w, (self.height() - title_h - caption_h) / h))
        top = (self.height() - (title_h + h * scale + caption_h)) / 2
        self._draw_title(painter, top, title_h)
        # Whole pixels: a frame on a fractional edge smears into a bright line on one side only.
        target = QRectF(round((self.width() - w * scale) / 2), round(top + title_h), round(w * scale), round(h * scale))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 2)
        painter.drawImage(target, self._image)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        if self._caption:
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            painter.drawText(QRectF(4, target.bottom() + 4, self.width() - 8, caption_h),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                             self._caption)
        painter.end()

    def _draw_title(self, painter: QPainter, top: float, height: int) -> None:
        if not self._title:
            return
        font = painter.font()
        painter.setFont(self._title_font())
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(QRectF(4, top, self.width() - 8, height),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._title)
        painter.setFont(font)


class ResultsModel(QStandardItemModel):
    """One row per input; column 0 carries the row's index in the tab's list (ROW_ROLE)."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))

    def append(self, index: int, name: str) -> None:
        # The file's own name: a whole folder's rows would otherwise all start (and be cut) alike.
        file_item = QStandardItem(PurePath(name).name or name)
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
            label.setText("✗ " + REASONS.get(result.error, result.error))
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
        conf.setText(format_probability(result.confidence) if not math.isnan(result.confidence) else "")
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
