"""The rows about a layer's state: one ``StateRow`` per state (h, c, each gate) and the gate
means.

A ``StateRow`` is a heatmap of the state over time (one row per unit, revealed up to t by
the cursor's veil), the state at t as bars beside it (or, for a record the cell declares a
matrix, ``CellType.grids``, as a small heatmap of that matrix: Mamba's state, channels by
states) and a colour bar with its fixed scale.
A row whose state the column's cell does not have is blank and says why.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from ..style import theme as colours
from ..style.styling import colour_bar, set_colour_bar, style_colour_bar, style_plot
from ..style.theme import Theme
from .items import Bars, Cursor, Heatmap, StateGrid
from .layout import PlotGrid

TANH = (-1.0, 1.0)
MIN_UNITS_SHOWN = 8  # zoomed in on the units, at least this many rows stay in view
HELP = {
    "h": "Hidden state h: one row per unit, one column per step (revealed up to t). "
         "Bars: h at step t. Click a row to select that unit; the wheel zooms in on steps "
         "and units.",
    "c": "LSTM cell state c, the long-term memory: f*c_(t-1) + i*g. Bars: c at step t.",
    "gate": "Gate activation per unit over time; colour scale fixed to the gate's range.",
    "means": "Mean of each gate over the units, over time.",
}


class StateRow:
    """Heatmap, bars at t and colour bar of one state (see the module docstring)."""

    def __init__(self, grid: PlotGrid, theme: Theme, slot: str):
        self.slot, self.grid, self.theme = slot, grid, theme
        self.help_text = help_text = HELP[slot if slot in ("h", "c") else "gate"]
        self.row = row = grid.next_row()
        self.plot = grid.plot(row, 0, slot if slot in ("h", "c") else "", help_text)
        self.side = grid.plot(row, 1, "", help_text)
        self.heatmap = Heatmap(self.plot, theme)
        self.bars = Bars(self.side, theme, TANH)
        self.side.setYLink(self.plot)  # the bars follow the units the heatmap is zoomed to
        self.grid_at_t = StateGrid(self.side, theme)
        self.colour_bar = colour_bar(TANH, theme)
        grid.layout.addItem(self.colour_bar, row=row, col=2)
        self.cursor = Cursor(self.plot, theme)
        self.levels: tuple[float, float] | None = None
        self.blank: pg.TextItem | None = None
        self.name = ""  # the state shown: "h", "c" or a gate's letter ("" when blank)

    def fill(self, name: str, data: np.ndarray, levels, label: str | None = None,
             grid=None) -> None:
        """Show state ``name``, ``data (T, H)``, on the colour scale ``levels``; ``grid`` (a
        ``rnnviz.core.cells.Grid``): the state at t drawn as that matrix, not as bars."""
        if self.blank is not None:
            self.plot.removeItem(self.blank)
            self.blank = None
            self.plot.showAxis("left")
            self.side.getViewBox().setVisible(True)
            self.cursor.set_visible(True)
        self.name = name
        self.heatmap.set(data, levels, self.theme.lut_for(levels))
        if grid != self.grid_at_t.shape:
            self.bars.clear()
            self.bars.set_visible(grid is None)
            # the bars follow the units the heatmap is zoomed to; a matrix has its own rows
            self.side.setYLink(self.plot if grid is None else None)
            self.grid_at_t.show(grid, levels, self.theme.lut_for(levels))
            self.side.setToolTip(self.help_text if grid is None else
                                 f"{name} at step t as the {grid.rows} x {grid.cols} matrix it "
                                 f"is: one row per {grid.row_name}, one column per "
                                 f"{grid.col_name}")
        self.set_levels(levels)
        self.colour_bar.setVisible(True)
        if label is not None:
            self.grid.label(self.plot, label)
        # the wheel zooms the units too (within them, at least a few shown): 512 rows of a
        # pixel or less each become rows a click can tell apart
        units = data.shape[1]
        self.plot.setLimits(yMin=0, yMax=units, minYRange=min(units, MIN_UNITS_SHOWN))
        self.plot.setMouseEnabled(x=True, y=True)

    def set_levels(self, levels) -> None:
        """A new colour scale for the data shown (a shared scale moved)."""
        if self.heatmap.data is not None and levels != self.heatmap.levels:
            self.heatmap.levels = levels
            self.heatmap.image.setLevels(levels)
            self.heatmap.image.setLookupTable(self.theme.lut_for(levels))
        self.levels = levels
        if self.grid_at_t.shape is None:
            self.bars.set_limits(levels)
        else:
            self.grid_at_t.set_levels(levels, self.theme.lut_for(levels))
        set_colour_bar(self.colour_bar, levels, self.theme)

    def show_blank(self, text: str, steps: int) -> None:
        """No such state in this column: an empty row saying ``text``."""
        self.name = ""
        self.heatmap.clear()
        self.bars.clear()
        if self.grid_at_t.shape is not None:
            self.grid_at_t.show(None)
            self.bars.set_visible(True)
            self.side.setYLink(self.plot)
        self.colour_bar.setVisible(False)
        self.plot.setLimits(yMin=None, yMax=None, minYRange=None)
        self.plot.setMouseEnabled(x=True, y=False)
        if self.blank is None:
            self.plot.hideAxis("left")
            self.blank = pg.TextItem(text, color=self.theme.muted, anchor=(0.5, 0.5))
            self.blank.setFont(self._blank_font())
            self.plot.addItem(self.blank, ignoreBounds=True)
            self.side.getViewBox().setVisible(False)
            self.cursor.set_visible(False)
        self.blank.setText(text)
        self.blank.setPos(steps / 2, 0.5)
        self.plot.setYRange(0, 1, padding=0)

    def move(self, t: int, selected: int | None) -> None:
        """Bars of the state at step ``t``, the selected unit's highlighted."""
        if self.heatmap.data is None:
            return
        if self.grid_at_t.shape is not None:
            self.grid_at_t.set(self.heatmap.data[:, t], selected)
        else:
            self.bars.set(self.heatmap.data[:, t], selected)

    def select(self, index: int | None) -> None:
        self.heatmap.select(index)

    def _blank_font(self):
        """Why a row is empty: secondary, so it stays small in presentation mode."""
        return self.theme.font(min(1.0, 12 / self.theme.font_size))

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        style_plot(self.side, theme)
        # unit numbers of neighbouring rows would collide at presentation size
        self.plot.getAxis("left").setStyle(showValues=not theme.presentation)
        self.heatmap.apply_theme(theme)
        self.bars.apply_theme(theme)
        self.grid_at_t.apply_theme(theme)
        style_colour_bar(self.colour_bar, theme)
        if self.heatmap.levels is not None:
            set_colour_bar(self.colour_bar, self.heatmap.levels, theme)
        if self.blank is not None:
            self.blank.setColor(theme.muted)
            self.blank.setFont(self._blank_font())


class GateMeansRow:
    """The mean of each gate over the units, over time: one curve per gate in its colour."""

    def __init__(self, grid: PlotGrid, theme: Theme, slots: int):
        self.grid, self.theme = grid, theme
        self.row = grid.next_row()
        self.plot = grid.plot(self.row, 0, "gate mean", HELP["means"])
        self.plot.setYRange(-1, 1, padding=0.05)
        self.plot.getAxis("left").setTicks([[(-1, "-1"), (0, "0"), (1, "1")]])
        self.items = [self.plot.plot() for _ in range(slots)]  # made once
        for item in self.items:
            item.setDownsampling(auto=True, method="peak")
            item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.curves: dict[str, pg.PlotDataItem] = {}  # gate letter: its item
        self.cursor = Cursor(self.plot, theme)

    def fill(self, means: dict[str, np.ndarray]) -> None:
        """``means``: each gate's letter and its mean over the units ``(T,)``, in order."""
        self.curves = dict(zip(means, self.items, strict=False))
        for k, (letter, curve) in enumerate(self.curves.items()):
            curve.setData(np.arange(len(means[letter])), means[letter])
            curve.setPen(self.theme.pen(colours.gate_colour(letter, k)))
        for curve in self.items[len(self.curves):]:
            curve.setData([], [])
        self.grid.label(self.plot, "gate mean" if means else "(no gates)")

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for k, (letter, curve) in enumerate(self.curves.items()):
            curve.setPen(theme.pen(colours.gate_colour(letter, k)))
