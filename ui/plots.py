"""Plot building blocks. Each item is created once; a time step only moves or re-fills them.

Time runs along x with step t centred on x = t, so heatmap columns, curve samples and the
cursor line agree. The future (x > t + 0.5) is covered by a shade rather than cut out of the
data, so a step costs the same whether the sequence has 100 or 10,000 steps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ui.theme import Theme

_FAR = 1e6  # the shade's vertical extent, beyond any data (ignored by auto-range)


class Cursor:
    """The current step on one plot: a vertical line at t and a shade over the future."""

    def __init__(self, plot: pg.PlotItem, theme: Theme, *, shade: bool = True):
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=theme.cursor_pen)
        self.line.setZValue(20)
        plot.addItem(self.line, ignoreBounds=True)
        self.shade = None
        if shade:
            self.shade = QGraphicsRectItem()
            self.shade.setPen(QPen(Qt.PenStyle.NoPen))
            self.shade.setBrush(QBrush(theme.shade))
            self.shade.setZValue(15)
            plot.addItem(self.shade, ignoreBounds=True)
        self.steps = 1

    def set_visible(self, visible: bool) -> None:
        self.line.setVisible(visible)
        if self.shade is not None:
            self.shade.setVisible(visible)

    def move(self, t: int) -> None:
        self.line.setValue(t)
        if self.shade is not None:
            self.shade.setRect(QRectF(t + 0.5, -_FAR, max(self.steps - t, 0) + 1, 2 * _FAR))


class Heatmap:
    """An ``(H, T)`` image of one state over time, units down the y axis (unit 0 on top),
    with a fixed colour scale and an outline around the selected unit."""

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        plot.getViewBox().invertY(True)
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen(theme.highlight, width=2, cosmetic=True))
        self.outline.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.outline.setZValue(25)
        self.outline.setVisible(False)
        plot.addItem(self.outline, ignoreBounds=True)
        self.data: np.ndarray | None = None

    def set(self, data: np.ndarray, levels: tuple[float, float], lut: np.ndarray) -> None:
        """``data`` is ``(T, H)`` as traces store it; shown as ``(H, T)``."""
        image = np.ascontiguousarray(np.asarray(data, np.float32).T)
        self.data = image
        self.image.setImage(image, levels=levels, lut=lut, autoLevels=False)
        steps, units = image.shape[1], image.shape[0]
        self.image.setRect(QRectF(-0.5, 0, steps, units))
        self.plot.setYRange(0, units, padding=0)

    def clear(self) -> None:
        self.data = None
        self.image.clear()
        self.outline.setVisible(False)

    def select(self, index: int | None) -> None:
        if index is None or self.data is None:
            self.outline.setVisible(False)
            return
        self.outline.setRect(QRectF(-0.5, index, self.data.shape[1], 1))
        self.outline.setVisible(True)

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        """``(t, unit, value)`` under the point, or None outside the image."""
        if self.data is None:
            return None
        t, unit = int(round(x)), int(np.floor(y))
        if 0 <= unit < self.data.shape[0] and 0 <= t < self.data.shape[1]:
            return t, unit, float(self.data[unit, t])
        return None


class Bars:
    """The state at the cursor as horizontal bars, one per unit, aligned with a heatmap."""

    def __init__(self, plot: pg.PlotItem, theme: Theme, limits: tuple[float, float]):
        self.plot = plot
        self.item = pg.BarGraphItem(x0=0, y=[0], height=0.8, width=[0], brush=theme.bar,
                                    pen=pg.mkPen(None))
        plot.addItem(self.item)
        plot.getViewBox().invertY(True)
        self.selected = pg.BarGraphItem(x0=0, y=[0], height=0.8, width=[0],
                                        brush=theme.highlight, pen=pg.mkPen(None))
        plot.addItem(self.selected)
        plot.addItem(pg.InfiniteLine(pos=0, angle=90, pen=theme.axis_pen))
        self.set_limits(limits)
        self.units = 0

    def set_limits(self, limits: tuple[float, float]) -> None:
        self.plot.setXRange(*limits, padding=0.05)

    def set(self, values: np.ndarray, selected: int | None = None) -> None:
        values = np.nan_to_num(np.asarray(values, np.float64), nan=0.0)
        if len(values) != self.units:
            self.units = len(values)
            self.plot.setYRange(0, self.units, padding=0)
        y = np.arange(self.units) + 0.5
        self.item.setOpts(y=y, width=values, height=np.full(self.units, 0.8))
        if selected is not None and 0 <= selected < self.units:
            self.selected.setOpts(y=[selected + 0.5], width=[values[selected]], height=[0.8])
            self.selected.setVisible(True)
        else:
            self.selected.setVisible(False)

    def clear(self) -> None:
        self.units = -1
        self.item.setOpts(y=[0], width=[0], height=[0.8])
        self.selected.setVisible(False)


def finite_positive(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a log plot: the values with non-positive entries as NaN (drawn as gaps), and the
    indices of the NaN/Inf entries (drawn as warnings)."""
    values = np.asarray(values, np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    return shown, bad


def blank_plot(plot: pg.PlotItem, text: str, theme: Theme) -> pg.TextItem:
    """A plot kept only to hold its row, saying why it is empty."""
    for axis in ("left", "bottom"):
        plot.hideAxis(axis)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    label = pg.TextItem(text, color=theme.muted, anchor=(0.5, 0.5))
    plot.addItem(label, ignoreBounds=True)
    plot.setXRange(0, 1, padding=0)
    plot.setYRange(0, 1, padding=0)
    label.setPos(0.5, 0.5)
    return label


def color(value: str, alpha: int = 255) -> QColor:
    c = QColor(value)
    c.setAlpha(alpha)
    return c
