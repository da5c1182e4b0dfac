"""The notebook API: ``rnnviz.open_model`` and ``rnnviz.trace`` on files, data files and live
PyTorch modules (those tests need torch, as their subject is a torch module)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import rnnviz
from rnnviz import Model, RnnvizError

REFERENCE = Path(__file__).parent / "reference"


def _reference(name):
    with np.load(REFERENCE / "torch_models.npz") as z:
        return {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith(name + "/")}


def test_trace_of_a_path_with_text_through_the_vocabulary_beside_it(tmp_path, keras_models):
    model_path = tmp_path / "model.keras"
    shutil.copy(keras_models[0] / "lstm_emb_bi_2.keras", model_path)  # 13 tokens
    (tmp_path / "vocab.txt").write_text("".join(f"{c}\n" for c in "abcdefghijklm"))
    (tmp_path / "x.txt").write_text("badcab")
    y = np.arange(12, dtype=np.float32).reshape(6, 2)
    np.save(tmp_path / "y.npy", y)
    tr = rnnviz.trace(model_path, tmp_path / "x.txt", target=tmp_path / "y.npy")
    direct = Model.load(model_path).trace(np.array([1, 0, 3, 2, 0, 1]), rnnviz.Target(y))
    for key in ("output", "gate_f_l1_reverse", "loss", "grad_loss_h_l0"):
        np.testing.assert_array_equal(tr[key], direct[key])


def test_not_a_model_is_one_line():
    with pytest.raises(RnnvizError, match="model: expected a file path, a PyTorch nn.Module "
                                          "or an rnnviz Model, got a int"):
        rnnviz.open_model(3)


def test_a_torch_module_is_traced_as_pytorch_runs_it():
    torch = pytest.importorskip("torch")
    from torch import nn

    ref = _reference("emb_lstm_proj_2bi")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(13, 3)
            self.rnn = nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
            self.head = nn.Linear(4, 2)

    net = Net()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in ref.items()
                         if k.split(".")[0] in ("embed", "rnn", "head")})
    tr = rnnviz.trace(net, ref["x"])
    np.testing.assert_allclose(tr["output"], ref["output"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(tr["gate_o_l1_reverse"], ref["gate_o_l1_reverse"], atol=1e-5,
                               rtol=0)


def test_a_relu_rnn_module_keeps_its_nonlinearity():
    pytest.importorskip("torch")
    from torch import nn

    assert rnnviz.open_model(nn.RNN(2, 3, nonlinearity="relu")).spec.cell == "rnn_relu"
    assert rnnviz.open_model(nn.GRU(2, 3)).spec.cell == "gru"


def test_a_module_holding_other_layers_is_one_line():
    pytest.importorskip("torch")
    from torch import nn

    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.front = nn.Conv1d(2, 2, 3)
            self.rnn = nn.GRU(2, 3)

    with pytest.raises(RnnvizError, match=r"model: Conv holds front \(Conv1d\); rnnviz shows"):
        rnnviz.open_model(Conv())
