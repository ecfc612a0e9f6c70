"""The settings panel: everything a run is made of, edited as a TrainConfig.

It is built before torch is imported (the window must appear at once), showing only the
current config's values; populate() fills in the dataset, model and device lists once the
core has loaded. Every user edit emits configChanged; programmatic updates do not.
"""

from __future__ import annotations

import copy
import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QGroupBox, QLabel,
    QLineEdit, QScrollArea, QSizePolicy, QSpinBox, QVBoxLayout, QWidget,
)

from studio.core.config.train_config import AugmentConfig, TrainConfig
from studio.core.normalization import CHOICES as NORMALIZATIONS, TITLES as NORMALIZATION_TITLES
from studio.core.config.presets import PRESETS, get_preset

OPTIMIZER_TITLES = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD (momentum)", "rmsprop": "RMSprop"}
SCHEDULE_TITLES = {"none": "Constant", "step": "Step decay", "cosine": "Cosine annealing", "onecycle": "One-cycle"}
FOLDER_ITEM = "__folder__"

# (config field, label, kind, default when switched on, maximum, step)
AUGMENTATIONS = (
    ("hflip", "Horizontal flip", "bool", True, None, None),
    ("crop_padding", "Random crop, padding (px)", "int", 4, 16, 1),
    ("rotation", "Rotation ± (degrees)", "float", 15.0, 180.0, 5.0),
    ("scale", "Zoom ± (fraction)", "float", 0.1, 0.9, 0.05),
    ("translate", "Shift ± (fraction of side)", "float", 0.1, 0.5, 0.05),
    ("color_jitter", "Colour jitter (strength)", "float", 0.2, 1.0, 0.05),
    ("noise_std", "Gaussian noise (σ)", "float", 0.05, 1.0, 0.01),
)


class LadderSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (learning rate, weight decay): steps go 1-2-5-10.

    It shows compact numbers (0.001, 5e-05) and accepts typed scientific notation.
    """

    def __init__(self, minimum: float, maximum: float, allow_zero: bool = False, parent=None):
        super().__init__(parent)
        self.allow_zero = allow_zero
        self.setDecimals(10)
        self.setRange(0.0 if allow_zero else minimum, maximum)
        self._min_positive = minimum
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def textFromValue(self, value: float) -> str:
        return "0" if value == 0 else f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            float(stripped)
            return QValidator.State.Acceptable, text, pos
        except ValueError:
            ok = all(ch in "0123456789.eE+-" for ch in stripped)
            return (QValidator.State.Intermediate if ok else QValidator.State.Invalid), text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = self._next(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def _next(self, value: float, up: bool) -> float:
        if value <= 0:
            return self._min_positive if up else 0.0
        ladder = []
        decade = math.floor(math.log10(value)) - 1
        for d in range(decade, decade + 3):
            ladder += [m * 10.0 ** d for m in (1, 2, 5)]
        if up:
            return next(v for v in ladder if v > value * (1 + 1e-9))
        below = [v for v in ladder if v < value * (1 - 1e-9)]
        if not below or below[-1] < self._min_positive:
            return 0.0 if self.allow_zero else self._min_positive
        return below[-1]


class DoublingSpinBox(QSpinBox):
    """Batch size: the arrows double and halve."""

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = value * 2 if steps > 0 else max(1, value // 2)
        self.setValue(value)


def _wrap_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def format_options(options: dict) -> str:
    import json

    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in (options or {}).items())


def parse_options(text: str) -> dict:
    """'activation=tanh, conv_channels=[8,16]' -> dict; values are JSON where they parse, else text.

    Unknown names and bad values are reported by the model registry when training starts.
    """
    import json
    import re

    options = {}
    # split on commas that are not inside brackets
    for part in re.split(r",(?![^\[]*\])", text or ""):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            continue
        raw = raw.strip()
        try:
            options[key.strip()] = json.loads(raw)
        except ValueError:
            options[key.strip()] = raw
    return options


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
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self._data_group())
        layout.addWidget(self._model_group())
        layout.addWidget(self._optim_group())
        layout.addWidget(self._augment_group())
        layout.addWidget(self._device_group())
        layout.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(300)
        self.set_config(self._base)
        self._connect_edits()

    # ------------------------------------------------------------ building

    def _data_group(self) -> QGroupBox:
        box = QGroupBox("Data")
        form = QFormLayout(box)
        self.preset_combo = QComboBox()
        self.preset_combo.addItem("Lecture recipe…", "")
        for preset in PRESETS:
            self.preset_combo.addItem(preset.title, preset.name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, preset.source, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip("Sets dataset, model, optimiser, learning rate, batch size, epochs, "
                                     "augmentation and normalisation as a lecture notebook did.")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(12)
        self.normalize_combo = QComboBox()
        for key in NORMALIZATIONS:
            self.normalize_combo.addItem(NORMALIZATION_TITLES[key], key)
            self.normalize_combo.setItemData(self.normalize_combo.count() - 1, NORMALIZATION_TITLES[key],
                                             Qt.ItemDataRole.ToolTipRole)
        self.normalize_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.normalize_combo.setMinimumContentsLength(12)
        self.dataset_combo = QComboBox()
        self.dataset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dataset_combo.setMinimumContentsLength(12)
        self.dataset_info = _wrap_label()
        self.image_size_spin = QSpinBox()
        self.image_size_spin.setRange(8, 512)
        self.image_size_spin.setToolTip("Side in pixels that images of a folder dataset are resized to.")
        form.addRow("Recipe", self.preset_combo)
        form.addRow("Dataset", self.dataset_combo)
        form.addRow(self.dataset_info)
        form.addRow("Folder image size", self.image_size_spin)
        form.addRow("Normalise", self.normalize_combo)
        return box

    def _model_group(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.pretrained_check = QCheckBox("Start from ImageNet weights")
        self.model_info = QLabel("…")
        self.model_info.setWordWrap(True)
        self.model_info.setObjectName("modelInfo")
        self.model_description = _wrap_label()
        self.options_edit = QLineEdit()
        self.options_edit.setToolTip("The architecture's options as name=value, comma-separated, e.g. "
                                     "activation=tanh or conv_channels=[8,16], kernel_size=5")
        form.addRow("Model", self.model_combo)
        form.addRow(self.model_info)
        form.addRow(self.model_description)
        form.addRow("Options", self.options_edit)
        form.addRow(self.pretrained_check)
        return box

    def _optim_group(self) -> QGroupBox:
        box = QGroupBox("Optimisation")
        form = QFormLayout(box)
        self.optimizer_combo = QComboBox()
        for key, title in OPTIMIZER_TITLES.items():
            self.optimizer_combo.addItem(title, key)
        self.lr_spin = LadderSpinBox(1e-6, 10.0)
        self.momentum_spin = QDoubleSpinBox()
        self.momentum_spin.setRange(0.0, 0.999)
        self.momentum_spin.setDecimals(3)
        self.momentum_spin.setSingleStep(0.05)
        self.weight_decay_spin = LadderSpinBox(1e-6, 1.0, allow_zero=True)
        self.weight_decay_spin.setToolTip("L2 regularisation (seed 001): 0 is off; 5e-4 is a common value.")
        self.batch_spin = DoublingSpinBox()
        self.batch_spin.setRange(1, 8192)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10000)
        self.schedule_combo = QComboBox()
        for key, title in SCHEDULE_TITLES.items():
            self.schedule_combo.addItem(title, key)
        self.step_size_spin = QSpinBox()
        self.step_size_spin.setRange(1, 1000)
        self.step_size_spin.setSuffix(" epochs")
        self.gamma_spin = QDoubleSpinBox()
        self.gamma_spin.setRange(0.01, 0.99)
        self.gamma_spin.setSingleStep(0.05)
        self.smoothing_spin = QDoubleSpinBox()
        self.smoothing_spin.setRange(0.0, 0.5)
        self.smoothing_spin.setSingleStep(0.05)
        self.patience_spin = QSpinBox()
        self.patience_spin.setRange(0, 100)
        self.patience_spin.setSpecialValueText("off")
        self.patience_spin.setToolTip("Stop when the test loss has not improved for this many epochs.")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.train_acc_combo = QComboBox()
        self.train_acc_combo.addItem("Running, over the epoch's batches (seed 003)", "running")
        self.train_acc_combo.addItem("A full pass after each epoch (seed 001)", "full-pass")
        self.train_acc_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.train_acc_combo.setMinimumContentsLength(10)
        form.addRow("Optimiser", self.optimizer_combo)
        form.addRow("Learning rate", self.lr_spin)
        form.addRow("Momentum", self.momentum_spin)
        form.addRow("Weight decay", self.weight_decay_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("LR schedule", self.schedule_combo)
        form.addRow("Step every", self.step_size_spin)
        form.addRow("Step factor", self.gamma_spin)
        form.addRow("Label smoothing", self.smoothing_spin)
        form.addRow("Early stopping", self.patience_spin)
        form.addRow("Random seed", self.seed_spin)
        form.addRow("Train accuracy", self.train_acc_combo)
        self._optim_form = form
        return box

    def _augment_group(self) -> QGroupBox:
        box = QGroupBox("Augmentation (training images only)")
        grid = QGridLayout(box)
        grid.setColumnStretch(0, 1)
        self.augment_checks: dict[str, QCheckBox] = {}
        self.augment_spins: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for row, (name, label, kind, default, maximum, step) in enumerate(AUGMENTATIONS):
            check = QCheckBox(label)
            grid.addWidget(check, row, 0)
            self.augment_checks[name] = check
            if kind == "bool":
                continue
            spin = QSpinBox() if kind == "int" else QDoubleSpinBox()
            if kind == "float":
                spin.setDecimals(2)
            spin.setRange(step, maximum)
            spin.setSingleStep(step)
            spin.setValue(default)
            spin.setMaximumWidth(80)
            grid.addWidget(spin, row, 1)
            self.augment_spins[name] = spin
        return box

    def _device_group(self) -> QGroupBox:
        box = QGroupBox("Device")
        form = QFormLayout(box)
        self.device_combo = QComboBox()
        self.device_combo.addItem("Automatic (best available)", "auto")
        self.device_combo.addItem("CPU", "cpu")
        self.amp_check = QCheckBox("Mixed precision (CUDA only)")
        form.addRow("Train on", self.device_combo)
        form.addRow(self.amp_check)
        return box

    def _connect_edits(self) -> None:
        self.dataset_combo.currentIndexChanged.connect(self._dataset_edited)
        self.model_combo.currentIndexChanged.connect(self._model_edited)
        self.preset_combo.activated.connect(self._preset_chosen)
        self.options_edit.editingFinished.connect(self._edited)
        combos = (self.optimizer_combo, self.schedule_combo, self.device_combo, self.normalize_combo,
                  self.train_acc_combo)
        for combo in combos:
            combo.currentIndexChanged.connect(self._edited)
        spins = (self.lr_spin, self.momentum_spin, self.weight_decay_spin, self.batch_spin, self.epochs_spin,
                 self.step_size_spin, self.gamma_spin, self.smoothing_spin, self.patience_spin, self.seed_spin,
                 self.image_size_spin, *self.augment_spins.values())
        for spin in spins:
            spin.valueChanged.connect(self._edited)
        for check in (self.pretrained_check, self.amp_check, *self.augment_checks.values()):
            check.toggled.connect(self._edited)

    # ------------------------------------------------------------ lists from the core

    def populate(self, datasets=(), models=(), devices=()) -> None:
        """Fill the lists: DatasetInfo, ModelSpec and (device, label) items; keeps the current choices."""
        current = self.config()
        self._updating = True
        try:
            if datasets:
                self._dataset_infos = {d.name: d for d in datasets}
                self.dataset_combo.clear()
                for info in datasets:
                    suffix = "" if info.offline else " (download)"
                    self.dataset_combo.addItem(f"{info.title}{suffix}", info.name)
                    self.dataset_combo.setItemData(self.dataset_combo.count() - 1, info.description,
                                                   Qt.ItemDataRole.ToolTipRole)
                self.dataset_combo.addItem("Image folder…", FOLDER_ITEM)
            if models:
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
            self._select(self.optimizer_combo, config.optimizer, config.optimizer)
            self._select(self.schedule_combo, config.schedule, config.schedule)
            self._select(self.device_combo, config.device, config.device)
            self._select(self.normalize_combo, config.normalize, config.normalize)
            self._select(self.train_acc_combo, config.train_accuracy, config.train_accuracy)
            self.options_edit.setText(format_options(config.model_options))
            self.lr_spin.setValue(config.lr)
            self.momentum_spin.setValue(config.momentum)
            self.weight_decay_spin.setValue(config.weight_decay)
            self.batch_spin.setValue(config.batch_size)
            self.epochs_spin.setValue(config.epochs)
            self.step_size_spin.setValue(config.step_size)
            self.gamma_spin.setValue(config.gamma)
            self.smoothing_spin.setValue(config.label_smoothing)
            self.patience_spin.setValue(config.early_stop_patience)
            self.seed_spin.setValue(config.seed)
            self.image_size_spin.setValue(config.image_size)
            self.pretrained_check.setChecked(config.pretrained)
            self.amp_check.setChecked(config.amp)
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
        cfg.optimizer = self.optimizer_combo.currentData() or cfg.optimizer
        cfg.schedule = self.schedule_combo.currentData() or cfg.schedule
        cfg.device = self.device_combo.currentData() or cfg.device
        cfg.normalize = self.normalize_combo.currentData() or cfg.normalize
        cfg.train_accuracy = self.train_acc_combo.currentData() or cfg.train_accuracy
        cfg.model_options = parse_options(self.options_edit.text())
        cfg.lr = float(self.lr_spin.value())
        cfg.momentum = float(self.momentum_spin.value())
        cfg.weight_decay = float(self.weight_decay_spin.value())
        cfg.batch_size = int(self.batch_spin.value())
        cfg.epochs = int(self.epochs_spin.value())
        cfg.step_size = int(self.step_size_spin.value())
        cfg.gamma = float(self.gamma_spin.value())
        cfg.label_smoothing = float(self.smoothing_spin.value())
        cfg.early_stop_patience = int(self.patience_spin.value())
        cfg.seed = int(self.seed_spin.value())
        cfg.image_size = int(self.image_size_spin.value())
        spec = self._model_specs.get(cfg.model)
        cfg.pretrained = bool(self.pretrained_check.isChecked() and (spec is None or spec.has_pretrained))
        cfg.amp = bool(self.amp_check.isChecked())
        cfg.augment = self.augment_config()
        if cfg.model != self._base.model:
            cfg.model_options = {}  # options belong to the architecture they were set for
        return cfg

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
        for name, check in self.augment_checks.items():
            spin = self.augment_spins.get(name)
            if spin is None:
                values[name] = check.isChecked()
            else:
                values[name] = spin.value() if check.isChecked() else 0
        values["crop_padding"] = int(values["crop_padding"])
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
