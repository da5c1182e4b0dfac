"""The "Trajectory" tab: each column's hidden state h_t drawn as a path in the plane of its
first two principal components, with the current step as a big dot.

A state that settles shows a path spiralling into a point (an attractor); one that oscillates
with the input shows a loop. The past path (steps 0..t) is drawn solid, the future faint, so
stepping moves the dot along the path it is about to take.

The projection (``rnnviz.analysis.projection.pca_projection``, an SVD of the ``(T, H)`` states
in numpy,
no JAX) is computed once per trace and shown unit, and only while the tab is visible; each
column's plot items are created once. The whole path is drawn faint once per projection (and
cached as a pixmap); a time step redraws only the solid past, at most ``MAX_PATH_POINTS``
points (every s-th step of a longer past, plus step t itself), and moves the dot.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from rnnviz.analysis.projection import Projection, pca_projection

from ..column.items import color
from ..state.controller import Explorer
from ..style import theme as colours
from ..style.theme import Theme

MAX_PATH_POINTS = 2000   # a longer past is drawn with a stride: 10,000 points would not fit in
                         # the plot's pixels anyway, and would cost tens of ms per step

HELP = ("The hidden state h_t of the shown layer, projected on its two principal components "
        "(the percentages are the share of h's variance each axis carries). Solid: steps 0..t; "
        "faint: the whole path; big dot: h_t; square: h_0. Loops are oscillations, a path that "
        "spirals into a point is an attractor.")


class TrajectoryPlot:
    """One column's trajectory: a plot with a past path, a future path, a start square and
    a current-step dot."""

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot = plot
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setToolTip(HELP)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        self.path = plot.plot(pen=pg.mkPen(color(theme.muted, 110), width=1))
        self.path.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.past = plot.plot(pen=pg.mkPen(colours.INPUT, width=1.5))
        self.start = pg.ScatterPlotItem(symbol="s", size=8, brush=theme.muted, pen=None)
        self.marker = pg.ScatterPlotItem(symbol="o", size=16, brush=theme.cursor,
                                         pen=pg.mkPen(theme.foreground, width=1.5))
        self.marker.setZValue(10)
        for item in (self.start, self.marker):
            plot.addItem(item)
        self.note = pg.TextItem("", color=theme.muted, anchor=(0.5, 0.5))
        plot.addItem(self.note, ignoreBounds=True)
        self.projection: Projection | None = None
        self.source: np.ndarray | None = None   # the states projected (a new trace: new arrays)

    def set_states(self, title: str, h: np.ndarray | None, message: str = "computing…") -> None:
        """Project ``h (T, H)`` (None: show ``message`` instead) and size the axes to it."""
        self.source = h
        self.plot.setTitle(title)
        self.projection = None
        if h is not None:
            try:
                self.projection = pca_projection(h)
            except ValueError as exc:  # NaN/Inf states: say so instead of drawing
                message = f"no projection: {exc}"
        if self.projection is None:
            for item in (self.past, self.path, self.start, self.marker):
                item.setData([], [])
            self.plot.setLabel("bottom", "PC1")
            self.plot.setLabel("left", "PC2")
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
            self.note.setText(message)
            self.note.setPos(0.5, 0.5)
            return
        self.note.setText("")
        coords, ratios = self.projection.coords, self.projection.ratios
        self.plot.setLabel("bottom", f"PC1 ({100 * ratios[0]:.0f}%)")
        self.plot.setLabel("left", f"PC2 ({100 * ratios[1]:.0f}%)")
        for axis, index in ((self.plot.setXRange, 0), (self.plot.setYRange, 1)):
            lo, hi = float(coords[:, index].min()), float(coords[:, index].max())
            if hi - lo < 1e-9:
                lo, hi = lo - 1, hi + 1
            axis(lo, hi, padding=0.08)
        self.start.setData(coords[:1, 0], coords[:1, 1])
        self.path.setData(coords[:, 0], coords[:, 1])

    def move(self, t: int) -> None:
        """The solid past path up to t, the dot at h_t's coordinates."""
        if self.projection is None:
            return
        coords = self.projection.coords
        t = int(np.clip(t, 0, len(coords) - 1))
        stride = -(-len(coords) // MAX_PATH_POINTS)
        past = coords[: t + 1: stride]
        if t % stride:
            past = np.concatenate([past, coords[t: t + 1]])
        self.past.setData(past[:, 0], past[:, 1])
        self.marker.setData(coords[t: t + 1, 0], coords[t: t + 1, 1])

    def marker_position(self) -> tuple[float, float] | None:
        x, y = self.marker.getData()
        return (float(x[0]), float(y[0])) if len(x) else None


class TrajectoryView(QWidget):
    """One ``TrajectoryPlot`` per column, stacked; follows the model's columns and cursor."""

    def __init__(self, explorer: Explorer, theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.explorer, self.state, self.theme = explorer, explorer.state, theme
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.background)
        caption = QLabel("h_t in the plane of its two principal components; the big dot is "
                         "step t.")
        caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(caption)
        layout.addWidget(self.canvas, 1)
        self.plots: dict[int, TrajectoryPlot] = {}
        explorer.state.events.columns.connect(self._sync_columns)
        explorer.state.events.column_ready.connect(self._on_column_ready)
        explorer.state.events.t.connect(self._update_cursor)
        self._sync_columns()

    def _sync_columns(self) -> None:
        wanted = [c.id for c in self.state.columns]
        if list(self.plots) != wanted:
            kept = {i: p for i, p in self.plots.items() if i in wanted}
            for column_id, item in self.plots.items():
                if column_id not in kept:
                    self.canvas.removeItem(item.plot)
            for item in kept.values():
                self.canvas.removeItem(item.plot)
            self.plots = {}
            for row, column_id in enumerate(wanted):
                item = kept.get(column_id)
                if item is None:
                    item = TrajectoryPlot(pg.PlotItem(enableMenu=False), self.theme)
                self.canvas.addItem(item.plot, row=row, col=0)
                self.plots[column_id] = item
        for column_id in wanted:
            self._on_column_ready(column_id)

    def apply_theme(self, theme: Theme) -> None:
        """Draw in ``theme``: the plots are made again in its colours and refilled."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for item in self.plots.values():
            self.canvas.removeItem(item.plot)
        self.plots = {}
        self._sync_columns()

    def _on_column_ready(self, column_id: int) -> None:
        if column_id in self.plots and self.isVisible():
            self._fill(column_id)

    def _fill(self, column_id: int) -> None:
        column = self.state.column(column_id)
        item = self.plots[column_id]
        title = f"{column.config.title} {column.unit}"
        if not column.ready:
            item.set_states(title, None, message="no trace" if column.error else "computing…")
        elif item.source is not column.trace[f"h_{column.unit}"]:
            item.set_states(title, column.trace[f"h_{column.unit}"])
        item.move(self.state.t)

    def _update_cursor(self, t: int) -> None:
        if self.isVisible():
            for item in self.plots.values():
                item.move(t)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Bring every plot up to date: nothing is computed while the tab is hidden."""
        super().showEvent(event)
        for column_id in self.plots:
            self._fill(column_id)
