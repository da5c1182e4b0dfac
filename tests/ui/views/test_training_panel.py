"""The training panel driven as a teacher would: Train, Stop, Reset, divergence, Save preset
as, and a bad preset opened while trained columns are on screen."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from rnnviz.core.model import Model
from rnnviz.files.presets import load_preset
from rnnviz.training.history import DIVERGED, DONE, STOPPED

TINY = """title = "Tiny sine"
description = "A tiny RNN on a short sine, for tests."
start_step = 10

[task]
name = "sine"
length = 40

[[models]]
cell = "rnn"
hidden_size = 4
seed = 0
{extra}
[training]
steps = 30
batch_size = 8
learning_rate = 0.05
eval_every = 10
eval_batch = 16
"""

SECOND = """
[[models]]
cell = "gru"
hidden_size = 3
seed = 1
training = { clip_norm = 0.5, seed = 7 }
"""


@pytest.fixture
def tiny(tmp_path):
    def write(extra=""):
        path = tmp_path / "tiny.toml"
        path.write_text(TINY.format(extra=extra))
        return path

    return write


@pytest.fixture
def make_window(make_window):
    """The shared window fixture, with the training panel shown (it starts hidden, as in the
    app, until someone asks to train)."""

    def make(*args, **kwargs):
        window = make_window(*args, **kwargs)
        window.training.dock.show()
        return window

    return make


@pytest.fixture
def wait_trained(qtbot, wait_ready):
    """Until no column trains any more and the explorer has re-traced the new weights."""

    def wait(window, timeout=120_000):
        training = window.training.model
        qtbot.waitUntil(lambda: not training.running and training.runner.is_idle()
                        and all(training.weights_shown(c.id) for c in window.state.columns),
                        timeout=timeout)
        wait_ready(window, timeout)

    return wait


def _click(qtbot, button):
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _params(model):
    return {k: np.asarray(v) for k, v in model.params.items()}


def test_train_button_trains_and_the_curves_show_the_loss_falling(make_window, tiny, qtbot,
                                                                    wait_trained):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    column = window.state.columns[0]
    before = column.trace["output"].copy()
    assert panel.bar.format() == "not trained yet: press Train"
    assert panel.learning_rate.value() == pytest.approx(0.05)  # the preset's [training]
    assert panel.steps.value() == 30

    _click(qtbot, panel.train_button)
    assert training.running and panel.stop_button.isEnabled()
    assert not panel.train_button.isEnabled()
    wait_trained(window)

    history = training.histories[column.id]
    assert history.state == DONE and len(history.losses) == 30
    assert np.mean(history.losses[-5:]) < 0.8 * np.mean(history.losses[:5])
    train_curve, val_curve = panel._loss_items[column.id]  # noqa: SLF001
    np.testing.assert_array_equal(train_curve.xData, np.arange(1, 31))
    np.testing.assert_allclose(train_curve.yData, history.losses)
    steps = val_curve.xData  # every validation: before the first step and after the last
    assert steps[0] == 0 and steps[-1] == 30 and np.all(np.diff(steps) > 0)
    assert val_curve.yData[-1] < val_curve.yData[0]
    assert len(panel.grad_total.yData) == 30
    assert set(panel._param_items) >= {"weight_hh_l0", "readout.weight"}  # noqa: SLF001
    assert panel.bar.format() == "RNN · step 30/30 · done"
    assert not panel.stop_button.isEnabled() and panel.train_button.isEnabled()

    # the column now shows the trained weights, traced by the explorer's worker
    trained = training.current_model(column.id)
    for name, value in _params(column.model).items():
        np.testing.assert_array_equal(value, np.asarray(trained.params[name]))
    expected = Model(trained.spec, trained.params).trace(window.state.inputs,
                                                         window.state.target)
    np.testing.assert_allclose(column.trace["output"], expected["output"], rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(column.trace["output"], before)


def test_stop_keeps_the_weights_reached_and_retraces_the_column(make_window, tiny, qtbot,
                                                                  wait_trained):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    column = window.state.columns[0]
    before = column.trace["output"].copy()
    panel.steps.setValue(1_000_000)  # far more than it will do
    assert training.options[column.id].steps == 1_000_000
    _click(qtbot, panel.train_button)
    history = training.histories[column.id]
    qtbot.waitUntil(lambda: history.step > 0, timeout=120_000)
    initial = _params(column.model)["weight_hh_l0"]
    # while it runs, the column is re-traced with the newest weights (throttled)
    qtbot.waitUntil(lambda: not np.array_equal(
        np.asarray(column.model.params["weight_hh_l0"]), initial), timeout=60_000)
    assert training.running
    _click(qtbot, panel.stop_button)
    assert panel.bar.format().endswith("· stopping…")
    wait_trained(window)

    assert history.state == STOPPED and 0 < history.step < 1_000_000
    assert len(history.losses) == history.step
    reached = training.current_model(column.id)
    for name, value in _params(column.model).items():
        np.testing.assert_array_equal(value, np.asarray(reached.params[name]))
    assert not np.allclose(column.trace["output"], before)
    assert "stopped at step" in window.statusBar().currentMessage()


def test_same_seed_same_losses_and_reset_brings_the_initial_weights_back(
        make_window, tiny, qtbot, wait_trained):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    column = window.state.columns[0]
    initial = _params(column.model)
    _click(qtbot, panel.train_button)
    wait_trained(window)
    first = training.histories[column.id].losses.copy()

    _click(qtbot, panel.train_button)  # a second run continues from the weights reached
    wait_trained(window)
    history = training.histories[column.id]
    assert len(history.losses) == 60
    np.testing.assert_array_equal(panel._loss_items[column.id][0].xData,  # noqa: SLF001
                                  np.arange(1, 61))

    _click(qtbot, panel.reset_button)
    wait_trained(window)
    assert len(training.histories[column.id].losses) == 0
    for name, value in _params(window.state.columns[0].model).items():
        np.testing.assert_array_equal(value, initial[name])
    _click(qtbot, panel.train_button)
    wait_trained(window)
    np.testing.assert_array_equal(training.histories[column.id].losses, first)

    panel.seed.setValue(5)  # another seed: other batches, other losses
    _click(qtbot, panel.reset_button)
    wait_trained(window)
    _click(qtbot, panel.train_button)
    wait_trained(window)
    assert not np.array_equal(training.histories[column.id].losses, first)


def test_a_huge_learning_rate_diverges_with_a_warning_not_a_crash(make_window, tiny, qtbot,
                                                                   wait_trained, wait_ready):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    assert panel.momentum.isEnabled()
    panel.momentum.setValue(0.0)
    panel.learning_rate.setValue(1000.0)
    _click(qtbot, panel.train_button)
    wait_trained(window)

    column = window.state.columns[0]
    history = training.histories[column.id]
    assert history.state == DIVERGED and history.diverged_at is not None
    assert not np.all(np.isfinite(history.losses))
    assert panel.warning.isVisible() or not window.isVisible()
    assert "diverged" in panel.warning.text() and "NaN/Inf" in panel.warning.text()
    assert "too large" in window.banner.text()  # the divergence, then the NaN trace it gave
    # the bar names the step where it broke, as the warning does
    assert "diverged" in panel.bar.format()
    assert f"step {history.diverged_at - history.offset}/" in panel.bar.format()
    assert f"step {history.diverged_at} " in panel.warning.text()
    # the app keeps going: the explorer still steps, and training can start again
    window.explorer.set_cursor(20)
    wait_ready(window)
    assert window.state.t == 20
    panel.learning_rate.setValue(0.05)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("adam"))
    _click(qtbot, panel.reset_button)
    wait_trained(window)
    assert not panel.warning.isVisible() and window.banner.isHidden()
    _click(qtbot, panel.train_button)
    wait_trained(window)
    assert training.histories[column.id].state == DONE


def test_clipping_is_passed_on_and_drawn_as_a_threshold(make_window, tiny, qtbot,
                                                        wait_trained):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    column = window.state.columns[0]
    assert not panel.clip_line.isVisible() and not panel.clip_norm.isEnabled()
    panel.clip.setChecked(True)
    panel.clip_norm.setValue(0.25)
    assert training.options[column.id].clip_norm == 0.25
    assert panel.clip_line.isVisible()
    assert panel.clip_line.value() == pytest.approx(np.log10(0.25))
    panel.clip.setChecked(False)
    assert training.options[column.id].clip_norm is None and not panel.clip_line.isVisible()
    assert not training.set_option([column.id], "momentum", 2.0)  # out of range: one line
    assert "momentum: expected" in window.banner.text()
    assert training.options[column.id].momentum == 0.9


def test_all_columns_train_one_after_another_with_their_own_options(make_window, tiny, qtbot,
                                                                     wait_trained):
    window = make_window(tiny(SECOND))
    panel, training = window.training.panel, window.training.model
    rnn, gru = window.state.columns
    assert training.options[gru.id].clip_norm == 0.5 and training.options[gru.id].seed == 7
    assert training.options[rnn.id].clip_norm is None
    panel.target.setCurrentIndex(panel.target.findData(gru.id))  # the form shows the GRU's
    assert panel.clip.isChecked() and panel.seed.value() == 7
    panel.target.setCurrentIndex(0)  # all columns: a change applies to each
    panel.seed.setValue(3)
    assert training.options[rnn.id].seed == training.options[gru.id].seed == 3
    assert training.options[gru.id].clip_norm == 0.5  # the rest stays each column's own

    _click(qtbot, panel.train_button)
    wait_trained(window)
    assert [training.histories[c.id].state for c in (rnn, gru)] == [DONE, DONE]
    assert all(len(training.histories[c.id].losses) == 30 for c in (rnn, gru))


def test_save_preset_as_writes_the_weights_and_reopens_the_same_networks(
        make_window, tiny, qtbot, wait_trained, tmp_path):
    window = make_window(tiny(SECOND))
    panel, training = window.training.panel, window.training.model
    rnn, gru = window.state.columns
    panel.target.setCurrentIndex(panel.target.findData(rnn.id))
    _click(qtbot, panel.train_button)  # the RNN is trained, the GRU keeps its seeded weights
    wait_trained(window)
    panel.learning_rate.setValue(0.02)
    traces = [c.trace for c in window.state.columns]
    options = [training.options[c.id] for c in window.state.columns]

    out = tmp_path / "saved" / "mine.toml"
    assert window.training.save_preset(out)
    assert sorted(p.name for p in out.parent.iterdir()) == \
        ["mine-0-rnn_tanh.safetensors", "mine-1-gru.safetensors", "mine.toml"]
    text = out.read_text()
    assert 'weights = "mine-0-rnn_tanh.safetensors"' in text
    assert "saved mine.toml and 2 weight file(s)" in window.statusBar().currentMessage()

    other = make_window(out)
    assert [c.config.title for c in other.state.columns] == ["RNN", "GRU"]
    for column, trace in zip(other.state.columns, traces, strict=True):
        for name in ("h_l0", "output", "loss"):
            np.testing.assert_allclose(column.trace[name], trace[name], rtol=1e-6, atol=1e-7)
    again = [other.training.model.options[c.id] for c in other.state.columns]
    assert again == options
    preset = load_preset(out)
    assert preset.start_step == window.state.t


def test_a_bad_preset_keeps_the_trained_columns(make_window, tiny, qtbot, wait_trained,
                                                tmp_path):
    window = make_window(tiny())
    training = window.training.model
    _click(qtbot, window.training.panel.train_button)
    wait_trained(window)
    columns = list(window.state.columns)
    losses = training.histories[columns[0].id].losses.copy()
    cases = {
        "syntax.toml": ('title = "x"\n[task\nname = "sine"\n', "syntax.toml: bad TOML"),
        "range.toml": (TINY.format(extra="").replace("learning_rate = 0.05",
                                                      "learning_rate = -1.0"),
                       "range.toml: training.learning_rate: expected a number in (0, 1000]"),
        "unknown.toml": (TINY.format(extra="").replace("steps = 30", "stepz = 30"),
                         "unknown.toml: training.stepz: unknown key"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert not window.open_preset(path)
        banner = window.banner.text()
        assert expected in banner and "\n" not in banner, banner
        assert window.state.columns == columns
        np.testing.assert_array_equal(training.histories[columns[0].id].losses, losses)


def test_closing_the_window_leaves_no_training_thread(make_window, tiny, qtbot):
    window = make_window(tiny())
    training = window.training.model
    training.set_option([window.state.columns[0].id], "steps", 1_000_000)
    _click(qtbot, window.training.panel.train_button)
    qtbot.waitUntil(lambda: training.histories[window.state.columns[0].id].step > 0,
                    timeout=120_000)
    window.close()  # mid-run: the chunk finishes, the thread ends
    assert not training.runner.is_running()



def test_editing_a_column_mid_run_stops_its_training(make_window, tiny, qtbot, wait_trained):
    from rnnviz.files.presets import ModelConfig

    window = make_window(tiny(SECOND))
    training = window.training.model
    rnn, gru = window.state.columns
    for column in (rnn, gru):
        training.set_option([column.id], "steps", 1_000_000)
    _click(qtbot, window.training.panel.train_button)
    qtbot.waitUntil(lambda: training.histories[rnn.id].step > 0, timeout=120_000)
    window.explorer.configure_column(rnn.id, ModelConfig(cell="lstm", hidden_size=3))
    assert len(training.histories[rnn.id].losses) == 0  # a new model: its curve starts over
    qtbot.waitUntil(lambda: training.histories[gru.id].step > 0, timeout=120_000)  # next one
    _click(qtbot, window.training.panel.stop_button)
    wait_trained(window)
    assert training.histories[gru.id].state == STOPPED
    assert training.histories[rnn.id].state == "idle"
    assert window.state.columns[0].model.spec.cell == "lstm"


def test_the_progress_text_says_where_a_run_is():
    from rnnviz.ui.panels.training_panel import format_progress

    from rnnviz.training.history import COMPILING, RUNNING, History

    history = History(state=RUNNING, step=120, total=500, eta=3.21)
    assert format_progress("LSTM", history) == "LSTM · step 120/500 · 3.2 s left"
    history.state = COMPILING
    assert format_progress("LSTM", history) == "LSTM · compiling…"
    history.state, history.step = "stopped", 130
    assert format_progress("GRU", history) == "GRU · step 130/500 · stopped"


def test_the_panel_starts_hidden_and_the_toolbar_shows_it(qtbot, tiny):
    from rnnviz.ui.window.main_window import MainWindow

    from rnnviz.files.presets import load_preset

    window = MainWindow()
    qtbot.addWidget(window)
    window.load(load_preset(tiny()))
    window.show()
    dock = window.training.dock
    assert not dock.isVisible()  # the plots get the whole height in front of a class
    toggle = dock.toggleViewAction()
    assert toggle in window.findChild(QToolBar, "preset-bar").actions()
    toggle.trigger()
    assert dock.isVisible()
    window.close()


def test_a_run_cancelled_while_compiling_never_speaks_for_the_next(make_window, tiny, qtbot,
                                                                   wait_trained):
    """Train on one task, go back to the other while the run compiles, and train again at
    once: the first run (other sizes) stops and what it still sends is dropped; the second
    run's weights are the ones shown (the first one's once reached the column, which failed:
    "input must be (T, 5)")."""
    from rnnviz.tasks import make_task

    window = make_window(tiny())
    explorer, state, training = window.explorer, window.state, window.training.model
    explorer.set_task(make_task("copy", symbols=3, memory=2, delay=11), 0)
    wait_trained(window)
    column = state.columns[0]
    assert column.model.spec.input_size == 5
    assert training.train()
    qtbot.waitUntil(lambda: training.running_column() == column.id, timeout=60_000)
    explorer.undo_stack.undo()  # the sine again: the run is cancelled
    assert training.train()  # at once, while the first run still compiles its chunk
    wait_trained(window)
    assert column.error is None
    assert column.model.spec.input_size == 1
    assert training.histories[column.id].state == DONE
    assert training.current_model(column.id).spec.input_size == 1
    assert not [m for m in window.statusBar().currentMessage().split("\n") if "Error" in m]


def test_truncation_is_set_per_column_and_shown_from_the_preset(make_window, tiny, qtbot):
    """... and the largest seed a preset may hold (MAX_SEED) fits the seed box."""
    window = make_window(tiny(SECOND.replace("seed = 7", "seed = 2147483647, bptt_window = 6, "
                                             "bptt_carry = false")))
    panel, training = window.training.panel, window.training.model
    first, second = (c.id for c in window.state.columns)
    panel.target.setCurrentIndex(panel.target.findData(second))
    assert panel.truncate.isChecked() and panel.window.value() == 6
    assert panel.seed.value() == training.options[second].seed == 2147483647
    assert not panel.carry.isChecked() and panel.carry.isEnabled()
    panel.target.setCurrentIndex(panel.target.findData(first))
    assert not panel.truncate.isChecked() and not panel.window.isEnabled()
    panel.truncate.setChecked(True)
    panel.window.setValue(12)
    assert training.options[first].bptt_window == 12 and training.options[first].bptt_carry
    panel.carry.setChecked(False)
    assert not training.options[first].bptt_carry
    panel.truncate.setChecked(False)
    assert training.options[first].bptt_window is None
    assert training.options[second].bptt_window == 6  # the other column kept its own


def test_column_headers_show_the_memory_of_their_gradient(make_window, tiny, qtbot):
    window = make_window(tiny())
    panel, training = window.training.panel, window.training.model
    column = window.state.columns[0]
    view = window.views[column.id]
    qtbot.waitUntil(lambda: view.memory.text().startswith("BPTT "))
    assert view.memory.text() == training.memory_words(column.id)[0]
    whole = training.memory(column.id).stored
    panel.remat.setChecked(True)
    panel.chunk.setValue(5)
    assert training.options[column.id].remat_chunk == 5
    assert training.memory(column.id).stored < whole
    assert view.memory.text() == training.memory_words(column.id)[0]
    assert "recomputing chunks of 5 steps" in view.memory.toolTip()
