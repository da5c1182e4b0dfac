"""A dialog to change one column: cell type, hidden size, layers, direction, initialisation,
seed and the cell's own sizes (its ``CellType.options``: Mamba's d_inner, d_state, d_conv and
dt_rank, the LRU's state size...), a spin box each, read from the cell module's declaration and
checked as the engine checks them (one line in red; OK waits until they fit). Any change
draws fresh weights; OK with nothing changed keeps the column as it is (its label, weights
file and trained weights included)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
)

from rnnviz.core.cells import CELLS, get_cell
from rnnviz.core.init import InitOptions
from rnnviz.errors import RnnvizError
from rnnviz.files.presets import ModelConfig
from rnnviz.limits import MAX_HIDDEN, MAX_LAYERS, MAX_SEED


class ColumnEditor(QDialog):
    def __init__(self, config: ModelConfig, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Column")
        form = QFormLayout(self)
        self.cell = QComboBox()
        for cell in CELLS.values():
            self.cell.addItem(cell.label, cell.name)
        self.hidden = QSpinBox(minimum=1, maximum=MAX_HIDDEN)
        self.layers = QSpinBox(minimum=1, maximum=MAX_LAYERS)
        self.bidirectional = QCheckBox("bidirectional")
        self.recurrent = QComboBox()
        self.recurrent.addItems(["uniform", "orthogonal"])
        self.gain = QDoubleSpinBox(minimum=0.01, maximum=100.0, singleStep=0.1, decimals=2)
        self.use_radius = QCheckBox("set spectral radius")
        self.radius = QDoubleSpinBox(minimum=0.01, maximum=100.0, singleStep=0.1, decimals=2)
        self.use_forget = QCheckBox("set forget-gate bias")
        self.forget = QDoubleSpinBox(minimum=-20.0, maximum=20.0, singleStep=0.5, decimals=2)
        self.seed = QSpinBox(minimum=0, maximum=MAX_SEED)
        form.addRow("Cell", self.cell)
        form.addRow("Hidden size", self.hidden)
        form.addRow("Layers", self.layers)
        form.addRow("", self.bidirectional)
        form.addRow("Recurrent init", self.recurrent)
        form.addRow("Recurrent gain", self.gain)
        form.addRow(self.use_radius, self.radius)
        form.addRow(self.use_forget, self.forget)
        form.addRow("Seed", self.seed)
        self.form = form
        self.options: dict[str, QSpinBox] = {}  # the chosen cell's own sizes, by name
        self._options_for: tuple | None = None   # the (cell, hidden size) they were made for
        self.option_error = QLabel()
        self.option_error.setStyleSheet("color: #cc0000;")
        self.option_error.setWordWrap(True)
        self.option_error.setVisible(False)
        form.addRow(self.option_error)
        form.addRow(QLabel("Applying draws new weights (trained weights are dropped)."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        form.addRow(buttons)
        self.use_radius.toggled.connect(self._sync)
        self.use_forget.toggled.connect(self._sync)
        self.cell.currentIndexChanged.connect(self._sync)
        self.hidden.valueChanged.connect(self._sync)
        self._config = config
        self.set_config(config)

    def set_config(self, config: ModelConfig) -> None:
        self.cell.setCurrentIndex(self.cell.findData(config.cell))
        self.hidden.setValue(config.hidden_size)
        self.layers.setValue(config.num_layers)
        self.bidirectional.setChecked(config.bidirectional)
        self.recurrent.setCurrentText(config.init.recurrent)
        self.gain.setValue(config.init.recurrent_gain)
        self.use_radius.setChecked(config.init.spectral_radius is not None)
        self.radius.setValue(config.init.spectral_radius or 1.0)
        self.use_forget.setChecked(config.init.forget_bias is not None)
        self.forget.setValue(config.init.forget_bias if config.init.forget_bias is not None
                             else 1.0)
        self.seed.setValue(config.seed)
        self._config = config
        self._options_for = None
        self._sync()
        self._shown = self._values()
        self._shown_numbers = {box: box.value() for box in (self.gain, self.radius, self.forget)}

    def _values(self) -> tuple:
        """What the form shows, to tell whether the user changed anything (the spin boxes
        round a preset's numbers, so the config itself cannot be compared)."""
        return (self.cell.currentData(), self.hidden.value(), self.layers.value(),
                self.bidirectional.isChecked(), self.recurrent.currentText(), self.gain.value(),
                self.use_radius.isChecked(), self.radius.value(), self.use_forget.isChecked(),
                self.forget.value(), self.seed.value(), self.option_values())

    def option_values(self) -> tuple[tuple[str, int], ...]:
        """The cell's own sizes as the form shows them, ``(name, value)`` in declared order."""
        return tuple((name, box.value()) for name, box in self.options.items())

    def changed(self) -> bool:
        return self._values() != self._shown

    def _number(self, box: QDoubleSpinBox, before: float | None) -> float:
        """The box's number, or the config's own when the box still shows it (rounded to
        the box's decimals)."""
        untouched = box.value() == self._shown_numbers[box]
        return before if before is not None and untouched else box.value()

    def _sync(self) -> None:
        self._show_options()
        self.radius.setEnabled(self.use_radius.isChecked())
        self.gain.setEnabled(not self.use_radius.isChecked())
        forget = self._has_forget_gate()
        self.use_forget.setEnabled(forget)
        self.forget.setEnabled(forget and self.use_forget.isChecked())

    def _show_options(self) -> None:
        """One spin box per option the chosen cell declares (``CellType.options``), made again
        when the cell or the hidden size changes: the column's own values while both are its
        own, else the cell's defaults for that size (Mamba's d_inner follows it)."""
        cell, hidden = self.cell.currentData(), self.hidden.value()
        if cell is None or (cell, hidden) == self._options_for:
            self._check_options()
            return
        self._options_for = (cell, hidden)
        own = (dict(self._config.options)
               if (cell, hidden) == (self._config.cell, self._config.hidden_size) else {})
        for box in self.options.values():
            self.form.removeRow(box)
        self.options = {}
        row = self.form.getWidgetPosition(self.seed)[0] + 1
        for k, option in enumerate(get_cell(cell).options):
            box = QSpinBox(minimum=option.lo, maximum=option.hi)
            box.setValue(int(own.get(option.name, option.default(hidden))))
            box.setToolTip(f"{option.name}: {option.about} ({option.lo}..{option.hi})")
            box.valueChanged.connect(self._check_options)
            self.form.insertRow(row + k, option.name, box)
            self.options[option.name] = box
        self._check_options()

    def _check_options(self) -> None:
        """The engine's own check of the sizes together (``CellType.check_options``: a Mamba
        state of d_inner x d_state at most MAX_STATE values...): its one line, and no OK."""
        cell = self.cell.currentData()
        try:
            get_cell(cell).check_options(self.option_values(), self.hidden.value(),
                                         source="options")
            error = ""
        except RnnvizError as e:
            error = str(e)
        self.option_error.setText(error)
        self.option_error.setVisible(bool(error))
        self.ok_button.setEnabled(not error)

    def accept(self) -> None:
        if self.option_error.isVisible():
            return  # the line in red says why
        super().accept()

    def _has_forget_gate(self) -> bool:
        return get_cell(self.cell.currentData()).forget_block is not None

    def config(self) -> ModelConfig:
        """The config the form describes: the column's own when nothing was changed, else a
        new one (no label, no weights file: the label described the old model)."""
        if not self.changed():
            return self._config
        forget = self._has_forget_gate()
        before = self._config.init
        init = InitOptions(
            recurrent=self.recurrent.currentText(),
            recurrent_gain=self._number(self.gain, before.recurrent_gain),
            spectral_radius=(self._number(self.radius, before.spectral_radius)
                             if self.use_radius.isChecked() else None),
            forget_bias=(self._number(self.forget, before.forget_bias)
                         if forget and self.use_forget.isChecked() else None),
        )
        cell, hidden = self.cell.currentData(), self.hidden.value()
        # a cell's own sizes as the form shows them, the defaults for this hidden size left
        # out (they follow the size, as a preset without them does)
        defaults = {o.name: o.default(hidden) for o in get_cell(cell).options}
        options = tuple((name, value) for name, value in self.option_values()
                        if value != defaults[name])
        return replace(self._config, cell=cell, hidden_size=hidden,
                       num_layers=self.layers.value(),
                       bidirectional=self.bidirectional.isChecked(), seed=self.seed.value(),
                       init=init, weights=None, label=None, options=options)
