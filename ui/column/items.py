"""Plot building blocks. Each item is created once; a time step only moves or re-fills them.

Time runs along x with step t centred on x = t, so heatmap columns, curve samples and the
cursor line agree. The future (x > t + 0.5) is covered by a shade rather than cut out of the
data, so a step costs the same whether the sequence has 100 or 100,000 steps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from ..style.theme import Theme

_FAR = 1e6  # the shade's vertical extent, beyond any data (ignored by auto-range)


class Cursor(QGraphicsItem):
    """The current step on one plot: a vertical line at x = t and, optionally, a veil over the
    future (x > t + 0.5).

    One plain item instead of a line and a rectangle, with a bounding rectangle fixed to the
    whole sequence: moving t does not change the item's geometry, so Qt neither re-indexes it
    nor repaints the plot. Only the strip between the old and the new t (plus the pen's width)
    is marked dirty, so a step costs the same for 100 or 10,000 steps.
    """

    PEN_MARGIN_PX = 4.0

    def __init__(self, plot: pg.PlotItem, theme: Theme, *, shade: bool = True):
        super().__init__()
        self.has_shade = shade
        self.t = 0
        self._steps = 1
        self.apply_theme(theme)
        self.setZValue(20)
        plot.addItem(self, ignoreBounds=True)

    @property
    def steps(self) -> int:
        return self._steps

    @steps.setter
    def steps(self, steps: int) -> None:
        if steps != self._steps:
            self.prepareGeometryChange()
            self._steps = steps
            self.update()

    def apply_theme(self, theme: Theme) -> None:
        self.pen = theme.cursor_pen
        self.pen.setCosmetic(True)
        self.brush = QBrush(theme.shade)
        self.update()

    def set_visible(self, visible: bool) -> None:
        self.setVisible(visible)

    def set_shade(self, shade: bool) -> None:
        """Veil the future or not (a bidirectional model has already read it)."""
        if shade != self.has_shade:
            self.has_shade = shade
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(-1.0, -_FAR, self._steps + 2.0, 2 * _FAR)

    def _shown_y(self) -> tuple[float, float]:
        """The y extent the plot shows: shapes are drawn within it, since SVG readers lose
        the plot's clip on a shape millions of pixels tall."""
        box = self.parentItem().parentItem() if self.parentItem() is not None else None
        if isinstance(box, pg.ViewBox):
            view = box.viewRect()
            return view.top(), view.bottom()
        return -_FAR, _FAR

    def paint(self, painter, option, widget=None) -> None:
        top, bottom = self._shown_y()
        if self.has_shade:
            painter.fillRect(QRectF(self.t + 0.5, top, max(self._steps - self.t, 0) + 1.0,
                                    bottom - top), self.brush)
        painter.setPen(self.pen)
        painter.drawLine(QPointF(self.t, top), QPointF(self.t, bottom))

    def move(self, t: int) -> None:
        if t == self.t:
            return
        lo, hi = sorted((self.t, t))
        self.t = t
        pixels_per_step = abs(self.sceneTransform().m11()) or 1.0
        margin = max(self.PEN_MARGIN_PX / pixels_per_step, 0.5)
        self.update(QRectF(lo - margin, -_FAR, hi - lo + 2 * margin, 2 * _FAR))


IMAGE_COLUMNS = 2048  # a heatmap's image has at most this many columns: more than a plot's pixels


def bin_means(data: np.ndarray, size: int) -> np.ndarray:
    """``data (n, H)`` in bins of ``size`` consecutive steps (the last one may be shorter):
    ``(ceil(n / size), H)``, each bin's mean over its steps."""
    n = len(data)
    starts = np.arange(0, n, size)
    counts = np.diff(np.append(starts, n)).astype(np.float32)
    return np.add.reduceat(data, starts, axis=0) / counts[:, None]


class Heatmap:
    """An ``(H, T)`` image of one state over time, units down the y axis (unit 0 on top),
    with a fixed colour scale and an outline around the selected unit.

    ``data`` is the ``(H, T)`` values (a view of the trace's ``(T, H)`` array, not a copy):
    the bars at t and the hover read it, exact. The image drawn has one column per step up
    to ``IMAGE_COLUMNS`` steps in view; a longer view is drawn at screen resolution, each image
    column the mean of ``ceil(steps / IMAGE_COLUMNS)`` steps, for the steps in view (with as
    many again on either side, so that panning a little draws nothing new). Zooming in or
    panning further re-bins the steps then in view, finer, down to one column per step.
    """

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        plot.getViewBox().invertY(True)
        self.outline = QGraphicsRectItem()
        self.outline.setPen(pg.mkPen(theme.selection, width=2, cosmetic=True))
        self.outline.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.outline.setZValue(25)
        self.outline.setVisible(False)
        plot.addItem(self.outline, ignoreBounds=True)
        self.data: np.ndarray | None = None
        self.levels: tuple[float, float] | None = None
        self.drawn: tuple[int, int, int] | None = None  # steps first..last of the image, bin
        plot.getViewBox().sigXRangeChanged.connect(self._view_moved)

    def set(self, data: np.ndarray, levels: tuple[float, float], lut: np.ndarray) -> None:
        """``data`` is ``(T, H)`` as traces store it; shown as ``(H, T)``."""
        units = None if self.data is None else self.data.shape[0]
        self.data, self.levels = np.asarray(data, np.float32).T, levels
        self.drawn = None
        self._draw(levels=levels, lut=lut, autoLevels=False)
        if units != self.data.shape[0]:  # the same units again (training) keep their zoom
            self.plot.setYRange(0, self.data.shape[0], padding=0)

    def replace(self, data: np.ndarray) -> None:
        """New values ``(T, H)`` of the same shape, on the same scale (an edited input)."""
        self.data = np.asarray(data, np.float32).T
        self.drawn = None
        self._draw(autoLevels=False)

    def _wanted(self) -> tuple[int, int, int]:
        """The steps to draw and the bin: every step up to ``IMAGE_COLUMNS`` steps, else the
        view's steps with a view's width either side, binned to ``IMAGE_COLUMNS`` per view."""
        steps = self.data.shape[1]
        if steps <= IMAGE_COLUMNS:
            return 0, steps, 1
        x0, x1 = self.plot.getViewBox().viewRange()[0]
        lo, hi = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)) + 1, steps)
        shown = max(hi - lo, 1)
        size = max(1, int(np.ceil(shown / IMAGE_COLUMNS)))
        first = max(0, (lo - shown) // size * size)
        return first, min(steps, hi + shown), size

    def _draw(self, **options) -> None:
        first, last, size = self.drawn = self._wanted()
        part = self.data[:, first:last]
        image = (np.ascontiguousarray(part) if size == 1
                 else np.ascontiguousarray(bin_means(part.T, size).T))
        self.image.setImage(image, **options)
        self.image.setRect(QRectF(first - 0.5, 0, last - first, self.data.shape[0]))

    def _view_moved(self, *_) -> None:
        if self.data is None or self.drawn is None or self.data.shape[1] <= IMAGE_COLUMNS:
            return
        first, last, size = self.drawn
        want_first, want_last, want_size = self._wanted()
        x0, x1 = self.plot.getViewBox().viewRange()[0]
        if (want_size != size or x0 < first - 0.5 and first > 0
                or x1 > last - 0.5 and last < self.data.shape[1]):
            self._draw(autoLevels=False)

    def apply_theme(self, theme: Theme) -> None:
        """The outline's colour and width, and the colour map (the same maps in every theme,
        set again so that a theme with other maps would show them)."""
        self.outline.setPen(pg.mkPen(theme.selection, width=max(2.0, theme.line_width),
                                     cosmetic=True))
        if self.levels is not None:
            self.image.setLookupTable(theme.lut_for(self.levels))

    def clear(self) -> None:
        self.data = self.drawn = None
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


class StateGrid:
    """A record that is a matrix (a cell's ``Grid``: Mamba's state, channels by states) at the
    cursor, as a small heatmap in the row's side plot instead of bars: row r, column c is unit
    ``r * cols + c``, row 0 on top, the selected unit outlined. Made once, hidden until a
    column's cell declares a grid; each step is one ``setImage``."""

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot = plot
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setVisible(False)
        plot.addItem(self.image)
        self.outline = QGraphicsRectItem()
        self.outline.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        self.outline.setZValue(5)
        self.outline.setVisible(False)
        plot.addItem(self.outline, ignoreBounds=True)
        self.shape = None  # the Grid shown, or None
        self.levels: tuple[float, float] | None = None
        self.lut: np.ndarray | None = None
        self.apply_theme(theme)

    def show(self, shape, levels: tuple[float, float] | None = None, lut=None) -> None:
        """Show the grid ``shape`` (``rows``, ``cols``) on the colour scale ``levels``, or
        hide it (``shape`` None)."""
        self.shape = shape
        self.image.setVisible(shape is not None)
        self.outline.setVisible(False)
        if shape is None:
            self.image.clear()
            return
        self.set_levels(levels, lut)
        self.plot.setXRange(0, shape.cols, padding=0)
        self.plot.setYRange(0, shape.rows, padding=0)

    def set_levels(self, levels, lut) -> None:
        self.levels, self.lut = levels, lut
        if self.image.image is not None and levels is not None:
            self.image.setLevels(levels)
            self.image.setLookupTable(lut)

    def set(self, values: np.ndarray, selected: int | None = None) -> None:
        """``values (rows * cols,)``: the record at the cursor, written out row by row."""
        rows, cols = self.shape.rows, self.shape.cols
        image = np.asarray(values, np.float32).reshape(rows, cols)
        # the rect with each image: ImageItem.setRect scales by the image it holds, so one
        # set before the first image (or before one of another shape) stretches the next
        self.image.setImage(image, levels=self.levels, lut=self.lut, autoLevels=False,
                            rect=QRectF(0, 0, cols, rows))
        if selected is not None and 0 <= selected < rows * cols:
            self.outline.setRect(QRectF(selected % cols, selected // cols, 1, 1))
            self.outline.setVisible(True)
        else:
            self.outline.setVisible(False)

    def value_at(self, x: float, y: float) -> tuple[int, float] | None:
        """``(unit, value)`` of the cell under the point, or None outside the grid."""
        if self.shape is None or self.image.image is None:
            return None
        r, c = int(np.floor(y)), int(np.floor(x))
        if 0 <= r < self.shape.rows and 0 <= c < self.shape.cols:
            return r * self.shape.cols + c, float(self.image.image[r, c])
        return None

    def apply_theme(self, theme: Theme) -> None:
        self.outline.setPen(pg.mkPen(theme.selection, width=max(2.0, theme.line_width),
                                     cosmetic=True))


class BarsItem(QGraphicsItem):
    """Horizontal bars from x = 0, one per unit at y = unit + 0.1 .. unit + 0.9, painted with one
    ``drawRects`` call. pyqtgraph's BarGraphItem re-measures itself in pixels whenever it is
    asked for its bounds (many times a frame); this item's bounds are the axis limits.

    The rectangles live in a numpy array of ``(n, 4)`` float64 rows (x, y, width, height),
    which is how ``QRectF`` lays out its four ``qreal``: ``QPainter.drawRects(first, n)`` takes
    a pointer to the first (``shiboken6.wrapInstance`` of the array's memory), so a step
    writes four numpy columns and makes no Python object per bar.
    """

    def __init__(self, brush: QColor):
        super().__init__()
        self.brush = QBrush(brush)
        self._rects = np.zeros((0, 4), np.float64)
        self._bounds = QRectF()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return self._bounds

    def set_bounds(self, bounds: QRectF) -> None:
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds

    def set_rects(self, y: np.ndarray, widths: np.ndarray) -> None:
        if len(self._rects) != len(widths):
            self._rects = np.zeros((len(widths), 4), np.float64)
        rects = self._rects
        rects[:, 0] = np.minimum(widths, 0.0)
        rects[:, 1] = y + 0.1
        rects[:, 2] = np.abs(widths)
        rects[:, 3] = 0.8
        self.update()

    def set_colour(self, colour) -> None:
        self.brush = QBrush(QColor(colour))
        self.update()

    def paint(self, painter, option, widget=None) -> None:
        if len(self._rects) == 0:
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.brush)
        first = shiboken6.wrapInstance(self._rects.ctypes.data, QRectF)  # the array stays alive
        painter.drawRects(first, len(self._rects))


class Bars:
    """The state at the cursor as horizontal bars, one per unit, aligned with a heatmap;
    the selected unit's bar in the selection colour. ``values`` holds what is drawn."""

    def __init__(self, plot: pg.PlotItem, theme: Theme, limits: tuple[float, float]):
        self.plot = plot
        self.item = BarsItem(theme.bar)
        plot.addItem(self.item)
        plot.getViewBox().invertY(True)
        self.selected = BarsItem(theme.selection)
        self.selected.setZValue(1)
        plot.addItem(self.selected)
        self.zero_line = pg.InfiniteLine(pos=0, angle=90, pen=theme.axis_pen)
        plot.addItem(self.zero_line)
        self.values = np.zeros(0)
        self.units = 0
        self.set_limits(limits)

    def set_limits(self, limits: tuple[float, float]) -> None:
        self.limits = limits
        self.plot.setXRange(*limits, padding=0.05)
        self._set_bounds()

    def _set_bounds(self) -> None:
        lo, hi = self.limits
        if self.values.size:
            finite = self.values[np.isfinite(self.values)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
        bounds = QRectF(lo, 0, hi - lo, max(self.units, 0))
        self.item.set_bounds(bounds)
        self.selected.set_bounds(bounds)

    def apply_theme(self, theme: Theme) -> None:
        self.item.set_colour(theme.bar)
        self.selected.set_colour(theme.selection)
        self.zero_line.setPen(theme.axis_pen)

    def set(self, values: np.ndarray, selected: int | None = None) -> None:
        # NaN draws nothing, +-Inf reaches past the axis (the heatmap and the status bar say more)
        values = np.clip(np.nan_to_num(np.asarray(values, np.float64), nan=0.0), -_FAR, _FAR)
        resized = len(values) != self.units
        if resized:
            self.units = len(values)
            self.plot.setYRange(0, self.units, padding=0)
        self.values = values
        lo, hi = self.limits
        if resized or values.size and (values.min() < lo or values.max() > hi):
            self._set_bounds()
        self.item.set_rects(np.arange(self.units, dtype=np.float64), values)
        if selected is not None and 0 <= selected < self.units:
            self.selected.set_rects(np.array([float(selected)]), values[selected:selected + 1])
            self.selected.setVisible(True)
        else:
            self.selected.setVisible(False)

    def clear(self) -> None:
        self.units = -1
        self.values = np.zeros(0)
        self.item.set_rects(np.zeros(0), np.zeros(0))
        self.selected.setVisible(False)

    def set_visible(self, visible: bool) -> None:
        """Hide the bars (and their zero line) while the side shows a ``StateGrid``."""
        for item in (self.item, self.zero_line):
            item.setVisible(visible)
        if not visible:
            self.selected.setVisible(False)


def finite_positive(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a log plot: the values with non-positive entries as NaN (drawn as gaps), and the
    indices of the NaN/Inf entries (drawn as warnings)."""
    values = np.asarray(values, np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    return shown, bad


def color(value: str, alpha: int = 255) -> QColor:
    c = QColor(value)
    c.setAlpha(alpha)
    return c
