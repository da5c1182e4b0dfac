"""Applying a ``Theme`` to pyqtgraph items that already exist: axes, text items and colour bars.

Switching themes restyles items in place (pens, fonts, colour maps); nothing is re-created, so
the data, the ranges and the cursor stay as they are.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from .theme import Theme

AXES = ("left", "bottom", "right", "top")


def style_axis(axis: pg.AxisItem, theme: Theme) -> None:
    """Axis line and ticks in the muted colour, tick labels and the axis label in the
    foreground colour, at the theme's font size."""
    axis.setPen(pg.mkPen(theme.muted, width=1))
    axis.setTextPen(theme.foreground)
    axis.setTickFont(theme.font())
    axis.setStyle(tickLength=-max(4, theme.font_size // 2))
    # setLabel with the axis's own text re-renders its label in the new style; it shows the
    # label when there is text, so a label hidden on purpose is hidden again
    shown = axis.label.isVisibleTo(axis)
    axis.setLabel(axis.labelText, axis.labelUnits, axis.labelUnitPrefix,
                  unitPower=axis.unitPower,
                  **{"color": theme.foreground, "font-size": f"{theme.font_size}pt"})
    if axis.label.isVisibleTo(axis) != shown:
        axis.showLabel(shown)


def style_plot(plot: pg.PlotItem, theme: Theme, *, left_width: int | None = None) -> None:
    for name in AXES:
        style_axis(plot.getAxis(name), theme)
    if left_width is not None:  # hidden axes too: a blank row may get a heatmap later
        plot.getAxis("left").setWidth(left_width)


def colour_bar(levels: tuple[float, float], theme: Theme) -> pg.ColorBarItem:
    """A fixed, non-interactive colour bar for a heatmap's levels (no menu, no handles)."""
    bar = pg.ColorBarItem(values=levels, colorMap=theme.map_for(levels), interactive=False,
                          width=8, colorMapMenu=False)
    bar.setMenuEnabled(False)
    bar.setMouseEnabled(x=False, y=False)
    bar.hideButtons()
    return bar


def _bar_axis_width(theme: Theme) -> int:
    """The colour bar's axis: room for labels of two characters ("-1", "17")."""
    return int(theme.font_size * 2.6)


def style_colour_bar(bar: pg.ColorBarItem, theme: Theme) -> None:
    for name in AXES:
        style_axis(bar.getAxis(name), theme)
    bar.axis.setWidth(_bar_axis_width(theme))
    bar.layout.setColumnFixedWidth(1, max(8, theme.font_size - 1))
    # keep the end labels (lo, hi) inside the row, clear of the next row's bar
    margin = int(theme.font(1.0).pointSizeF() * 0.7) + 1
    bar.setContentsMargins(0, margin, 0, margin)


def set_colour_bar(bar: pg.ColorBarItem, levels: tuple[float, float], theme: Theme) -> None:
    bar.setColorMap(theme.map_for(levels))
    bar.setLevels(levels)
    lo, hi = levels
    ticks = [(lo, f"{lo:.2g}"), (hi, f"{hi:.2g}")]
    if lo < 0 < hi:
        ticks.insert(1, (0.0, "0"))
    bar.axis.setTicks([ticks])
    # pyqtgraph drops a label that does not fit in the axis: widen it to the widest end label
    # ("-17", "-0.86": the scale of a row reaching what it reaches, a modern cell's)
    widest = max(QFontMetricsF(theme.font()).horizontalAdvance(text) for _, text in ticks)
    room = widest + bar.axis.style["tickTextOffset"][0] + 2
    bar.axis.setWidth(max(_bar_axis_width(theme), math.ceil(room)))
