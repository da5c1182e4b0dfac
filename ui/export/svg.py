"""Pictures of the window and of single panels: SVG, and PNG of a panel.

Qt's SVG generator writes the clip of a ``QGraphicsView``'s items in the view's own
coordinates, wherever the view sits in the window, so a window rendered as a whole gets its
plots' clips in the wrong place (the shade over the steps after the cursor spills over the
window). So each plot canvas is drawn into an SVG of its own, where its coordinates are right,
and placed in the window's SVG as a translated, clipped group (ids prefixed to stay
unique);
the other widgets are drawn one by one, each at its place.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QImage, QPainter, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsRectItem, QMenuBar, QWidget

_BODY = re.compile(r"<svg\b[^>]*>(.*)</svg>\s*$", re.S)
_IDS = re.compile(r'(id="|url\(#|href="#)([A-Za-z_][\w.-]*)')


def _svg(width: int, height: int, title: str, draw) -> str:
    """What ``draw(painter)`` paints, as SVG 1.1 text (``width`` x ``height`` pixels)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setResolution(96)  # a pixel is a CSS pixel
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        draw(painter)
    finally:
        painter.end()
    buffer.close()
    return bytes(data).decode("utf-8")


def _nested(svg: str, prefix: str, x: float, y: float, view: QRectF) -> str:
    """``svg``'s content placed so that its ``view`` rectangle lands at ``(x, y)``, clipped to
    it (a group with a transform and a clip path, which every SVG reader supports)."""
    body = _BODY.search(svg).group(1)
    body = _IDS.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", body)
    return (f'<defs><clipPath id="{prefix}view"><rect x="{x:g}" y="{y:g}" '
            f'width="{view.width():g}" height="{view.height():g}"/></clipPath></defs>\n'
            f'<g clip-path="url(#{prefix}view)"><g transform="translate('
            f'{x - view.x():g},{y - view.y():g})">{body}</g></g>\n')


@contextmanager
def _rects_cut_to_view(scene):
    """Cut every rectangle item to what its plot shows, while drawing.

    The shade over the steps after the cursor is a rectangle a million units tall, clipped by
    its plot; SVG readers (Qt's, ImageMagick's) lose that clip on a shape millions of pixels
    tall and paint it over the whole picture."""
    changed = []
    for item in scene.items():
        if not isinstance(item, QGraphicsRectItem):
            continue
        box = item.parentItem() and item.parentItem().parentItem()
        if not isinstance(box, pg.ViewBox) or item.parentItem() is not box.childGroup:
            continue  # not a plotted item in data coordinates (the box's own background...)
        rect, view = item.rect(), box.viewRect()
        if not view.contains(rect):
            changed.append((item, rect))
            item.setRect(rect.intersected(view))
    try:
        yield
    finally:
        for item, rect in changed:
            item.setRect(rect)


def _canvas_svg(canvas: pg.GraphicsView) -> str:
    """A plot canvas's scene as drawn on screen, as SVG in the canvas's coordinates."""
    viewport = canvas.viewport()
    w, h = viewport.width(), viewport.height()
    source = canvas.mapToScene(viewport.rect()).boundingRect()

    def draw(painter: QPainter) -> None:
        painter.fillRect(QRectF(0, 0, w, h), canvas.backgroundBrush())
        with _rects_cut_to_view(canvas.scene()):
            canvas.scene().render(painter, QRectF(0, 0, w, h), source)

    return _svg(w, h, "rnnviz", draw)


def window_svg(window: QWidget) -> str:
    """``window`` and everything in it as SVG text."""
    canvases: list[pg.GraphicsView] = []
    flags = QWidget.RenderFlag.DrawWindowBackground

    def draw(painter: QPainter) -> None:
        def paint(widget: QWidget) -> None:
            if not widget.isVisible():
                return
            if isinstance(widget, pg.GraphicsView):
                canvases.append(widget)
                return
            painter.save()
            painter.translate(widget.mapTo(window, QPoint(0, 0)))
            if isinstance(widget, QMenuBar):
                # it clips its background to the area around the entries, a region the
                # SVG generator loses (the background then hides the entries): as pixels
                painter.drawPixmap(0, 0, widget.grab())
            else:
                QWidget.render(widget, painter, QPoint(0, 0), QRegion(), flags)
            painter.restore()
            for child in widget.children():
                if isinstance(child, QWidget) and not child.isWindow():
                    paint(child)

        paint(window)

    base = _svg(window.width(), window.height(), window.windowTitle() or "rnnviz", draw)
    nested = []
    for k, canvas in enumerate(canvases):
        corner = canvas.viewport().mapTo(window, QPoint(0, 0))
        viewport = canvas.viewport()
        nested.append(_nested(_canvas_svg(canvas), f"c{k}_", corner.x(), corner.y(),
                              QRectF(0, 0, viewport.width(), viewport.height())))
    end = base.rindex("</svg>")
    return base[:end] + "".join(nested) + base[end:]


def plot_svg(plot: pg.PlotItem) -> str:
    """One panel (a ``PlotItem``) as SVG, cut out of its canvas's drawing."""
    canvas = plot.scene().views()[0]
    area = canvas.mapFromScene(plot.sceneBoundingRect()).boundingRect()
    view = QRectF(area)
    outer = (f'<svg width="{view.width():g}px" height="{view.height():g}px" '
             f'viewBox="0 0 {view.width():g} {view.height():g}" '
             'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
             'version="1.1">\n<title>rnnviz panel</title>\n')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + outer
            + _nested(_canvas_svg(canvas), "p_", 0, 0, view) + "</svg>\n")


def plot_png(plot: pg.PlotItem, scale: float = 4.0) -> QImage:
    """One panel drawn ``scale`` times its size on screen (everything zoomed alike)."""
    source = plot.sceneBoundingRect()
    width, height = round(source.width() * scale), round(source.height() * scale)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    canvas = plot.scene().views()[0]
    image.fill(canvas.backgroundBrush().color())
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        plot.scene().render(painter, QRectF(0, 0, width, height), source)
    finally:
        painter.end()
    return image
