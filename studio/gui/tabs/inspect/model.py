"""Model tab: the architecture as a table, a block diagram, totals, output sizes and receptive fields.

The numbers come from the core's torchinfo summary (the same one the CLI prints), so they
match the lectures: cifar-cnn has 5,852,170 parameters and 22.33 MB. Before any training the
tab builds the model chosen in the settings, so a student can study an architecture first; it
follows whichever came last: a model chosen in the settings, or a run's model (trained or
opened), and says which it shows.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QPlainTextEdit, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.inspect.formulas import LECTURE_FORMULA, layer_size_text, pair, receptive_field_text
from studio.gui.tabs.inspect.common import InspectTab, inspect_lock
from studio.gui.widgets.block_diagram import Block, BlockDiagram, kind_of

FORMULA = LECTURE_FORMULA
COLUMNS = ["Layer", "Type", "Output shape", "Parameters", "MACs", "Receptive field", f"Output size: {FORMULA}"]
COLUMN_TIPS = [
    "The module's name inside the model",
    "The layer's class",
    "The shape of its output for one input image, as torchinfo prints it: [batch, channels, height, width]",
    "Learned numbers in this layer (weights and biases)",
    "Multiply-accumulate operations for one image",
    "How many input pixels (per side) one output value of this layer can see (the lecture “PyTorch basics”)",
    "The lecture “CNN basics”'s formula with this layer's numbers: input width W_in, filter F, padding P, stride S "
    "(⌊ ⌋ = rounded down)",
]

# Shapes and class counts of the built-in datasets, for showing a model before the data is loaded.
KNOWN_DATA = {
    "mnist-sample": ((1, 28, 28), 10), "mnist": ((1, 28, 28), 10), "cifar10-sample": ((3, 32, 32), 10), "fashion-mnist": ((1, 28, 28), 10),
    "cifar10": ((3, 32, 32), 10), "cifar100": ((3, 32, 32), 100),
}


# ---------------------------------------------------------------------------- pure helpers

def format_shape(shape: Any) -> str:
    if shape is None or shape == []:
        return ""
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return ", ".join(format_shape(s) for s in shape)
    return "[" + ", ".join(str(v) for v in shape) + "]" if isinstance(shape, (list, tuple)) else str(shape)


def format_count(n: Any) -> str:
    return f"{int(n):,}" if isinstance(n, (int, float)) and n else ("0" if n == 0 else "")


def human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(int(n))


def _shape_text(shape: Any) -> str:
    if _flat(shape):
        return "×".join(str(v) for v in shape[1:])
    return format_shape(shape)


def _flat(shape: Any) -> bool:
    """A single tensor's shape (not a list of shapes)."""
    return isinstance(shape, (list, tuple)) and len(shape) > 1 and all(isinstance(v, int) for v in shape)


def block_for(row: Any) -> Block:
    kind = kind_of(row.type)
    title = row.type
    ins, outs = row.input_shape, row.output_shape
    if kind == "conv" and _flat(ins) and _flat(outs):
        k = pair(row.kernel_size)
        title = f"{row.type} {ins[1]}→{outs[1]}" + (f" {k[0]}×{k[1]}" if k else "")
    elif kind == "pool" and row.kernel_size is not None:
        k = pair(row.kernel_size)
        title = f"{row.type} {k[0]}×{k[1]}"
    elif kind == "linear" and _flat(ins) and _flat(outs):
        title = f"Linear {ins[-1]}→{outs[-1]}"
    rf = f"\nreceptive field {receptive_field_text(row.receptive_field)}" if row.receptive_field else ""
    tip = f"{row.name} ({row.type})\noutput {format_shape(outs)}\n{format_count(row.params) or 0} parameters{rf}"
    return Block(title=title, detail=_shape_text(outs), kind=kind, tooltip=tip)


def data_shape_for(state) -> tuple[tuple[int, int, int], int, str]:
    """The data shape and class count to build the configured model with, and a note on where they came from."""
    cfg = state.config
    bundle = state.dataset
    if bundle is not None and (getattr(bundle, "name", None) == cfg.dataset or cfg.dataset not in KNOWN_DATA):
        return tuple(bundle.input_shape), len(bundle.classes), f"data {bundle.name}"
    if cfg.dataset in KNOWN_DATA:
        shape, k = KNOWN_DATA[cfg.dataset]
        return shape, k, f"data {cfg.dataset}"
    side = int(getattr(cfg, "image_size", 64) or 64)
    return (3, side, side), 10, "a 3-channel image folder (10 classes assumed until it is loaded)"


def build_from_settings(state) -> tuple[Any, tuple[int, int, int], int, str]:
    """The model the settings describe, with random weights (no download to merely look at it)."""
    from studio.core.models import build_model, model_input_shape

    cfg = state.config
    data_shape, k, note = data_shape_for(state)
    input_shape = tuple(model_input_shape(cfg.model, data_shape, cfg.pretrained, dict(cfg.model_options or {})))
    model = build_model(cfg.model, input_shape, k, dict(cfg.model_options or {}), pretrained=False)
    model.eval()
    return model, input_shape, k, note


# ---------------------------------------------------------------------------- the tab

class ModelTab(InspectTab):
    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(state, parent)
        self.summary = None
        self.rows: list[Any] = []
        self._shown_rows: list[int] = []
        self._block_rows: list[int | None] = []
        self._summary_key = None
        self._follow_settings = False   # the settings chose another architecture after the model was loaded
        self._build_ui()
        state.modelChanged.connect(self._model_changed)
        state.configChanged.connect(self._config_changed)
        state.datasetChanged.connect(self._config_changed)

    def _build_ui(self) -> None:
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.totals = QLabel()
        # Wrapping: one line of totals for VGG-16 is ~700 px, and an unwrapped label's width is the
        # tab's minimum, which pushed the whole window past a 1280-pixel screen.
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals.setStyleSheet("font-size: 13px;")
        self.containers = QCheckBox("Show container modules")
        self.containers.setToolTip("Also list the Sequential blocks that group layers (torchinfo's nested rows)")
        self.containers.toggled.connect(self._fill_table)
        self.copy_button = QPushButton("Copy torchinfo summary")
        self.copy_button.clicked.connect(self._copy_summary)
        self.diagram = BlockDiagram(placeholder="")
        self.diagram.blockClicked.connect(self._block_clicked)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for i, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._row_selected)

        head = QHBoxLayout()
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addWidget(self.subtitle)
        text.addWidget(self.totals)
        head.addLayout(text, 1)
        head.addWidget(self.containers, 0, Qt.AlignmentFlag.AlignBottom)
        head.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignBottom)
        # print(model) as the lectures show it, beside the table (monospace, read-only, copyable)
        self.printed = QPlainTextEdit(readOnly=True)
        self.printed.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.printed.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.printed.setToolTip("print(model): the module tree as the lectures print it")
        beside = QSplitter(Qt.Orientation.Horizontal)
        beside.addWidget(self.table)
        beside.addWidget(self.printed)
        beside.setStretchFactor(0, 3)
        beside.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.diagram)
        split.addWidget(beside)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setSizes([200, 420])
        lay = QVBoxLayout(self.content)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(split, 1)

    # -- state -------------------------------------------------------------------------------
    def _model_changed(self) -> None:
        self._follow_settings = False   # a run's model (trained or opened) is newer than the settings
        self.mark_stale()

    def _config_changed(self) -> None:
        loaded, cfg = self.state.model, self.state.config
        was = self._follow_settings
        if loaded is not None:
            chosen = (cfg.model, dict(cfg.model_options or {}))
            self._follow_settings = chosen != (loaded.model_name, dict(loaded.model_options or {}))
        if loaded is None or self._follow_settings or was:
            self.mark_stale()

    def shows_settings(self) -> bool:
        """True when the tab shows the architecture chosen in the settings (random weights)."""
        return self.state.model is None or self._follow_settings

    def refresh(self) -> None:
        loaded = None if self.shows_settings() else self.state.model
        if loaded is None and not getattr(self.state.config, "model", ""):
            self.show_empty()
            return
        self.show_content()
        if loaded is not None:
            model, shape, name = loaded.model, tuple(loaded.input_shape), loaded.model_name
            where = f"epoch {loaded.epoch}" if getattr(loaded, "epoch", 0) else "untrained weights"
            source = getattr(loaded, "source", "")
            run = self.state.run_dir
            whose = f"The model of run {run.name}" if run is not None else "Loaded model"
            note = f"{whose} ({where}{', ' + source if source else ''}); input {_shape_text((1, *shape))}, " \
                   f"{len(loaded.classes)} classes."
            key = (name, shape, len(loaded.classes), repr(sorted((loaded.model_options or {}).items())))
            if key == self._summary_key and self.summary is not None:
                self.subtitle.setText(note)   # a new epoch of the same architecture: same table
                return
            self._summary_key, self.summary = key, None

            def work(progress, should_stop):
                return self._summarise(model, shape), note
        else:
            name = self.state.config.model
            note = ""
            self._summary_key = None

            def work(progress, should_stop):
                model, shape, k, where = build_from_settings(self.state)
                if should_stop():
                    return None
                summary = self._summarise(model, shape)
                summary_note = (f"Not trained yet: the model chosen in the settings, built for {where} (input "
                                f"{_shape_text((1, *shape))}, {k} classes), random weights.")
                return summary, summary_note

        self.title.setText(self._model_title(name))
        self.start("Summarising the model…", work, lambda result: self._show(result, note))

    @staticmethod
    def _summarise(model, shape):
        """The layer table and print(model)'s text, made together off the GUI thread."""
        from studio.core.inspect.summary import model_summary
        from studio.core.lectures.model_text import lecture_repr

        with inspect_lock:
            return model_summary(model, tuple(shape)), lecture_repr(model)

    @staticmethod
    def _model_title(name: str) -> str:
        try:
            from studio.core.models import get_spec

            spec = get_spec(name)
            return f"{spec.title}  ·  {spec.source}" if spec.source else spec.title
        except Exception:  # noqa: BLE001 - an unknown name is shown as it is
            return name

    def _show(self, result, note: str) -> None:
        if result is None:
            return
        (result, printed), note = result
        self.summary = result
        self.printed.setPlainText(printed)
        self.rows = list(result.rows)
        self.subtitle.setText(note)
        self.totals.setText(
            f"<b>Parameters:</b> {result.total_params:,} &nbsp; <b>Trainable:</b> {result.trainable_params:,}"
            f" &nbsp; <b>Size:</b> {result.size_mb:.2f} MB &nbsp; <b>MACs:</b> {human(result.total_macs)}"
            f" &nbsp; <b>Layers:</b> {sum(1 for r in self.rows if r.is_leaf)}")
        self._fill_table()
        self._fill_diagram()

    def _fill_table(self) -> None:
        show_all = self.containers.isChecked()
        self._shown_rows = [i for i, r in enumerate(self.rows) if show_all or r.is_leaf]
        self.table.setRowCount(len(self._shown_rows))
        for t, i in enumerate(self._shown_rows):
            r = self.rows[i]
            indent = "    " * max(0, int(r.depth or 0) - 1) if show_all else ""
            values = [indent + r.name, r.type, format_shape(r.output_shape), format_count(r.params),
                      human(r.macs) if r.macs else "", receptive_field_text(r.receptive_field), layer_size_text(r)]
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 5 and r.jump:
                    item.setToolTip(f"One step in this layer's output moves {r.jump} pixel(s) in the input.")
                if not r.is_leaf:
                    item.setForeground(Qt.GlobalColor.darkGray)
                self.table.setItem(t, c, item)
        self.table.resizeColumnsToContents()

    def _fill_diagram(self) -> None:
        leaves = [i for i, r in enumerate(self.rows) if r.is_leaf]
        first = self.rows[leaves[0]] if leaves else None
        blocks = [Block("Input", _shape_text(first.input_shape) if first else "", "input")]
        blocks += [block_for(self.rows[i]) for i in leaves]
        self._block_rows = [None] + leaves
        self.diagram.set_blocks(blocks)

    # -- linked selection -----------------------------------------------------------------
    def _block_clicked(self, b: int) -> None:
        row = self._block_rows[b] if b < len(self._block_rows) else None
        if row is not None and row in self._shown_rows:
            self.table.selectRow(self._shown_rows.index(row))
            self.table.scrollToItem(self.table.item(self._shown_rows.index(row), 0))

    def _row_selected(self) -> None:
        sel = self.table.selectionModel().selectedRows()
        if not sel:
            return
        row = self._shown_rows[sel[0].row()]
        if row in self._block_rows:
            self.diagram.select(self._block_rows.index(row))

    def _copy_summary(self) -> None:
        if self.summary is not None:
            QGuiApplication.clipboard().setText(self.summary.text)
            self.show_note("The torchinfo summary is on the clipboard.")

    # -- for tests and other tabs ------------------------------------------------------------
    def leaf_rows(self) -> Sequence[Any]:
        return [r for r in self.rows if r.is_leaf]
