"""File > Export and the desktop entry: ask where, write, and say what happened.

Each function takes the window (the parent of its dialogs, the status line) and returns what was
written, or None when the user cancelled or writing failed (the error is shown, the app goes on).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog

from studio.core.errors import StudioError
from studio.gui.widgets.error_dialog import show_error

PLOT_TITLES = {"loss": "Loss", "accuracy": "Accuracy", "lr": "Learning rate", "time": "Epoch time"}


def plot_dialog(window) -> Path | None:
    """Which plot, which file: then write it."""
    if window.training_tab is None:
        return None
    titles = list(PLOT_TITLES.values())
    title, ok = QInputDialog.getItem(window, "Export plot", "Which plot?", titles, 0, False)
    if not ok:
        return None
    key = next(k for k, v in PLOT_TITLES.items() if v == title)
    path, chosen = QFileDialog.getSaveFileName(window, "Export plot", str(Path.home() / f"{key}.png"),
                                               "PNG image (*.png);;SVG image (*.svg)")
    if not path:
        return None
    if Path(path).suffix.lower() not in (".png", ".svg"):
        path += ".svg" if "SVG" in chosen else ".png"
    return export_plot(window, key, path)


def export_plot(window, key: str, path) -> Path | None:
    try:
        written = window.training_tab.export_plot(key, path)
    except (StudioError, OSError) as exc:
        show_error(window, f"The plot could not be exported: {exc}")
        return None
    window.show_status(f"Saved {written}")
    return written


def metrics_dialog(window) -> Path | None:
    run_dir = window.state.run_dir
    if run_dir is None:
        window.show_status("Open or train a run first: its metrics are what gets exported.")
        return None
    path, _ = QFileDialog.getSaveFileName(window, "Export metrics as CSV", str(Path.home() / f"{run_dir.name}.csv"),
                                          "CSV files (*.csv)")
    return export_metrics(window, path) if path else None


def export_metrics(window, path) -> Path | None:
    from studio.core.runs.csv_export import write_metrics_csv

    if window.state.run_dir is None:
        return None
    try:
        written = write_metrics_csv(window.state.run_dir, Path(path))
    except OSError as exc:
        show_error(window, f"The CSV file could not be written: {exc}")
        return None
    window.show_status(f"Saved {written}")
    return written


def desktop_entry(window) -> Path | None:
    from studio.desktop import install_desktop_entry

    try:
        path = install_desktop_entry()
    except OSError as exc:
        show_error(window, f"The desktop entry could not be written: {exc}")
        return None
    window.show_status(f"CNN Studio is now in the applications menu ({path})")
    return path


def model_to_export(window) -> Path | None:
    """The current run's best checkpoint (its last one when no best was kept), else the demo model."""
    from studio.core.runs.sources import demo_sources

    run_dir = window.state.run_dir
    if run_dir is not None:
        for name in ("best.pt", "last.pt"):
            if (Path(run_dir) / "checkpoints" / name).is_file():
                return Path(run_dir) / "checkpoints" / name
    demos = demo_sources()
    return Path(demos[0].path) if demos else None


def model_dialog(window):
    """File > Export model…: the dialog exports the current run's model (or the demo model)."""
    from studio.gui.concurrency.tasks import run_task
    from studio.gui.widgets.export_model_dialog import ExportModelDialog

    checkpoint = model_to_export(window)
    if checkpoint is None:
        window.show_status("Train or open a run first: its model is what gets exported.")
        return None
    dialog = ExportModelDialog(checkpoint, run_task, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
