"""The runs table: every run folder under the runs directory, to open, compare, resume or tidy.

Opening, comparing and resuming are requests (signals) the main window carries out; renaming,
deleting, revealing and exporting runs' metrics as CSV happen here. refresh() reads the run folders
(studio.core.runs, which imports torch; every metrics file, for the best validation accuracy) in a
background task and fills the table when they are read (`refreshed`).
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QGridLayout, QInputDialog, QLabel, QLineEdit, QMenu, QMessageBox,
    QPushButton, QTableView, QVBoxLayout, QWidget,
)

from studio.core.errors import StudioError
from studio.gui.panels.runs_table import COLUMNS, PATH_ROLE, RunsFilterProxy, RunsTableModel, _status


def _ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _ask_text(parent: QWidget, title: str, label: str, default: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, label, text=default)
    return text if ok else None


def _read_overviews(progress, should_stop):
    from studio.core.paths import runs_dir
    from studio.core.runs.overview import list_overviews

    return list_overviews(runs_dir())


class RunsPanel(QWidget):
    openRequested = Signal(object)        # Path of one run
    compareRequested = Signal(list)       # Paths of two or more runs
    resumeRequested = Signal(object)      # Path of a stopped run
    runRenamed = Signal(object, object)   # old Path, new Path
    runDeleted = Signal(object)           # Path
    errorRaised = Signal(str)             # a readable message for the window to show
    selectionChanged = Signal()           # the selection (or what is known about it) changed
    refreshed = Signal()                  # the table shows the runs folder as it was just read

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # Dialog hooks: tests replace them, so nothing modal blocks a test run.
        self.confirm: Callable[[QWidget, str, str], bool] = _ask_yes_no
        self.ask_text: Callable[[QWidget, str, str, str], str | None] = _ask_text
        self.ask_save_path: Callable[[QWidget, str, str, str], str] = \
            lambda parent, title, start, filters: QFileDialog.getSaveFileName(parent, title, start, filters)[0]
        self.reveal: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.active_run: Path | None = None   # the run now training: not renamed or deleted under it
        self._pending_selection: set[str] | None = None
        self._reading = 0                     # refreshes in flight; the newest one's rows win
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs (any column: adam, mnist, done…)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        layout.addWidget(self.filter_edit)
        self.model = RunsTableModel(self)
        self.proxy = RunsFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(len(COLUMNS) - 1, Qt.SortOrder.DescendingOrder)   # newest first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        # Shown as "model · dataset · date": keep both ends visible when the column is narrow.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        for column, (_title, _text, _key, width) in enumerate(COLUMNS):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        self.table.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.table, 1)
        self.details = QLabel("Select a run to see it; select several to compare them.")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.details)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        specs = [("open", "Open", self.open_selected), ("compare", "Compare", self.compare_selected),
                 ("resume", "Resume", self.resume_selected), ("rename", "Rename…", self.rename_selected),
                 ("delete", "Delete…", self.delete_selected), ("reveal", "Show folder", self.reveal_selected),
                 ("csv", "Export CSV…", self.export_selected_csv), ("refresh", "Refresh", self.refresh)]
        for i, (key, text, slot) in enumerate(specs):
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, s=slot: s())
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[key] = button
        self.buttons["open"].setToolTip("Show this run's curves as they were recorded (double-click works too)")
        self.buttons["compare"].setToolTip("Draw the selected runs on the same axes, labelled by what differs")
        self.buttons["resume"].setToolTip("Continue a stopped run from its last checkpoint")
        self.buttons["csv"].setToolTip("Every selected run's epoch numbers in one CSV file (one row per run and epoch)")
        layout.addLayout(grid)
        self._selection_changed()

    # ------------------------------------------------------------ table

    def refresh(self, select=None) -> None:
        """Re-read the runs directory in the background; keeps the selection (or selects `select`)."""
        from studio.gui.concurrency.tasks import run_task

        if self._pending_selection is None or select is not None:
            keep = select if select is not None else self.selected_paths()
            self._pending_selection = {str(Path(p)) for p in keep}
        self._reading += 1
        run_task(_read_overviews, self._show_rows, self._read_failed, owner=self)

    def _show_rows(self, rows) -> None:
        self._reading -= 1
        if self._reading:
            return          # a newer read is on its way
        self.model.set_rows(rows)
        keep, self._pending_selection = self._pending_selection or set(), None
        self._select(keep)
        self.refreshed.emit()

    def _read_failed(self, message: str, _details: str = "") -> None:
        self._reading -= 1
        self._pending_selection = None
        self.errorRaised.emit(f"The runs folder could not be read: {message}")

    @property
    def refreshing(self) -> bool:
        return self._reading > 0

    def _filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._selection_changed()

    def run_paths(self) -> list[Path]:
        """The runs the table shows, in the order shown."""
        return [Path(self.proxy.index(r, 0).data(PATH_ROLE)) for r in range(self.proxy.rowCount())]

    def selected_paths(self) -> list[Path]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [Path(self.proxy.index(r, 0).data(PATH_ROLE)) for r in rows]

    def select_runs(self, paths) -> None:
        """Select these runs now, and again once the read in flight (if any) fills the table."""
        wanted = {str(Path(p)) for p in paths}
        if self.refreshing:
            self._pending_selection = wanted
        self._select(wanted)

    def _select(self, wanted: set[str]) -> None:
        selection = QItemSelection()
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(PATH_ROLE) in wanted:
                selection.select(self.proxy.index(r, 0), self.proxy.index(r, len(COLUMNS) - 1))
        self.table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._selection_changed()

    def info(self, path: Path):
        wanted = Path(path)
        return next((row for row in self.model.rows if row.path == wanted), None)

    @staticmethod
    def display_name(info) -> str:
        """What was trained first, then when: "lenet5 · mnist-sample · Dec 2 02:53"; a user's name as it is."""
        from studio.core.runs.overview import display_name

        return display_name(info.name, info.config)

    @staticmethod
    def status_text(row) -> str:
        """The Status column: a run still being written (here or by another process) reads as live;
        opening it follows it (gui/window/follower.py)."""
        return _status(row)

    @staticmethod
    def _describe(row) -> str:
        from datetime import datetime

        created = datetime.fromtimestamp(row.created).strftime("%Y-%m-%d %H:%M")
        epochs = "?" if row.epochs is None else row.epochs
        lines = [row.name, f"{row.model} on {row.dataset}",
                 (f"{row.epochs_done}/{epochs} epochs, {row.optimizer} lr {row.lr if row.lr is not None else '?'}, "
                  f"batch {row.batch_size or '?'}, augmentation {row.augmentation}"),
                 f"status: {'running (live)' if row.state == 'running' else row.state}", f"created {created}"]
        best = [f"{name} {100 * value:.2f}%" for name, value in (("validation", row.best_val_acc),
                                                                  ("test", row.best_test_acc)) if value is not None]
        if best:
            lines.insert(2, "best accuracy: " + ", ".join(best))
        return "\n".join(lines)

    def _selection_changed(self) -> None:
        paths = self.selected_paths()
        one = len(paths) == 1
        info = self.info(paths[0]) if one else None
        busy = one and self.active_run is not None and Path(paths[0]) == Path(self.active_run)
        self.buttons["open"].setEnabled(one)
        self.buttons["compare"].setEnabled(len(paths) >= 2)
        self.buttons["resume"].setEnabled(bool(info) and self.is_resumable(info) and not busy)
        for key in ("rename", "delete"):
            self.buttons[key].setEnabled(one and not busy)
        self.buttons["reveal"].setEnabled(one)
        self.buttons["csv"].setEnabled(bool(paths))
        if info is not None:
            self.details.setText(self._describe(info))
        elif len(paths) > 1:
            self.details.setText(f"{len(paths)} runs selected: Compare draws them on the same axes.")
        else:
            self.details.setText("Select a run to see it; select several to compare them.")
        self.selectionChanged.emit()

    @staticmethod
    def is_resumable(info) -> bool:
        epochs = int(info.config.get("epochs", 0) or 0)
        return info.state in ("stopped", "failed") and 0 < info.epochs_done < epochs

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for key in ("open", "compare", "resume", "rename", "delete", "reveal", "csv"):
            button = self.buttons[key]
            action = menu.addAction(button.text())
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------ actions

    def open_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.openRequested.emit(paths[0])

    def compare_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) >= 2:
            self.compareRequested.emit(paths)

    def resume_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.resumeRequested.emit(paths[0])

    def rename_selected(self, new_name: str | None = None) -> Path | None:
        from studio.core.runs import rename_run

        paths = self.selected_paths()
        if len(paths) != 1 or self._is_active(paths[0]):
            return None
        old = paths[0]
        if new_name is None:
            new_name = self.ask_text(self, "Rename run", "New name:", old.name)
        if not new_name or new_name == old.name:
            return None
        try:
            new = rename_run(old, new_name)
        except (StudioError, OSError) as exc:
            self.errorRaised.emit(f"The run could not be renamed: {exc}")
            return None
        self.model.rename_row(old, new)       # known at once (the window asks about it); re-read anyway
        self.refresh(select=[new])
        self._select({str(new)})
        self.runRenamed.emit(old, new)
        return new

    def delete_selected(self) -> bool:
        from studio.core.runs import delete_run

        paths = self.selected_paths()
        if len(paths) != 1 or self._is_active(paths[0]):
            return False
        path = paths[0]
        if not self.confirm(self, "Delete run", f"Delete the run '{path.name}' and all its files?\n"
                                                f"This cannot be undone."):
            return False
        try:
            delete_run(path)
        except (StudioError, OSError) as exc:
            self.errorRaised.emit(f"The run could not be deleted: {exc}")
            return False
        self.model.remove_row(path)
        self.refresh()
        self.runDeleted.emit(path)
        return True

    def reveal_selected(self) -> bool:
        paths = self.selected_paths()
        if len(paths) != 1:
            return False
        return bool(self.reveal(QUrl.fromLocalFile(str(paths[0]))))

    def export_selected_csv(self, path: str | Path | None = None) -> Path | None:
        """Every selected run's epoch scalars in one long-format CSV file (a row per run and epoch)."""
        paths = self.selected_paths()
        if not paths:
            return None
        if path is None:
            default = paths[0].name if len(paths) == 1 else f"{len(paths)}-runs"
            path = self.ask_save_path(self, "Export metrics as CSV", str(Path.home() / f"{default}.csv"),
                                      "CSV files (*.csv)")
            if not path:
                return None
        try:
            from studio.core.runs.csv_export import write_runs_csv   # imports torch: only when asked

            return write_runs_csv(paths, Path(path))
        except OSError as exc:
            self.errorRaised.emit(f"The CSV file could not be written: {exc}")
            return None

    def set_active_run(self, path: Path | None) -> None:
        self.active_run = Path(path) if path else None
        self._selection_changed()

    def _is_active(self, path: Path) -> bool:
        if self.active_run is not None and Path(path) == self.active_run:
            self.errorRaised.emit("That run is training right now: stop it first.")
            return True
        return False

