"""The Runs table's model: one row per RunOverview, sortable by real values, filterable by any column.

Sorting uses SORT_ROLE (numbers for accuracies, LR, durations and dates; missing values sort
below every number), so "9.5 %" never sorts above "10.2 %". The filter matches the text of any column.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor

if TYPE_CHECKING:   # studio.core.runs imports torch: the window shows before it is loaded
    from studio.core.runs.overview import RunOverview

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole
STATUS_COLOURS = {"done": "#2a7d2a", "stopped": "#a66a00", "failed": "#b22222", "running": "#1f5fa8"}
MISSING = "—"


def _percent(value: float | None) -> str:
    return f"{100 * value:.1f}%" if value is not None else MISSING


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def _status(row: RunOverview) -> str:
    return "● live" if row.state == "running" else row.state


def _or_missing(value) -> str:
    return MISSING if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _key(value) -> float:
    return float("-inf") if value is None else float(value)


# (title, text, sort key, default width in px): the name first, so the narrow panel shows it.
COLUMNS = (
    ("Run", lambda r: r.display, lambda r: r.display.lower(), 230),
    ("Status", _status, lambda r: r.state, 62),
    ("Best test", lambda r: _percent(r.best_test_acc), lambda r: _key(r.best_test_acc), 70),
    ("Best val", lambda r: _percent(r.best_val_acc), lambda r: _key(r.best_val_acc), 65),
    ("Model", lambda r: r.model, lambda r: r.model.lower(), 80),
    ("Dataset", lambda r: r.dataset, lambda r: r.dataset.lower(), 95),
    ("Optimiser", lambda r: r.optimizer, lambda r: r.optimizer, 70),
    ("LR", lambda r: _or_missing(r.lr), lambda r: _key(r.lr), 60),
    ("Batch", lambda r: _or_missing(r.batch_size), lambda r: _key(r.batch_size), 50),
    ("Epochs", lambda r: f"{r.epochs_done}/{_or_missing(r.epochs)}", lambda r: _key(r.epochs_done), 55),
    ("Augmentation", lambda r: r.augmentation, lambda r: r.augmentation, 100),
    ("Duration", lambda r: _duration(r.duration), lambda r: _key(r.duration), 60),
    ("Created", lambda r: datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M"), lambda r: r.created, 115),
)
COLUMN_TITLES = tuple(c[0] for c in COLUMNS)
NUMERIC = {"Best test", "Best val", "LR", "Batch", "Epochs", "Duration"}


class RunsTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[RunOverview] = []

    def set_rows(self, rows: list[RunOverview]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rename_row(self, old: Path, new: Path) -> None:
        from studio.core.runs.overview import display_name

        self._replace(old, lambda row: replace(row, path=Path(new), name=Path(new).name,
                                               display=display_name(Path(new).name, row.config)))

    def remove_row(self, path: Path) -> None:
        self._replace(path, lambda row: None)

    def _replace(self, path: Path, change) -> None:
        self.beginResetModel()
        rows = [change(row) if row.path == Path(path) else row for row in self.rows]
        self.rows = [row for row in rows if row is not None]
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, (title, text, key, _width) = self.rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text(row)
        if role == SORT_ROLE:
            return key(row)
        if role == PATH_ROLE:
            return str(row.path)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return row.name
        if role == Qt.ItemDataRole.ForegroundRole and title == "Status" and row.state in STATUS_COLOURS:
            return QBrush(QColor(STATUS_COLOURS[row.state]))
        if role == Qt.ItemDataRole.TextAlignmentRole and title in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class RunsFilterProxy(QSortFilterProxyModel):
    """Sorts by SORT_ROLE; keeps the rows where any column's text contains the filter (any case)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
