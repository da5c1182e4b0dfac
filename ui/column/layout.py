"""The plot grid every row of a column is built on: a ``pg.GraphicsLayout`` of plots whose first
column shows time (x linked across the rows), a narrow second column for bars at t and a third
for colour bars. Rows register their plots here for hover, click, highlight and theming."""

from __future__ import annotations

from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from ..style.theme import Theme

MIN_LABEL_SCALE = 0.6  # of the theme's font size, for a row label in a very short row
SHORT_LABELS = {"gate mean": "mean", "(no gates)": "", "p(y)": "p", "gradient": "grad"}


def label_forms(text: str) -> list[str]:
    """A row label from the longest to the shortest: ``"f forget"``, ``"forget"``, ``"f"``."""
    forms = [text]
    if text in SHORT_LABELS:
        forms.append(SHORT_LABELS[text])
    elif " " in text:
        letter, word = text.split(" ", 1)
        forms += [word, letter]
    return forms


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

    @contextmanager
    def building(self):
        """Add many items, laying the grid out once at the end: pyqtgraph's ``addItem``
        activates the whole grid after every item, which made building a column's 25 plots
        cost O(n^2) (a third of a column's build time, benchmarks/bench_startup.py)."""
        grid = self.layout.layout
        grid.activate = lambda: None  # the instance's, shadowing Qt's method while building
        try:
            yield self
        finally:
            del grid.activate
            grid.activate()

    def plot(self, row: int, col: int, label: str, tooltip: str) -> pg.PlotItem:
        # no context menu: built and then dropped, pyqtgraph's menus cost a fifth of a column's
        # build time
        plot = self.layout.addPlot(row=row, col=col, enableMenu=False)
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
        """A row's axis label, in the longest form that fits the row's height (see
        ``label_forms``): a short row or presentation mode's large font gets the word or the
        gate's letter rather than labels running into each other."""
        if plot not in self.labels:
            plot.getViewBox().sigResized.connect(lambda *_: self._fit(plot))
        self.labels[plot] = text
        self._fit(plot)

    def _fit(self, plot: pg.PlotItem) -> None:
        forms = label_forms(self.labels[plot])
        font = self.theme.font()
        room = plot.getViewBox().height() - 4
        width = QFontMetricsF(font).horizontalAdvance
        text = next((form for form in forms if width(form) <= room), forms[-1])
        # a row shorter than even the shortest form: that form in a smaller font (down to
        # MIN_LABEL_SCALE), rather than running into the next row's label
        scale = max(MIN_LABEL_SCALE, min(1.0, room / max(width(text), 1.0)))
        size = f"{self.theme.font_size * scale:.1f}pt"
        axis = plot.getAxis("left")
        if (axis.labelText != text or not axis.label.isVisible()
                or axis.labelStyle.get("font-size") != size):
            axis.setLabel(text, **{"color": self.theme.foreground, "font-size": size})
            # pyqtgraph centres the label only when the axis resizes: a longer form chosen
            # after a resize stayed where the shorter one was centred, over the row above
            axis.resizeEvent()

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for plot in self.labels:
            self._fit(plot)
