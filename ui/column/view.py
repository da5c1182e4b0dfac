"""One column of the explorer: a model's input, output, states, gates and gradients over time.

Rows are the same in every column so that columns line up: a row no column's cell has (the
cell state and the gates when every column is an RNN) collapses, and the rows left grow; a cell
type without a row another column has leaves it empty and says why. Plot items are built
once; a new trace re-fills them, a time step moves cursors and re-fills the bars at t. The
view reads the ``ExplorerState``, subscribes to its events and asks the controller for
changes; colour scales and the gradient range shared with the other columns come from the
window's ``SharedScales``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.core.cells import get_cell

from ..state.controller import Explorer
from ..state.explorer import Column, trace_time_words
from ..state.scales import SharedScales, reached_levels
from ..style import theme as colours
from ..style.styling import style_plot
from ..style.theme import Theme
from .elided_label import ElidedLabel
from .gradient_row import GradientRow
from .input_editor import InputEditor
from .layout import PlotGrid
from .sequence_rows import InputRow, OutputRow
from .state_rows import GateMeansRow, StateRow

GATE_SLOTS = 4
MIN_ROW_LINES = 3.2  # a heatmap row stays at least this many lines of text high


class ColumnView(QWidget):
    """The view of one ``Column`` of the explorer."""

    hovered = Signal(str)
    edit_requested = Signal(int)

    def __init__(self, explorer: Explorer, column_id: int, scales: SharedScales,
                 theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.explorer, self.state = explorer, explorer.state
        self.column_id, self.scales, self.theme = column_id, scales, theme
        self._hint: str | None = None  # a panel the narration's words point at
        self.editable = True
        self._build_header()
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.background)
        self.canvas.ci.layout.setSpacing(2)
        self.canvas.ci.setContentsMargins(2, 2, 2, 2)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._header)
        layout.addWidget(self.canvas, 1)
        self._build_rows()
        self.input_editor = InputEditor(self)

        events = self.state.events
        # psygnal, unlike a Qt signal, cannot know when a widget is deleted: every connection
        # is dropped by ``detach``, which the window calls before it lets the view go
        self._subscriptions = [
            (events.inputs_edited, self.input_editor.repaint),
            (events.column_ready, self._on_column_ready),
            (events.rows_ready, self._on_rows_ready),
            (events.t, self._update_cursor),
            (events.selection, self._update_selection),
            (events.highlights, self._update_frames),
            (events.columns, self._collapse_rows),
            (scales.events.grad_range, self.grad.set_range),
        ]
        for signal, slot in self._subscriptions:
            signal.connect(slot)
        if scales.grad_range is not None:
            self.grad.set_range(*scales.grad_range)
        self.apply_theme(theme)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.refresh()

    def detach(self) -> None:
        """Stop listening: the column is gone, and a view waiting for ``deleteLater`` must
        not look it up."""
        for signal, slot in self._subscriptions:
            signal.disconnect(slot)
        self._subscriptions = []

    # -- building ----------------------------------------------------------------------------
    @property
    def column(self) -> Column | None:
        return self.state.find(self.column_id)

    def _build_header(self) -> None:
        self.title = ElidedLabel()  # cut with "…" (whole in its tooltip) if the room is short
        self.unit_box = QComboBox()
        self.unit_box.setToolTip("Which layer and direction to show")
        self.unit_box.currentIndexChanged.connect(self._on_unit_chosen)
        # the header never widens its column (three columns fit at 1280 px, none slides under
        # the side panel): the trace time takes what room is left, then the title is cut;
        # the memory figure, which the memory lesson points at, stays whole
        self.status = ElidedLabel()
        self.status.setStyleSheet(f"color: {self.theme.muted};")
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.memory = QLabel()  # what back-propagation through the sequence holds
        self.memory.setStyleSheet(f"color: {self.theme.muted};")
        self.edit_button = QToolButton(text="Edit…")
        self.edit_button.setToolTip("Change this column's cell, size, layers or initialisation")
        self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.column_id))
        self.remove_button = QToolButton(text="✕")
        self.remove_button.setToolTip("Remove this column")
        self.remove_button.clicked.connect(lambda: self.explorer.remove_column(self.column_id))
        self._header = QHBoxLayout()
        self._header.setContentsMargins(4, 0, 4, 0)
        self._header.addWidget(self.title)
        self._header.addWidget(self.unit_box)
        self._header.addWidget(self.status, 1)
        self.memory.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._header.addWidget(self.memory)
        self._header.addWidget(self.edit_button)
        self._header.addWidget(self.remove_button)

    def _build_rows(self) -> None:
        t = self.theme
        self.grid = PlotGrid(self.canvas, t)
        with self.grid.building():
            self.input = InputRow(self.grid, t)
            self.output = OutputRow(self.grid, t)
            self.states = {slot: StateRow(self.grid, t, slot) for slot in
                           ["h", "c"] + [f"gate{k}" for k in range(GATE_SLOTS)]}
            self.means = GateMeansRow(self.grid, t, GATE_SLOTS)
            self.grad = GradientRow(self.grid, t)
        self.cursors = [*self.input.cursors, self.output.cursor,
                        *(row.cursor for row in self.states.values()), self.means.cursor,
                        self.grad.cursor]
        for plot in self._time_plots():
            if plot is not self.input.plot:
                plot.setXLink(self.input.plot)
        self._cache_static_items()
        layout = self.canvas.ci.layout
        layout.setColumnStretchFactor(0, 8)
        layout.setColumnStretchFactor(1, 1)
        layout.setColumnStretchFactor(2, 0)
        layout.setRowStretchFactor(self.grad.row, 2)  # the gradient plot gets two shares
        self._row_stretch = {self.grad.row: 2}
        self._rows_shown: set[str] | None = None
        self._curve_colours = (self.input.curve_colours + self.output.curve_colours
                               + self.grad.curve_colours)

    def rows_in_use(self) -> set[str]:
        """The state rows some column's cell has: "h", "c" if any carries a cell state, as many
        gate slots as the cell with the most gates, and "means" when there are gates."""
        cells = [get_cell(c.config.cell) for c in self.state.columns]
        slots = {"h"}
        if any(cell.has_cell_state for cell in cells):
            slots.add("c")
        gates = max((len(cell.gates) for cell in cells), default=0)
        slots.update(f"gate{k}" for k in range(min(gates, GATE_SLOTS)))
        if gates:
            slots.add("means")
        return slots

    def _collapse_rows(self, *_) -> None:
        """Collapse the rows no column has (every column does the same, so rows line up)."""
        shown = self.rows_in_use()
        if shown == self._rows_shown:
            return
        self._rows_shown = shown
        layout = self.canvas.ci.layout
        rows = {**{slot: (row.row, [row.plot, row.side, row.colour_bar])
                   for slot, row in self.states.items()},
                "means": (self.means.row, [self.means.plot])}
        for slot, (index, items) in rows.items():
            visible = slot in shown
            for item in items:
                item.setVisible(visible)
                item.setMaximumHeight(16777215 if visible else 0)
                item.setMinimumHeight(0)
            layout.setRowMaximumHeight(index, 16777215 if visible else 0)
            layout.setRowStretchFactor(index, self._row_stretch.get(index, 1) if visible else 0)
        layout.invalidate()
        self._set_minimum_height()

    def _set_minimum_height(self) -> None:
        """Tall enough for every row shown to stay readable; a shorter window scrolls."""
        line = self.theme.font(1.0).pointSizeF() * 96 / 72
        rows = len(self._rows_shown or ()) + 2          # the states, the input and the output
        fixed = self.grad.plot.minimumHeight() + 5 * line  # the strip, legend, axis, header
        self.setMinimumHeight(int(rows * MIN_ROW_LINES * line + fixed))

    def _cache_static_items(self) -> None:
        """Let Qt keep a pixmap of everything that does not move with the cursor (images,
        curves, axes), so that a step repaints them as a copy, not a Python paint call."""
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache
        plots = self._time_plots() + [row.side for row in self.states.values()]
        plots += [row.colour_bar for row in self.states.values()]
        for plot in plots:
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setCacheMode(cache)
            plot.disableAutoRange()
        items = [row.heatmap.image for row in self.states.values()]
        items += [self.input.map.image, self.grad.bad_points]
        curves = [*self.input.curves, self.output.target_curve, self.output.pred_curve,
                  *self.grad.curves]
        for curve in curves:
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            items += [curve.curve, curve.scatter]
        for item in items:
            item.setCacheMode(cache)

    # the names a preset's highlight and the panel export use
    def named_plots(self) -> dict[str, pg.PlotItem]:
        """Every time plot by row name: input, output, h, c, gate0..3, means, grad."""
        plots = {"input": self.input.plot, "output": self.output.plot}
        plots.update({slot: row.plot for slot, row in self.states.items()})
        plots.update(means=self.means.plot, grad=self.grad.plot)
        return plots

    def panel_plots(self, panel: str) -> list[pg.PlotItem]:
        """The plots that show a lesson's ``panel`` (``rnnviz.files.lessons.PANELS`` or a
        gate's letter) in this column; none for a row its cell does not have."""
        fixed = {"input": self.input.plot, "saliency": self.input.saliency_plot,
                 "output": self.output.plot, "grad": self.grad.plot}
        if panel in fixed:
            return [fixed[panel]]
        filled = [row for row in self.states.values() if row.name]
        gate_rows = [row.plot for row in filled if row.slot.startswith("gate")]
        if panel == "gates":
            return gate_rows
        if panel == "means":
            return [self.means.plot] if gate_rows else []
        return [row.plot for row in filled if row.name == panel]

    def show_hint(self, panel: str | None) -> None:
        """Frame ``panel`` while the pointer rests on narration words naming it (None: stop)."""
        if panel != self._hint:
            self._hint = panel
            self._update_frames()

    def _update_frames(self, *_) -> None:
        """Frame the panels the lesson (or the preset) points at, each in its own colour."""
        panels = sorted(self.state.highlighted(self.column_id))
        if self._hint is not None:
            panels.append(self._hint)
        pens = {}
        for panel in panels:
            for plot in self.panel_plots(panel):
                pens.setdefault(plot, self.theme.frame_pen(panel))
        for plot in (*self._time_plots(), self.input.saliency_plot):
            plot.getViewBox().setBorder(pens.get(plot))

    def _time_plots(self) -> list[pg.PlotItem]:
        return [self.input.plot, self.output.plot, *(row.plot for row in self.states.values()),
                self.means.plot, self.grad.plot]

    # convenient names for tests and exports
    @property
    def input_plot(self) -> pg.PlotItem:
        return self.input.plot

    @property
    def heatmaps(self):
        return {slot: row.heatmap for slot, row in self.states.items()}

    @property
    def bars(self):
        return {slot: row.bars for slot, row in self.states.items()}

    # -- theme -------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Restyle every existing item for ``theme`` (background, pens, fonts, colour maps,
        colour bars); nothing is re-created, and nothing here runs on a time step."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for plot in self._time_plots():
            style_plot(plot, theme, left_width=theme.axis_width)
        self.grid.apply_theme(theme)
        for row in self.states.values():
            row.apply_theme(theme)
        for curve, colour, dash in self._curve_colours:
            curve.setPen(theme.pen(colour, dash=dash))
        self.means.apply_theme(theme)
        for cursor in self.cursors:
            cursor.apply_theme(theme)
        self.input.apply_theme(theme)
        self.output.apply_theme(theme)
        self.grad.apply_theme(theme)
        self.title.setStyleSheet(f"font-weight: bold; color: {theme.foreground}; "
                                 f"{self._font_css()}")
        self.memory.setStyleSheet(f"color: {theme.muted}; {self._font_css()}")
        column = self.column
        if column is not None and not column.error:
            self.status.setStyleSheet(f"color: {theme.muted}; {self._font_css()}")
        self._show_edit_buttons()
        self._update_frames()
        if self._rows_shown is not None:
            self._set_minimum_height()

    def set_memory(self, text: str, tooltip: str) -> None:
        """The memory back-propagation through the column's sequence holds: ``"BPTT 12.3
        MB"``, and what it counts."""
        self.memory.setText(text)
        self.memory.setToolTip(tooltip)

    def set_editable(self, editable: bool) -> None:
        """Show or hide Edit… and ✕ (the student view hides them)."""
        self.editable = editable
        self._show_edit_buttons()

    def _show_edit_buttons(self) -> None:
        for button in (self.edit_button, self.remove_button):
            button.setVisible(self.editable and not self.theme.presentation)

    def _font_css(self) -> str:
        size = self.theme.ui_font_size
        return f"font-size: {size}pt;" if size else ""

    # -- filling from a trace ----------------------------------------------------------------
    def refresh(self) -> None:
        """Show the column as it is now (a new trace, configuration or sequence)."""
        column = self.column
        if column is None:
            return
        spec = column.model.spec if column.model else None
        self.title.setText(column_title(column))
        self.title.setToolTip(f"{column_title(column)}: the column's model and its hidden size "
                              f"(units per layer)")
        units = spec.units if spec else [column.unit]
        self.unit_box.blockSignals(True)
        self.unit_box.clear()
        for unit in units:
            self.unit_box.addItem(unit_words(unit, any("_" in u for u in units)), unit)
        self.unit_box.setCurrentIndex(max(self.unit_box.findData(column.unit), 0))
        self.unit_box.setVisible(len(units) > 1)
        self.unit_box.blockSignals(False)
        if column.error:
            self.status.setText(f"⚠ {column.error}")
            self.status.setToolTip(column.error)
            self.status.setStyleSheet(f"color: #cc0000; {self._font_css()}")
        else:
            words, about = trace_time_words(column.trace_time if column.ready else None)
            self.status.setText(words if column.ready else "computing…")
            self.status.setToolTip(about)
            self.status.setStyleSheet(f"color: {self.theme.muted}; {self._font_css()}")
        self._collapse_rows()
        s = self.state
        for cursor in self.cursors:
            cursor.steps = s.steps
        self.grad.set_time_label(s.steps)
        self.input.fill(s.inputs, s.labels,
                        s.task.channel_ticks if s.task is not None else None)
        self.output.fill_target(s.target, s.steps)
        if column.ready:
            self._fill_trace(column)
        else:
            self._clear_trace()
        self._update_selection()  # the outline needs the new images (and moves the cursor)
        self._update_frames()      # the rows the cell has may have changed

    def _fill_trace(self, column: Column) -> None:
        trace, spec, unit = column.trace, column.model.spec, column.unit
        cell = spec.cell_type
        grids = cell.record_grids(spec.hidden_size, spec.options)  # matrices, drawn as such
        self.output.classes = getattr(self.state.task, "classes", None)
        self.output.fill(trace, self.state.target)
        self.states["h"].fill("h", trace[f"h_{unit}"], self.scales.levels("h"),
                              grid=grids.get("h"))
        if cell.has_cell_state:
            self.states["c"].fill("c", trace[f"c_{unit}"], self.scales.levels("c"))
        else:
            # the cell's family, not the column's label
            self.states["c"].show_blank(f"no cell state: the {cell.kind} carries only h",
                                        trace.steps)
        gates = list(cell.gates.items())
        for k in range(GATE_SLOTS):
            row = self.states[f"gate{k}"]
            if k < len(gates):
                letter, (name, levels) = gates[k]
                data = trace[f"gate_{letter}_{unit}"]
                row.fill(letter, data, levels or reached_levels(data), label=f"{letter} {name}",
                         grid=grids.get(letter))
            elif not gates and k == 0:
                row.show_blank(f"a vanilla {cell.kind} has no gates", trace.steps)
            else:
                row.show_blank("", trace.steps)
        self.means.fill({letter: trace[f"gate_{letter}_{unit}"].mean(axis=1)
                         for letter in cell.gates})
        self.scales.forget(self.column_id)
        self.grad.fill_bptt(trace.arrays.get(f"grad_loss_h_{unit}"))
        self._fill_rows(column)
        self._fill_saliency(column)

    def _clear_trace(self) -> None:
        self.output.clear()
        for row in self.states.values():
            row.show_blank("", self.state.steps)
        self.grad.clear()
        self.input.saliency.clear()

    def _fill_rows(self, column: Column) -> None:
        """The gradient rows for the cursor: the flow as soon as it comes (the newest one
        while playing), the Jacobian norms only when they are for the current step."""
        self.grad.fill_rows({"flow": column.row("flow"),
                             "memory": column.row("memory", self.state.t)})
        dtype = column.model.spec.dtype if column.model is not None else np.float32
        self.scales.need_grad_range(self.column_id, self.grad.values(), dtype)

    def _fill_saliency(self, column: Column) -> None:
        """The newest saliency row (while playing it may be a step behind the cursor)."""
        entry = column.rows.get("saliency")
        sees_future = column.model is not None and column.model.spec.bidirectional
        self.input.saliency_cursor.set_shade(not sees_future)
        if entry is None:
            self.input.saliency.clear()
        else:
            self.input.saliency.set(entry[1], entry[0], sees_future)

    # -- reacting to the state ---------------------------------------------------------------
    def _on_column_ready(self, column_id: int) -> None:
        if column_id == self.column_id:
            self.refresh()
            return
        column = self.column
        if column is not None and column.ready:
            self._update_shared_levels()

    def _update_shared_levels(self) -> None:
        """Another column's trace arrived: the colour scales shared by every column (c, and h
        once a ReLU RNN is shown) may have moved. Only the levels change, not the data."""
        for slot in ("h", "c"):
            row = self.states[slot]
            if row.heatmap.data is None:
                continue
            levels = self.scales.levels(slot)
            if levels != row.levels:
                row.set_levels(levels)

    def _on_rows_ready(self, column_id: int, name: str) -> None:
        column = self.column
        if column_id != self.column_id or column is None:
            return
        if name == "saliency":
            self._fill_saliency(column)
        else:
            self._fill_rows(column)

    def _on_unit_chosen(self, index: int) -> None:
        unit = self.unit_box.itemData(index)
        if unit and self.column is not None:
            self.explorer.show_unit(self.column_id, unit)

    def _update_cursor(self, t: int) -> None:
        for cursor in self.cursors:
            cursor.move(t)
        self.output.move(t)
        column = self.column
        if column is None or not column.ready:
            return
        if column.row("memory", t) is None:
            self.grad.drop_memory()  # it was for another step
        sel = self.state.selection
        selected = sel.index if sel and sel.column == self.column_id else None
        for row in self.states.values():
            row.move(t, selected)

    def _update_selection(self, *_) -> None:
        sel = self.state.selection
        index = sel.index if sel and sel.column == self.column_id else None
        for row in self.states.values():
            row.select(index)
        self._update_cursor(self.state.t)

    # -- mouse -------------------------------------------------------------------------------
    def _plot_at(self, pos):
        for row in self.states.values():
            if row.plot.getViewBox().sceneBoundingRect().contains(pos):
                return row, row.plot
        for plot in (self.input.plot, self.input.saliency_plot, self.output.plot,
                     self.means.plot, self.grad.plot):
            if plot.getViewBox().sceneBoundingRect().contains(pos):
                return None, plot
        return None, None

    def _on_mouse_moved(self, pos) -> None:
        row, plot = self._plot_at(pos)
        column = self.column
        if plot is None or column is None:
            return
        point = plot.getViewBox().mapSceneToView(pos)
        if row is not None:
            hit = row.heatmap.value_at(point.x(), point.y())
            if hit is not None:
                t, unit, value = hit
                self.hovered.emit(f"{column.config.title} {row.name}[unit {unit}] at t={t}: "
                                  f"{value:.4g}")
            return
        t = int(round(point.x()))
        if not 0 <= t < self.state.steps:
            return
        parts = [f"{column.config.title} at t={t}:"]
        saliency = self.input.saliency
        if plot is self.input.saliency_plot and saliency.value_at(point.x()) is not None:
            parts.append(f"||d output_{saliency.t}/d x_{t}|| "
                         f"{saliency.value_at(point.x())[1]:.4g}")
        curves = {"input": self.input.curves[0], "target": self.output.target_curve,
                  "prediction": self.output.pred_curve, "dL/dh_k": self.grad.bptt_curve,
                  "d l_t/dh_k": self.grad.flow_curve, "dh_t/dh_k": self.grad.memory_curve,
                  **{f"mean {k}": c for k, c in self.means.curves.items()}}
        for name, curve in curves.items():
            if curve.yData is not None and len(curve.yData) > t and plot.isAncestorOf(curve):
                parts.append(f"{name} {curve.yData[t]:.4g}")
        self.hovered.emit("  ".join(parts))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.column is None:
            return
        row, plot = self._plot_at(event.scenePos())
        if plot is None:
            return
        point = plot.getViewBox().mapSceneToView(event.scenePos())
        if row is not None and not self.explorer.lesson.wants_step():
            hit = row.heatmap.value_at(point.x(), point.y())
            if hit is not None and row.name:
                self.explorer.select(self.column_id, row.name, hit[1])
        else:
            self.explorer.click_step(int(round(point.x())))


def column_title(column: Column) -> str:
    """``"LSTM · 16 units"``, ``"GRU · 2 layers of 32 units"`` (the label says the rest)."""
    spec = column.model.spec if column.model is not None else None
    hidden = spec.hidden_size if spec else column.config.hidden_size
    layers = spec.num_layers if spec else column.config.num_layers
    size = f"{hidden} units" if layers == 1 else f"{layers} layers of {hidden} units"
    return f"{column.config.title} · {size}"


def unit_words(unit: str, bidirectional: bool) -> str:
    """A layer and direction for the picker: ``l1`` -> ``"layer 2"``, and with two
    directions ``l0`` -> ``"layer 1 →"``, ``l0_reverse`` -> ``"layer 1 ←"``."""
    layer, _, direction = unit.partition("_")
    words = f"layer {int(layer[1:]) + 1}"
    if bidirectional:
        words += " ←" if direction else " →"
    return words
