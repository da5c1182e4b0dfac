"""A model's own data in the window: a CSV whose columns a dialog chooses, a token model with
the vocabulary beside it (dropped on a column, which it replaces), an LSTM with a projection
(dropped beside the columns: added, or one line when there are three). Each bad file is one
line and the window keeps its columns and sequence. The file dialogs are answered by the test;
the model files are written here (PyTorch-named safetensors state_dicts)."""

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from rnnviz.ui.dialogs.data_columns import DataColumnsDialog

import rnnviz
from rnnviz.core.init import init_params
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import DataTask
from rnnviz.files.weights import save_weights
from rnnviz.tasks import make_task


def _preset(folder, columns: int) -> str:
    """A small sine preset (30 steps) of ``columns`` 3-unit RNNs: cheap to trace."""
    models = "".join(f'[[models]]\ncell = "rnn"\nhidden_size = 3\nseed = {k}\n'
                     for k in range(columns))
    path = folder / "small.toml"
    path.write_text(f'title = "small"\ndescription = "small"\n[task]\nname = "sine"\n'
                    f'length = 30\n{models}')
    return str(path)


def _model(path, spec):
    save_weights(path, spec, {k: np.asarray(v) for k, v in init_params(spec, seed=1).items()})
    return path


def _answer(monkeypatch, answers: dict):
    """File dialogs answered by the start of their caption; any other is cancelled."""
    def ask(_parent, caption, *args):
        return next((str(p) for start, p in answers.items() if caption.startswith(start)),
                    ""), ""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", ask)


def _drop(window, path, widget):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    at = QPointF(widget.mapTo(window, widget.rect().center()))
    window.dropEvent(QDropEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                                Qt.KeyboardModifier.NoModifier))


def _kept(window):
    return [(c.id, c.config) for c in window.state.columns], window.state.inputs


def _one_line(window, message):
    text = window.banner.text()
    assert window.banner.isVisible() and message in text and "\n" not in text, text


def test_a_csv_through_the_column_dialog(make_window, wait_ready, tmp_path, monkeypatch):
    model = _model(tmp_path / "gru3.safetensors", ModelSpec("gru", 3, 5, output_size=1))
    t = np.arange(30)
    data = tmp_path / "weather.csv"
    data.write_text("day,temp,wind,rain,y\n" + "".join(
        f"{k},{np.sin(k / 4):.4f},{np.cos(k / 6):.4f},{k % 3},{np.sin((k + 1) / 4):.4f}\n"
        for k in t))

    def choose(dialog):  # the user picks temp, wind, rain (not day) and keeps the target y
        assert [b.currentText() for b in dialog.input_boxes] == ["day", "temp", "wind"]
        assert dialog.target_box.currentText() == "y"
        for box, name in zip(dialog.input_boxes, ["temp", "wind", "rain"], strict=True):
            box.setCurrentText(name)
        return 1

    monkeypatch.setattr(DataColumnsDialog, "exec", choose)
    window = make_window(_preset(tmp_path, 1))
    _answer(monkeypatch, {"Open model": model, "Data for": data})
    window.open_model_action.trigger()  # 3 inputs: not the sine task's, so it asks for data
    wait_ready(window)
    state = window.state
    assert not window.banner.isVisible(), window.banner.text()
    assert isinstance(state.task, DataTask) and state.steps == 30
    np.testing.assert_allclose(state.inputs[:, 2], t % 3)
    np.testing.assert_allclose(state.target.values[:, 0], np.sin((t + 1) / 4), atol=1e-4)
    column = state.columns[-1]
    assert column.config.label == "gru3.safetensors" and len(state.columns) == 2
    np.testing.assert_allclose(column.trace["output"],
                               rnnviz.trace(model, state.inputs)["output"], atol=1e-6)
    assert column.row("flow", state.t) is not None  # the target gives the gradient views
    assert window.share.trace_to(column.id, tmp_path / "trace.npz")
    # a session keeps the data (its arrays, names and sizes) and the model; a preset cannot
    window.explorer.select(column.id, "h", 2)
    window.explorer.set_cursor(17)
    assert window.share.save_session_to(tmp_path / "s.rnnviz")
    shown = (state.inputs.copy(), state.target.values.copy(), column.trace["output"].copy())
    window.explorer.set_task(make_task("sine"), 0)
    wait_ready(window)
    assert window.share.open_session(tmp_path / "s.rnnviz")
    wait_ready(window)
    assert isinstance(state.task, DataTask) and state.task.channels == ("temp", "wind", "rain")
    assert state.t == 17 and state.selection is not None and state.selection.index == 2
    np.testing.assert_array_equal(state.inputs, shown[0])
    np.testing.assert_array_equal(state.target.values, shown[1])
    np.testing.assert_array_equal(state.columns[-1].trace["output"], shown[2])
    np.testing.assert_array_equal(state.task.target_values, shown[1])  # to train on
    with pytest.raises(RnnvizError, match="weather.csv, which a preset cannot name"):
        window.explorer.preset_now()

    before = _kept(window)
    few, nan = tmp_path / "few.csv", tmp_path / "nan.csv"
    few.write_text("a,b\n1,2\n")
    nan.write_text("a,b,c\n1,2,3\n4,nan,6\n")
    for path, message in [(few, "few.csv: has 2 column(s) (a, b); the model reads 3 input(s)"),
                          (nan, "nan.csv:3: column 'b': expected a finite number, got 'nan'")]:
        monkeypatch.setattr(DataColumnsDialog, "exec", lambda dialog: 1)
        _answer(monkeypatch, {"Data for": path})
        window.own_model.open_data_action.trigger()
        _one_line(window, message)
        assert _kept(window) == before


def test_a_token_model_dropped_on_a_column(make_window, wait_ready, tmp_path, monkeypatch):
    model = _model(tmp_path / "lm.safetensors",
                   ModelSpec("lstm", 4, 6, output_size=5, vocab_size=5))
    (tmp_path / "vocab.txt").write_text("h\ne\nl\no\n \n")  # beside the model: found
    text = "hello hole "
    (tmp_path / "text.txt").write_text(text)
    ids = ["hel" "o ".index(c) if c != " " else 4 for c in text]
    np.save(tmp_path / "next.npy", np.array([*ids[1:], 0]))
    window = make_window(_preset(tmp_path, 1))
    state = window.state
    ids_before, rnn = [c.id for c in state.columns], state.columns[0].config
    _answer(monkeypatch, {"Data for": tmp_path / "text.txt", "Target for": tmp_path / "next.npy"})
    _drop(window, model, window.views[ids_before[0]])  # on the column: replaces it
    wait_ready(window)
    assert not window.banner.isVisible(), window.banner.text()
    assert [c.id for c in state.columns] == ids_before
    column = state.columns[0]
    assert column.config.label == "lm.safetensors" and column.model.spec.vocab_size == 5
    assert state.labels == ["h", "e", "l", "l", "o", "␣", "h", "o", "l", "e", "␣"]
    assert state.inputs[:, 0].tolist() == ids and state.target.kind == "xent"
    np.testing.assert_allclose(column.trace["output"], rnnviz.trace(model, ids)["output"],
                               atol=1e-6)
    window.explorer.select(column.id, "f", 2)  # the inspector reads the token's embedding
    assert window.inspector.lines() and "lm.safetensors" in window.inspector.heading.text()
    window.explorer.step(-2)
    wait_ready(window)
    assert column.row("memory", state.t) is not None and column.row("saliency") is not None

    before = _kept(window)
    (tmp_path / "zoo.txt").write_text("hello zoo")
    _answer(monkeypatch, {})
    _drop(window, tmp_path / "zoo.txt", window.views[column.id])  # data on the model's column
    _one_line(window, "zoo.txt:1: 'z' is not in the vocabulary")
    assert _kept(window) == before
    window.explorer.undo()  # the data and the model came in one step: both go
    assert state.task.name == "sine" and state.columns[0].config == rnn


def test_an_lstm_proj_model_dropped_beside_the_columns(make_window, wait_ready, tmp_path):
    model = _model(tmp_path / "proj.safetensors",
                   ModelSpec("lstm_proj", 1, 6, output_size=1, options={"proj_size": 2}))
    window = make_window(_preset(tmp_path, 2))
    state = window.state
    _drop(window, model, window.side)  # not on a column: added
    wait_ready(window)
    column = state.columns[-1]
    assert len(state.columns) == 3 and column.config.label == "proj.safetensors"
    assert column.trace["h_l0"].shape == (state.steps, 2)  # h projected, c full size
    assert column.trace["c_l0"].shape == (state.steps, 6)
    np.testing.assert_allclose(column.trace["output"],
                               rnnviz.trace(model, state.inputs)["output"], atol=1e-6)
    window.explorer.select(column.id, "c", 5)
    assert window.inspector.lines()
    window.explorer.step(2)
    wait_ready(window)
    assert column.row("flow", state.t) is not None and column.row("memory", state.t) is not None
    before = _kept(window)
    _drop(window, model, window.side)  # three is the most
    _one_line(window, "proj.safetensors: at most 3 columns; drop the model on a column")
    assert _kept(window) == before
