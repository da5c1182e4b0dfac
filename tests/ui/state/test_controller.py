"""The explorer's state and controller without Qt: no ``QApplication``, jobs run inline, timers
fire by hand."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from rnnviz.ui.state.controller import Explorer
from rnnviz.ui.state.explorer import trace_time_words
from rnnviz.ui.state.jobs import InlineJobRunner
from tests_support import settle

from rnnviz.files.presets import ModelConfig, load_preset
from rnnviz.tasks import make_task


class Recorder:
    """Every event of a state, in order, as ``(name, args)``."""

    def __init__(self, state):
        self.events: list[tuple[str, tuple]] = []
        for name in ("sequence", "inputs_edited", "columns", "column_ready", "rows_ready", "t",
                     "selection", "message"):
            getattr(state.events, name).connect(
                lambda *args, name=name: self.events.append((name, args)))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def explorer():
    ex = Explorer(jobs=InlineJobRunner())
    yield ex
    ex.shutdown()


@pytest.fixture
def sine(explorer):
    preset = load_preset("sine")
    explorer.load_preset(preset)
    settle(explorer)
    return explorer


def test_the_state_and_controller_load_no_qt():
    code = ("import sys, rnnviz.ui.state.controller; "
            "sys.exit(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_preset_shows_its_task_columns_and_start_step(explorer):
    record = Recorder(explorer.state)
    preset = load_preset("sine")
    explorer.load_preset(preset)
    s = explorer.state
    assert record.names() == ["sequence", "columns", "t", "selection"]  # before any trace
    assert [c.config.title for c in s.columns] == ["RNN", "LSTM", "GRU"]
    assert s.t == preset.start_step and s.steps == 200
    assert not any(c.ready for c in s.columns)
    settle(explorer)
    assert all(c.ready for c in s.columns) and explorer.settled()
    ready = [args[0] for name, args in record.events if name == "column_ready"]
    assert sorted(ready) == sorted(c.id for c in s.columns)
    for column in s.columns:
        for row in ("flow", "memory", "saliency"):
            assert column.row(row, s.t) is not None, row
        timing = column.trace_time  # measured by the engine around the jitted work
        assert timing is column.trace.timing and timing.steps == 200
        assert 0 < timing.seconds < 60 and timing.scan == "sequential"
        words, about = trace_time_words(timing)
        assert words.startswith("trace ") and words.endswith(" ms, sequential scan")
        assert "200 steps" in about and "one step after another" in about
    assert trace_time_words(None) == ("", "")


def test_moving_the_cursor_recomputes_the_rows_for_the_new_step(sine):
    s = sine.state
    record = Recorder(s)
    sine.set_cursor(10)
    assert record.names()[0] == "t" and s.t == 10
    sine.set_cursor(10)  # no change, no event
    assert record.names().count("t") == 1
    settle(sine)
    column = s.columns[1]
    expected = column.model.gradient_flow(s.inputs, s.target, 10)["l0"]
    np.testing.assert_allclose(column.row("flow", 10), expected, rtol=1e-6)
    assert column.row("memory", 10) is not None
    sine.set_cursor(10_000)
    assert s.t == s.steps - 1
    sine.step(-5)
    assert s.t == s.steps - 6


def test_only_the_newest_row_request_is_computed(sine):
    runner = sine.jobs
    for t in (20, 21, 22):
        sine.set_cursor(t)
    assert runner.run_pending() == 6  # flow and saliency of three columns, for t = 22 only
    assert all(c.row("flow", 22) is not None for c in sine.state.columns)


def test_selection_and_its_events(sine):
    s = sine.state
    record = Recorder(s)
    lstm = s.columns[1]
    sine.select(lstm.id, "c", 3)
    assert s.selection.column == lstm.id and s.selection.index == 3
    sine.clear_selection()
    sine.clear_selection()
    assert record.names() == ["selection", "selection"]


def test_removing_the_selected_column_announces_the_columns_before_the_selection(sine):
    s = sine.state
    gru = s.columns[2]
    sine.select(gru.id, "h", 0)
    order = []
    s.events.columns.connect(lambda: order.append(("columns", s.find(gru.id))))
    s.events.selection.connect(lambda sel: order.append(("selection", sel)))
    sine.remove_column(gru.id)
    assert order == [("columns", None), ("selection", None)]
    assert [c.config.title for c in s.columns] == ["RNN", "LSTM"]
    sine.remove_column(s.columns[0].id)
    record = Recorder(s)
    sine.remove_column(s.columns[0].id)  # the last column stays
    assert len(s.columns) == 1 and record.names() == ["message"]


def test_a_column_added_and_reconfigured_is_traced(sine):
    s = sine.state
    sine.remove_column(s.columns[2].id)
    column = sine.add_column(ModelConfig(cell="lstm", hidden_size=4))
    settle(sine)
    assert column.ready and column.model.spec.hidden_size == 4
    assert sine.add_column() is None  # three at most
    sine.configure_column(column.id, ModelConfig(cell="gru", hidden_size=5, num_layers=2))
    assert column.trace is None and column.trace_time is None and column.unit == "l0"
    settle(sine)
    assert column.model.spec.describe() == "GRU 2x5"
    sine.show_unit(column.id, "l1")
    settle(sine)
    assert column.unit == "l1" and column.row("flow", s.t) is not None


def test_an_input_edit_recomputes_from_the_edit_and_undo_puts_back_the_trace(sine):
    s = sine.state
    before = {c.id: c.trace for c in s.columns}
    timed = {c.id: c.trace_time for c in s.columns}
    x0, target0 = s.inputs.copy(), s.target
    record = Recorder(s)
    assert sine.set_input(50, [0.9])
    assert record.names()[0] == "inputs_edited" and s.inputs[50, 0] == np.float32(0.9)
    assert s.target.values[49, 0] == np.float32(0.9)  # the next value follows the input
    settle(sine)
    for column in s.columns:
        assert sine.is_current(column)
        fresh = column.model.trace(s.inputs, s.target)
        np.testing.assert_allclose(column.trace["h_l0"], fresh["h_l0"], atol=1e-6)
        np.testing.assert_array_equal(column.trace["h_l0"][:50], before[column.id]["h_l0"][:50])
        # a spliced retrace computed only steps 50 on: the whole trace's time stays shown
        assert column.trace.timing is None and column.trace_time is timed[column.id]
    assert sine.undo()
    np.testing.assert_array_equal(s.inputs, x0)
    assert s.target is target0
    for column in s.columns:  # from the cache, without the worker
        assert column.trace is before[column.id]
    assert sine.redo() and s.inputs[50, 0] == np.float32(0.9)
    assert not sine.set_input(500, [0.0]) and not sine.set_input(3, [np.nan])


def test_one_drag_is_one_undo_step(sine):
    s = sine.state
    x0 = s.inputs.copy()
    drag = sine.begin_drag()
    for value in (0.1, 0.2, 0.3):
        sine.set_input(30, [value], drag=drag)
    assert sine._flush_timer.is_active()  # noqa: SLF001 (the columns follow at most every 100 ms)
    sine.end_drag()
    settle(sine)
    assert len(sine.undo_stack) == 1
    sine.undo()
    np.testing.assert_array_equal(s.inputs, x0)


def test_a_task_change_rebuilds_columns_that_no_longer_fit_and_undo_restores_them(sine):
    s = sine.state
    models = [c.model for c in s.columns]
    record = Recorder(s)
    sine.set_task(make_task("adding", length=30), seed=1)
    assert record.names()[:4] == ["sequence", "columns", "t", "selection"]
    settle(sine)
    assert s.steps == 30 and s.task.name == "adding"
    assert all(c.ready and c.model.spec.input_size == 2 for c in s.columns)
    assert "rebuilt with fresh seeded weights" in next(a[0] for n, a in record.events
                                                     if n == "message")
    sine.undo()
    settle(sine)
    assert s.task.name == "sine" and [c.model for c in s.columns] == models


def test_a_task_change_before_the_first_traces_arrive_drops_the_preset_weights(explorer):
    explorer.load_preset(load_preset("adding"))  # three columns with weight files
    explorer.set_task(make_task("copy"), seed=0)   # at once: no model has arrived
    settle(explorer)
    s = explorer.state
    assert all(c.ready and c.error is None for c in s.columns)
    assert all(c.config.weights is None for c in s.columns)
    assert all(c.model.spec.input_size == s.task.input_size for c in s.columns)


def test_preset_now_names_the_selected_unit_in_its_layer(sine):
    s = sine.state
    sine.set_cursor(42)
    sine.select(s.columns[1].id, "f", 2)
    preset = sine.preset_now()
    assert preset.start_step == 42 and preset.select == (1, "f", 2, "l0")


def test_the_whole_flow_map_arrives_with_progress_and_goes_with_its_trace(sine):
    state = sine.state
    column = state.columns[1]
    seen: list[tuple[str, tuple]] = []
    state.events.map_progress.connect(lambda *a: seen.append(("progress", a)))
    state.events.map_ready.connect(lambda *a: seen.append(("ready", a)))
    cost = sine.flow_map_cost(column.id)
    assert cost is not None and cost.out_bytes == 4 * state.steps ** 2
    sine.compute_flow_map(column.id)
    settle(sine)
    shown = column.shown_flow_map()
    expected = column.model.flow_map(state.inputs, state.target)[column.unit]
    np.testing.assert_array_equal(shown, expected)
    assert seen[0] == ("progress", (column.id, 0.0))
    assert seen[-2] == ("progress", (column.id, 1.0)) and seen[-1] == ("ready", (column.id,))
    sine.configure_column(column.id, ModelConfig(cell="gru", hidden_size=4))
    settle(sine)
    assert column.flow_map is None and column.shown_flow_map() is None  # memory let go


def test_a_cancelled_or_too_large_flow_map_says_so(sine, monkeypatch):
    column = sine.state.columns[0]
    sine.compute_flow_map(column.id)
    sine.cancel_flow_map(column.id)
    settle(sine)
    assert column.shown_flow_map() is None and column.map_error == "cancelled"
    from rnnviz.core import trace

    monkeypatch.setattr(trace, "MAX_MATRIX_VALUES", 100)
    sine.compute_flow_map(column.id)
    settle(sine)
    assert column.shown_flow_map() is None
    assert "MAX_MATRIX_VALUES" in column.map_error


def test_the_three_columns_trace_at_once_and_each_trace_reaches_its_own_column(sine,
                                                                                monkeypatch):
    """On three workers the columns' traces run together (each waits at a barrier that only
    the three together pass) and each lands in its own column, equal to the inline one."""
    import threading

    from rnnviz.ui.state.jobs import JobRunner
    from tests_support import Mailbox

    from rnnviz.core.model import Model

    inline = {c.config.title: c.trace for c in sine.state.columns}
    barrier = threading.Barrier(3, timeout=120)
    real_trace = Model.trace

    def together(self, *args, **kwargs):
        barrier.wait()
        return real_trace(self, *args, **kwargs)

    monkeypatch.setattr(Model, "trace", together)
    mail = Mailbox()
    explorer = Explorer(jobs=JobRunner(mail, workers=3))
    try:
        explorer.load_preset(load_preset("sine"))
        mail.run_until(lambda: all(c.ready for c in explorer.state.columns), timeout=120)
    finally:
        explorer.shutdown()
    assert len(inline) == len(explorer.state.columns) == 3
    for column in explorer.state.columns:
        expected = inline[column.config.title]
        assert column.trace.spec == column.model.spec == expected.spec
        for name, values in expected.arrays.items():
            np.testing.assert_array_equal(column.trace[name], values)
