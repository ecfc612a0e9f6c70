"""The window's actions (with shortcuts and tips) and its menu bar."""

from __future__ import annotations

import sys
import weakref

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QStyle

from studio.gui.window import exports


def make_action(window: QMainWindow, text: str, slot, shortcuts=(), tip: str = "", icon=None) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip + (f" ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                                 if shortcuts else ""))
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.triggered.connect(slot)
    return action


def _on(window: QMainWindow, fn):
    """A slot calling fn(window) that holds the window weakly: a lambda capturing it would live in Qt's
    connection (out of reach of Python's collector) and keep every closed window alive."""
    ref = weakref.ref(window)

    def call(*_args):
        target = ref()
        return fn(target) if target is not None else None

    return call


def build_actions(w) -> dict[str, QAction]:
    sp = QStyle.StandardPixmap
    a = {
        "new": make_action(w, "&New run", w.new_run, ["Ctrl+N"], "Clear the view and set up a new run"),
        "open": make_action(w, "&Open run…", w.runs.open_dialog, ["Ctrl+O"], "Open a past run's folder"),
        "export_plot": make_action(w, "&Export plot…", _on(w, exports.plot_dialog), ["Ctrl+E"],
                                   "Save a training plot as PNG or SVG"),
        "export_csv": make_action(w, "Export &metrics as CSV…", _on(w, exports.metrics_dialog), ["Ctrl+Shift+E"],
                                  "Save the current run's per-epoch numbers as CSV"),
        "export_model": make_action(w, "Export mo&del…", _on(w, exports.model_dialog), ["Ctrl+Shift+M"],
                                    "Save the current run's model as ONNX, TorchScript or safetensors, checked "
                                    "against PyTorch"),
        "install_desktop": make_action(w, "Add to the &applications menu", _on(w, exports.desktop_entry),
                                       tip="Write a desktop entry for this user"),
        "quit": make_action(w, "&Quit", w.close, ["Ctrl+Q"], "Quit CNN Studio"),
        "train": make_action(w, "Train", w.start_training, ["Ctrl+T", "F5"], "Start a new run", sp.SP_MediaPlay),
        "pause": make_action(w, "Pause", w.pause_training, ["Ctrl+P", "F6"], "Pause after the current batch",
                             sp.SP_MediaPause),
        "stop": make_action(w, "Stop", w.stop_training, ["Ctrl+.", "Shift+F5"],
                            "Stop after the current batch; the run is saved", sp.SP_MediaStop),
        "resume": make_action(w, "Resume", w.resume_training, ["Ctrl+R", "F7"],
                              "Continue a paused run, or a stopped run from its last checkpoint",
                              sp.SP_MediaSeekForward),
        "runs": make_action(w, "&Runs list", w.show_runs_list, ["Ctrl+L"], "Show the list of runs"),
        "settings": make_action(w, "&Settings", w.show_settings, ["Ctrl+,"], "Show the run settings"),
        "about": make_action(w, "&About CNN Studio", _on(w, show_about)),
    }
    for key in ("train", "pause", "stop", "resume"):
        w.control_buttons[key].setDefaultAction(a[key])
    return a


def build_menus(w: QMainWindow, a: dict[str, QAction]) -> QMenu:
    """File, Training, View, Help; returns the View menu (the tabs add themselves to it)."""
    file_menu = w.menuBar().addMenu("&File")
    for key in ("new", "open", None, "export_plot", "export_csv", "export_model", None, "install_desktop", None, "quit"):
        file_menu.addSeparator() if key is None else file_menu.addAction(a[key])
    train_menu = w.menuBar().addMenu("&Training")
    for key in ("train", "pause", "stop", "resume"):
        train_menu.addAction(a[key])
    view_menu = w.menuBar().addMenu("&View")
    view_menu.addAction(a["settings"])
    view_menu.addAction(a["runs"])
    view_menu.addSeparator()
    help_menu = w.menuBar().addMenu("&Help")
    help_menu.addAction(a["about"])
    return view_menu


def show_about(w: QMainWindow) -> None:
    import studio

    QMessageBox.about(w, "About CNN Studio",
                      f"<b>CNN Studio {studio.__version__}</b><p>Train convolutional neural networks on images "
                      "and watch them learn: curves, kernels, activations, confusion matrices and "
                      "predictions, on CPU, CUDA or Apple MPS.</p>"
                      f"<p>Python {sys.version.split()[0]}</p>")
