"""Drive the explorer window as a user would and check what the panels show against the
engine's own trace."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from rnnviz.core.init import InitOptions
from rnnviz.files.presets import ModelConfig


def _titles(window):
    return [c.config.title for c in window.state.columns]


def _scene_to_viewport(view, plot, x, y):
    scene_point = plot.getViewBox().mapViewToScene(__import__("pyqtgraph").Point(x, y))
    return view.canvas.mapFromScene(scene_point)


def test_default_preset_opens_with_three_columns(make_window):
    window = make_window()
    assert _titles(window) == ["RNN", "LSTM", "GRU"]
    assert window.state.t == window.state.preset.start_step
    assert window.time_controls.label.text() == f"t = {window.state.t} / 199"


def test_panels_show_the_engine_trace_at_the_cursor(make_window, wait_ready):
    window = make_window()
    window.explorer.set_cursor(37)
    wait_ready(window)
    for column in window.state.columns:
        view, trace = window.views[column.id], column.trace
        np.testing.assert_array_equal(view.heatmaps["h"].data, trace["h_l0"].T)
        np.testing.assert_allclose(view.bars["h"].values, trace["h_l0"][37])
        np.testing.assert_array_equal(view.output.pred_curve.yData, trace["output"][:, 0])
        for k, letter in enumerate(column.model.spec.cell_type.gates):
            np.testing.assert_array_equal(view.heatmaps[f"gate{k}"].data,
                                          trace[f"gate_{letter}_l0"].T)
        assert view.cursors[0].t == 37
        flow = column.row("flow", 37)
        expected = column.model.gradient_flow(window.state.inputs, window.state.target, 37)
        np.testing.assert_allclose(flow, expected["l0"], rtol=1e-5)
        shown = view.grad.flow_curve.yData
        np.testing.assert_allclose(shown[:38][flow[:38] > 0], flow[:38][flow[:38] > 0])
    lstm = window.views[window.state.columns[1].id]
    np.testing.assert_array_equal(lstm.heatmaps["c"].data,
                                  window.state.columns[1].trace["c_l0"].T)
    rnn = window.views[window.state.columns[0].id]
    assert rnn.heatmaps["gate0"].data is None
    assert rnn.states["gate0"].blank.toPlainText() == "a vanilla RNN has no gates"
    assert "carries only h" in rnn.states["c"].blank.toPlainText()


def test_keys_and_buttons_move_the_cursor(make_window, qtbot):
    window = make_window()
    state, lesson = window.state, window.explorer.lesson
    assert lesson.waiting  # sine is a lesson: a clicker's first PageDown starts it
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert lesson.active and lesson.index == 0
    lesson.leave()         # after that, PageDown and PageUp move in time
    start = state.t
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert state.t == start + 1
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert state.t == start + 2
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert state.t == start
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert state.t == state.steps - 1
    qtbot.keyClick(window, Qt.Key.Key_Right)  # the end stays the end
    assert state.t == state.steps - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert state.t == 0
    window.time_controls.step_action.trigger()
    assert state.t == 1
    window.time_controls.back_action.trigger()
    assert state.t == 0
    window.time_controls.last_action.trigger()
    assert state.t == state.steps - 1
    window.time_controls.first_action.trigger()
    assert state.t == 0


def test_slider_scrubs(make_window):
    window = make_window()
    window.time_controls.slider.setValue(123)
    assert window.state.t == 123
    assert window.time_controls.label.text() == "t = 123 / 199"
    window.explorer.set_cursor(5)
    assert window.time_controls.slider.value() == 5


def test_play_and_pause(make_window, qtbot):
    window = make_window()
    controls = window.time_controls
    controls.speed.setValue(200)
    window.explorer.set_cursor(0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert controls.playing
    qtbot.waitUntil(lambda: window.state.t >= 20, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not controls.playing
    stopped_at = window.state.t
    qtbot.wait(100)
    assert window.state.t == stopped_at
    controls.play()
    qtbot.waitUntil(lambda: not controls.playing, timeout=20_000)  # stops at the end
    assert window.state.t == window.state.steps - 1


def test_add_remove_and_change_columns(make_window, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    assert not window.add_action.isEnabled()  # three is the most
    explorer.remove_column(state.columns[0].id)
    assert _titles(window) == ["LSTM", "GRU"] and len(window.views) == 2
    assert window.add_action.isEnabled()
    window.add_action.trigger()
    wait_ready(window)
    assert len(state.columns) == 3 and len(window.views) == 3
    column = state.columns[2]
    config = ModelConfig(cell="rnn_relu", hidden_size=7, num_layers=2, seed=3,
                         init=InitOptions(recurrent="orthogonal"))
    explorer.configure_column(column.id, config)
    wait_ready(window)
    view = window.views[column.id]
    assert view.heatmaps["h"].data.shape == (7, state.steps)
    assert column.model.spec.num_layers == 2
    assert view.unit_box.isVisible() or not window.isVisible()
    assert view.unit_box.itemText(1) == "layer 2"  # in words, its name as data
    view.unit_box.setCurrentIndex(view.unit_box.findData("l1"))
    wait_ready(window)
    np.testing.assert_array_equal(view.heatmaps["h"].data, column.trace["h_l1"].T)


def test_column_editor_builds_the_config(qtbot):
    from rnnviz.ui.dialogs.column_editor import ColumnEditor

    editor = ColumnEditor(ModelConfig(cell="lstm", hidden_size=16))
    qtbot.addWidget(editor)
    editor.cell.setCurrentIndex(editor.cell.findData("gru"))
    editor.hidden.setValue(32)
    editor.bidirectional.setChecked(True)
    editor.use_radius.setChecked(True)
    editor.radius.setValue(1.5)
    config = editor.config()
    assert (config.cell, config.hidden_size, config.bidirectional) == ("gru", 32, True)
    assert config.init.spectral_radius == 1.5 and config.init.forget_bias is None
    assert editor.options == {} and config.options == ()  # a GRU declares no sizes of its own


def test_the_seed_boxes_show_every_seed_a_preset_may_hold(qtbot):
    """A preset's seeds reach MAX_SEED, which the window's 32-bit seed boxes must show (a
    larger one raised OverflowError on opening these dialogs; the training panel's: in
    test_training_panel.py)."""
    from rnnviz.ui.dialogs.column_editor import ColumnEditor
    from rnnviz.ui.dialogs.task_dialog import TaskDialog

    from rnnviz.limits import MAX_SEED
    from rnnviz.tasks import make_task

    editor = ColumnEditor(ModelConfig(cell="gru", hidden_size=4, seed=MAX_SEED))
    dialog = TaskDialog(make_task("sine", length=12), MAX_SEED)
    qtbot.addWidget(editor)
    qtbot.addWidget(dialog)
    assert editor.seed.value() == dialog.seed_box.value() == MAX_SEED
    assert editor.config().seed == MAX_SEED
    assert editor.seed.maximum() == dialog.seed_box.maximum() == MAX_SEED


def test_column_editor_offers_the_sizes_each_cell_declares(qtbot):
    """Mamba's d_inner, d_state, d_conv and dt_rank, the LRU's state size: a spin box each,
    from the cell module's CellOptions, checked together with one line in red."""
    from rnnviz.ui.dialogs.column_editor import ColumnEditor

    from rnnviz.core.cells import get_cell

    editor = ColumnEditor(ModelConfig(cell="lstm", hidden_size=16))
    qtbot.addWidget(editor)
    editor.cell.setCurrentIndex(editor.cell.findData("mamba"))
    declared = get_cell("mamba").options
    assert list(editor.options) == [o.name for o in declared]
    assert editor.option_values() == tuple((o.name, o.default(16)) for o in declared)
    assert [editor.options[o.name].maximum() for o in declared] == [o.hi for o in declared]
    editor.options["d_state"].setValue(8)
    editor.options["d_conv"].setValue(3)
    config = editor.config()
    assert config.cell == "mamba" and dict(config.options) == {"d_state": 8, "d_conv": 3}
    assert config.build(1, 1).spec.options == (("d_conv", 3), ("d_inner", 32),
                                               ("d_state", 8), ("dt_rank", 1))
    editor.hidden.setValue(1000)   # the defaults follow the size: d_inner 2000
    editor.options["d_state"].setValue(64)
    error = editor.option_error.text()
    assert editor.option_error.isVisibleTo(editor) and "\n" not in error
    assert "MAX_STATE" in error and not editor.ok_button.isEnabled()
    editor.options["d_state"].setValue(16)
    assert not editor.option_error.isVisibleTo(editor) and editor.ok_button.isEnabled()
    editor.cell.setCurrentIndex(editor.cell.findData("lru"))
    assert editor.option_values() == (("state_size", 1000),)
    again = ColumnEditor(config)   # a column's own sizes are shown as they are
    qtbot.addWidget(again)
    assert dict(again.option_values())["d_state"] == 8 and again.config() is config


def test_clicking_a_unit_selects_it_and_explains_it(make_window, qtbot, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    lstm = state.columns[1]
    view = window.views[lstm.id]
    explorer.set_cursor(50)
    wait_ready(window)
    main = view.states["h"].plot
    pos = _scene_to_viewport(view, main, 20, 3.5)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))
    assert state.selection is not None
    assert (state.selection.column, state.selection.name, state.selection.index) == \
        (lstm.id, "h", 3)
    assert view.heatmaps["h"].outline.isVisible()
    assert view.heatmaps["gate1"].outline.isVisible()  # the unit in every panel
    lines = window.inspector.lines()
    assert [line.split(" = ")[0] for line, _ in lines] == \
        ["i_t", "f_t", "g_t", "o_t", "c_t", "h_t"]
    values = dict(zip("ifgoch", (v for _, v in lines), strict=True))
    trace = lstm.trace
    for name in "ifgo":
        assert values[name] == pytest.approx(trace[f"gate_{name}_l0"][50, 3], abs=1e-5)
    assert values["c"] == pytest.approx(trace["c_l0"][50, 3], abs=1e-5)
    assert values["h"] == pytest.approx(trace["h_l0"][50, 3], abs=1e-5)
    assert "sigma(" in window.inspector.body.text()


def test_a_preset_points_out_its_unit_and_retracing_keeps_the_outline(make_window, wait_ready):
    window = make_window("anbn")  # select = { row = "c", unit = 5 }: the counting unit
    explorer, state = window.explorer, window.state
    lstm = state.columns[0]
    view = window.views[lstm.id]
    assert (state.selection.column, state.selection.name, state.selection.index) == \
        (lstm.id, "c", 5)
    assert view.heatmaps["c"].outline.isVisible()
    assert view.heatmaps["c"].outline.rect().top() == 5
    assert "unit 5" in window.inspector.heading.text()
    explorer.set_column_params(lstm.id, lstm.model.params)  # what training does: a new trace
    wait_ready(window)
    assert view.heatmaps["c"].outline.isVisible()
    assert view.heatmaps["gate1"].outline.rect().top() == 5
    assert explorer.preset_now().select == (0, "c", 5, "l0")  # "save as preset" keeps it
    explorer.clear_selection()
    assert explorer.preset_now().select is None


def test_clicking_a_time_moves_the_cursor(make_window, qtbot):
    window = make_window()
    view = window.views[window.state.columns[0].id]
    pos = _scene_to_viewport(view, view.input_plot, 88, 0.0)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))
    assert window.state.t == 88


def test_hover_shows_the_value(make_window, qtbot):
    window = make_window()
    column = window.state.columns[2]
    view = window.views[column.id]
    main = view.states["gate1"].plot
    pos = _scene_to_viewport(view, main, 30, 2.5)
    with qtbot.waitSignal(view.hovered, timeout=2000) as signal:
        view.canvas.scene().sigMouseMoved.emit(main.getViewBox().mapViewToScene(
            __import__("pyqtgraph").Point(30, 2.5)))
    assert pos is not None
    text = signal.args[0]
    assert text.startswith("GRU z[unit 2] at t=30:")
    assert float(text.split(": ")[1]) == pytest.approx(column.trace["gate_z_l0"][30, 2],
                                                        rel=1e-3)


def test_exploding_gradients_are_shown_not_crashed(make_window, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    column = state.columns[0]
    exploding = ModelConfig(cell="rnn_relu", hidden_size=16, seed=0,
                            init=InitOptions(spectral_radius=30.0))
    explorer.configure_column(column.id, exploding)
    wait_ready(window)
    view = window.views[column.id]
    assert column.trace.nonfinite
    assert "NaN/Inf" in view.grad.warning.toPlainText()
    assert len(view.grad.bad_points.data) > 0
    banner = window.banner.text()  # in words, not array names
    assert "too large" in banner and "the hidden state" in banner and "h_l0" not in banner


def test_a_bad_preset_is_one_line_and_the_window_keeps_going(make_window, tmp_path):
    window = make_window()
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\n[task]\nname = "sine"\n[[models]]\ncell = "lstm"\n'
                   'hidden_size = "big"\n')
    before = window.state.preset
    assert not window.open_preset(bad)
    assert window.state.preset is before
    text = window.banner.text()
    assert "bad.toml: models[0].hidden_size: expected" in text and "\n" not in text


def test_geometry_and_last_preset_are_remembered(make_window, tmp_path):
    from rnnviz.ui.window.settings import Settings

    settings = Settings(tmp_path / "cfg")
    window = make_window(settings=settings)
    window.resize(1234, 777)
    window.close()
    again = Settings(tmp_path / "cfg")
    assert again.last_preset().endswith("sine.toml")
    assert again.geometry()


def test_switching_presets_replaces_every_column(make_window, wait_ready, qtbot):
    """The old columns' views stop listening before they are deleted: loading a preset over
    another one (or the same one again) raises nothing in the event loop."""
    window = make_window()
    old_ids = set(window.views)
    assert window.open_preset("adding")
    wait_ready(window)
    window.explorer.step(1)
    qtbot.waitUntil(lambda: not old_ids & set(window.views))
    assert [c.config.cell for c in window.state.columns] == [
        window.views[c.id].column.config.cell for c in window.state.columns]
    assert window.open_preset("sine")
    wait_ready(window)
    assert len(window.views) == len(window.state.columns)


def test_gradient_plots_share_one_log_range(make_window, wait_ready):
    """Columns are compared on one scale: every gradient plot shows the same decades, wide
    enough for every column's curves."""
    window = make_window("vanishing")
    window.explorer.set_cursor(window.state.steps - 1)
    wait_ready(window)
    views = list(window.views.values())
    ranges = {tuple(np.round(v.grad.plot.viewRange()[1], 6)) for v in views}
    assert len(ranges) == 1
    lo, hi = ranges.pop()
    for view in views:
        for curve in (view.grad.bptt_curve, view.grad.flow_curve, view.grad.memory_curve):
            y = np.asarray(curve.yData, float)
            y = np.log10(y[np.isfinite(y) & (y > 0)])
            assert y.size and lo <= y.min() and y.max() <= hi


def test_gate_means_follow_the_column_and_reuse_their_items(make_window, wait_ready):
    """The gate-mean row holds one curve per gate, equal to the trace's mean over units; a
    column changed to another cell reuses the same plot items (made once)."""
    window = make_window()
    explorer, state = window.explorer, window.state
    lstm = next(c for c in state.columns if c.config.cell == "lstm")
    view = window.views[lstm.id]
    items = list(view.means.plot.listDataItems())
    assert set(view.means.curves) == {"i", "f", "g", "o"}
    for letter, curve in view.means.curves.items():
        np.testing.assert_allclose(curve.yData, lstm.trace[f"gate_{letter}_l0"].mean(axis=1),
                                   rtol=1e-6)
    explorer.configure_column(lstm.id, ModelConfig(cell="gru", hidden_size=8, seed=1))
    wait_ready(window)
    assert set(view.means.curves) == {"r", "z", "n"}
    assert list(view.means.plot.listDataItems()) == items
    unused = [c for c in items if c not in view.means.curves.values()]
    assert len(unused) == 1 and (unused[0].yData is None or len(unused[0].yData) == 0)
    np.testing.assert_allclose(view.means.curves["z"].yData,
                               lstm.trace["gate_z_l0"].mean(axis=1), rtol=1e-6)


def test_a_relu_column_widens_the_h_scale_of_every_column(make_window, wait_ready):
    """Colour scales are shared: when one column's ReLU h grows past 1, the other columns'
    h heatmaps, bars and colour bars take the same wider range (their data unchanged)."""
    window = make_window()
    explorer, state = window.explorer, window.state
    first, *others = state.columns
    before = {c.id: window.views[c.id].heatmaps["h"].data.copy() for c in others}
    explorer.configure_column(first.id, ModelConfig(cell="rnn_relu", hidden_size=8, seed=0,
                                                 init=InitOptions(spectral_radius=1.5)))
    wait_ready(window)
    top = float(np.nanmax(np.abs(first.trace["h_l0"])))
    assert top > 1
    for column in state.columns:
        view = window.views[column.id]
        np.testing.assert_allclose(view.heatmaps["h"].image.levels, (-top, top), rtol=1e-6)
        assert view.states["h"].colour_bar.levels() == pytest.approx((-top, top), rel=1e-6)
    for column in others:
        np.testing.assert_array_equal(window.views[column.id].heatmaps["h"].data,
                                      before[column.id])


def test_class_probabilities_get_their_own_short_axis(make_window, wait_ready):
    """A class task's output row is p(y) on three fixed ticks (the row is too short for
    pyqtgraph's automatic six); a regression task's row keeps automatic ticks."""
    window = make_window("anbn")
    wait_ready(window)
    view = window.views[window.state.columns[0].id]
    axis = view.output.plot.getAxis("left")
    assert axis.labelText == "p(y)"
    assert axis._tickLevels == [[(0, "0"), (0.5, ".5"), (1, "1")]]  # noqa: SLF001
    assert window.open_preset("sine")
    wait_ready(window)
    axis = window.views[window.state.columns[0].id].output.plot.getAxis("left")
    assert axis.labelText == "output" and axis._tickLevels is None  # noqa: SLF001


def test_a_preset_can_point_out_a_unit_in_a_deeper_layer(make_window, wait_ready, tmp_path):
    """``select = { ..., layer = "l1" }``: the column opens on that layer with the unit
    outlined; "save as preset" writes back the layer the column shows."""
    path = tmp_path / "deep.toml"
    path.write_text('title = "deep"\n[task]\nname = "sine"\nlength = 30\n[[models]]\n'
                    'cell = "lstm"\nhidden_size = 6\nnum_layers = 2\n'
                    'select = { row = "f", unit = 4, layer = "l1" }\n')
    window = make_window(path)
    explorer, state = window.explorer, window.state
    column = state.columns[0]
    view = window.views[column.id]
    assert column.unit == "l1"
    assert (state.selection.name, state.selection.index) == ("f", 4)
    assert view.heatmaps["gate1"].outline.isVisible()  # f is the LSTM's second gate row
    assert view.heatmaps["gate1"].outline.rect().top() == 4
    assert "layer 2" in window.inspector.heading.text()
    assert explorer.preset_now().select == (0, "f", 4, "l1")
    explorer.show_unit(column.id, "l0")
    wait_ready(window)
    assert explorer.preset_now().select == (0, "f", 4, "l0")  # the layer the column shows now


def test_a_preset_opened_from_its_own_file_joins_the_picker(make_window, tmp_path):
    window = make_window()
    box = window.preset_box
    shipped = box.count()
    mine = tmp_path / "mine.toml"
    mine.write_text('title = "My lesson"\n[task]\nname = "sine"\nlength = 20\n'
                    '[[models]]\ncell = "gru"\nhidden_size = 4\n')
    assert window.open_preset(mine)
    assert box.currentText() == "My lesson" and box.count() == shipped + 1
    assert box.itemText(box.count() - 1) == "Open…"  # the file entry stays last
    assert window.open_preset("adding")
    assert box.currentText() == window.state.preset.title
    assert window.open_preset(mine)  # a second time: the same entry, not a new one
    assert box.currentText() == "My lesson" and box.count() == shipped + 1


def test_removing_the_column_of_the_selected_unit(make_window, qtbot):
    """✕ on the column holding the selection: the selection goes with it, and the removed
    column's view hears of it no more (it looked its column up and raised in a slot)."""
    window = make_window()
    explorer, state = window.explorer, window.state
    lstm = state.columns[1]
    explorer.select(lstm.id, "h", 2)
    qtbot.mouseClick(window.views[lstm.id].remove_button, Qt.MouseButton.LeftButton)
    assert state.selection is None
    assert lstm.id not in window.views and state.find(lstm.id) is None
    assert _titles(window) == ["RNN", "GRU"]
    assert window.inspector.heading.text() == "<b>Unit inspector</b>"
    with pytest.raises(KeyError):
        state.column(lstm.id)


def _accept_column_editor(change=None):
    """Answer the Column dialog that ``edit_column`` opens (modal) once it shows."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def answer():
        dialog = QApplication.activeModalWidget()
        if change is not None:
            change(dialog)
        dialog.accept()

    QTimer.singleShot(0, answer)


def test_edit_ok_with_nothing_changed_keeps_the_column(make_window, qtbot):
    window = make_window("exploding")
    state = window.state
    column = state.columns[1]
    config, trained = column.config, column.model
    assert config.title == "RNN, trained, no clipping" and config.weights is not None
    _accept_column_editor()
    qtbot.mouseClick(window.views[column.id].edit_button, Qt.MouseButton.LeftButton)
    assert column.config is config and column.model is trained  # nothing re-drawn
    assert window.views[column.id].title.text().startswith("RNN, trained, no clipping")


def test_the_column_editor_keeps_what_was_not_touched():
    """Changing one field drops the label (it described the old model) and the weights
    file, and keeps the numbers the form rounds (a gain of 0.955 shows as 0.96)."""
    from rnnviz.ui.dialogs.column_editor import ColumnEditor

    config = ModelConfig(cell="lstm", hidden_size=16, label="LSTM, trained", seed=2,
                         init=InitOptions(recurrent_gain=0.955, forget_bias=1.234))
    editor = ColumnEditor(config)
    assert editor.config() is config and not editor.changed()
    editor.seed.setValue(3)
    new = editor.config()
    assert editor.changed() and new.seed == 3
    assert new.label is None and new.title == "LSTM" and new.weights is None
    assert new.init == config.init  # not 0.96 and 1.23
    editor.gain.setValue(2.0)
    assert editor.config().init.recurrent_gain == 2.0
    editor.deleteLater()


def test_garbage_is_collected_on_the_ui_thread_while_a_window_is_open(make_window):
    """Job threads allocate (JAX tracing); a collection there could destroy Qt objects off the
    UI thread, so while a window is open only the UI thread collects."""
    import gc

    window = make_window("sine")
    assert not gc.isenabled()
    window.close()
    assert gc.isenabled()
