"""The saliency strip, the trajectory tab, the weights tab and the flow-map tab against the
engine: what each view draws is checked against ``rnnviz.core.saliency``,
``rnnviz.analysis.projection``, numpy's own eigenvalues and ``Model.flow_map``."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from rnnviz.ui.column.saliency_strip import DECADES, log_levels

from rnnviz.analysis.projection import pca_projection
from rnnviz.core import saliency
from rnnviz.core.init import InitOptions
from rnnviz.core.model import Model
from rnnviz.core.trace import as_input
from rnnviz.files.presets import ModelConfig


def _wait_saliency(qtbot, window, t):
    qtbot.waitUntil(lambda: all(c.row("saliency", t) is not None for c in window.state.columns),
                    timeout=60_000)


def _engine_saliency(column, inputs, t):
    spec, params = column.model.spec, column.model.params
    return np.asarray(saliency.saliency_row(spec, params, as_input(spec, inputs), t))


def test_log_levels_scale_each_row_to_its_largest_value():
    row = np.array([1e-6, 1e-3, 1e-2, 0.5, np.inf, 0.0, 0.0])
    image, (lo, hi) = log_levels(row, t=3)       # the Inf is after t: not in the scale
    assert (lo, hi) == (np.log10(0.5) - DECADES, np.log10(0.5))
    assert image.shape == (1, 7) and image.dtype == np.float32
    np.testing.assert_allclose(image[0, :4], [lo, -3, -2, np.log10(0.5)], rtol=1e-6)
    assert image[0, 4] == np.float32(hi)          # NaN/Inf: the top colour
    assert np.all(image[0, 5:] == np.float32(lo))  # zeros (the future): the bottom colour


def test_saliency_strip_shows_the_engine_row_at_the_cursor(make_window, qtbot):
    window = make_window()
    explorer, state = window.explorer, window.state
    explorer.set_cursor(37)
    _wait_saliency(qtbot, window, 37)
    qtbot.keyClick(window, Qt.Key.Key_Right)     # step, as a student does
    assert state.t == 38
    _wait_saliency(qtbot, window, 38)
    for column in state.columns:
        strip = window.views[column.id].input.saliency
        expected = _engine_saliency(column, state.inputs, 38)
        assert strip.t == 38
        np.testing.assert_allclose(strip.row, expected, rtol=1e-6)
        assert np.all(strip.row[39:] == 0) and np.all(strip.row[:39] > 0)
        image, levels = log_levels(expected, 38)
        np.testing.assert_allclose(strip.image.image, image, rtol=1e-5, atol=1e-6)
        assert strip.levels == levels
        assert strip.image.image.shape == (1, state.steps)
        # the most influential input of a next-value predictor is a recent one
        assert np.argmax(strip.row) >= 30


def test_trajectory_marker_sits_at_the_projection_of_h_t(make_window, wait_ready, qtbot):
    window = make_window()
    explorer, state, tab = window.explorer, window.state, window.side.trajectory
    assert all(p.projection is None for p in tab.plots.values())  # hidden: nothing computed
    window.side.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible)
    for t in (50, 51):
        explorer.set_cursor(t)
        for column in state.columns:
            item = tab.plots[column.id]
            expected = pca_projection(column.trace["h_l0"])
            np.testing.assert_allclose(item.projection.coords, expected.coords)
            np.testing.assert_allclose(item.marker_position(), expected.coords[t], rtol=1e-6)
            past_x, _ = item.past.getData()
            assert len(past_x) == t + 1
            label = item.plot.getAxis("bottom").labelText
            assert label == f"PC1 ({100 * expected.ratios[0]:.0f}%)"
    # a reconfigured column gets a new projection of its new states
    rnn = state.columns[0]
    explorer.configure_column(rnn.id, ModelConfig(cell="rnn", hidden_size=5, seed=4))
    wait_ready(window)
    item = tab.plots[rnn.id]
    assert item.projection.components.shape == (2, 5)
    np.testing.assert_allclose(item.marker_position(),
                               pca_projection(rnn.trace["h_l0"]).coords[state.t], rtol=1e-6)


def test_a_long_past_is_drawn_with_a_stride_ending_at_t(qtbot):
    import pyqtgraph as pg
    from rnnviz.ui.panels.trajectory_view import MAX_PATH_POINTS, TrajectoryPlot
    from rnnviz.ui.style.theme import LIGHT

    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    item = TrajectoryPlot(widget.addPlot(), LIGHT)
    angle = np.linspace(0, 60 * np.pi, 5001)
    item.set_states("long", np.stack([np.cos(angle), np.sin(angle), angle / 100], axis=1))
    coords = item.projection.coords
    for t in (0, 4321, 5000):
        item.move(t)
        x, y = item.past.getData()
        assert len(x) <= MAX_PATH_POINTS + 1
        np.testing.assert_array_equal([x[0], y[0]], coords[0])
        np.testing.assert_array_equal([x[-1], y[-1]], coords[t])
        np.testing.assert_array_equal(item.marker_position(), coords[t])
    assert len(item.path.getData()[0]) == 5001   # the faint whole path keeps every step


def _block_eigenvalues(weight, gates):
    blocks = np.split(np.asarray(weight, np.float64), gates, axis=0)
    return np.concatenate([np.linalg.eigvals(b) for b in blocks])


def test_weights_view_shows_each_blocks_eigenvalues(make_window, wait_ready, qtbot):
    window = make_window()
    explorer, state, tab = window.explorer, window.state, window.side.weights
    window.side.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible)
    for column in state.columns:
        panel = tab.panels[column.id]
        weight = np.asarray(column.model.params["weight_hh_l0"])
        gates = column.model.spec.cell_type.num_gates
        np.testing.assert_array_equal(panel.image.image, weight)
        np.testing.assert_allclose(np.sort_complex(panel.shown_eigenvalues()),
                                   np.sort_complex(_block_eigenvalues(weight, gates)),
                                   rtol=1e-6, atol=1e-6)
        levels = panel.image.getLevels()
        assert levels[0] == -levels[1] == -np.abs(weight).max()
    rnn = state.columns[0]
    before = tab.panels[rnn.id].shown_eigenvalues()
    assert abs(np.abs(before).max() - 1.5) > 0.1
    config = ModelConfig(cell="rnn", hidden_size=16, init=InitOptions(spectral_radius=1.5))
    explorer.configure_column(rnn.id, config)
    wait_ready(window)
    panel = tab.panels[rnn.id]
    after = panel.shown_eigenvalues()
    weight = np.asarray(rnn.model.params["weight_hh_l0"])
    np.testing.assert_allclose(np.sort_complex(after),
                               np.sort_complex(_block_eigenvalues(weight, 1)), atol=1e-6)
    assert np.abs(after).max() == pytest.approx(1.5, rel=1e-5)
    assert panel.spectrum.radii[0] == pytest.approx(1.5, rel=1e-5)
    assert "1.50" in panel.spectrum_plot.titleLabel.text
    # new weights for the same column (as training delivers them): the view follows
    doubled = {**rnn.model.params, "weight_hh_l0": 2 * rnn.model.params["weight_hh_l0"]}
    rnn.model = Model(rnn.model.spec, doubled)
    state.events.column_ready.emit(rnn.id)
    np.testing.assert_allclose(np.sort_complex(panel.shown_eigenvalues()),
                               np.sort_complex(2 * after), rtol=1e-5, atol=1e-6)
    assert panel.spectrum.radii[0] == pytest.approx(3.0, rel=1e-5)
    explorer.remove_column(state.columns[2].id)
    assert list(tab.panels) == [c.id for c in state.columns]
    assert list(window.side.trajectory.plots) == [c.id for c in state.columns]


def test_flow_map_tab_shows_each_columns_whole_map(make_window, qtbot):
    window = make_window()
    state, tab = window.state, window.side.flow_map
    window.side.setCurrentWidget(tab)        # small maps start on their own when shown
    qtbot.waitUntil(lambda: all(p.values is not None for p in tab.panels.values()),
                    timeout=120_000)
    for column in state.columns:
        panel = tab.panels[column.id]
        expected = column.model.flow_map(state.inputs, state.target)[column.unit]
        np.testing.assert_array_equal(panel.values, expected)
        t, k = state.steps - 1, state.steps - 5
        assert panel.value_at(k + 0.5, t + 0.5) == (t, k, expected[t, k])
        shown = panel.image.image            # log10, NaN where no gradient flows (k > t)
        assert np.isnan(shown[0, 1]) and shown[t, k] == pytest.approx(np.log10(expected[t, k]))
        scene = panel.plot.getViewBox().mapViewToScene(QPointF(k + 0.5, t + 0.5))
        tab._on_mouse_moved(scene)           # the hover's readout: the exact value
        assert tab.readout.text().endswith(f"||d loss_{t}/dh_{k}|| = {expected[t, k]:.4g}")
    window.explorer.set_cursor(17)
    xs, ys = tab.panels[state.columns[0].id].outline.getData()
    assert set(ys) == {17, 18} and max(xs) == state.steps
    assert not tab.progress.isVisible() and not tab.cancel_button.isEnabled()


def test_a_long_map_is_drawn_at_screen_resolution_keeping_each_blocks_largest():
    from rnnviz.ui.panels.flow_map_view import screen_image

    rng = np.random.default_rng(0)
    logs = np.tril(rng.normal(size=(2500, 2500)))
    logs[np.triu_indices(2500, 1)] = -np.inf
    image = screen_image(logs, limit=1000)
    assert image.shape == (834, 834)              # blocks of 3 steps
    assert image[10, 7] == pytest.approx(logs[30:33, 21:24].max())
    assert np.isnan(image[0, 1]) and np.isnan(image[-2, -1])
    assert screen_image(logs[:900, :900], limit=1000).shape == (900, 900)
def test_modern_cells_show_their_diagonal_transition_and_explain_any_row(make_window, qtbot):
    """The LRU's fixed lambda and minGRU's 1 - z_t at the cursor in the Weights tab; the
    inspector explains a Mamba unit of Delta (a row narrower than h)."""
    window = make_window()
    explorer, state, tab = window.explorer, window.state, window.side.weights
    window.side.setCurrentWidget(tab)
    qtbot.waitUntil(tab.isVisible)
    lru, mingru, mamba = state.columns
    explorer.configure_column(lru.id, ModelConfig(cell="lru", hidden_size=4,
                                                  options=(("state_size", 3),)))
    explorer.configure_column(mingru.id, ModelConfig(cell="mingru", hidden_size=5))
    explorer.configure_column(mamba.id, ModelConfig(cell="mamba", hidden_size=3,
                                                    options=(("d_state", 4),)))
    explorer.set_cursor(12)
    # the traces are all these views read (not the gradient rows, which take longer)
    qtbot.waitUntil(lambda: all(c.ready and c.model.spec.cell == cell for c, cell in
                                zip(state.columns, ("lru", "mingru", "mamba"), strict=True)),
                    timeout=120_000)
    p = {k: np.asarray(v, np.float64) for k, v in lru.model.params.items()}
    lam = np.exp(-np.exp(p["nu_log_l0"]) + 1j * np.exp(p["theta_log_l0"]))
    np.testing.assert_allclose(np.sort_complex(tab.panels[lru.id].shown_eigenvalues()),
                               np.sort_complex(lam), rtol=1e-5, atol=1e-6)
    z = mingru.trace.arrays["gate_z_l0"][12]
    np.testing.assert_allclose(np.sort(tab.panels[mingru.id].shown_eigenvalues().real),
                               np.sort(1 - z), rtol=1e-5, atol=1e-6)
    explorer.select(mamba.id, "dt", 4)
    lines = window.inspector.lines()
    assert any(abs(v - mamba.trace.arrays["gate_dt_l0"][12, 4]) < 1e-4 for _, v in lines)
    assert "Delta_t[4] = softplus(" in window.inspector.body.text()
    # Mamba's state at the cursor is drawn as the matrix its cell declares (d_inner 6 by
    # d_state 4), one setImage per step; the other columns keep their bars
    qtbot.waitUntil(lambda: window.views[mamba.id].states["h"].grid_at_t.shape is not None)
    h_row = window.views[mamba.id].states["h"]
    assert h_row.grid_at_t.shape[:2] == (6, 4) and not h_row.bars.item.isVisible()
    image = h_row.grid_at_t.image
    np.testing.assert_allclose(image.image, mamba.trace.arrays["h_l0"][12].reshape(6, 4),
                               rtol=1e-6)
    # one cell per value, filling the view (not one value stretched over it)
    assert image.mapRectToParent(image.boundingRect()) == QRectF(0, 0, 4, 6)
    assert h_row.side.getViewBox().viewRange() == [[0, 4], [0, 6]]
    explorer.select(mamba.id, "h", 9)  # channel 2, state 1
    assert h_row.grid_at_t.outline.isVisible()
    assert h_row.grid_at_t.outline.rect().topLeft().toTuple() == (1.0, 2.0)
    explorer.set_cursor(13)
    np.testing.assert_allclose(image.image, mamba.trace.arrays["h_l0"][13].reshape(6, 4),
                               rtol=1e-6)
    assert h_row.grid_at_t.value_at(1.5, 2.5) == (9, pytest.approx(
        float(mamba.trace.arrays["h_l0"][13, 9]), rel=1e-6))
    for column in (lru, mingru):
        other = window.views[column.id].states["h"]
        assert other.grid_at_t.shape is None and other.bars.item.isVisible()
    # the PCA trajectory of each state as the trace holds it (the LRU's [Re s; Im s], Mamba's
    # channels x states written out)
    trajectory = window.side.trajectory
    window.side.setCurrentWidget(trajectory)
    qtbot.waitUntil(trajectory.isVisible)
    for column in state.columns:
        item = trajectory.plots[column.id]
        expected = pca_projection(column.trace["h_l0"])
        np.testing.assert_allclose(item.projection.coords, expected.coords)
        np.testing.assert_allclose(item.marker_position(), expected.coords[13], rtol=1e-6)


def test_a_state_grid_draws_one_cell_per_value_whatever_shape_came_before(qapp):
    """The grid at the cursor covers its rows x cols in the side plot, the first time and
    after a grid of another shape (pyqtgraph scales a rect by the image already held)."""
    import pyqtgraph as pg
    from rnnviz.ui.column.items import StateGrid
    from rnnviz.ui.style.theme import LIGHT

    from rnnviz.core.cells.base import Grid

    plot = pg.PlotItem()
    grid = StateGrid(plot, LIGHT)
    for rows, cols in ((16, 8), (3, 5)):
        grid.show(Grid(rows, cols, "channel", "state"), (-1.0, 1.0), None)
        grid.set(np.arange(rows * cols, dtype=float), selected=cols + 1)
        image = grid.image
        assert image.mapRectToParent(image.boundingRect()) == QRectF(0, 0, cols, rows)
        assert grid.value_at(1.5, 1.5) == (cols + 1, float(cols + 1))
        assert grid.outline.rect() == QRectF(1, 1, 1, 1)


@pytest.mark.parametrize("levels", [(-1.0, 1.0), (-16.93, 16.93), (-0.86, 0.86), (0.0, 41.2)])
def test_a_colour_bar_shows_both_ends_of_its_scale(qapp, levels):
    """A row's scale reaching what it reaches (a modern cell's: -17 .. 17) labels both ends:
    pyqtgraph draws no label wider than the axis, so the axis fits the widest."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter
    from rnnviz.ui.style.styling import colour_bar, set_colour_bar, style_colour_bar
    from rnnviz.ui.style.theme import LIGHT, theme_for

    lo, hi = levels
    for theme in (LIGHT, theme_for(presenting=True)):
        widget = pg.GraphicsLayoutWidget()
        widget.resize(200, 300)
        bar = colour_bar(levels, theme)
        widget.addItem(bar)
        style_colour_bar(bar, theme)
        set_colour_bar(bar, levels, theme)
        widget.show()
        qapp.processEvents()
        image = QImage(200, 300, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            drawn = [text for _, _, text in bar.axis.generateDrawSpecs(painter)[2]]
        finally:
            painter.end()
        widget.close()
        assert sorted(drawn) == sorted([f"{lo:.2g}", "0", f"{hi:.2g}"][lo == 0:]), drawn
