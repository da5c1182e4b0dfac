"""The gradient row: gradient norms through time on a log scale.

Blue ``||dL/dh_k||`` (backprop through time of the whole loss, from the trace), orange
``||d loss_t/dh_k||`` (the gradient from the cursor's step flowing back) and green dashed
``||dh_t/dh_k||_F`` (how much of step k the state at t still holds). NaN and Inf are marked
with red crosses and a warning. The y range is shared by every column (``SharedScales``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ..style import theme as colours
from ..style.theme import Theme
from .items import Cursor, finite_positive
from .layout import PlotGrid

# in words a student knows (the help and the docs give the formulas)
LEGEND = {"bptt": "whole loss", "flow": "loss at t", "memory": "memory"}
ZOOM_HINT_STEPS = 300  # beyond this, steps are thinner than a pixel on most screens
HELP = ("Gradient norms (log scale). Blue: ||dL/dh_k||, backprop through time of the whole "
        "loss. Orange: ||d loss_t/dh_k||, the gradient from step t flowing back. Green: "
        "||dh_t/dh_k||_F, how much of step k the state at t still holds.")


class GradientRow:
    def __init__(self, grid: PlotGrid, theme: Theme):
        self.row = grid.next_row()
        self.plot = grid.plot(self.row, 0, "gradient", HELP)
        self.plot.setLogMode(y=True)
        self.plot.getAxis("bottom").setStyle(showValues=True)
        self.bptt_curve = self.plot.plot(pen=theme.pen(colours.BPTT), name="dL/dh_k")
        self.flow_curve = self.plot.plot(pen=theme.pen(colours.FLOW), name="d l_t/dh_k")
        self.memory_curve = self.plot.plot(pen=theme.pen(colours.MEMORY, dash=True),
                                           name="dh_t/dh_k")
        self.bad_points = pg.ScatterPlotItem(symbol="x", size=10,
                                             pen=pg.mkPen("#cc0000", width=2))
        self.plot.addItem(self.bad_points)
        # the legend is a line of its own under the plot: inside, it would hide the curves of
        # a row that is often short
        self.legend = pg.LabelItem("", justify="left")
        grid.layout.addItem(self.legend, row=grid.next_row(), col=0)
        # the warning sits in the plot's corner, in pixels, whatever the range
        self.warning = pg.TextItem("", color="#cc0000", anchor=(0, 0))
        self.warning.setParentItem(self.plot.getViewBox())
        self.warning.setPos(2, 0)
        self.cursor = Cursor(self.plot, theme, shade=False)
        self._shown_rows: dict[str, tuple] = {}  # name: (row object shown, its NaN/Inf steps)
        self._bptt_bad: list[int] = []
        self._steps = 0

    @property
    def curves(self) -> list[pg.PlotDataItem]:
        return [self.bptt_curve, self.flow_curve, self.memory_curve]

    @property
    def curve_colours(self) -> list[tuple]:
        return [(self.bptt_curve, colours.BPTT, False), (self.flow_curve, colours.FLOW, False),
                (self.memory_curve, colours.MEMORY, True)]

    def fill_bptt(self, bptt: np.ndarray | None) -> None:
        """A new trace: its ``||dL/dh_k||`` (None without a target); the rows start over."""
        self._shown_rows = {}
        if bptt is not None:
            shown, bad = finite_positive(bptt)
            self.bptt_curve.setData(np.arange(len(bptt)), shown, connect="finite")
            self._bptt_bad = list(bad)
        else:
            self.bptt_curve.setData([], [])
            self._bptt_bad = []

    def fill_rows(self, rows: dict[str, np.ndarray | None]) -> None:
        """The flow and memory rows for the cursor (None: not there yet); a curve is set
        again only when its row is new, since that repaints the plot."""
        bad_x: list[int] = list(self._bptt_bad)
        for name, curve in (("flow", self.flow_curve), ("memory", self.memory_curve)):
            row = rows.get(name)
            shown_row, bad = self._shown_rows.get(name, (None, []))
            if row is not shown_row:
                if row is None:
                    curve.setData([], [])
                    bad = []
                else:
                    shown, bad = finite_positive(row)  # zeros (k after t) leave gaps
                    curve.setData(np.arange(len(row)), shown, connect="finite")
                self._shown_rows[name] = (row, list(bad))
            bad_x.extend(bad)
        if bad_x:
            finite = [c.yData for c in self.curves
                      if c.yData is not None and np.any(np.isfinite(c.yData))]
            top = max((np.nanmax(y) for y in finite), default=1.0)
            self.bad_points.setData(np.asarray(bad_x, float),
                                    np.full(len(bad_x), np.log10(top) + 0.5))
            self.warning.setText(f"NaN/Inf at {len(set(bad_x))} step(s)")
        elif len(self.bad_points.data) or self.warning.toPlainText():
            # only when there was something to take away: an empty scatter set again still
            # repaints the gradient plot on every step
            self.bad_points.setData([], [])
            self.warning.setText("")

    def drop_memory(self) -> None:
        """The Jacobian row shown is for another step: take it away."""
        if self.memory_curve.yData is not None and len(self.memory_curve.yData):
            self.memory_curve.setData([], [])
            self._shown_rows.pop("memory", None)

    def values(self) -> np.ndarray:
        """Every value the curves show (for the shared range)."""
        values = [np.asarray(c.yData, float) for c in self.curves if c.yData is not None]
        return np.concatenate(values) if values else np.array([])

    def set_range(self, lo: float, hi: float) -> None:
        self.plot.setYRange(lo, hi, padding=0.02)

    def clear(self) -> None:
        for curve in self.curves:
            curve.setData([], [])
        self._shown_rows, self._bptt_bad = {}, []
        self.bad_points.setData([], [])
        self.warning.setText("")

    def set_time_label(self, steps: int) -> None:
        """"time step", and on a sequence longer than the plot is wide, how to see more."""
        self._steps = steps
        long = steps > ZOOM_HINT_STEPS
        text = "time step (wheel: zoom, drag: pan)" if long else "time step"
        if self.plot.getAxis("bottom").labelText != text:
            self.plot.setLabel("bottom", text)

    @property
    def legend_words(self) -> list[str]:
        return list(LEGEND.values())

    def apply_theme(self, theme: Theme) -> None:
        self.warning.setFont(theme.font())
        marks = {"bptt": "━", "flow": "━", "memory": "╍"}
        colour = {"bptt": colours.BPTT, "flow": colours.FLOW, "memory": colours.MEMORY}
        self.legend.setText(
            "&nbsp;&nbsp;".join(f"<span style='color:{colour[k]}'>{marks[k]}</span>"
                                f"&nbsp;{words}" for k, words in LEGEND.items()),
            color=theme.foreground, size=f"{theme.font(0.9).pointSizeF():.1f}pt")
        self.set_time_label(self._steps)
        self.plot.getAxis("bottom").label.setFont(theme.font(0.9))
        # log curves need height to be read; the heatmaps above can give some up
        self.plot.setMinimumHeight(max(100.0, 10 * theme.font(1.0).pointSizeF()))
        self.bad_points.setSize(10 * max(1.0, theme.line_width / 1.5))
