"""The side panel: the selected unit's values at t and its cell's equations with the numbers
plugged in (computed in numpy by ``rnnviz.analysis.explain``, one unit's weight rows: no JAX
here)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from rnnviz.analysis.explain import explain_unit, layer_input, records_at, state_before

from ..column.view import unit_words
from ..state.controller import Explorer


class Inspector(QWidget):
    def __init__(self, explorer: Explorer, parent=None):
        super().__init__(parent)
        self.explorer, self.state = explorer, explorer.state
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(self.body.textFormat().RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(scroll, 1)
        self.setMinimumWidth(260)
        explorer.state.events.selection.connect(self._update)
        explorer.state.events.t.connect(self._update)
        explorer.state.events.column_ready.connect(self._update)
        explorer.state.events.columns.connect(self._update)
        self._update()

    def lines(self) -> list[tuple[str, float]]:
        """The equations shown now (empty without a selection)."""
        sel = self.state.selection
        if sel is None:
            return []
        column = self.state.find(sel.column)
        if column is None or not column.ready:
            return []
        spec, trace, t, unit = column.model.spec, column.trace, self.state.t, column.unit
        arrays = trace.arrays
        c_prev = state_before(spec, arrays, unit, t, "c") if spec.cell_type.has_cell_state \
            else None
        before, now = records_at(spec, arrays, unit, t)
        return explain_unit(spec, column.model.params, unit, sel.index,
                            layer_input(spec, arrays, self.state.inputs, unit, t,
                                        column.model.params),
                            state_before(spec, arrays, unit, t, "h"), c_prev,
                            row=sel.name, before=before, now=now)

    def _update(self, *_) -> None:
        sel = self.state.selection
        if sel is None:
            self.heading.setText("<b>Unit inspector</b>")
            self.body.setText("Click a row of any heatmap to select a hidden unit: its values "
                              "at the current step and its equations appear here.")
            return
        lines = self.lines()
        column = self.state.find(sel.column)
        if column is None:
            return
        units = column.model.spec.units if column.model else [column.unit]
        layer = unit_words(column.unit, any("_" in u for u in units))
        self.heading.setText(f"<b>{html.escape(column.config.title)}</b>, {layer}, "
                             f"unit {sel.index}, t = {self.state.t}")
        spec = column.model.spec if column.model else None
        rows = []
        if column.ready:
            arrays = column.trace.arrays
            names = ["h", "c"] if spec.cell_type.has_cell_state else ["h"]
            # a projected LSTM's h is narrower than its cell: unit j may have no h of its own
            values = [f"{n} = {arrays[f'{n}_{column.unit}'][self.state.t, sel.index]:.4f}"
                      for n in names if sel.index < arrays[f"{n}_{column.unit}"].shape[1]]
            values += [f"{g} ({name}) = "
                       f"{arrays[f'gate_{g}_{column.unit}'][self.state.t, sel.index]:.4f}"
                       for g, (name, _) in spec.cell_type.gates.items()
                       # records of other widths (Mamba's dt, B, C) where the unit has one
                       if sel.index < arrays[f"gate_{g}_{column.unit}"].shape[1]]
            rows.append("<br>".join(values))
        eqs = "".join(f"<p style='font-family: monospace'>{html.escape(text)}</p>"
                      for text, _ in lines)
        note = ""
        if spec is not None and spec.cell_type.note:
            note = f"<p><i>{html.escape(spec.cell_type.note)}</i></p>"
        self.body.setText("<p>" + "".join(rows) + "</p>" + eqs + note)
