"""Colours, colour maps, pens and sizes of the explorer, as light, dark and presentation themes.

Colour maps stay readable for colour-blind viewers in every theme: viridis (sequential) for
[0, 1], the blue-white-red diverging CET-D1A centred on 0 for [-1, 1]. Curve colours are
Okabe-Ito, which stay distinguishable with every common colour-vision deficiency; on a dark
background the dark grey of the target becomes a light grey.

``theme_for(dark, presentation)`` picks one: presentation mode keeps the colours and scales up
fonts and lines so that the plots read from the back of a room on a 1920x1080 projector.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette

INPUT = "#0072B2"
TARGET = "#555555"
PREDICTION = "#D55E00"
GATE_COLOURS = {"i": "#0072B2", "f": "#009E73", "g": "#CC79A7", "o": "#E69F00",
                "r": "#0072B2", "z": "#009E73", "n": "#CC79A7"}
OKABE_ITO = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#D55E00", "#F0E442")


def gate_colour(letter: str, index: int) -> str:
    """A gate's curve colour: its own for the gates rnnviz knows, else by its block index."""
    return GATE_COLOURS.get(letter, OKABE_ITO[index % len(OKABE_ITO)])


# a panel's own colour: its frame when a lesson points at it, and the narration's words that
# name it (no panel is orange, the cursor's colour)
PANEL_COLOURS = {"input": "#0072B2", "saliency": "#56B4E9", "output": "#D55E00",
                 "h": "#009E73", "c": "#CC79A7", "gates": "#882255", "means": "#882255",
                 "grad": "#332288"}
# the same on a dark background, where indigo and wine are too dark to see
DARK_PANEL_COLOURS = {**PANEL_COLOURS, "gates": "#E07AAE", "means": "#E07AAE",
                      "grad": "#9F8FEF"}

FLOW = "#D55E00"
BPTT = "#0072B2"
MEMORY = "#009E73"
SEQUENTIAL_MAP = "viridis"
DIVERGING_MAP = "CET-D1A"


def colour_map(name: str) -> pg.ColorMap:
    return pg.colormap.get(name)


def _lut(name: str) -> np.ndarray:
    return colour_map(name).getLookupTable(nPts=256)


@dataclass(frozen=True)
class Theme:
    name: str = "light"
    background: str = "#ffffff"      # plot background
    window: str = "#efefef"          # widgets around the plots
    foreground: str = "#202020"      # text and axis labels
    muted: str = "#888888"           # axis lines, explanatory text
    cursor: str = "#E69F00"          # the time cursor
    selection: str = "#000000"       # the selected unit's outline and bar
    bar: str = "#56B4E9"
    target: str = TARGET
    line_width: float = 1.0
    font_size: int = 9               # points, for axis ticks and labels in the plots
    ui_font_size: int = 0            # points for the widgets; 0 keeps the platform's size
    axis_width: int = 44             # pixels of the left axis (tick labels and label)
    presentation: bool = False
    sequential: np.ndarray = field(default_factory=lambda: _lut(SEQUENTIAL_MAP), repr=False,
                                   compare=False)
    diverging: np.ndarray = field(default_factory=lambda: _lut(DIVERGING_MAP), repr=False,
                                  compare=False)

    @property
    def dark(self) -> bool:
        return QColor(self.background).lightness() < 128

    @property
    def shade(self) -> QColor:
        """The veil over the future: the background, mostly opaque."""
        c = QColor(self.background)
        c.setAlpha(215)
        return c

    @property
    def cursor_pen(self):
        return pg.mkPen(self.cursor, width=max(self.line_width, 1.5))

    def panel_colour(self, panel: str) -> str:
        """The colour of a lesson's panel (``rnnviz.files.lessons.PANELS``, or a gate letter,
        which has the gates' colour)."""
        colours = DARK_PANEL_COLOURS if self.dark else PANEL_COLOURS
        return colours.get(panel, colours["gates"])

    def frame_pen(self, panel: str):
        """The frame around a panel a lesson points at: thicker than any line in a plot."""
        return pg.mkPen(self.panel_colour(panel), width=max(3.0, 1.5 * self.line_width))

    @property
    def axis_pen(self):
        return pg.mkPen(self.muted, width=1)

    def pen(self, colour: str, *, dash: bool = False):
        if colour == TARGET:
            colour = self.target
        style = Qt.PenStyle.DashLine if dash else Qt.PenStyle.SolidLine
        return pg.mkPen(colour, width=self.line_width, style=style)

    def font(self, scale: float = 1.0) -> QFont:
        font = QFont()
        font.setPointSizeF(self.font_size * scale)
        return font

    def lut_for(self, levels: tuple[float, float]) -> np.ndarray:
        return self.diverging if levels[0] < 0 else self.sequential

    def map_for(self, levels: tuple[float, float]) -> pg.ColorMap:
        return colour_map(DIVERGING_MAP if levels[0] < 0 else SEQUENTIAL_MAP)

    def palette(self) -> QPalette:
        """A Qt palette for the widgets around the plots (the light one is the platform's)."""
        if not self.dark:
            return QPalette()
        p = QPalette()
        R = QPalette.ColorRole
        colours = {R.Window: self.window, R.WindowText: self.foreground, R.Base: "#1e1e1e",
                   R.AlternateBase: "#2a2a2a", R.Text: self.foreground, R.Button: "#3a3a3a",
                   R.ButtonText: self.foreground, R.ToolTipBase: "#3a3a3a",
                   R.ToolTipText: self.foreground, R.Highlight: "#0072B2",
                   R.HighlightedText: "#ffffff", R.PlaceholderText: self.muted}
        for role, colour in colours.items():
            p.setColor(role, QColor(colour))
        for role in (R.WindowText, R.Text, R.ButtonText):
            p.setColor(QPalette.ColorGroup.Disabled, role, QColor(self.muted))
        return p


LIGHT = Theme()
DARK = Theme(name="dark", background="#111111", window="#262626", foreground="#e6e6e6",
             muted="#9a9a9a", target="#bbbbbb", selection="#ffffff")


def presentation(theme: Theme) -> Theme:
    """The same colours with fonts and lines for a projector: about twice the size."""
    return replace(theme, font_size=16, ui_font_size=16, line_width=3.0, axis_width=92,
                   presentation=True)


def theme_for(dark: bool = False, presenting: bool = False) -> Theme:
    base = DARK if dark else LIGHT
    return presentation(base) if presenting else base
