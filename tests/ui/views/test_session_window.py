"""Sessions from the window: what is on screen (weights changed in the window, an edited
input, the cursor, the selection) reopens the same in a fresh window; a bad file leaves the
current session as it was."""

import json
import zipfile

import numpy as np

from rnnviz.core.model import Model
from rnnviz.files.presets import ModelConfig


def _change_everything(window, wait_ready):
    explorer, state = window.explorer, window.state
    lstm, gru = state.columns[1], state.columns[2]
    explorer.configure_column(gru.id, ModelConfig("gru", 8, seed=5))
    wait_ready(window)
    rng = np.random.default_rng(0)
    trained = Model(lstm.model.spec, {k: np.asarray(v) + rng.normal(0, 0.2, np.shape(v))
                                      .astype(np.float32) for k, v in lstm.model.params.items()})
    edited = state.inputs.copy()
    edited[20:30] = 0.5
    # as training and input editing in the window do: new weights and input, traced again
    state.inputs = edited
    for column in state.columns:
        explorer._submit_trace(column, trained if column is lstm else column.model)  # noqa: SLF001
    explorer.set_cursor(37)
    explorer.select(lstm.id, "f", 3)
    wait_ready(window)
    return trained


def test_session_reopens_what_was_on_screen(make_window, wait_ready, tmp_path):
    window = make_window()
    trained = _change_everything(window, wait_ready)
    path = tmp_path / "lesson.rnnviz"
    assert window.share.save_session_to(path)
    saved = window.state

    fresh = make_window()  # opens on the sine preset, untouched
    assert fresh.share.open_session(path)
    wait_ready(fresh)
    back = fresh.state
    np.testing.assert_array_equal(back.inputs, saved.inputs)
    np.testing.assert_array_equal(back.target.values, saved.target.values)
    assert back.t == 37 and fresh.time_controls.label.text() == "t = 37 / 199"
    lstm_index = 1
    assert back.selection is not None
    assert (back.selection.column, back.selection.name, back.selection.index) == (
        back.columns[lstm_index].id, "f", 3)
    assert [c.config.title for c in back.columns] == ["RNN", "LSTM", "GRU"]
    assert back.columns[2].config.hidden_size == 8 and back.columns[2].config.seed == 5
    for name, value in trained.params.items():
        np.testing.assert_array_equal(np.asarray(back.columns[1].model.params[name]), value)
    for old, new in zip(saved.columns, back.columns, strict=True):
        assert new.unit == old.unit
        assert set(new.trace.arrays) == set(old.trace.arrays)
        for name in old.trace.arrays:
            np.testing.assert_allclose(new.trace[name], old.trace[name], rtol=1e-6, atol=1e-7)
    # and the panels show it: the LSTM's forget gate heatmap is the saved trace's
    view = fresh.views[back.columns[1].id]
    np.testing.assert_array_equal(view.heatmaps["gate1"].data,
                                  saved.columns[1].trace["gate_f_l0"].T)
    assert view.heatmaps["gate1"].outline.isVisible()  # the selected unit is outlined
    assert view.heatmaps["gate1"].outline.rect().top() == 3


def test_bad_session_files_leave_the_window_as_it_was(make_window, tmp_path):
    window = make_window()
    explorer, state = window.explorer, window.state
    explorer.set_cursor(12)
    good = tmp_path / "good.rnnviz"
    assert window.share.save_session_to(good)
    before = (state.preset, state.t, [c.id for c in state.columns], state.inputs.copy())

    damaged = tmp_path / "damaged.rnnviz"
    damaged.write_bytes(good.read_bytes()[:300])
    foreign = tmp_path / "foreign.rnnviz"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("content.xml", "<office/>")
    newer = tmp_path / "newer.rnnviz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(newer, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "state.json":
                data = json.dumps({**json.loads(data), "version": 9}).encode()
            zout.writestr(name, data)

    for path, words in ((damaged, "damaged, or not a zip"),
                        (foreign, "not an rnnviz session"),
                        (newer, "version 9 is newer")):
        assert not window.share.open_session(path)
        shown = window.banner.text()
        assert window.banner.isVisible() and "\n" not in shown
        assert str(path) in shown and words in shown
        assert (state.preset, state.t, [c.id for c in state.columns]) == before[:3]
        np.testing.assert_array_equal(state.inputs, before[3])
        assert all(c.ready for c in state.columns)


def test_saving_while_a_column_computes_says_so(make_window, tmp_path):
    window = make_window()
    explorer, state = window.explorer, window.state
    explorer.configure_column(state.columns[0].id, ModelConfig("lstm", 4))
    assert not window.share.save_session_to(tmp_path / "s.rnnviz")  # still computing
    assert "still computing" in window.banner.text()
    assert not (tmp_path / "s.rnnviz").exists()
