"""The "Weights" tab: each column's recurrent matrix ``W_hh`` of the shown layer as a heatmap,
and the eigenvalues of each gate block in the complex plane with the unit circle.

Eigenvalues outside the circle (spectral radius above 1) stretch some direction of h at every
step: signals and gradients carried back through time can explode; all of them well inside it
means they fade (vanishing gradients). The title gives each block's spectral radius. The view
follows ``column_ready``, so a new initialisation (Edit…) or trained weights show at once.

The heatmap's colour scale is symmetric about 0 (``±max|W|`` of that column, diverging colour
map, white at 0); rows are grouped by gate block, ``W_h{gate}`` labelled on the left.
Eigenvalues come from ``rnnviz.analysis.spectrum`` (numpy, no JAX) and are computed only while
the tab
is visible. Plot items are created once per column; an update is ``setImage`` and ``setData``.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from rnnviz.analysis.spectrum import Spectrum, diagonal_spectrum, recurrent_spectrum
from rnnviz.core.forward import state_key

from ..state.controller import Explorer
from ..style import theme as colours
from ..style.theme import Theme

RNN_COLOUR = "#0072B2"
MATRIX_HELP = ("W_hh of the shown layer: row = the unit it feeds, column = the unit it reads; "
               "rows grouped by gate block. Blue negative, red positive, white 0.")
SPECTRUM_HELP = ("Eigenvalues of each gate block of W_hh, coloured by gate, with the unit "
                 "circle. Outside the circle: signals and gradients through time can explode; "
                 "well inside: they vanish. ρ is the spectral radius, max |λ|.")


def gate_colour(letter: str) -> str:
    return colours.GATE_COLOURS.get(letter, RNN_COLOUR)


class WeightsPanel:
    """One column: a ``W_hh`` heatmap and an eigenvalue scatter with the unit circle."""

    def __init__(self, matrix_plot: pg.PlotItem, spectrum_plot: pg.PlotItem, theme: Theme):
        self.theme = theme
        self.matrix_plot, self.spectrum_plot = matrix_plot, spectrum_plot
        for plot in (matrix_plot, spectrum_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
        matrix_plot.setToolTip(MATRIX_HELP)
        spectrum_plot.setToolTip(SPECTRUM_HELP)
        self.image = pg.ImageItem(axisOrder="row-major")
        matrix_plot.addItem(self.image)
        matrix_plot.getViewBox().invertY(True)
        matrix_plot.getAxis("bottom").setStyle(showValues=False)
        self.separators = pg.PlotDataItem(pen=pg.mkPen(theme.foreground, width=2),
                                          connect="pairs")
        matrix_plot.addItem(self.separators)

        angle = np.linspace(0, 2 * np.pi, 181)
        spectrum_plot.plot(np.cos(angle), np.sin(angle), pen=pg.mkPen(theme.muted, width=1))
        spectrum_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=theme.axis_pen))
        spectrum_plot.addItem(pg.InfiniteLine(pos=0, angle=90, pen=theme.axis_pen))
        spectrum_plot.setAspectLocked(True)
        spectrum_plot.setLabel("bottom", "Re λ")
        spectrum_plot.setLabel("left", "Im λ")
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen(theme.foreground, width=0.5))
        self.points.setZValue(10)
        spectrum_plot.addItem(self.points)
        self.weight: np.ndarray | None = None
        self.spectrum: Spectrum | None = None
        self.source = None   # the weight_hh array shown (new weights are new arrays)

    def set_weights(self, title: str, spec, weight_hh) -> None:
        """Show ``weight_hh (G*H, H)`` of a model of ``spec``."""
        self.source = weight_hh
        weight = np.asarray(weight_hh, np.float64)
        self.weight = weight
        self.spectrum = spectrum = recurrent_spectrum(spec, weight)
        rows, units = weight.shape
        finite = weight[np.isfinite(weight)]
        top = float(np.abs(finite).max()) if finite.size else 1.0
        top = top if top > 0 else 1.0
        self.image.setImage(np.ascontiguousarray(weight, np.float32), levels=(-top, top),
                            lut=self.theme.diverging, autoLevels=False)
        self.image.setRect(QRectF(0, 0, units, rows))
        self.matrix_plot.setXRange(0, units, padding=0)
        self.matrix_plot.setYRange(0, rows, padding=0)
        edges = [units * k for k in range(1, len(spectrum.gates))]
        xs = np.tile([0.0, float(units)], len(edges))
        ys = np.repeat(np.asarray(edges, float), 2)
        self.separators.setData(xs, ys, connect="pairs")
        self.matrix_plot.getAxis("left").setTicks([[
            (units * (k + 0.5), f"W_h{g}" if g != "h" else "W_hh")
            for k, g in enumerate(spectrum.gates)]])
        self.matrix_plot.setTitle(f"{html.escape(title)} W_hh {rows}×{units}", size="9pt")
        self.matrix_plot.setToolTip(f"{MATRIX_HELP} Colour scale ±{top:.3g}.")

        values = np.concatenate(spectrum.eigenvalues)
        brushes = [pg.mkBrush(gate_colour(g)) for g, ev in
                   zip(spectrum.gates, spectrum.eigenvalues, strict=True) for _ in ev]
        finite = np.isfinite(values)
        self.points.setData(values.real[finite], values.imag[finite],
                            brush=[b for b, ok in zip(brushes, finite, strict=True) if ok])
        radius = max([1.0, *[r for r in spectrum.radii if np.isfinite(r)]])
        self.spectrum_plot.setXRange(-radius, radius, padding=0.08)
        self.spectrum_plot.setYRange(-radius, radius, padding=0.08)
        parts = [f"<span style='color:{gate_colour(g)}'>ρ{'' if g == 'h' else '_' + g} "
                 f"{r:.2f}</span>" for g, r in zip(spectrum.gates, spectrum.radii, strict=True)]
        self.spectrum_plot.setTitle(" ".join(parts), size="9pt")

    def set_diagonal(self, title: str, eigenvalues: np.ndarray, t: int) -> None:
        """Show a modern cell's diagonal transition at step ``t``: no matrix, its eigenvalues
        (one per state value) in the complex plane."""
        self.source = self.weight = self.spectrum = None
        self.image.clear()
        self.separators.setData([], [])
        self.matrix_plot.getAxis("left").setTicks(None)
        self.matrix_plot.setTitle(f"{html.escape(title)}: no W_hh; h_t = a_t ⊙ h_(t-1) + b_t,"
                                  f" a_t at t = {t} on the right", size="9pt")
        finite = eigenvalues[np.isfinite(eigenvalues)]
        self.points.setData(finite.real, finite.imag, brush=pg.mkBrush(RNN_COLOUR))
        self.spectrum_plot.setXRange(-1, 1, padding=0.08)
        self.spectrum_plot.setYRange(-1, 1, padding=0.08)
        top = float(np.abs(finite).max()) if finite.size else 0.0
        self.spectrum_plot.setTitle(f"diagonal: {finite.size} eigenvalues, max |λ| {top:.3f}",
                                    size="9pt")

    def clear(self, title: str, message: str) -> None:
        self.source = self.weight = self.spectrum = None
        self.image.clear()
        self.separators.setData([], [])
        self.points.setData([], [])
        self.matrix_plot.setTitle(f"{html.escape(title)}: {message}", size="9pt")
        self.spectrum_plot.setTitle("")

    def shown_eigenvalues(self) -> np.ndarray:
        """The scatter's points as complex numbers (what the student sees)."""
        x, y = self.points.getData()
        return np.asarray(x) + 1j * np.asarray(y)


class WeightsView(QWidget):
    """One ``WeightsPanel`` per column (matrix left, spectrum right), one row each."""

    def __init__(self, explorer: Explorer, theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.explorer, self.state, self.theme = explorer, explorer.state, theme
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.background)
        caption = QLabel("Recurrent weights W_hh and their eigenvalues λ; ρ = max |λ| above 1 "
                         "lets gradients explode, far below 1 makes them vanish.")
        caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(caption)
        layout.addWidget(self.canvas, 1)
        self.panels: dict[int, WeightsPanel] = {}
        explorer.state.events.columns.connect(self._sync_columns)
        explorer.state.events.column_ready.connect(self._on_column_ready)
        explorer.state.events.t.connect(self._on_t)   # a modern cell's a_t follows the cursor
        self._sync_columns()

    def _sync_columns(self) -> None:
        wanted = [c.id for c in self.state.columns]
        if list(self.panels) != wanted:
            for panel in self.panels.values():
                self.canvas.removeItem(panel.matrix_plot)
                self.canvas.removeItem(panel.spectrum_plot)
            kept = {i: p for i, p in self.panels.items() if i in wanted}
            self.panels = {}
            for row, column_id in enumerate(wanted):
                panel = kept.get(column_id) or WeightsPanel(pg.PlotItem(enableMenu=False),
                                                            pg.PlotItem(enableMenu=False),
                                                            self.theme)
                self.canvas.addItem(panel.matrix_plot, row=row, col=0)
                self.canvas.addItem(panel.spectrum_plot, row=row, col=1)
                self.panels[column_id] = panel
        for column_id in wanted:
            self._on_column_ready(column_id)

    def apply_theme(self, theme: Theme) -> None:
        """Draw in ``theme``: the panels are made again in its colours and refilled."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for panel in self.panels.values():
            self.canvas.removeItem(panel.matrix_plot)
            self.canvas.removeItem(panel.spectrum_plot)
        self.panels = {}
        self._sync_columns()

    def _on_column_ready(self, column_id: int) -> None:
        if column_id in self.panels and self.isVisible():
            self._fill(column_id)

    def _on_t(self, *_) -> None:
        if not self.isVisible():
            return
        for column in self.state.columns:
            if column.id in self.panels and column.model is not None \
                    and column.model.spec.cell_type.transition is not None:
                self._fill(column.id)

    def _fill(self, column_id: int) -> None:
        column = self.state.column(column_id)
        panel = self.panels[column_id]
        title = f"{column.config.title} {column.unit}"
        model = column.model
        if model is None:
            panel.clear(title, column.error or "computing…")
        elif model.spec.cell_type.transition is not None:
            if not column.ready:
                panel.clear(title, "computing…")
                return
            t = max(self.state.t, 0)
            record = {n: column.trace.arrays[state_key(n, column.unit)][t]
                      for n in model.spec.cell_type.state_names}
            panel.set_diagonal(title, diagonal_spectrum(model.spec, model.params, column.unit,
                                                        record), t)
        else:
            weight = model.params[f"weight_hh_{column.unit}"]
            if panel.source is not weight:
                panel.set_weights(title, model.spec, weight)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Bring every panel up to date: nothing is computed while the tab is hidden."""
        super().showEvent(event)
        for column_id in self.panels:
            self._fill(column_id)
