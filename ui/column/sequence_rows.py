"""The rows about the sequence: the input (with its saliency strip) and the output.

- ``InputRow``: up to three input channels as curves, or a heatmap of one-hot channels with the
  symbols written above it; under it the saliency strip for the cursor.
- ``OutputRow``: the target (dashed) and the prediction; for a class task the probability the
  model gives the right class at each scored step (``rnnviz.analysis`` computes it). A task
  scored at one step (the adding problem, temporal order) also writes the answer and the target
  in words once the cursor reaches that step: one dot is not something a class can read.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from rnnviz.core.losses import Target
from rnnviz.core.trace import Trace, class_probability

from ..style import theme as colours
from ..style.theme import Theme
from .items import Cursor, Heatmap
from .layout import PlotGrid
from .saliency_strip import SaliencyStrip

INPUT_COLOURS = (colours.INPUT, "#56B4E9", "#009E73")
ANSWERED_STEPS = 3  # tasks scored at this many steps or fewer get their answer in words
MAX_LABELLED_STEPS = 400  # characters stay readable only on short inputs
HELP = {
    "input": "The input sequence; the orange line is the current step t.",
    "saliency": "Input saliency for the current step t: cell k is log10 ||d output_t/d x_k||_F, "
                "how much the prediction at t still depends on input k (brightest = the most "
                "influential input; the scale spans 4 decades below it).",
    "output": "Target (dashed) and the model's prediction up to t. For classes, p(y): the "
              "probability the model gives the right class y at each scored step.",
}


def fit_y(plot: pg.PlotItem, curves, log: bool = False) -> None:
    """Set a plot's y range to its curves' finite data once (auto-range stays off, so a time
    step never re-measures the data)."""
    values = [np.asarray(c.yData, float) for c in curves if c.yData is not None]
    values = np.concatenate(values) if values else np.array([])
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if values.size == 0:
        return
    lo, hi = float(values.min()), float(values.max())
    if log:
        lo, hi = np.log10(lo), np.log10(hi)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    plot.setYRange(lo, hi, padding=0.08)


class InputRow:
    def __init__(self, grid: PlotGrid, theme: Theme):
        self.grid, self.theme = grid, theme
        self.plot = grid.plot(grid.next_row(), 0, "input", HELP["input"])
        self.curves = [self.plot.plot(pen=theme.pen(c)) for c in INPUT_COLOURS]
        self.map = Heatmap(self.plot, theme)
        self.plot.getViewBox().invertY(False)
        self.char_items: list[pg.TextItem] = []
        self.cursor = Cursor(self.plot, theme, shade=False)
        # symbols wider than a step would smear into one another: write every k-th
        self.plot.getViewBox().sigResized.connect(self._thin_symbols)
        self.plot.getViewBox().sigXRangeChanged.connect(self._thin_symbols)
        self._symbol_every = 1
        self._one_hot = False

        self.saliency_plot = grid.plot(grid.next_row(), 0, "", HELP["saliency"])
        self.saliency_plot.setMaximumHeight(18)
        self.saliency_plot.hideAxis("bottom")
        strip_axis = self.saliency_plot.getAxis("left")
        strip_axis.setTicks([[(0.5, "∂y/∂x")]])
        strip_axis.setStyle(tickLength=0, hideOverlappingLabels=False, tickTextOffset=1)
        self.saliency = SaliencyStrip(self.saliency_plot, theme)
        self.saliency_plot.setXLink(self.plot)
        self.saliency_cursor = Cursor(self.saliency_plot, theme)

    @property
    def cursors(self) -> list[Cursor]:
        return [self.cursor, self.saliency_cursor]

    @property
    def curve_colours(self) -> list[tuple]:
        return [(c, colour, False) for c, colour in zip(self.curves, INPUT_COLOURS,
                                                         strict=True)]

    def fill(self, inputs: np.ndarray, labels: list[str] | None,
             ticks: list[tuple[int, str]] | None = None) -> None:
        """Show the input sequence ``(T, I)`` and its symbols; ``ticks`` name channels on the
        heatmap's axis (a piano roll's notes, channel 0 at the bottom)."""
        steps = len(inputs)
        x = np.arange(steps)
        small = inputs.shape[1] <= len(self.curves)
        for k, curve in enumerate(self.curves):
            if small and k < inputs.shape[1]:
                curve.setData(x, inputs[:, k])
            else:
                curve.setData([], [])
        self._one_hot = not small and not ticks  # named channels (notes) stay readable
        self._show_channel_numbers()
        if small:
            self.map.clear()
            fit_y(self.plot, self.curves)
        else:
            lo, hi = float(inputs.min()), float(inputs.max())
            self.map.set(inputs, (lo, hi if hi > lo else lo + 1), self.theme.sequential)
            self.plot.setYRange(0, inputs.shape[1], padding=0)
        axis = self.plot.getAxis("left")
        axis.setTicks(None if not ticks or small else
                      [[(k + 0.5, name) for k, name in ticks], []])
        for item in self.char_items:
            self.plot.removeItem(item)
        self.char_items = []
        if labels is not None and steps <= MAX_LABELLED_STEPS:
            for t, text in enumerate(labels):
                item = pg.TextItem(text, color=self.theme.foreground, anchor=(0.5, 1))
                item.setFont(self.theme.font())
                item.setPos(t, inputs.shape[1] if not small else float(np.max(inputs)))
                self.plot.addItem(item, ignoreBounds=True)
                self.char_items.append(item)
            self._symbol_every = 0  # thin them again
            self._thin_symbols()
            # a band above the data for the characters (they sit on top of it)
            lo, hi = self.plot.viewRange()[1] if small else (0, inputs.shape[1])
            self.plot.setYRange(lo, hi + 0.4 * (hi - lo), padding=0)
        self.plot.setXRange(-0.5, steps - 0.5, padding=0)

    def _show_channel_numbers(self) -> None:
        """A one-hot input's channel numbers collide at presentation size (the symbols above
        say the same)."""
        self.plot.getAxis("left").setStyle(
            showValues=not (self._one_hot and self.theme.presentation))

    def _thin_symbols(self, *_) -> None:
        """Show every k-th symbol, k the smallest that leaves each a symbol's width."""
        if not self.char_items:
            return
        box = self.plot.getViewBox()
        (x0, x1), width = box.viewRange()[0], box.width()
        pixels_per_step = width / max(x1 - x0, 1e-9)
        widest = max(QFontMetricsF(self.theme.font()).horizontalAdvance("W"), 1.0)
        every = max(1, int(np.ceil(1.2 * widest / max(pixels_per_step, 1e-9))))
        if every != self._symbol_every:
            self._symbol_every = every
            for t, item in enumerate(self.char_items):
                item.setVisible(t % every == 0)

    def show_edit(self, inputs: np.ndarray, labels: list[str] | None, k: int) -> None:
        """The input at step ``k`` was edited: redraw the input (not the rest of the row)."""
        if self.map.data is None:
            x = np.arange(len(inputs))
            for c, curve in enumerate(self.curves[: inputs.shape[1]]):
                curve.setData(x, inputs[:, c])
        else:
            self.map.replace(inputs)
        if labels is not None and k < len(self.char_items):
            self.char_items[k].setText(labels[k])

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.map.apply_theme(theme)
        # the strip's one label at the axis font: ∂ reads as "a" at small sizes
        font = theme.font(0.9)
        self.saliency_plot.getAxis("left").setTickFont(font)
        self.saliency_plot.setMaximumHeight(max(18, int(font.pointSizeF() * 2.2)))
        for item in self.char_items:
            item.setColor(theme.foreground)
            item.setFont(theme.font())
        self._symbol_every = 0
        self._thin_symbols()
        self._show_channel_numbers()


class OutputRow:
    def __init__(self, grid: PlotGrid, theme: Theme):
        self.grid = grid
        self.classes: tuple[str, ...] | None = None  # the task's class names
        self.plot = grid.plot(grid.next_row(), 0, "output", HELP["output"])
        self.target_curve = self.plot.plot(pen=theme.pen(colours.TARGET, dash=True),
                                           symbolBrush=colours.TARGET, symbolSize=5)
        self.pred_curve = self.plot.plot(pen=theme.pen(colours.PREDICTION),
                                         symbolBrush=colours.PREDICTION, symbolSize=5)
        self.cursor = Cursor(self.plot, theme)
        # in the plot's top-left corner, in pixels, whatever the data's range
        self.answer = pg.TextItem("", anchor=(0, 0))
        self.answer.setParentItem(self.plot.getViewBox())
        self.answer.setPos(2, 0)
        self.answer_step: int | None = None  # the step the answer is for, shown from there on
        self.apply_theme(theme)

    @property
    def curve_colours(self) -> list[tuple]:
        return [(self.target_curve, colours.TARGET, True),
                (self.pred_curve, colours.PREDICTION, False)]

    def fill_target(self, target: Target | None, steps: int) -> None:
        """The target of a regression task (a class task shows p(y) instead)."""
        if target is None or target.kind != "mse":
            self.target_curve.setData([], [])
            return
        values = np.where(target.mask > 0, target.values[:, 0], np.nan)
        sparse = target.mask.sum() < 0.2 * steps
        self.target_curve.setData(np.arange(steps), values, connect="finite",
                                  symbol="o" if sparse else None)

    def fill(self, trace: Trace, target: Target | None) -> None:
        x = np.arange(trace.steps)
        if target is not None and target.kind == "xent":
            values = class_probability(trace, target)
            self.pred_curve.setData(x, values, connect="finite", symbol="o")
            self.plot.setYRange(0, 1, padding=0.05)
            # three fixed ticks: a short row has no room for the automatic six
            self.plot.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
            self.grid.label(self.plot, "p(y)")
        else:
            sparse = target is not None and target.mask.sum() < 0.2 * trace.steps
            self.plot.getAxis("left").setTicks(None)
            self.pred_curve.setData(x, trace["output"][:, 0], symbol="o" if sparse else None)
            fit_y(self.plot, [self.pred_curve, self.target_curve])
            self.grid.label(self.plot, "output")

        self._fill_answer(trace, target)

    def _fill_answer(self, trace: Trace, target: Target | None) -> None:
        """The answer and the target at the last scored step, when at most
        ``ANSWERED_STEPS`` steps are scored."""
        scored = np.flatnonzero(target.mask > 0) if target is not None else np.zeros(0)
        if target is None or not 0 < len(scored) <= ANSWERED_STEPS:
            self.answer_step = None
            self.answer.setText("")
            return
        k = int(scored[-1])
        output = np.asarray(trace["output"][k], np.float64)
        if target.kind == "xent":
            p = np.exp(output - output.max())
            p /= p.sum()
            names = self.classes or tuple(str(c) for c in range(len(p)))
            guess, right = int(np.argmax(p)), int(target.values[k])
            mark = "right" if guess == right else "wrong"
            text = f"answer {names[guess]} ({p[guess]:.0%}), target {names[right]}: {mark}"
        else:
            text = f"answer {output[0]:.2f}, target {float(target.values[k, 0]):.2f}"
        self.answer_step = k
        self.answer.setText(text)
        self.move(self.cursor.t)

    def move(self, t: int) -> None:
        """Show the answer once the cursor has reached its step (before, it would tell)."""
        shown = self.answer_step is not None and t >= self.answer_step
        if shown != self.answer.isVisible():
            self.answer.setVisible(shown)

    def apply_theme(self, theme: Theme) -> None:
        self.answer.setColor(theme.foreground)
        self.answer.setFont(theme.font(1.05))
        backdrop = pg.mkColor(theme.background)
        backdrop.setAlpha(210)
        self.answer.fill = pg.mkBrush(backdrop)
        self.answer.update()

    def clear(self) -> None:
        self.pred_curve.setData([], [])
        self.answer_step = None
        self.answer.setText("")
