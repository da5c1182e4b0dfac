"""The View menu: presentation mode (F11, Esc), the dark theme, and the colour bars beside the
heatmaps."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolBar
from rnnviz.ui.style.theme import DARK, LIGHT, _lut


def _chrome(window):
    return {"menu bar": window.menuBar(), "status bar": window.statusBar(),
            "description": window.description, "side panel": window.side,
            "preset bar": window.findChild(QToolBar, "preset-bar")}


def test_f11_enters_and_leaves_presentation_mode(make_window, qtbot):
    window = make_window()
    chrome = _chrome(window)
    assert all(not w.isHidden() for w in chrome.values())
    view = next(iter(window.views.values()))
    normal_font = view.grad.plot.getAxis("left").style["tickFont"].pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert window.view_modes.presenting and window.isFullScreen()
    # the description says what to look at: it stays, the rest of the chrome goes
    assert [name for name, w in chrome.items() if not w.isHidden()] == ["description"]
    assert not window.time_controls.isHidden()
    assert all(not v.isHidden() for v in window.views.values())
    assert view.edit_button.isHidden() and view.remove_button.isHidden()
    assert view.grad.plot.getAxis("left").style["tickFont"].pointSizeF() > 1.5 * normal_font
    assert view.grad.bptt_curve.opts["pen"].widthF() >= 3
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.view_modes.presenting and not window.isFullScreen()
    assert all(not w.isHidden() for w in chrome.values())
    assert not view.edit_button.isHidden()
    assert view.grad.plot.getAxis("left").style["tickFont"].pointSizeF() == normal_font


def test_escape_leaves_presentation_first_then_clears_the_selection(make_window, qtbot):
    window = make_window()
    column = window.state.columns[1]
    window.explorer.select(column.id, "h", 3)
    window.view_modes.presentation_action.trigger()
    assert window.view_modes.presenting
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.view_modes.presenting
    assert window.state.selection is not None  # the first Esc only left presentation mode
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.state.selection is None


def test_dark_theme_restyles_in_place_and_keeps_the_colour_maps(make_window, qtbot, wait_ready,
                                                                tmp_path):
    from rnnviz.ui.window.settings import Settings

    settings = Settings(tmp_path)
    window = make_window(settings=settings)
    view = window.views[window.state.columns[1].id]  # the LSTM
    items = (view.heatmaps["h"].image, view.grad.bptt_curve, view.states["gate0"].colour_bar)
    assert view.canvas.backgroundBrush().color() == QColor(LIGHT.background)
    window.view_modes.dark_action.trigger()
    assert settings.theme() == "dark"
    assert view.canvas.backgroundBrush().color() == QColor(DARK.background)
    assert QColor(view.grad.plot.getAxis("left").textPen().color()) == QColor(DARK.foreground)
    assert (view.heatmaps["h"].image, view.grad.bptt_curve,
            view.states["gate0"].colour_bar) == items
    # colour-blind-safe maps in the dark theme too: diverging for tanh, viridis for sigmoids
    np.testing.assert_array_equal(view.heatmaps["h"].image.lut, _lut("CET-D1A"))
    np.testing.assert_array_equal(view.heatmaps["gate1"].image.lut, _lut("viridis"))
    np.testing.assert_array_equal(view.heatmaps["gate2"].image.lut, _lut("CET-D1A"))
    window.view_modes.dark_action.trigger()
    assert settings.theme() == "light"
    assert view.canvas.backgroundBrush().color() == QColor(LIGHT.background)


def test_the_theme_is_remembered(make_window, tmp_path):
    from rnnviz.ui.window.settings import Settings

    settings = Settings(tmp_path)
    settings.set_theme("dark")
    window = make_window(settings=settings)
    assert window.view_modes.dark and window.view_modes.dark_action.isChecked()
    view = next(iter(window.views.values()))
    assert view.canvas.backgroundBrush().color() == QColor(DARK.background)


def test_colour_bars_show_each_heatmaps_fixed_range(make_window):
    window = make_window()
    for column in window.state.columns:
        view = window.views[column.id]
        cell = column.model.spec.cell_type
        assert view.states["h"].colour_bar.isVisible()
        assert view.states["h"].colour_bar.levels() == (-1.0, 1.0)
        for k, (letter, (name, levels)) in enumerate(cell.gates.items()):
            bar = view.states[f"gate{k}"].colour_bar
            assert bar.isVisible(), (column.config.title, letter)
            assert bar.levels() == tuple(levels), (column.config.title, letter, name)
            expected = "CET-D1A" if levels[0] < 0 else "viridis"
            np.testing.assert_array_equal(bar.colorMap().getLookupTable(nPts=256),
                                          _lut(expected))
        for k in range(len(cell.gates), 4):
            assert not view.states[f"gate{k}"].colour_bar.isVisible()
    lstm = window.views[window.state.columns[1].id]
    c = window.state.columns[1].trace["c_l0"]
    top = max(1.0, float(np.abs(c).max()))
    lo, hi = lstm.states["c"].colour_bar.levels()
    assert hi == -lo and hi >= top  # shared symmetric range, at least this column's |c|
    assert not window.views[window.state.columns[0].id].states["c"].colour_bar.isVisible()


def test_window_still_steps_after_theme_switches(make_window, wait_ready):
    window = make_window()
    modes = window.view_modes
    for dark, presenting in ((True, False), (True, True), (False, True), (False, False)):
        modes.set_dark(dark)
        modes.set_presentation(presenting, full_screen=False)
        t = window.state.t + 1
        window.explorer.set_cursor(t)
        wait_ready(window)
        for column in window.state.columns:
            view = window.views[column.id]
            assert view.cursors[0].t == t
            np.testing.assert_allclose(view.bars["h"].values, column.trace["h_l0"][t])
            assert not view.canvas.grab().isNull()


def test_dark_theme_reaches_the_side_tabs_and_the_training_panel(make_window, qtbot):
    window = make_window()
    side, panel = window.side, window.training.panel
    canvases = (side.trajectory.canvas, side.weights.canvas, side.flow_map.canvas, panel.canvas)
    assert all(c.backgroundBrush().color() == QColor(LIGHT.background) for c in canvases)
    window.view_modes.dark_action.trigger()
    assert all(c.backgroundBrush().color() == QColor(DARK.background) for c in canvases)
    assert all(v.theme is window.theme for v in (side.trajectory, side.weights, side.flow_map))
    assert QColor(panel.loss_plot.getAxis("left").textPen().color()) == QColor(DARK.foreground)
    # the plots were made again in the theme's colours, and show the columns again
    side.show_tab("weights")
    ids = [c.id for c in window.state.columns]
    assert list(side.weights.panels) == ids and list(side.trajectory.plots) == ids
    lstm = side.weights.panels[ids[1]]
    qtbot.waitUntil(lambda: lstm.source is not None)
    assert QColor(lstm.separators.opts["pen"].color()) == QColor(DARK.foreground)
