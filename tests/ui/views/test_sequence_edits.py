"""Editing the sequence in the window: input edits re-trace only what follows, undo/redo,
dragging and typing in the input strip, and the Task dialog with the user's own data."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from rnnviz.files.presets import ModelConfig, Preset
from rnnviz.tasks import make_task

STATE_PREFIXES = ("h", "c_", "gate_", "output")


def _arrays(column):
    return {k: v.copy() for k, v in column.trace.arrays.items()}


def _viewport_point(view, x, y):
    scene = view.input_plot.getViewBox().mapViewToScene(QPointF(x, y))
    return view.canvas.mapFromScene(scene)


def test_set_input_retraces_what_follows(make_window, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    k = 120
    before = {c.id: _arrays(c) for c in state.columns}
    old_input = state.inputs.copy()
    assert explorer.set_input(k, [1.5])
    assert state.inputs[k, 0] == np.float32(1.5)
    assert state.target.values[k - 1, 0] == np.float32(1.5)  # the next value follows
    wait_ready(window)
    for column in state.columns:
        fresh = column.model.trace(state.inputs, state.target)
        for name, value in fresh.arrays.items():
            np.testing.assert_allclose(column.trace[name], value, rtol=1e-5, atol=1e-6,
                                       err_msg=name)
        for name in column.trace.arrays:
            if name.startswith(STATE_PREFIXES):
                np.testing.assert_array_equal(column.trace[name][:k], before[column.id][name][:k])
                assert not np.allclose(column.trace[name][k:], before[column.id][name][k:])
        view = window.views[column.id]
        np.testing.assert_array_equal(view.input.curves[0].yData, state.inputs[:, 0])
    np.testing.assert_array_equal(np.delete(state.inputs, k), np.delete(old_input, k))


def test_undo_restores_the_exact_trace_and_redo_reapplies(make_window, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    before = {c.id: _arrays(c) for c in state.columns}
    inputs, target = state.inputs.copy(), state.target
    explorer.set_input(30, [-0.7])
    wait_ready(window)
    after = {c.id: _arrays(c) for c in state.columns}
    window.sequence_tools.undo_action.trigger()
    np.testing.assert_array_equal(state.inputs, inputs)
    np.testing.assert_array_equal(state.target.values, target.values)
    wait_ready(window)
    for column in state.columns:
        for name, value in before[column.id].items():
            np.testing.assert_array_equal(column.trace[name], value, err_msg=name)
    window.sequence_tools.redo_action.trigger()
    assert state.inputs[30, 0] == np.float32(-0.7)
    wait_ready(window)
    for column in state.columns:
        for name, value in after[column.id].items():
            np.testing.assert_array_equal(column.trace[name], value, err_msg=name)


def test_undo_and_redo_shortcuts(make_window, wait_ready, qtbot):
    window = make_window()
    explorer, state = window.explorer, window.state
    old = float(state.inputs[5, 0])
    explorer.set_input(5, [0.25])
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert state.inputs[5, 0] == np.float32(old)
    qtbot.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert state.inputs[5, 0] == np.float32(0.25)
    wait_ready(window)


def test_dragging_a_point_edits_the_value(make_window, wait_ready, qtbot):
    window = make_window()
    explorer, state = window.explorer, window.state
    view = window.views[state.columns[0].id]
    k = 80
    y0 = float(state.inputs[k, 0])
    start = _viewport_point(view, k, y0)
    lo, hi = view.input_plot.getViewBox().viewRange()[1]
    goal = y0 + 0.3 if y0 < 0 else y0 - 0.3
    end = _viewport_point(view, k, goal)
    viewport = view.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    assert state.t == k
    qtbot.mouseMove(viewport, _viewport_point(view, k, (y0 + goal) / 2))
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    assert lo <= goal <= hi
    assert state.inputs[k, 0] == pytest.approx(goal, abs=(hi - lo) / 50)
    for other in window.views.values():  # every column's input strip, before the worker
        assert other.input.curves[0].yData[k] == state.inputs[k, 0]
    assert len(explorer.undo_stack) == 1  # one drag, one undo step
    wait_ready(window)
    fresh = state.columns[0].model.trace(state.inputs, state.target)
    np.testing.assert_allclose(state.columns[0].trace["h_l0"], fresh["h_l0"], atol=1e-6)
    explorer.undo_stack.undo()
    assert state.inputs[k, 0] == np.float32(y0)
    wait_ready(window)


def _text_preset(text="hello world, hello rnn"):
    return Preset("text", "", "text", {"length": 12, "text": text},
                  (ModelConfig(cell="lstm", hidden_size=8), ModelConfig(cell="gru",
                                                                        hidden_size=8)))


def test_typing_a_character_edits_a_text_input(qtbot, wait_ready):
    from rnnviz.ui.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.load(_text_preset())
    window.show()
    wait_ready(window)
    state = window.state
    view = window.views[state.columns[0].id]
    k = 4
    viewport = view.canvas.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                     pos=_viewport_point(view, k, state.inputs.shape[1] / 2))
    assert state.t == k
    new = "w" if state.labels[k] != "w" else "h"
    qtbot.keyClick(view.canvas, new)
    assert state.labels[k] == new
    assert state.task.decode(state.inputs)[k] == new
    assert state.t == k + 1  # like overwriting text
    assert view.input.char_items[k].toPlainText() == new
    assert state.target.values[k - 1] == state.task.vocab.index(new)
    wait_ready(window)
    fresh = state.columns[0].model.trace(state.inputs, state.target)
    np.testing.assert_allclose(state.columns[0].trace["loss"], fresh["loss"], atol=1e-5)
    qtbot.keyClick(view.canvas, " ")  # a space is a character here, not play
    assert not window.time_controls.playing
    assert state.labels[k + 1] == " "
    wait_ready(window)
    window.close()


def test_task_dialog_changes_the_task_and_columns_follow(make_window, wait_ready, qtbot):
    window = make_window()
    explorer, state = window.explorer, window.state
    models_before = [c.model for c in state.columns]
    dialog = window.sequence_tools.open_dialog()
    dialog.name.setCurrentIndex(dialog.name.findData("adding"))
    dialog.editors["length"][1].setValue(30)
    dialog.seed_box.setValue(4)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert state.task.name == "adding" and state.steps == 30 and state.example_seed == 4
    expected, target = make_task("adding", length=30).example(seed=4)
    np.testing.assert_array_equal(state.inputs, expected)
    assert window.sequence_tools.task_button.text() == "Task: Adding problem, 30 steps"
    assert "rebuilt with fresh seeded weights" in window.statusBar().currentMessage()
    wait_ready(window)
    for column, old in zip(state.columns, models_before, strict=True):
        assert column.model.spec.input_size == 2
        assert column.model is not old
        assert column.trace.steps == 30
        fresh = column.model.trace(expected, target)
        np.testing.assert_allclose(column.trace["output"], fresh["output"], atol=1e-6)
    window.sequence_tools.new_action.trigger()
    assert state.example_seed == 5
    wait_ready(window)
    explorer.undo_stack.undo()
    explorer.undo_stack.undo()
    assert state.task.name == "sine" and state.steps == 200
    assert [c.model for c in state.columns] == models_before  # the same weights back
    wait_ready(window)


def test_same_sizes_keep_the_weights(make_window, wait_ready):
    window = make_window()
    explorer, state = window.explorer, window.state
    models_before = [c.model for c in state.columns]
    explorer.set_task(make_task("sine", length=50, frequencies=(0.1,)), 2)
    wait_ready(window)
    assert [c.model for c in state.columns] == models_before
    assert all(c.trace.steps == 50 for c in state.columns)


def test_bad_csv_shows_file_and_line_and_changes_nothing(make_window, tmp_path, qtbot):
    window = make_window()
    state = window.state
    path = tmp_path / "prices.csv"
    path.write_text("day,price\n1,10.5\n2,oops\n3,11\n")
    inputs, task = state.inputs.copy(), state.task
    dialog = window.sequence_tools.open_dialog()
    dialog.name.setCurrentIndex(dialog.name.findData("csv"))
    dialog.editors["path"][1].line.setText(str(path))
    columns = dialog.editors["column"][1]
    assert [columns.itemText(i) for i in range(columns.count())] == ["day", "price"]
    columns.setCurrentText("price")
    dialog.editors["length"][1].setValue(2)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.error.isVisibleTo(dialog)
    assert f"{path}:3: column 'price': expected a number, got 'oops'" in dialog.error.text()
    assert state.task is task
    np.testing.assert_array_equal(state.inputs, inputs)
    dialog.reject()


def test_good_csv_becomes_the_sequence(make_window, wait_ready, tmp_path, qtbot):
    window = make_window()
    state = window.state
    path = tmp_path / "series.csv"
    path.write_text("t;v\n" + "".join(f"{i};{np.sin(i / 3):.4f}\n" for i in range(40)))
    dialog = window.sequence_tools.open_dialog()
    dialog.name.setCurrentIndex(dialog.name.findData("csv"))
    dialog.editors["path"][1].line.setText(str(path))
    dialog.editors["column"][1].setCurrentText("v")
    dialog.editors["length"][1].setValue(20)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert state.task.name == "csv" and state.steps == 20
    assert state.task.label == "'v'"
    wait_ready(window)
    assert all(c.trace.steps == 20 for c in state.columns)


def test_typed_text_becomes_a_text_task(make_window, wait_ready, qtbot):
    window = make_window()
    state = window.state
    dialog = window.sequence_tools.open_dialog()
    dialog.name.setCurrentIndex(dialog.name.findData("text"))
    dialog.editors["text"][1].setPlainText("to be or not to be")
    dialog.editors["length"][1].setValue(40)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "expected at least 41 characters" in dialog.error.text()
    assert state.task.name == "sine"
    dialog.editors["length"][1].setValue(10)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert state.task.name == "text" and state.task.corpus == "to be or not to be"
    assert "".join(state.labels) in state.task.corpus
    wait_ready(window)
    vocab = len(state.task.vocab)
    assert all(c.model.spec.input_size == vocab for c in state.columns)
    view = window.views[state.columns[0].id]
    assert [item.toPlainText() for item in view.input.char_items] == state.labels


def test_a_long_drag_ends_on_the_trace_of_the_final_input(make_window, wait_ready, qtbot):
    """Moves of a drag recompute the columns at most every 100 ms, with results landing
    between moves; the end of the drag leaves every column on its final input."""
    window = make_window()
    explorer, state = window.explorer, window.state
    original = state.inputs.copy()
    drag = explorer.begin_drag()
    for i in range(12):
        explorer.set_input(60 + i % 3, [0.1 * i], drag=drag)
        qtbot.wait(40)  # a hand moving the mouse: the worker answers between some moves
    explorer.end_drag()
    wait_ready(window)
    for column in state.columns:
        assert explorer.is_current(column)
        fresh = column.model.trace(state.inputs, state.target)
        for name in ("h_l0", "output", "loss", "grad_loss_h_l0"):
            np.testing.assert_allclose(column.trace[name], fresh[name], rtol=1e-5, atol=1e-6,
                                       err_msg=name)
    while explorer.undo_stack.can_undo:
        explorer.undo_stack.undo()
    np.testing.assert_array_equal(state.inputs, original)
    wait_ready(window)


def test_a_bad_input_value_is_refused_with_a_message(make_window):
    window = make_window()
    explorer, state = window.explorer, window.state
    inputs = state.inputs.copy()
    assert not explorer.set_input(3, [float("nan")])
    assert "input at step 3: expected 1 finite number(s)" in window.statusBar().currentMessage()
    assert not explorer.set_input(500, [0.0])
    assert "step: expected 0..199, got 500" in window.statusBar().currentMessage()
    np.testing.assert_array_equal(state.inputs, inputs)
    assert len(explorer.undo_stack) == 0



def test_a_task_change_before_the_first_traces_rebuilds_the_preset_columns(
        qtbot, wait_ready, tmp_path):
    """Open a preset with weight files and change the task at once, before any column has
    its model: the columns whose files were for the old task's sizes get fresh seeded
    weights (they kept the files and all failed); Reset, Train and Save preset as work."""
    from rnnviz.ui.window.main_window import MainWindow

    from rnnviz.files.preset_check import check_preset
    from rnnviz.files.presets import load_preset

    window = MainWindow()
    qtbot.addWidget(window)
    window.load(load_preset("adding"))
    window.show()
    explorer, state = window.explorer, window.state
    assert all(c.model is None for c in state.columns)  # nothing has come back yet
    copy = make_task("copy")
    explorer.set_task(copy, 0)
    assert "rebuilt with fresh seeded weights" in window.statusBar().currentMessage()
    wait_ready(window)
    for column in state.columns:
        assert column.error is None and column.config.weights is None
        assert (column.model.spec.input_size, column.model.spec.out_size) == (10, 8)

    training = window.training.model
    first = state.columns[0]
    training.reset(first.id)
    wait_ready(window)
    assert first.error is None and first.model is not None
    training.set_option([first.id], "steps", 2)
    training.set_option([first.id], "batch_size", 2)
    assert training.train([first.id])
    qtbot.waitUntil(lambda: not training.running and training.runner.is_idle(),
                    timeout=120_000)
    assert training.histories[first.id].state == "done"
    wait_ready(window)

    out = tmp_path / "copy.toml"
    assert window.training.save_preset(out)
    assert "saved copy.toml and 3 weight file(s)" in window.statusBar().currentMessage()
    assert len(list(tmp_path.glob("copy-*.safetensors"))) == 3
    assert "copy" in check_preset(out)

    explorer.undo_stack.undo()  # the preset's own task and weight files come back
    wait_ready(window)
    assert state.task.name == "adding"
    assert all(c.config.weights is not None and c.error is None for c in state.columns)
    window.close()


def test_save_preset_as_refuses_a_column_without_a_model(make_window, tmp_path):
    window = make_window()
    column = window.state.columns[0]
    column.error = "cannot read weights.safetensors"  # as a failed trace leaves it
    out = tmp_path / "broken.toml"
    assert not window.training.save_preset(out)
    assert "cannot save: column RNN has no model" in window.banner.text()
    assert not out.exists()


def test_the_length_box_says_its_limit(make_window, qtbot):
    """The length box shows rnnviz's limit beside it; a longer length typed in is said in the
    dialog's message line at once and refused on OK, never cut down in silence."""
    from rnnviz.limits import MAX_LENGTH

    window = make_window()
    dialog = window.sequence_tools.open_dialog()
    box = dialog.editors["length"][1]
    assert dialog.limit_label.text() == "at most 100 000 steps"
    assert str(MAX_LENGTH) in box.toolTip().replace(" ", "")
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), "200000")
    assert box.value() == 200000  # taken as typed
    assert dialog.error.isVisibleTo(dialog)
    assert "length: at most 100 000 steps" in dialog.error.text() and "200000" in \
        dialog.error.text()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert f"length: expected an integer in 2..{MAX_LENGTH}, got 200000" in dialog.error.text()
    box.setValue(100)
    assert not dialog.error.isVisibleTo(dialog)
    dialog.reject()


def test_a_csv_longer_than_a_sequence_says_so(make_window, tmp_path, qtbot):
    window = make_window()
    path = tmp_path / "long.csv"
    path.write_text("v\n" + "".join(f"{np.sin(i / 50):.4f}\n" for i in range(200_000)))
    dialog = window.sequence_tools.open_dialog()
    dialog.name.setCurrentIndex(dialog.name.findData("csv"))
    dialog.editors["path"][1].line.setText(str(path))
    assert dialog.error.isVisibleTo(dialog)
    assert dialog.error.text() == ("long.csv: column 'v' holds 200000 values; a sequence is at "
                                   "most 100 000 steps (rnnviz's limit), so each example is a "
                                   "window of the series")
    dialog.editors["length"][1].setValue(30)
    assert "holds 200000 values" in dialog.error.text()  # a note: OK is taken
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert window.state.steps == 30
