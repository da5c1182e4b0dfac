"""One column of the explorer: a model's input, output, states, gates and gradients over time.

Rows are the same in every column so that columns line up; a cell type without a row's
quantity (the RNN has no gates, only the LSTM has a cell state) leaves the row empty and says
why. Plot items are built once; a new trace re-fills them, a time step moves cursors and
re-fills the bars at t.
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

from ui import theme as colours
from ui.explorer import Column, ExplorerModel
from ui.plots import Bars, Cursor, Heatmap, finite_positive
from ui.saliency_strip import SaliencyStrip
from ui.styling import colour_bar, set_colour_bar, style_colour_bar, style_plot
from ui.theme import Theme

GATE_SLOTS = 4
SHORT_LABELS = {"gate mean": "mean", "(no gates)": "", "p(y)": "p"}
SIGMOID, TANH = (0.0, 1.0), (-1.0, 1.0)

HELP = {
    "input": "The input sequence; the orange line is the current step t.",
    "saliency": "Input saliency for the current step t: cell k is log10 ||d output_t/d x_k||_F, "
                "how much the prediction at t still depends on input k (brightest = the most "
                "influential input; the scale spans 4 decades below it).",
    "output": "Target (dashed) and the model's prediction up to t. For classes, p(y): the "
              "probability the model gives the right class y at each scored step.",
    "h": "Hidden state h: one row per unit, one column per step (revealed up to t). "
         "Bars: h at step t. Click a row to select that unit.",
    "c": "LSTM cell state c, the long-term memory: f*c_(t-1) + i*g. Bars: c at step t.",
    "gate": "Gate activation per unit over time; colour scale fixed to the gate's range.",
    "means": "Mean of each gate over the units, over time.",
    "grad": "Gradient norms (log scale). Blue: ||dL/dh_k||, backprop through time of the "
            "whole loss. Orange: ||d loss_t/dh_k||, the gradient from step t flowing back. "
            "Green: ||dh_t/dh_k||_F, how much of step k the state at t still holds.",
}


class ColumnView(QWidget):
    """The view of one ``Column`` of an ``ExplorerModel``."""

    hovered = Signal(str)
    edit_requested = Signal(int)

    def __init__(self, model: ExplorerModel, column_id: int, theme: Theme = colours.LIGHT,
                 parent=None):
        super().__init__(parent)
        self.model, self.column_id, self.theme = model, column_id, theme
        self._labels: dict[pg.PlotItem, str] = {}
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
        self._build_plots()

        self._subscriptions = [
            (model.column_ready, self._on_column_ready),
            (model.rows_ready, self._on_rows_ready),
            (model.cursor_changed, self._update_cursor),
            (model.selection_changed, self._update_selection),
        ]
        for signal, slot in self._subscriptions:
            signal.connect(slot)
        self.apply_theme(theme)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._refresh()

    def detach(self) -> None:
        """Stop listening to the model: the column is gone, and a view waiting for
        ``deleteLater`` must not look it up."""
        for signal, slot in self._subscriptions:
            signal.disconnect(slot)
        self._subscriptions = []

    # -- building ----------------------------------------------------------------------------
    @property
    def column(self) -> Column:
        return self.model.column(self.column_id)

    def _build_header(self) -> None:
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold;")
        self.unit_box = QComboBox()
        self.unit_box.setToolTip("Which layer and direction to show")
        self.unit_box.currentTextChanged.connect(self._on_unit_chosen)
        self.status = QLabel()
        self.status.setStyleSheet(f"color: {self.theme.muted};")
        self.edit_button = QToolButton(text="Edit…")
        self.edit_button.setToolTip("Change this column's cell, size, layers or initialisation")
        self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.column_id))
        self.remove_button = QToolButton(text="✕")
        self.remove_button.setToolTip("Remove this column")
        self.remove_button.clicked.connect(lambda: self.model.remove_column(self.column_id))
        self._header = QHBoxLayout()
        self._header.setContentsMargins(4, 0, 4, 0)
        for w in (self.title, self.unit_box, self.status):
            self._header.addWidget(w)
        self._header.addStretch(1)
        self._header.addWidget(self.edit_button)
        self._header.addWidget(self.remove_button)

    def _plot(self, row: int, col: int, label: str, help_key: str) -> pg.PlotItem:
        plot = self.canvas.ci.addPlot(row=row, col=col)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setToolTip(HELP[help_key])
        left = plot.getAxis("left")
        left.setWidth(self.theme.axis_width)
        # ticks point out of the plot: an axis drawing into the plot area would be repainted
        # with every cursor step near that edge
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setStyle(tickLength=4)
        if label:
            self._label(plot, label)
        if col == 0:
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("bottom").setStyle(showValues=False)
        else:
            plot.setMouseEnabled(x=False, y=False)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
        return plot

    def _label(self, plot: pg.PlotItem, text: str) -> None:
        """A row's axis label; presentation mode's large fonts leave room only for the short
        form (the gate's letter, "mean", "p")."""
        self._labels[plot] = text
        if self.theme.presentation:
            text = SHORT_LABELS.get(text, text.split(" ")[0] if " " in text else text)
        plot.getAxis("left").setLabel(text)

    def _build_plots(self) -> None:
        t = self.theme
        self.cursors: list[Cursor] = []
        row = 0
        self.input_plot = self._plot(row, 0, "input", "input")
        self.input_curves = [self.input_plot.plot(pen=t.pen(c)) for c in
                             (colours.INPUT, "#56B4E9", "#009E73")]
        self.input_map = Heatmap(self.input_plot, t)
        self.input_plot.getViewBox().invertY(False)
        self.char_items: list[pg.TextItem] = []
        self.cursors.append(Cursor(self.input_plot, t, shade=False))
        row += 1
        self.saliency_plot = self._plot(row, 0, "", "saliency")
        self.saliency_plot.setMaximumHeight(18)
        self.saliency_plot.hideAxis("bottom")
        strip_axis = self.saliency_plot.getAxis("left")
        strip_axis.setTicks([[(0.5, "∂y/∂x")]])
        strip_axis.setStyle(tickLength=0, hideOverlappingLabels=False, tickTextOffset=1)
        font = strip_axis.font()
        font.setPointSizeF(7)
        strip_axis.setTickFont(font)
        self.saliency = SaliencyStrip(self.saliency_plot, t)
        self.saliency_plot.setXLink(self.input_plot)
        self.cursors.append(Cursor(self.saliency_plot, t))
        row += 1
        self.output_plot = self._plot(row, 0, "output", "output")
        self.target_curve = self.output_plot.plot(pen=t.pen(colours.TARGET, dash=True),
                                                  symbolBrush=colours.TARGET, symbolSize=5)
        self.pred_curve = self.output_plot.plot(pen=t.pen(colours.PREDICTION),
                                                symbolBrush=colours.PREDICTION, symbolSize=5)
        self.cursors.append(Cursor(self.output_plot, t))
        row += 1

        self.heatmaps: dict[str, Heatmap] = {}
        self.bars: dict[str, Bars] = {}
        self.colour_bars: dict[str, pg.ColorBarItem] = {}
        self.blanks: dict[str, pg.TextItem] = {}
        self.slot_plots: dict[str, tuple[pg.PlotItem, pg.PlotItem]] = {}
        self.slot_cursors: dict[str, Cursor] = {}
        slots = ["h", "c"] + [f"gate{k}" for k in range(GATE_SLOTS)]
        for slot in slots:
            help_key = slot if slot in ("h", "c") else "gate"
            main = self._plot(row, 0, slot if slot in ("h", "c") else "", help_key)
            side = self._plot(row, 1, "", help_key)
            self.slot_plots[slot] = (main, side)
            self.heatmaps[slot] = Heatmap(main, t)
            self.bars[slot] = Bars(side, t, TANH)
            self.colour_bars[slot] = colour_bar(TANH, t)
            self.canvas.ci.addItem(self.colour_bars[slot], row=row, col=2)
            self.slot_cursors[slot] = Cursor(main, t)
            self.cursors.append(self.slot_cursors[slot])
            row += 1

        self.means_plot = self._plot(row, 0, "gate mean", "means")
        self.means_plot.setYRange(-1, 1, padding=0.05)
        self.means_plot.getAxis("left").setTicks([[(-1, "-1"), (0, "0"), (1, "1")]])
        self._mean_items = [self.means_plot.plot() for _ in range(GATE_SLOTS)]  # made once
        for item in self._mean_items:
            item.setDownsampling(auto=True, method="peak")
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.mean_curves: dict[str, pg.PlotDataItem] = {}  # gate letter: its item
        self.cursors.append(Cursor(self.means_plot, t))
        row += 1

        self.grad_plot = self._plot(row, 0, "grad", "grad")
        self.grad_plot.setLogMode(y=True)
        self.grad_plot.getAxis("bottom").setStyle(showValues=True)
        self.bptt_curve = self.grad_plot.plot(pen=t.pen(colours.BPTT), name="dL/dh_k")
        self.flow_curve = self.grad_plot.plot(pen=t.pen(colours.FLOW), name="d l_t/dh_k")
        self.memory_curve = self.grad_plot.plot(pen=t.pen(colours.MEMORY, dash=True),
                                                name="dh_t/dh_k")
        self.bad_points = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen("#cc0000",
                                                                               width=2))
        self.grad_plot.addItem(self.bad_points)
        self.grad_warning = pg.TextItem("", color="#cc0000", anchor=(0, 0))
        self.grad_plot.addItem(self.grad_warning, ignoreBounds=True)
        self.cursors.append(Cursor(self.grad_plot, t, shade=False))
        self._shown_rows: dict[str, tuple] = {}  # name: (row object shown, its NaN/Inf steps)
        self._slot_levels: dict[str, tuple[float, float]] = {}  # colour scale of each row
        self._bptt_bad: list[int] = []
        self._grad_range: tuple[float, float] | None = None  # what this column's curves need
        self._shown_grad_range: tuple[float, float] | None = None  # shared by every column
        self.peers = lambda: [self]  # the views whose gradient ranges are shared (the window's)

        for plot in self._time_plots():
            if plot is not self.input_plot:
                plot.setXLink(self.input_plot)
        self._cache_static_items()
        layout = self.canvas.ci.layout
        layout.setColumnStretchFactor(0, 8)
        layout.setColumnStretchFactor(1, 1)
        layout.setColumnStretchFactor(2, 0)
        layout.setRowStretchFactor(row, 2)  # the gradient plot gets two shares
        # pens set by apply_theme: (curve, colour, dashed)
        self._curve_colours = [(c, colour, False) for c, colour in
                               zip(self.input_curves, (colours.INPUT, "#56B4E9", "#009E73"),
                                   strict=True)]
        self._curve_colours += [(self.target_curve, colours.TARGET, True),
                                (self.pred_curve, colours.PREDICTION, False),
                                (self.bptt_curve, colours.BPTT, False),
                                (self.flow_curve, colours.FLOW, False),
                                (self.memory_curve, colours.MEMORY, True)]

    def _cache_static_items(self) -> None:
        """Let Qt keep a pixmap of everything that does not move with the cursor (images,
        curves, axes), so that a step repaints them as a copy, not a Python paint call."""
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache
        plots = self._time_plots() + [side for _, side in self.slot_plots.values()]
        plots += list(self.colour_bars.values())
        for plot in plots:
            for axis in ("left", "bottom"):
                plot.getAxis(axis).setCacheMode(cache)
            plot.disableAutoRange()
        items = [h.image for h in self.heatmaps.values()] + [self.input_map.image,
                                                              self.bad_points]
        curves = [*self.input_curves, self.target_curve, self.pred_curve, self.bptt_curve,
                  self.flow_curve, self.memory_curve]
        for curve in curves:
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
            items += [curve.curve, curve.scatter]
        for item in items:
            item.setCacheMode(cache)

    def named_plots(self) -> dict[str, pg.PlotItem]:
        """Every time plot by row name: input, output, h, c, gate0..3, means, grad."""
        plots = {"input": self.input_plot, "output": self.output_plot}
        plots.update({slot: main for slot, (main, _) in self.slot_plots.items()})
        plots.update(means=self.means_plot, grad=self.grad_plot)
        return plots

    def _time_plots(self) -> list[pg.PlotItem]:
        mains = [p for p, _ in self.slot_plots.values()]
        return [self.input_plot, self.output_plot, *mains, self.means_plot, self.grad_plot]

    # -- theme -------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Restyle every existing item for ``theme`` (background, pens, fonts, colour maps,
        colour bars); nothing is re-created, and nothing here runs on a time step."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for plot in self._time_plots():
            style_plot(plot, theme, left_width=theme.axis_width)
        for plot, text in self._labels.items():
            self._label(plot, text)
        for main, side in self.slot_plots.values():
            style_plot(side, theme)
            # unit numbers of neighbouring rows would collide at presentation size
            main.getAxis("left").setStyle(showValues=not theme.presentation)
        for curve, colour, dash in self._curve_colours:
            curve.setPen(theme.pen(colour, dash=dash))
        for letter, curve in self.mean_curves.items():
            curve.setPen(theme.pen(colours.GATE_COLOURS[letter]))
        for cursor in self.cursors:
            cursor.apply_theme(theme)
        for slot, heatmap in self.heatmaps.items():
            heatmap.apply_theme(theme)
            self.bars[slot].apply_theme(theme)
            style_colour_bar(self.colour_bars[slot], theme)
            if heatmap.levels is not None:
                set_colour_bar(self.colour_bars[slot], heatmap.levels, theme)
        self.input_map.apply_theme(theme)
        for item in [*self.blanks.values()]:
            item.setColor(theme.muted)
            item.setFont(self._blank_font())
        for item in self.char_items:
            item.setColor(theme.foreground)
            item.setFont(theme.font())
        self.grad_warning.setFont(theme.font())
        self.bad_points.setSize(10 * max(1.0, theme.line_width / 1.5))
        self.title.setStyleSheet(f"font-weight: bold; {self._font_css()}")
        if not self.column.error:
            self.status.setStyleSheet(f"color: {theme.muted}; {self._font_css()}")
        for button in (self.edit_button, self.remove_button):
            button.setVisible(not theme.presentation)

    def _blank_font(self):
        """Why a row is empty: secondary, so it stays small in presentation mode."""
        return self.theme.font(min(1.0, 12 / self.theme.font_size))

    def _font_css(self) -> str:
        size = self.theme.ui_font_size
        return f"font-size: {size}pt;" if size else ""

    # -- filling from a trace ----------------------------------------------------------------
    def _refresh(self) -> None:
        column = self.column
        spec = column.model.spec if column.model else None
        self.title.setText(column.config.title + (f" {column.config.hidden_size}"
                                                  if spec is None else
                                                  f"  {spec.describe().split(' ', 1)[1]}"))
        units = spec.units if spec else [column.unit]
        self.unit_box.blockSignals(True)
        self.unit_box.clear()
        self.unit_box.addItems(units)
        self.unit_box.setCurrentText(column.unit)
        self.unit_box.setVisible(len(units) > 1)
        self.unit_box.blockSignals(False)
        if column.error:
            self.status.setText(f"⚠ {column.error}")
            self.status.setStyleSheet(f"color: #cc0000; {self._font_css()}")
        else:
            self.status.setText("" if column.ready else "computing…")
            self.status.setStyleSheet(f"color: {self.theme.muted}; {self._font_css()}")
        self._fill_sequence()
        if column.ready:
            self._fill_trace(column)
        else:
            self._clear_trace()
        self._update_selection()  # the outline needs the new images (and moves the cursor)

    def _fill_sequence(self) -> None:
        xs, steps = self.model.inputs, self.model.steps
        x = np.arange(steps)
        for cursor in self.cursors:
            cursor.steps = steps
        small = xs.shape[1] <= len(self.input_curves)
        for k, curve in enumerate(self.input_curves):
            curve.setData(x, xs[:, k]) if small and k < xs.shape[1] else curve.setData([], [])
        if small:
            self.input_map.clear()
            self._fit_y(self.input_plot, self.input_curves)
        else:
            lo, hi = float(xs.min()), float(xs.max())
            self.input_map.set(xs, (lo, hi if hi > lo else lo + 1), self.theme.sequential)
            self.input_plot.setYRange(0, xs.shape[1], padding=0)
        for item in self.char_items:
            self.input_plot.removeItem(item)
        self.char_items = []
        labels = self.model.labels
        if labels is not None and steps <= 400:  # characters stay readable only on short inputs
            for t, text in enumerate(labels):
                item = pg.TextItem(text, color=self.theme.foreground, anchor=(0.5, 1))
                item.setFont(self.theme.font())
                item.setPos(t, xs.shape[1] if not small else float(np.max(xs)))
                self.input_plot.addItem(item, ignoreBounds=True)
                self.char_items.append(item)
            # a band above the data for the characters (they sit on top of it)
            lo, hi = self.input_plot.viewRange()[1] if small else (0, xs.shape[1])
            self.input_plot.setYRange(lo, hi + 0.4 * (hi - lo), padding=0)
        self.input_plot.setXRange(-0.5, steps - 0.5, padding=0)

        target = self.model.target
        if target is None:
            self.target_curve.setData([], [])
        elif target.kind == "mse":
            values = np.where(target.mask > 0, target.values[:, 0], np.nan)
            sparse = target.mask.sum() < 0.2 * steps
            self.target_curve.setData(x, values, connect="finite",
                                      symbol="o" if sparse else None)
        else:
            self.target_curve.setData([], [])

    def _fill_trace(self, column: Column) -> None:
        trace, spec, unit = column.trace, column.model.spec, column.unit
        cell = spec.cell_type
        steps = trace.steps
        x = np.arange(steps)
        target = self.model.target
        if target is not None and target.kind == "xent":
            logits = trace["output"]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            correct = p[np.arange(steps), target.values]
            values = np.where(target.mask > 0, correct, np.nan)
            self.pred_curve.setData(x, values, connect="finite", symbol="o")
            self.output_plot.setYRange(0, 1, padding=0.05)
            # three fixed ticks: a short row has no room for the automatic six
            self.output_plot.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
            self._label(self.output_plot, "p(y)")
        else:
            sparse = target is not None and target.mask.sum() < 0.2 * steps
            self.output_plot.getAxis("left").setTicks(None)
            self.pred_curve.setData(x, trace["output"][:, 0], symbol="o" if sparse else None)
            self._fit_y(self.output_plot, [self.pred_curve, self.target_curve])
            self._label(self.output_plot, "output")

        h_levels = self._levels("h")
        self._fill_slot("h", trace[f"h_{unit}"], h_levels)
        if cell.has_cell_state:
            self._fill_slot("c", trace[f"c_{unit}"], self._levels("c"))
        else:
            kind = "GRU" if spec.cell == "gru" else "RNN"  # the cell, not the column's label
            self._blank_slot("c", f"no cell state: the {kind} carries only h")
        gates = list(cell.gates.items())
        for k in range(GATE_SLOTS):
            slot = f"gate{k}"
            if k < len(gates):
                letter, (name, levels) = gates[k]
                self._fill_slot(slot, trace[f"gate_{letter}_{unit}"], levels,
                                label=f"{letter} {name}")
            elif not gates and k == 0:
                self._blank_slot(slot, "a vanilla RNN has no gates")
            else:
                self._blank_slot(slot, "")
        self.mean_curves = dict(zip(cell.gates, self._mean_items, strict=False))
        for letter, curve in self.mean_curves.items():
            curve.setData(x, trace[f"gate_{letter}_{unit}"].mean(axis=1))
            curve.setPen(self.theme.pen(colours.GATE_COLOURS[letter]))
        for curve in self._mean_items[len(self.mean_curves):]:
            curve.setData([], [])
        self._label(self.means_plot, "gate mean" if cell.gates else "(no gates)")

        self._grad_range = None
        self._shown_rows = {}
        bptt = trace.arrays.get(f"grad_loss_h_{unit}")
        if bptt is not None:
            shown, bad = finite_positive(bptt)
            self.bptt_curve.setData(x, shown, connect="finite")
            self._bptt_bad = list(bad)
        else:
            self.bptt_curve.setData([], [])
            self._bptt_bad = []
        self._fill_rows(column)
        self._fill_saliency(column)

    def _expand_grad_range(self) -> None:
        """Grow the gradient plot's log range to fit its curves, in whole decades, and never
        shrink it while stepping: a range change would redraw every item of the plot. The
        range shown is the union over every column (``peers``), so that a gradient which
        vanishes faster in one column also looks steeper there."""
        values = [np.asarray(c.yData, float) for c in
                  (self.bptt_curve, self.flow_curve, self.memory_curve) if c.yData is not None]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values) & (values > 0)]
        if values.size == 0:
            return
        # A vanishing gradient reaches new decades as the cursor moves on, and each change of
        # range redraws the gradient plot of every column (a frame of ~16 ms instead of ~5).
        # So the bottom moves in whole multiples of three decades, three more than needed once
        # it starts moving (an RNN's gradient falls by a decade every few steps), and never
        # below the smallest number the model's float type holds.
        model = self.column.model
        dtype = model.spec.dtype if model is not None else np.float32
        floor = np.log10(np.finfo(dtype).smallest_subnormal)  # float32: -44.9
        lo = 3 * np.floor(np.log10(values.min()) / 3)
        hi = np.ceil(np.log10(values.max()))
        if self._grad_range is not None:
            lo, hi = min(lo, self._grad_range[0]), max(hi, self._grad_range[1])
        shown = self._shown_grad_range
        if shown is not None and lo < shown[0]:
            lo -= 3  # it is moving down: leave room for the next decades
        lo = max(lo, 3 * np.floor(floor / 3))
        self._grad_range = (lo, max(hi, lo + 1))
        ranges = [v._grad_range for v in self.peers() if v._grad_range is not None]  # noqa: SLF001
        shared = (min(r[0] for r in ranges), max(r[1] for r in ranges))
        for view in self.peers():
            if view._shown_grad_range != shared:  # noqa: SLF001
                view._shown_grad_range = shared  # noqa: SLF001
                view.grad_plot.setYRange(*shared, padding=0.02)

    def _fit_y(self, plot: pg.PlotItem, curves, log: bool = False) -> None:
        """Set a plot's y range to its curves' finite data once (auto-range stays off, so a
        time step never re-measures the data)."""
        values = [np.asarray(c.yData, float) for c in curves if c.yData is not None]
        values = np.concatenate(values) if values else np.array([])
        values = values[np.isfinite(values) & ((values > 0) if log else True)]
        if values.size == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        if log:
            lo, hi = np.log10(lo), np.log10(hi)
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        plot.setYRange(lo, hi, padding=0.08)

    def _fill_slot(self, slot: str, data: np.ndarray, levels, label: str | None = None):
        main, side = self.slot_plots[slot]
        if slot in self.blanks:
            main.removeItem(self.blanks.pop(slot))
            main.showAxis("left")
            side.getViewBox().setVisible(True)
            self.slot_cursors[slot].set_visible(True)
        self.heatmaps[slot].set(data, levels, self.theme.lut_for(levels))
        self._slot_levels[slot] = levels
        self.bars[slot].set_limits(levels)
        set_colour_bar(self.colour_bars[slot], levels, self.theme)
        self.colour_bars[slot].setVisible(True)
        if label is not None:
            self._label(main, label)
        main.setMouseEnabled(x=True, y=False)

    def _blank_slot(self, slot: str, text: str) -> None:
        main, side = self.slot_plots[slot]
        self.heatmaps[slot].clear()
        self.bars[slot].clear()
        self.colour_bars[slot].setVisible(False)
        if slot not in self.blanks:
            main.hideAxis("left")
            self.blanks[slot] = pg.TextItem(text, color=self.theme.muted, anchor=(0.5, 0.5))
            self.blanks[slot].setFont(self._blank_font())
            main.addItem(self.blanks[slot], ignoreBounds=True)
            side.getViewBox().setVisible(False)
            self.slot_cursors[slot].set_visible(False)
        self.blanks[slot].setText(text)
        self.blanks[slot].setPos(self.model.steps / 2, 0.5)
        main.setYRange(0, 1, padding=0)

    def _clear_trace(self) -> None:
        self.pred_curve.setData([], [])
        for slot in self.heatmaps:
            self._blank_slot(slot, "")
        for curve in (self.bptt_curve, self.flow_curve, self.memory_curve):
            curve.setData([], [])
        self._shown_rows, self._bptt_bad = {}, []
        self.bad_points.setData([], [])
        self.grad_warning.setText("")
        self.saliency.clear()

    def _levels(self, name: str) -> tuple[float, float]:
        """Shared colour scale across columns: tanh range for h, and the largest |c| (or
        relu h) of any column for unbounded states."""
        if name == "h" and not any(
                c.ready and c.model.spec.cell == "rnn_relu" for c in self.model.columns):
            return TANH
        top = 1.0
        for c in self.model.columns:
            if c.ready and f"{name}_{c.unit}" in c.trace:
                values = c.trace[f"{name}_{c.unit}"]
                finite = values[np.isfinite(values)]
                if finite.size:
                    top = max(top, float(np.abs(finite).max()))
        return (-top, top)

    def _fill_rows(self, column: Column) -> None:
        """The gradient rows for the cursor: the flow as soon as it comes (the newest one
        while playing), the Jacobian norms only when they are for the current step."""
        x = np.arange(self.model.steps)
        bad_x: list[int] = list(self._bptt_bad)
        for name, curve, t in (("flow", self.flow_curve, None),
                               ("memory", self.memory_curve, self.model.t)):
            row = column.row(name, t)
            shown_row, bad = self._shown_rows.get(name, (None, []))
            if row is not shown_row:  # a curve set again repaints its plot: only when new
                if row is None:
                    curve.setData([], [])
                    bad = []
                else:
                    shown, bad = finite_positive(row)  # zeros (k after t) leave gaps
                    curve.setData(x, shown, connect="finite")
                self._shown_rows[name] = (row, list(bad))
            bad_x.extend(bad)
        if bad_x:
            finite = [c.yData for c in (self.bptt_curve, self.flow_curve, self.memory_curve)
                      if c.yData is not None and np.any(np.isfinite(c.yData))]
            top = max((np.nanmax(y) for y in finite), default=1.0)
            self.bad_points.setData(np.asarray(bad_x, float),
                                    np.full(len(bad_x), np.log10(top) + 0.5))
            self.grad_warning.setText(f"NaN/Inf at {len(set(bad_x))} step(s)")
            self.grad_warning.setPos(0, np.log10(top) + 1)
        elif len(self.bad_points.data) or self.grad_warning.toPlainText():
            # only when there was something to take away: an empty scatter set again still
            # repaints the gradient plot on every step
            self.bad_points.setData([], [])
            self.grad_warning.setText("")
        self._expand_grad_range()

    def _fill_saliency(self, column: Column) -> None:
        """The newest saliency row (while playing it may be a step behind the cursor)."""
        entry = column.rows.get("saliency")
        if entry is None:
            self.saliency.clear()
        else:
            self.saliency.set(entry[1], entry[0])

    # -- reacting to the model ---------------------------------------------------------------
    def _on_column_ready(self, column_id: int) -> None:
        if column_id == self.column_id:
            self._refresh()
        elif self.column.ready:
            self._update_shared_levels()

    def _update_shared_levels(self) -> None:
        """Another column's trace arrived: the colour scales shared by every column (c, and
        h once a ReLU RNN is shown) may have moved. Only the levels change, not the data."""
        for slot in ("h", "c"):
            if self.heatmaps[slot].data is None:
                continue
            levels = self._levels(slot)
            if levels == self._slot_levels.get(slot):
                continue
            image = self.heatmaps[slot].image
            image.setLevels(levels)
            image.setLookupTable(self.theme.lut_for(levels))
            self.bars[slot].set_limits(levels)
            set_colour_bar(self.colour_bars[slot], levels, self.theme)
            self._slot_levels[slot] = levels

    def _on_rows_ready(self, column_id: int, name: str) -> None:
        if column_id != self.column_id:
            return
        if name == "saliency":
            self._fill_saliency(self.column)
        else:
            self._fill_rows(self.column)

    def _on_unit_chosen(self, unit: str) -> None:
        if unit:
            self.model.show_unit(self.column_id, unit)

    def _update_cursor(self, t: int) -> None:
        for cursor in self.cursors:
            cursor.move(t)
        column = self.column
        if not column.ready:
            return
        if (self.memory_curve.yData is not None and len(self.memory_curve.yData)
                and column.row("memory", t) is None):
            self.memory_curve.setData([], [])  # it was for another step
            self._shown_rows.pop("memory", None)
        sel = self.model.selection
        selected = sel.index if sel and sel.column == self.column_id else None
        for slot, heatmap in self.heatmaps.items():
            if heatmap.data is not None:
                self.bars[slot].set(heatmap.data[:, t], selected)

    def _update_selection(self) -> None:
        sel = self.model.selection
        index = sel.index if sel and sel.column == self.column_id else None
        for heatmap in self.heatmaps.values():
            heatmap.select(index)
        self._update_cursor(self.model.t)

    # -- mouse -------------------------------------------------------------------------------
    def _plot_at(self, pos):
        for slot, (main, _) in self.slot_plots.items():
            if main.getViewBox().sceneBoundingRect().contains(pos):
                return slot, main
        for plot in (self.input_plot, self.saliency_plot, self.output_plot, self.means_plot,
                     self.grad_plot):
            if plot.getViewBox().sceneBoundingRect().contains(pos):
                return None, plot
        return None, None

    def _slot_name(self, slot: str) -> str:
        if slot in ("h", "c"):
            return slot
        gates = list(self.column.model.spec.cell_type.gates) if self.column.model else []
        k = int(slot[4:])
        return gates[k] if k < len(gates) else ""

    def _on_mouse_moved(self, pos) -> None:
        slot, plot = self._plot_at(pos)
        if plot is None:
            return
        point = plot.getViewBox().mapSceneToView(pos)
        if slot is not None:
            hit = self.heatmaps[slot].value_at(point.x(), point.y())
            if hit is not None:
                t, unit, value = hit
                self.hovered.emit(f"{self.column.config.title} {self._slot_name(slot)}"
                                  f"[unit {unit}] at t={t}: {value:.4g}")
            return
        t = int(round(point.x()))
        if not 0 <= t < self.model.steps:
            return
        parts = [f"{self.column.config.title} at t={t}:"]
        if plot is self.saliency_plot and self.saliency.value_at(point.x()) is not None:
            parts.append(f"||d output_{self.saliency.t}/d x_{t}|| "
                         f"{self.saliency.value_at(point.x())[1]:.4g}")
        curves = {"input": self.input_curves[0], "target": self.target_curve,
                  "prediction": self.pred_curve, "dL/dh_k": self.bptt_curve,
                  "d l_t/dh_k": self.flow_curve, "dh_t/dh_k": self.memory_curve,
                  **{f"mean {k}": c for k, c in self.mean_curves.items()}}
        for name, curve in curves.items():
            if curve.yData is not None and len(curve.yData) > t and plot.isAncestorOf(curve):
                value = curve.yData[t]
                parts.append(f"{name} {value:.4g}")
        self.hovered.emit("  ".join(parts))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        slot, plot = self._plot_at(event.scenePos())
        if plot is None:
            return
        point = plot.getViewBox().mapSceneToView(event.scenePos())
        if slot is not None:
            hit = self.heatmaps[slot].value_at(point.x(), point.y())
            if hit is not None:
                self.model.select(self.column_id, self._slot_name(slot), hit[1])
        else:
            self.model.set_cursor(int(round(point.x())))
