"""File > Open model… and dropping a model file: a PyTorch, Keras or ONNX model becomes a
column (in place of the last one, the sine preset having three), traced, stepped, its gradient
rows computed and its trace exported; a bad or unfitting file is one line and the columns stay.
The file dialog is answered by the test."""

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog

import rnnviz


def _onnx_lstm(path):
    """A one-input, one-output ONNX LSTM with a MatMul+Add head (fits the sine task)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    h = 5
    inits = [numpy_helper.from_array((0.5 * rng.normal(size=s)).astype(np.float32), n)
             for n, s in [("W", (1, 4 * h, 1)), ("R", (1, 4 * h, h)), ("B", (1, 8 * h)),
                          ("Wo", (h, 1)), ("bo", (1,))]]
    inits.append(numpy_helper.from_array(np.array([-1, h], np.int64), "shape"))
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["Y"], hidden_size=h, name="lstm"),
             helper.make_node("Reshape", ["Y", "shape"], ["flat"]),
             helper.make_node("MatMul", ["flat", "Wo"], ["mm"]),
             helper.make_node("Add", ["mm", "bo"], ["out"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", 1, 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["T", 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _torch_npz(path):
    """A PyTorch state_dict as ``numpy.savez`` writes it from a module holding ``rnn =
    nn.GRU(1, 4)`` and ``fc = nn.Linear(4, 1)``: its names, no record of rnnviz's."""
    rng = np.random.default_rng(1)
    shapes = {"rnn.weight_ih_l0": (12, 1), "rnn.weight_hh_l0": (12, 4), "rnn.bias_ih_l0": (12,),
              "rnn.bias_hh_l0": (12,), "fc.weight": (1, 4), "fc.bias": (1,)}
    np.savez(path, **{k: (0.5 * rng.normal(size=s)).astype(np.float32)
                      for k, s in shapes.items()})
    return path


def _check_column(window, wait_ready, tmp_path, name, cell):
    state = window.state
    column = state.columns[-1]
    assert column.config.label == name and column.model.spec.cell == cell
    path = column.config.weights
    np.testing.assert_allclose(column.trace["output"],
                               rnnviz.trace(path, state.inputs)["output"], atol=1e-6)
    window.explorer.step(3)  # stepping: the gradient rows follow the cursor
    wait_ready(window)
    assert column.row("flow", state.t) is not None and column.row("memory", state.t) is not None
    out = tmp_path / f"{name}.npz"
    assert window.share.trace_to(column.id, out)
    with np.load(out) as z:
        assert f"gate_{next(iter(column.model.spec.cell_type.gates))}_l0" in z.files


def test_open_each_format_through_the_menu(make_window, wait_ready, tmp_path, monkeypatch,
                                           keras_models):
    keras_folder = keras_models[0]
    window = make_window("sine")
    first_ids = [c.id for c in window.state.columns[:2]]
    files = [(_onnx_lstm(tmp_path / "mine.onnx"), "lstm"),
             (shutil.copy(keras_folder / "lstm_sine.keras", tmp_path), "lstm"),
             (shutil.copy(keras_folder / "lstm_sine.weights.h5", tmp_path), "lstm"),
             (_torch_npz(tmp_path / "mine.npz"), "gru")]
    for path, cell in files:
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, p=path: (str(p), ""))
        window.open_model_action.trigger()
        wait_ready(window)
        assert not window.banner.isVisible(), window.banner.text()
        _check_column(window, wait_ready, tmp_path, Path(path).name, cell)
        assert [c.id for c in window.state.columns[:2]] == first_ids  # the others stay


def test_open_a_pytorch_file_by_dropping_it(make_window, wait_ready, tmp_path):
    torch = pytest.importorskip("torch")  # a .pt file is read by torch.load(weights_only)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(1, 4)
            self.fc = torch.nn.Linear(4, 1)

    path = tmp_path / "mine.pt"
    torch.save(Net().state_dict(), path)
    window = make_window("sine")
    last = window.views[window.state.columns[-1].id]  # three columns: dropped on the last one
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(last.mapTo(window, last.rect().center())),
                       Qt.DropAction.CopyAction, data, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_ready(window)
    _check_column(window, wait_ready, tmp_path, "mine.pt", "gru")


def test_bad_model_files_are_one_line_and_keep_the_columns(make_window, tmp_path, monkeypatch,
                                                           keras_models):
    keras_folder = keras_models[0]
    window = make_window("sine")
    before = [(c.id, c.config) for c in window.state.columns]
    cut = tmp_path / "cut.keras"
    cut.write_bytes((keras_folder / "lstm_sine.keras").read_bytes()[:2000])
    pickled = tmp_path / "model.pth"
    pickled.write_bytes(pickle.dumps(object(), protocol=2))
    cut_onnx = tmp_path / "cut.onnx"
    cut_onnx.write_bytes(_onnx_lstm(tmp_path / "whole.onnx").read_bytes()[:150])
    with np.load(_torch_npz(tmp_path / "gru.npz")) as z:  # and an attention layer
        arrays = {k: z[k] for k in z.files}
    attention = tmp_path / "attention.npz"
    np.savez(attention, **arrays, **{"attn.in_proj_weight": np.zeros((12, 4), np.float32)})
    bad = {cut: "not a .keras archive",
           cut_onnx: "not an ONNX model",
           attention: "unexpected key(s) attn.in_proj_weight (layers rnnviz does not show)",
           pickled: "not a PyTorch state_dict" if _has_torch() else "needs PyTorch",
           keras_folder / "gru_after_1.keras": "the model reads 3 and writes 1 features; the task "
                                        "gives 1 and needs 1",
           keras_folder / "lstm_emb_bi_2.keras": "reads token ids (an embedding of 13 rows)"}
    for path, message in bad.items():
        # a model that does not fit the task asks for its data: cancelled here
        monkeypatch.setattr(QFileDialog, "getOpenFileName",
                            lambda _, caption, *a, p=path: (str(p) if caption == "Open model"
                                                            else "", ""))
        window.open_model_action.trigger()
        assert message in window.banner.text() and "\n" not in window.banner.text()
        assert [(c.id, c.config) for c in window.state.columns] == before


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_render_and_open_with_a_model_from_the_command_line(qapp, tmp_path, capsys,
                                                            keras_models):
    """``rnnviz render --model`` draws the model's column; ``rnnviz open`` refuses a model that
    does not fit the preset's task in one line, before any window opens."""
    from PySide6.QtGui import QImage

    from rnnviz.cli import main

    keras_folder = keras_models[0]
    out = tmp_path / "shot.png"
    assert main(["render", "sine", "--model", str(keras_folder / "lstm_sine.keras"), "--out",
                 str(out)]) == 0
    assert QImage(str(out)).width() == 1600
    capsys.readouterr()
    assert main(["open", str(keras_folder / "gru_after_1.keras"), "--preset", "sine"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the model reads 3 and writes 1 features" in err
    few = tmp_path / "few.csv"  # the model's own data, checked before any window opens
    few.write_text("a,b\n1,2\n")
    assert main(["open", str(keras_folder / "gru_after_1.keras"), "--data", str(few)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "few.csv: has 2 column(s) (a, b); the model reads 3" in err
    data = tmp_path / "mine.csv"  # and with data that fits: the model's column on it
    rows = np.random.default_rng(0).normal(size=(30, 4)).round(3)
    data.write_text("a,b,c,y\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    assert main(["render", "--model", str(keras_folder / "gru_after_1.keras"), "--data",
                 str(data), "--column", "c", "--column", "a", "--column", "b", "--target", "y",
                 "--out", str(out), "--size", "1000x700"]) == 0
    assert QImage(str(out)).width() == 1000
