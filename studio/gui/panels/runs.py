"""The run list: every run folder under the runs directory, to open, compare, resume or tidy.

Opening, comparing and resuming are requests (signals) the main window carries out; renaming,
deleting, revealing and exporting a run's metrics as CSV happen here. The list reads the run
folders through studio.core.runs (which imports torch), so refresh() is called only after the
core has loaded.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QGridLayout, QHeaderView, QInputDialog, QLabel, QMenu, QMessageBox,
    QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from studio.core.errors import StudioError

STATUS_COLOURS = {"done": "#2a7d2a", "stopped": "#a66a00", "failed": "#b22222", "running": "#1f5fa8"}


def _ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes
                                  | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _ask_text(parent: QWidget, title: str, label: str, default: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, label, text=default)
    return text if ok else None


class RunsPanel(QWidget):
    openRequested = Signal(object)        # Path of one run
    compareRequested = Signal(list)       # Paths of two or more runs
    resumeRequested = Signal(object)      # Path of a stopped run
    runRenamed = Signal(object, object)   # old Path, new Path
    runDeleted = Signal(object)           # Path
    errorRaised = Signal(str)             # a readable message for the window to show
    selectionChanged = Signal()           # the selection (or what is known about it) changed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # Dialog hooks: tests replace them, so nothing modal blocks a test run.
        self.confirm: Callable[[QWidget, str, str], bool] = _ask_yes_no
        self.ask_text: Callable[[QWidget, str, str, str], str | None] = _ask_text
        self.ask_save_path: Callable[[QWidget, str, str, str], str] = \
            lambda parent, title, start, filters: QFileDialog.getSaveFileName(parent, title, start, filters)[0]
        self.reveal: Callable[[QUrl], bool] = QDesktopServices.openUrl
        self.active_run: Path | None = None   # the run now training: not renamed or deleted under it
        self._infos: dict[str, object] = {}
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Run", "Status", "Test acc"])
        self.tree.setRootIsDecorated(False)
        # Shown as "model · dataset · date": keep both ends visible when the column is narrow.
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.open_selected())
        self.tree.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.tree, 1)
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
        self.buttons["compare"].setToolTip("Draw the selected runs on the same axes")
        self.buttons["resume"].setToolTip("Continue a stopped run from its last checkpoint")
        layout.addLayout(grid)
        self._selection_changed()

    # ------------------------------------------------------------ list

    def refresh(self) -> None:
        """Re-read the runs directory, keeping the selection."""
        from studio.core.paths import runs_dir
        from studio.core.runs import list_runs

        keep = {str(p) for p in self.selected_paths()}
        self.tree.blockSignals(True)
        self.tree.clear()
        self._infos.clear()
        for info in list_runs(runs_dir()):
            item = QTreeWidgetItem([self.display_name(info), self.status_text(info), self._acc_text(info)])
            item.setData(0, Qt.ItemDataRole.UserRole, str(info.path))
            item.setToolTip(0, self._describe(info))
            colour = STATUS_COLOURS.get(info.state)
            if colour:
                item.setForeground(1, _brush(colour))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            self._infos[str(info.path)] = info
            item.setSelected(str(info.path) in keep)
        self.tree.blockSignals(False)
        self._selection_changed()

    def run_paths(self) -> list[Path]:
        return [Path(self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole))
                for i in range(self.tree.topLevelItemCount())]

    def selected_paths(self) -> list[Path]:
        return [Path(item.data(0, Qt.ItemDataRole.UserRole)) for item in self.tree.selectedItems()]

    def select_runs(self, paths) -> None:
        wanted = {str(Path(p)) for p in paths}
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) in wanted)

    def info(self, path: Path):
        return self._infos.get(str(Path(path)))

    @staticmethod
    def display_name(info) -> str:
        """What was trained first, then when: "lenet5 · mnist-sample · Dec 2 02:53". A name the user
        gave (by renaming the folder) is shown as it is."""
        match = re.match(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})\d{2}(-|$)", info.name)
        if not match:
            return info.name
        year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
        when = datetime(year, month, day, hour, minute).strftime("%b %-d %H:%M")
        cfg = info.config
        return f"{cfg.get('model', '?')} · {cfg.get('dataset', '?')} · {when}"

    @staticmethod
    def status_text(info) -> str:
        """The Status column: a run still being written (here or by another process) reads as live;
        opening it follows it (gui/window/follower.py)."""
        return "● live" if info.state == "running" else info.state

    @staticmethod
    def _acc_text(info) -> str:
        return f"{100 * info.best_test_acc:.1f}%" if info.best_test_acc else "–"

    @staticmethod
    def _describe(info) -> str:
        cfg = info.config
        created = datetime.fromtimestamp(info.created).strftime("%Y-%m-%d %H:%M")
        lines = [info.name, f"{cfg.get('model', '?')} on {cfg.get('dataset', '?')}",
                 f"{info.epochs_done}/{cfg.get('epochs', '?')} epochs, {cfg.get('optimizer', '?')} "
                 f"lr {cfg.get('lr', '?')}, batch {cfg.get('batch_size', '?')}",
                 f"status: {info.state}" + (f" ({info.status.get('reason')})" if info.status.get("reason") else ""),
                 f"created {created}"]
        if info.best_test_acc:
            lines.insert(2, f"best test accuracy {100 * info.best_test_acc:.2f}%")
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
        self.buttons["csv"].setEnabled(one)
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
        menu.exec(self.tree.viewport().mapToGlobal(pos))

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
        self.refresh()
        self.select_runs([new])
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
        self.refresh()
        self.runDeleted.emit(path)
        return True

    def reveal_selected(self) -> bool:
        paths = self.selected_paths()
        if len(paths) != 1:
            return False
        return bool(self.reveal(QUrl.fromLocalFile(str(paths[0]))))

    def export_selected_csv(self, path: str | Path | None = None) -> Path | None:
        paths = self.selected_paths()
        if len(paths) != 1:
            return None
        if path is None:
            path = self.ask_save_path(self, "Export metrics as CSV", str(Path.home() / f"{paths[0].name}.csv"),
                                      "CSV files (*.csv)")
            if not path:
                return None
        try:
            from studio.core.runs.csv_export import write_metrics_csv   # imports torch: only when asked

            return write_metrics_csv(paths[0], Path(path))
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


def _brush(colour: str):
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(colour))
