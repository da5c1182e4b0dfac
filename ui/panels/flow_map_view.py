"""The "Flow map" tab: each column's whole gradient-flow map ``||d loss_t / dh_k||`` for every
step t (rows, top to bottom) and every earlier step k (columns, left to right), as a heatmap
on a log scale.

Row t is the gradient of step t's loss flowing back through time: bright near the diagonal
(k = t) and fading to the left as it vanishes, or staying bright where the network remembers.
The band along the diagonal shows at a glance how far back gradients reach. The current step's
row is outlined; hovering gives the exact value, clicking a row moves the cursor there.

The map costs about ``4 T^2 H^2`` flops for an LSTM (``rnnviz.core.gradient_maps``), so it is
computed on the worker, chunk by chunk with a progress bar and a Cancel button, only while the
tab is visible. Maps that should take under ``AUTO_SECONDS`` start on their own; larger ones
wait for Compute, whose tooltip says the estimated time and memory. Maps above
``MAX_MATRIX_VALUES`` are refused with one line. A map longer than ``SCREEN_PIXELS`` steps is
drawn at screen resolution (the largest value of each block of steps), while hovering reads
the full map.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..state.controller import Explorer
from ..style import theme as colours
from ..style.theme import Theme

AUTO_SECONDS = 3.0        # maps estimated to take less start when the tab is shown
ASSUMED_RATE = 20e9       # flop/s for that estimate: a tenth of a core's matmul rate, so that
                          # a busy machine still meets it (measuring it would run JAX here)
SCREEN_PIXELS = 1024      # the most image pixels per side; longer maps are max-pooled
DECADES = 8               # the colour scale spans at most this many powers of ten
HELP = ("Row t: ||d loss_t / dh_k|| for every step k, how the gradient of step t's loss "
        "fades (or grows) as it flows back through time; log colour scale. Outlined: the "
        "current step's row. Hover for the value, click to move the cursor to that row.")


def screen_image(log_map: np.ndarray, limit: int = SCREEN_PIXELS) -> np.ndarray:
    """``log_map (T, T)`` (-inf where the gradient is 0) max-pooled to at most ``limit``
    pixels a side, with NaN (drawn transparent) where a block holds no gradient."""
    steps = log_map.shape[0]
    factor = -(-steps // limit)
    if factor > 1:
        size = -(-steps // factor) * factor
        padded = np.full((size, size), -np.inf, log_map.dtype)
        padded[:steps, :steps] = log_map
        n = size // factor
        log_map = padded.reshape(n, factor, n, factor).max(axis=(1, 3))
    return np.where(np.isfinite(log_map), log_map, np.nan).astype(np.float32)


class FlowMapPanel:
    """One column's map: an image in step coordinates and the current row's outline."""

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot, self.theme = plot, theme
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setToolTip(HELP)
        plot.getViewBox().invertY(True)
        plot.setLabel("bottom", "k (step the gradient reaches)")
        plot.setLabel("left", "t (step of the loss)")
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.outline = pg.PlotDataItem(pen=pg.mkPen(theme.cursor, width=2))  # row t: the cursor
        self.outline.setZValue(10)
        plot.addItem(self.outline)
        self.values: np.ndarray | None = None   # the full (T, T) map shown
        self.levels = (0.0, 1.0)

    def set_map(self, title: str, values: np.ndarray) -> None:
        self.values = values
        steps = values.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(values > 0, values, 0).astype(np.float64))
        finite = logs[np.isfinite(logs)]
        top = float(finite.max()) if finite.size else 0.0
        bottom = max(float(finite.min()) if finite.size else top - 1, top - DECADES)
        self.levels = (bottom, top if top > bottom else bottom + 1)
        self.image.setImage(screen_image(logs), levels=self.levels,
                            lut=self.theme.sequential, autoLevels=False)
        self.image.setRect(QRectF(0, 0, steps, steps))
        self.plot.setXRange(0, steps, padding=0)
        self.plot.setYRange(0, steps, padding=0)
        self.plot.setTitle(f"{html.escape(title)}: 10^{self.levels[0]:.1f} to "
                           f"10^{self.levels[1]:.1f}", size="9pt")
        self.plot.setToolTip(f"{HELP} Colours from 10^{self.levels[0]:.1f} to "
                             f"10^{self.levels[1]:.1f}.")

    def show_message(self, title: str, message: str) -> None:
        self.values = None
        self.image.clear()
        self.outline.setData([], [])
        self.plot.setTitle(f"{html.escape(title)}: {html.escape(message)}", size="9pt")

    def set_cursor(self, t: int) -> None:
        if self.values is None:
            return
        steps = float(self.values.shape[0])
        self.outline.setData([0, steps, steps, 0, 0], [t, t, t + 1, t + 1, t])

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        """``(t, k, value)`` under the point ``(x, y)`` in step coordinates, if on the map."""
        if self.values is None:
            return None
        t, k = int(np.floor(y)), int(np.floor(x))
        steps = self.values.shape[0]
        if not (0 <= t < steps and 0 <= k < steps):
            return None
        return t, k, float(self.values[t, k])


class FlowMapView(QWidget):
    """One ``FlowMapPanel`` per column, stacked, with the compute controls above them."""

    def __init__(self, explorer: Explorer, theme: Theme = colours.LIGHT, parent=None):
        super().__init__(parent)
        self.explorer, self.state, self.theme = explorer, explorer.state, theme
        caption = QLabel("The whole gradient-flow map: row t is the gradient of step t's loss "
                         "flowing back to every earlier step k (log scale).")
        caption.setWordWrap(True)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute_all)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_all)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.readout = QLabel("")
        controls = QHBoxLayout()
        controls.addWidget(self.compute_button)
        controls.addWidget(self.cancel_button)
        controls.addWidget(self.progress, 1)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(theme.background)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(caption)
        layout.addLayout(controls)
        layout.addWidget(self.readout)
        layout.addWidget(self.canvas, 1)
        self.panels: dict[int, FlowMapPanel] = {}
        self.running: dict[int, float] = {}   # column id: fraction done
        events = explorer.state.events
        events.columns.connect(self._sync_columns)
        events.column_ready.connect(self._on_column_ready)
        events.map_progress.connect(self._on_progress)
        events.map_ready.connect(self._on_map_ready)
        events.t.connect(self._on_cursor)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._sync_columns()

    # -- columns and maps --------------------------------------------------------------------
    def _sync_columns(self) -> None:
        wanted = [c.id for c in self.state.columns]
        if list(self.panels) != wanted:
            for panel in self.panels.values():
                self.canvas.removeItem(panel.plot)
            kept = {i: p for i, p in self.panels.items() if i in wanted}
            self.panels = {}
            for row, column_id in enumerate(wanted):
                panel = kept.get(column_id) or FlowMapPanel(pg.PlotItem(enableMenu=False),
                                                            self.theme)
                self.canvas.addItem(panel.plot, row=row, col=0)
                self.panels[column_id] = panel
        self.running = {i: f for i, f in self.running.items() if i in wanted}
        self._refresh()

    def apply_theme(self, theme: Theme) -> None:
        """Draw in ``theme``: the panels are made again in its colours and refilled (the maps
        stay computed: they are the columns')."""
        self.theme = theme
        self.canvas.setBackground(theme.background)
        for panel in self.panels.values():
            self.canvas.removeItem(panel.plot)
        self.panels = {}
        self._sync_columns()

    def _on_column_ready(self, column_id: int) -> None:
        if column_id in self.panels and self.isVisible():
            self._fill(column_id, start=True)
            self._update_controls()

    def _on_progress(self, column_id: int, fraction: float) -> None:
        self.running[column_id] = float(fraction)
        self._update_controls()
        if column_id in self.panels and fraction == 0.0 and self.isVisible():
            self._fill(column_id, start=False)

    def _on_map_ready(self, column_id: int) -> None:
        self.running.pop(column_id, None)
        if column_id in self.panels and self.isVisible():
            self._fill(column_id, start=False)
        self._update_controls()

    def _title(self, column) -> str:
        return f"{column.config.title} {column.unit}"

    def _fill(self, column_id: int, *, start: bool) -> None:
        """Show the column's map, or say why not; with ``start``, begin computing a missing
        map whose estimate is under ``AUTO_SECONDS``."""
        column = self.state.find(column_id)
        panel = self.panels[column_id]
        if column is None:
            return
        title = self._title(column)
        values = column.shown_flow_map()
        if values is not None:
            if panel.values is not values:
                panel.set_map(title, values)
            panel.set_cursor(self.state.t)
            return
        cost = self.explorer.flow_map_cost(column_id)
        if column.model is None:
            panel.show_message(title, column.error or "computing the trace…")
        elif cost is None:
            panel.show_message(title, "the flow map needs a task with a target")
        elif column_id in self.running:
            panel.show_message(title, "computing the map…")
        elif column.map_error is not None and column.map_error != "cancelled":
            panel.show_message(title, column.map_error)
        elif start and column.map_error is None and cost.seconds(ASSUMED_RATE) < AUTO_SECONDS:
            self.explorer.compute_flow_map(column_id)
        else:
            panel.show_message(title, f"press Compute (about {_describe(cost)})")

    def _refresh(self, *, start: bool = True) -> None:
        if self.isVisible():
            for column_id in self.panels:
                self._fill(column_id, start=start)
        self._update_controls()

    def _update_controls(self) -> None:
        self.cancel_button.setEnabled(bool(self.running))
        missing = [c for c in self.state.columns if c.id not in self.running
                   and c.shown_flow_map() is None and self.explorer.flow_map_cost(c.id)]
        self.compute_button.setEnabled(bool(missing))
        costs = [self.explorer.flow_map_cost(c.id) for c in missing]
        self.compute_button.setToolTip(
            "Compute the maps not shown yet: " + ", ".join(_describe(c) for c in costs if c)
            if costs else "Every map is shown or on its way")
        done = (sum(self.running.values()) / len(self.running)) if self.running else 0.0
        self.progress.setValue(int(1000 * done))
        self.progress.setVisible(bool(self.running))

    def compute_all(self) -> None:
        for column in self.state.columns:
            if column.id not in self.running and column.shown_flow_map() is None:
                column.map_error = None
                self.explorer.compute_flow_map(column.id)

    def cancel_all(self) -> None:
        for column_id in list(self.running):
            self.explorer.cancel_flow_map(column_id)

    # -- the cursor and the mouse ------------------------------------------------------------
    def _on_cursor(self, t: int) -> None:
        if self.isVisible():
            for panel in self.panels.values():
                panel.set_cursor(t)

    def _panel_at(self, pos):
        for column_id, panel in self.panels.items():
            box = panel.plot.getViewBox()
            if box.sceneBoundingRect().contains(pos):
                point = box.mapSceneToView(pos)
                return column_id, panel.value_at(point.x(), point.y())
        return None, None

    def _on_mouse_moved(self, pos) -> None:
        column_id, hit = self._panel_at(pos)
        column = self.state.find(column_id) if column_id is not None else None
        if hit is None or column is None:
            return
        t, k, value = hit
        self.readout.setText(f"{self._title(column)}: ||d loss_{t}/dh_{k}|| = {value:.4g}")

    def _on_mouse_clicked(self, event) -> None:
        _, hit = self._panel_at(event.scenePos())
        if hit is not None:
            self.explorer.set_cursor(hit[0])

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Bring every panel up to date: nothing is computed while the tab is hidden."""
        super().showEvent(event)
        self._refresh()


def _describe(cost) -> str:
    seconds = cost.seconds(ASSUMED_RATE)
    size = cost.out_bytes / 2**20
    return f"{seconds:.0f} s, {size:.0f} MB" if seconds >= 1 else f"under 1 s, {size:.1f} MB"
