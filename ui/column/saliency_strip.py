"""The saliency strip: a one-row heat strip under a column's input plot.

Cell k is coloured by ``log10 ||d output_t / d x_k||_F`` (``rnnviz.core.saliency``) for the step t
the row was computed for: which past inputs the prediction at t still depends on. The colour
scale is normalised per row: its top is the row's largest finite value over ``k <= t`` and it
spans ``DECADES`` decades below it, so "bright" always means "as much as the most influential
input" and the fading towards the past reads as orders of magnitude. Zeros (the future of a
unidirectional model) take the bottom colour; NaN/Inf take the top colour and get a red cross.
A bidirectional model's output at t depends on inputs after t too: its row is scaled over the
whole sequence and nothing after t is hidden (``sees_future``).
The image item and the cross item are created once; a new row is one ``setImage``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ..style.theme import Theme

DECADES = 4.0


def log_levels(row: np.ndarray, t: int, sees_future: bool = False
               ) -> tuple[np.ndarray, tuple[float, float]]:
    """``(image (1, T) float32, levels)``: ``log10`` of ``row`` clipped to ``DECADES``
    decades below the largest finite positive value over ``k <= t`` (over every k when the
    model ``sees_future``; see the module docstring)."""
    values = np.asarray(row, np.float64)
    seen = values if sees_future else values[: t + 1]
    good = seen[np.isfinite(seen) & (seen > 0)]
    top = float(np.log10(good.max())) if good.size else 0.0
    lo = top - DECADES
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.where(values > 0, values, np.nan))
    logs = np.where(np.isfinite(values), logs, top)       # NaN/Inf: the top colour
    logs = np.clip(np.nan_to_num(logs, nan=lo), lo, top)  # zeros: the bottom colour
    return np.ascontiguousarray(logs[None, :], np.float32), (lo, top)


class SaliencyStrip:
    """A ``(1, T)`` image on ``plot``; ``set(row, t)`` shows a saliency row computed at t."""

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot, self.theme = plot, theme
        # a long row is drawn at screen resolution (means of neighbouring steps), not a column a
        # step; the hover reads ``row``, exact
        self.image = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        plot.addItem(self.image)
        self.bad = pg.ScatterPlotItem(symbol="x", size=8, pen=pg.mkPen("#cc0000", width=2))
        plot.addItem(self.bad)
        plot.setYRange(0, 1, padding=0)
        self.row: np.ndarray | None = None   # the raw norms shown, (T,)
        self.t: int | None = None             # the step they were computed for
        self.levels: tuple[float, float] | None = None
        self.sees_future = False

    def set(self, row: np.ndarray, t: int, sees_future: bool = False) -> None:
        row = np.asarray(row)
        self.sees_future = sees_future
        image, levels = log_levels(row, t, sees_future)
        self.row, self.t, self.levels = row, t, levels
        self.image.setImage(image, levels=levels, lut=self.theme.sequential, autoLevels=False)
        self.image.setRect(QRectF(-0.5, 0, len(row), 1))
        bad = np.flatnonzero(~np.isfinite(row if sees_future else row[: t + 1]))
        self.bad.setData(bad.astype(float), np.full(len(bad), 0.5))

    def clear(self) -> None:
        self.row = self.t = self.levels = None
        self.image.clear()
        self.bad.setData([], [])

    def value_at(self, x: float) -> tuple[int, float] | None:
        """``(k, ||d output_t / d x_k||)`` under ``x``, or None (outside, or after t)."""
        if self.row is None:
            return None
        k = int(round(x))
        if 0 <= k < len(self.row) and (k <= self.t or self.sees_future):
            return k, float(self.row[k])
        return None
