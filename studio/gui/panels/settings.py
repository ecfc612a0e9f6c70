"""The settings panel: everything a run is made of, edited as a TrainConfig.

Its training options are built from the field table (studio.core.config.fields): each row's
widget hint, label, range and help; the panel adds only what the table cannot know (the lists of
datasets, models and devices, the lecture recipes, the model's description).

It is built before torch is imported (the window must appear at once), showing only the
current config's values; populate() fills in the dataset, model and device lists once the
core has loaded. Every user edit emits configChanged; programmatic updates do not. The mouse
wheel scrolls the panel unless an input has the focus (WheelGuard).
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from studio.core.config.fields import BY_NAME as _FIELDS_BY_NAME
from studio.core.config.fields import GROUPS, Field, get_value, in_group, set_value
from studio.core.config.model_options import format_options, parse_options
from studio.core.config.presets import PRESETS, get_preset
from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.errors import StudioError
from studio.gui.panels.lr_finder import LrRow
from studio.gui.panels.settings_inputs import (
    DoublingSpinBox,
    LadderSpinBox,
    WheelGuard,
    compact_combo,
    hint_label,
    make_input,
    read_value,
    show_value,
)

__all__ = ["DoublingSpinBox", "LadderSpinBox", "SettingsPanel", "format_options", "parse_options"]

FOLDER_ITEM = "__folder__"
_OWN_WIDGETS = ("dataset", "model", "options", "device")   # widget hints the panel builds itself


class SettingsPanel(QScrollArea):
    """Editor of one TrainConfig. config() returns a fresh copy with the edits applied."""

    configChanged = Signal()
    datasetChanged = Signal(str)
    modelChanged = Signal(str)

    def __init__(self, config: TrainConfig | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._base = copy.deepcopy(config or TrainConfig())
        self._updating = False
        self._locked = False
        self._model_specs: dict = {}
        self._dataset_infos: dict = {}
        self.inputs: dict[str, QWidget] = {}         # field name -> its input (generated from the table)
        self.augment_checks: dict[str, QCheckBox] = {}
        self.augment_spins: dict[str, QWidget] = {}
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        for group in GROUPS:
            layout.addWidget(self._augment_group() if group == "augmentation" else self._form_group(group))
        layout.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(300)
        WheelGuard(self).guard(body)
        self.set_config(self._base)
        self._connect_edits()

    @property
    def batch_spin(self) -> DoublingSpinBox:
        return self.inputs["batch_size"]

    # ------------------------------------------------------------ building

    def _form_group(self, group: str) -> QGroupBox:
        box = QGroupBox(GROUPS[group])
        form = QFormLayout(box)
        if group == "data":
            form.addRow("Recipe", self._preset_picker())
        for f in in_group(group):
            if not f.widget:
                continue
            widget = self._own_widget(f) if f.widget in _OWN_WIDGETS else make_input(f)
            self.inputs[f.name] = widget
            setattr(self, _attribute(f), widget)
            if isinstance(widget, QCheckBox):
                form.addRow(widget)
            elif f.name == "lr":   # with its "Find LR…" button (the range test, gui/panels/lr_finder.py)
                self.lr_row = LrRow(widget, self.config)
                form.addRow(f.label, self.lr_row)
            else:
                form.addRow(f.label, widget)
            for extra in self._rows_after(f.name):
                form.addRow(extra)
        return box

    def _preset_picker(self) -> QComboBox:
        self.preset_combo = compact_combo()
        self.preset_combo.addItem("Lecture recipe…", "")
        for preset in PRESETS:
            self.preset_combo.addItem(preset.title, preset.name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.source, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("Sets dataset, model, optimiser, learning rate, batch size, epochs, "
                                     "augmentation and normalisation as a lecture notebook did.")
        return self.preset_combo

    def _own_widget(self, f: Field) -> QWidget:
        if f.widget == "options":
            widget = QLineEdit()
            widget.setToolTip("The architecture's options as name=value, comma-separated, e.g. "
                              "activation=tanh or conv_channels=[8,16], kernel_size=5")
            return widget
        widget = compact_combo()
        if f.widget == "device":
            widget.addItem("Automatic (best available)", "auto")
            widget.addItem("CPU", "cpu")
        return widget

    def _rows_after(self, name: str) -> list[QWidget]:
        if name == "dataset":
            self.dataset_info = hint_label()
            return [self.dataset_info]
        if name == "model":
            self.model_info = QLabel("…")
            self.model_info.setWordWrap(True)
            self.model_info.setObjectName("modelInfo")
            self.model_description = hint_label()
            return [self.model_info, self.model_description]
        return []

    def _augment_group(self) -> QGroupBox:
        box = QGroupBox(GROUPS["augmentation"])
        grid = QGridLayout(box)
        grid.setColumnStretch(0, 1)
        for row, f in enumerate(in_group("augmentation")):
            check = QCheckBox(f.label)
            check.setToolTip(f.help[0].upper() + f.help[1:] + ".")
            grid.addWidget(check, row, 0)
            self.augment_checks[f.key] = check
            if f.kind is not bool:
                self.augment_spins[f.key] = make_input(f)
                grid.addWidget(self.augment_spins[f.key], row, 1)
        return box

    def _connect_edits(self) -> None:
        self.dataset_combo.currentIndexChanged.connect(self._dataset_edited)
        self.model_combo.currentIndexChanged.connect(self._model_edited)
        self.preset_combo.activated.connect(self._preset_chosen)
        self.options_edit.editingFinished.connect(self._edited)
        others = [w for name, w in self.inputs.items() if name not in ("dataset", "model", "model_options")]
        for widget in (*others, *self.augment_checks.values(), *self.augment_spins.values()):
            if isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._edited)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._edited)
            else:
                widget.valueChanged.connect(self._edited)

    # ------------------------------------------------------------ lists from the core

    def populate(self, datasets=(), models=(), devices=()) -> None:
        """Fill the lists: DatasetInfo, ModelSpec and (device, label) items; keeps the current choices."""
        current = self.config()
        self._updating = True
        try:
            if datasets:
                self._fill_datasets(datasets)
            if models:
                self._fill_models(models)
            if devices:
                self.device_combo.clear()
                self.device_combo.addItem("Automatic (best available)", "auto")
                for device, label in devices:
                    self.device_combo.addItem(label, device)
        finally:
            self._updating = False
        if models and current.model not in self._model_specs:
            current.model = TrainConfig().model
        if datasets and not current.dataset.startswith("folder:") and current.dataset not in self._dataset_infos:
            current.dataset = TrainConfig().dataset
        self.set_config(current)

    def _fill_datasets(self, datasets) -> None:
        self._dataset_infos = {d.name: d for d in datasets}
        self.dataset_combo.clear()
        for info in datasets:
            suffix = "" if info.offline else " (download)"
            self.dataset_combo.addItem(f"{info.title}{suffix}", info.name)
            self.dataset_combo.setItemData(self.dataset_combo.count() - 1, info.description,
                                           Qt.ItemDataRole.ToolTipRole)
        self.dataset_combo.addItem("Image folder…", FOLDER_ITEM)

    def _fill_models(self, models) -> None:
        self._model_specs = {m.name: m for m in models}
        self.model_combo.clear()
        for family in ("lecture", "torchvision"):
            members = [m for m in models if m.family == family]
            if members and self.model_combo.count():
                self.model_combo.insertSeparator(self.model_combo.count())
            for spec in members:
                self.model_combo.addItem(f"{spec.title}  ({spec.name})", spec.name)
                self.model_combo.setItemData(self.model_combo.count() - 1, spec.description,
                                             Qt.ItemDataRole.ToolTipRole)

    def model_names(self) -> list[str]:
        return [self.model_combo.itemData(i) for i in range(self.model_combo.count()) if self.model_combo.itemData(i)]

    def dataset_names(self) -> list[str]:
        return [self.dataset_combo.itemData(i) for i in range(self.dataset_combo.count())
                if self.dataset_combo.itemData(i) not in (None, FOLDER_ITEM)]

    # ------------------------------------------------------------ config in and out

    def set_config(self, config: TrainConfig) -> None:
        """Show config in the widgets without emitting configChanged."""
        self._base = copy.deepcopy(config)
        self._updating = True
        try:
            self._select(self.dataset_combo, config.dataset, config.dataset.removeprefix("folder:"))
            self._select(self.model_combo, config.model, config.model)
            self._select(self.device_combo, config.device, config.device)
            self.options_edit.setText(format_options(config.model_options))
            for name, widget in self._generated():
                show_value(widget, get_value(config, name))
            for name, check in self.augment_checks.items():
                value = getattr(config.augment, name)
                check.setChecked(bool(value))
                if name in self.augment_spins and value:
                    self.augment_spins[name].setValue(value)
        finally:
            self._updating = False
        self._refresh_enabled()
        self._refresh_descriptions()

    def config(self) -> TrainConfig:
        cfg = copy.deepcopy(self._base)
        cfg.dataset = self.dataset_combo.currentData() or cfg.dataset
        if cfg.dataset == FOLDER_ITEM:
            cfg.dataset = self._base.dataset
        cfg.model = self.model_combo.currentData() or cfg.model
        cfg.device = self.device_combo.currentData() or cfg.device
        try:
            cfg.model_options = parse_options(self.options_edit.text())
        except StudioError:
            pass  # half-typed text: the last readable options stay until it reads again
        for name, widget in self._generated():
            value = read_value(widget, _FIELDS_BY_NAME[name].kind)
            set_value(cfg, name, get_value(cfg, name) if value is None else value)
        spec = self._model_specs.get(cfg.model)
        cfg.pretrained = bool(cfg.pretrained and (spec is None or spec.has_pretrained))
        cfg.augment = self.augment_config()
        if cfg.model != self._base.model:
            cfg.model_options = {}  # options belong to the architecture they were set for
        return cfg

    def _generated(self) -> list[tuple[str, QWidget]]:
        return [(name, w) for name, w in self.inputs.items() if _FIELDS_BY_NAME[name].widget not in _OWN_WIDGETS]

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        self.preset_combo.setCurrentIndex(0)
        if not name or self._updating:
            return
        before = self.config()
        recipe = get_preset(name).apply(before)
        from studio.core.data.registry import offline_stand_in  # torch: only once a recipe is picked

        recipe.dataset = offline_stand_in(recipe.dataset, recipe.data_dir)   # offline: the bundled sample
        self.set_config(recipe)
        if recipe.dataset != before.dataset:
            self.datasetChanged.emit(recipe.dataset)
        if recipe.model != before.model:
            self.modelChanged.emit(recipe.model)
        self.configChanged.emit()

    def augment_config(self) -> AugmentConfig:
        values = {}
        for f in in_group("augmentation"):
            checked = self.augment_checks[f.key].isChecked()
            spin = self.augment_spins.get(f.key)
            values[f.key] = checked if spin is None else (f.kind(spin.value()) if checked else f.kind(0))
        return AugmentConfig(**values)

    def set_model_info(self, text: str) -> None:
        self.model_info.setText(text)

    def set_locked(self, locked: bool) -> None:
        """While a run trains, its settings cannot change under it."""
        self._locked = locked
        self.widget().setEnabled(not locked)

    # ------------------------------------------------------------ reactions

    def _select(self, combo: QComboBox, value: str, title: str) -> None:
        index = combo.findData(value)
        if index < 0:
            combo.addItem(title, value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def _edited(self, *_args) -> None:
        if self._updating:
            return
        self._refresh_enabled()
        self._base = self.config()
        self.configChanged.emit()

    def _dataset_edited(self, *_args) -> None:
        if self._updating:
            return
        if self.dataset_combo.currentData() == FOLDER_ITEM and not self._choose_folder():
            self._updating = True
            self._select(self.dataset_combo, self._base.dataset, self._base.dataset.removeprefix("folder:"))
            self._updating = False
            return
        self._edited()
        self._refresh_descriptions()
        self.datasetChanged.emit(self._base.dataset)

    def _choose_folder(self) -> bool:
        folder = QFileDialog.getExistingDirectory(self, "Image folder: one sub-folder per class")
        if not folder:
            return False
        name = f"folder:{folder}"
        self._updating = True
        self._select(self.dataset_combo, name, folder)
        self._updating = False
        return True

    def _model_edited(self, *_args) -> None:
        if self._updating:
            return
        self._edited()
        self.options_edit.setText(format_options(self._base.model_options))  # emptied for the new model
        self._refresh_descriptions()
        self.modelChanged.emit(self._base.model)

    def _refresh_enabled(self) -> None:
        optimizer = self.optimizer_combo.currentData()
        schedule = self.schedule_combo.currentData()
        self.momentum_spin.setEnabled(optimizer in ("sgd", "rmsprop"))
        self.step_size_spin.setEnabled(schedule == "step")
        self.gamma_spin.setEnabled(schedule == "step")
        spec = self._model_specs.get(self.model_combo.currentData())
        self.pretrained_check.setEnabled(bool(spec and spec.has_pretrained))
        self.amp_check.setEnabled(str(self.device_combo.currentData()).startswith(("cuda", "auto")))
        dataset = self.dataset_combo.currentData() or ""
        self.image_size_spin.setEnabled(str(dataset).startswith("folder:"))
        for name, spin in self.augment_spins.items():
            spin.setEnabled(self.augment_checks[name].isChecked())

    def _refresh_descriptions(self) -> None:
        info = self._dataset_infos.get(self.dataset_combo.currentData())
        dataset = str(self.dataset_combo.currentData() or "")
        if info is not None:
            self.dataset_info.setText(info.description)
        elif dataset.startswith("folder:"):
            self.dataset_info.setText("Your own images: one sub-folder per class.")
        else:
            self.dataset_info.setText("")
        spec = self._model_specs.get(self.model_combo.currentData())
        self.model_description.setText(f"{spec.description} ({spec.source})" if spec else "")
        defaults = format_options(spec.default_options) if spec else ""
        self.options_edit.setPlaceholderText(defaults or "this model takes no options")
        self.options_edit.setEnabled(bool(defaults))
        self.model_description.setVisible(bool(spec))
        self.dataset_info.setVisible(bool(self.dataset_info.text()))
        for label in (self.model_description, self.dataset_info):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)


def _attribute(f: Field) -> str:
    """The panel's name for a field's input: lr_spin, optimizer_combo, amp_check, options_edit."""
    if f.widget == "options":
        return "options_edit"
    if f.widget in ("combo", "dataset", "model", "device"):
        return f"{f.key}_combo"
    return f"{f.key}_check" if f.widget == "check" else f"{f.key}_spin"
