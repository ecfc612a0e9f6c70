"""Open a tour step's view: the one place that knows how the window and its tabs are set up.

A step's action is a plain dict (studio.core.lectures.tours.Step.action). open_step switches to
the right tab and sets it up through the window's and the tabs' existing methods. Everything that
depends on the window's insides (tabs_by_key, the settings panel, each tab's widgets) lives in
this module, so a reshaped window needs changes here only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QTabWidget

# Lab section names in the tours -> LabTab attributes
LAB_SECTIONS = {"one_batch": "train"}
VIEW_TABS = {"lab": "lab", "model": "model", "train": "training", "kernels": "kernels",
             "activations": "activations", "predict": "predict", "evaluation": "evaluation", "data": "data"}


class _StepOpener(QObject):
    """Receives the panel's openRequested for the window. A lambda capturing the window, held by a
    C++ connection, would keep the window's Python object alive after it is gone from view."""

    def __init__(self, window):
        super().__init__(window)

    @Slot(dict)
    def open(self, action: dict) -> None:
        open_step(self.parent(), action)


def connect_panel(window, panel) -> None:
    """Let the Lectures panel's Open buttons set up `window`."""
    panel.openRequested.connect(_StepOpener(window).open)


def open_step(window, action: dict) -> str | None:
    """Show what `action` describes in `window` (a MainWindow); returns the key of the tab shown.

    Training settings are filled in, never started: pressing Train is the student's move.
    """
    view = action.get("view")
    key = VIEW_TABS.get(view)
    if key is None:
        window.show_status(f"This step opens a view the studio does not have ({view!r}).")
        return None
    if not window.loaded or key not in window.tabs_by_key:
        window.show_status("PyTorch is still loading: open the step again in a moment.")
        return None
    from studio.core.lectures import describe_action

    window.show_status(f"Lecture step: {describe_action(action)}")
    if view in ("model", "train", "data"):
        _configure(window, action)
    tab = _show_tab(window, key)
    setup = {"lab": _lab, "kernels": _kernels, "activations": _activations, "predict": _predict}.get(view)
    if setup is not None:
        setup(window, tab, action)
    return key


def _show_tab(window, key: str):
    return window.show_tab(key)   # tabs are built on first show: this builds it if needed


def _available(name: str) -> bool:
    from studio.core.data import list_datasets

    return name.startswith("folder:") or name in {d.name for d in list_datasets()}


def _configure(window, action: dict) -> None:
    """The settings the step asks for: a preset, a model and its options, a dataset, single overrides."""
    if window.runner.is_running():
        window.show_status("A run is training: the settings stay as they are until it ends.")
        return
    config = window.settings_panel.config()
    if "preset" in action:
        from studio.core.config.presets import get_preset

        config = get_preset(action["preset"]).apply(config)
    if "model" in action:
        config.model = action["model"]
        config.model_options = dict(action.get("options") or {})
        config.pretrained = False
    for name, value in (action.get("settings") or {}).items():
        setattr(config, name, value)
    wanted = action.get("dataset")
    if wanted and _available(wanted):
        config.dataset = wanted
    elif wanted:
        window.show_status(f"The {wanted} dataset is not in this build; the step uses {config.dataset} instead.")
        if "preset" in action:
            config.dataset = window.settings_panel.config().dataset
    window.apply_config(config)
    window.store.save_config(window.settings_panel.config())


def _lab(window, lab, action: dict) -> None:
    key = LAB_SECTIONS.get(action.get("section", "conv"), action.get("section", "conv"))
    lab.show_section(key)
    section = getattr(lab, key)
    if key == "conv":
        if "example" in action:
            section.load_example(action["example"])
        if action.get("flip"):
            section.conv_radio.setChecked(True)
        if "dilation" in action:
            section.dilation_spin.setValue(int(action["dilation"]))
    elif key == "photo":
        if action.get("kernel"):
            section.preset_combo.setCurrentIndex(section.preset_combo.findData(action["kernel"]))
        if "sigma" in action:
            section.sigma_slider.setValue(round(2 * float(action["sigma"])))   # the slider holds 2σ
        pool = action.get("pool") or {}
        if pool:
            section.pool_k.setValue(int(pool.get("kernel", 8)))
            section.pool_s.setValue(int(pool.get("stride", 8)))
    elif key == "pool":
        section.load_lecture_example()
    elif key == "params" and "preset" in action:
        section.load_preset(action["preset"])
    elif key == "init" and "preset" in action:
        section.load_preset(int(action["preset"]))
    elif key == "softmax" and "logits" in action:
        section.set_logits(action["logits"])
        section.target_spin.setValue(int(action.get("target", 0)))
    elif key == "train" and section._started:
        section.lecture_settings()            # not started yet: showing it runs the lecture's cells
    elif key == "tensors" and "operation" in action:
        section.set_example(action["operation"], action["a"], action["b"])
    elif key == "multichannel":
        sizes = {k: action[k] for k in ("height", "width", "in_channels", "out_channels", "kernel", "padding",
                                        "stride") if k in action}
        if sizes:
            section.set_sizes(**{"padding": 0, "stride": 1, **sizes})
    elif key == "log_values" and "sigma" in action:
        section.set_sigma(float(action["sigma"]))


def _kernels(window, tab, action: dict) -> None:
    epoch = action.get("epoch")
    slider = getattr(tab, "epochs", None)
    if epoch is None or slider is None or not slider.epochs:
        if window.state.model is None:
            window.show_status("Train a model (or open a run) to see its kernels; the Kernels tab then shows "
                               "every epoch.")
        return
    slider.select(slider.epochs[-1] if epoch == "last" else int(epoch))


def _activations(window, tab, action: dict) -> None:
    photo = action.get("photo")
    if not photo:
        return
    if window.state.model is None:
        window.show_status("Train a model (or open a run) first: Activations shows what it sees in the photo.")
        return
    from studio.core.paths import RESOURCES

    tab.load_file(Path(RESOURCES) / "images" / photo)


def _predict(window, tab, action: dict) -> None:
    settings = action.get("adversarial")
    if settings is None:
        return
    panel = tab.adversarial
    if "eps" in settings:
        panel.set_eps(float(settings["eps"]))
    for tabs in tab.findChildren(QTabWidget):
        if tabs.indexOf(panel) >= 0:
            tabs.setCurrentWidget(panel)
