"""Colours, colour maps and pens. Colour maps stay readable for colour-blind viewers: viridis
for [0, 1], the blue-white-red diverging CET-D1A centred on 0 for [-1, 1]."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

# Okabe-Ito colours: distinguishable with every common colour-vision deficiency
INPUT = "#0072B2"
TARGET = "#555555"
PREDICTION = "#D55E00"
GATE_COLOURS = {"i": "#0072B2", "f": "#009E73", "g": "#CC79A7", "o": "#E69F00",
                "r": "#0072B2", "z": "#009E73", "n": "#CC79A7"}
FLOW = "#D55E00"
BPTT = "#0072B2"
MEMORY = "#009E73"


def _lut(name: str) -> np.ndarray:
    return pg.colormap.get(name).getLookupTable(nPts=256)


@dataclass
class Theme:
    background: str = "#ffffff"
    foreground: str = "#202020"
    muted: str = "#888888"
    highlight: str = "#E69F00"
    line_width: float = 1.0
    font_size: int = 9
    sequential: np.ndarray = field(default_factory=lambda: _lut("viridis"))
    diverging: np.ndarray = field(default_factory=lambda: _lut("CET-D1A"))

    @property
    def shade(self) -> QColor:
        c = QColor(self.background)
        c.setAlpha(215)
        return c

    @property
    def cursor_pen(self):
        return pg.mkPen(self.highlight, width=self.line_width)

    @property
    def axis_pen(self):
        return pg.mkPen(self.muted, width=1)

    @property
    def bar(self) -> str:
        return "#56B4E9"

    def pen(self, colour: str, *, dash: bool = False):
        from PySide6.QtCore import Qt

        style = Qt.PenStyle.DashLine if dash else Qt.PenStyle.SolidLine
        return pg.mkPen(colour, width=self.line_width, style=style)

    def lut_for(self, levels: tuple[float, float]) -> np.ndarray:
        return self.diverging if levels[0] < 0 else self.sequential


LIGHT = Theme()
