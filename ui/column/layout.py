"""The plot grid every row of a column is built on: a ``pg.GraphicsLayout`` of plots whose first
column shows time (x linked across the rows), a narrow second column for bars at t and a third
for colour bars. Rows register their plots here for hover, click, highlight and theming."""

from __future__ import annotations

import pyqtgraph as pg

from ..style.theme import Theme

SHORT_LABELS = {"gate mean": "mean", "(no gates)": "", "p(y)": "p"}


class PlotGrid:
    """Makes the plots of one column's canvas, each row at the next grid row."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, theme: Theme):
        self.layout = canvas.ci
        self.theme = theme
        self.row = 0
        self.labels: dict[pg.PlotItem, str] = {}

    def next_row(self) -> int:
        row = self.row
        self.row += 1
        return row

    def plot(self, row: int, col: int, label: str, tooltip: str) -> pg.PlotItem:
        plot = self.layout.addPlot(row=row, col=col)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setToolTip(tooltip)
        plot.getAxis("left").setWidth(self.theme.axis_width)
        # ticks point out of the plot: an axis drawing into the plot area would be repainted
        # with every cursor step near that edge
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setStyle(tickLength=4)
        if label:
            self.label(plot, label)
        if col == 0:
            plot.setMouseEnabled(x=True, y=False)
            plot.getAxis("bottom").setStyle(showValues=False)
        else:
            plot.setMouseEnabled(x=False, y=False)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
        return plot

    def label(self, plot: pg.PlotItem, text: str) -> None:
        """A row's axis label; presentation mode's large fonts leave room only for the short
        form (the gate's letter, "mean", "p")."""
        self.labels[plot] = text
        if self.theme.presentation:
            text = SHORT_LABELS.get(text, text.split(" ")[0] if " " in text else text)
        plot.getAxis("left").setLabel(text)

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot, text in self.labels.items():
            self.label(plot, text)
