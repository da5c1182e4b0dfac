"""PyTorch models beyond a bare RNN (an embedding before it, an LSTM with ``proj_size``, stacked
and bidirectional layers, a linear head) read from their state_dict and run by rnnviz, checked
against PyTorch's own answers in ``reference/torch_models.npz`` (written by
``reference/make_torch_models.py``; torch is not needed to run these tests, except where a
test reads a ``.pt`` file, which needs it by design)."""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnviz import Model, RnnvizError, Target
from rnnviz.files.models import read_model
from rnnviz.files.weights import infer_spec

REFERENCE = Path(__file__).parent / "reference"
CONFIGS = ("emb_lstm_proj_2bi", "emb_gru_2", "emb_lstm_1")
ATOL = 1e-5


def _config(name):
    with np.load(REFERENCE / "torch_models.npz") as z:
        return {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith(name + "/")}


def _state_dict(ref):
    return {k: v for k, v in ref.items() if k.split(".")[0] in ("embed", "rnn", "head")}


@pytest.mark.parametrize("name", CONFIGS)
def test_trace_matches_pytorch(name):
    ref = _config(name)
    spec, params = infer_spec(_state_dict(ref))
    assert spec.vocab_size == ref["embed.weight"].shape[0]
    model = Model(spec, params)
    trace = model.trace(ref["x"], Target(ref["target"]))
    np.testing.assert_allclose(trace["h"], ref["h"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(trace["output"], ref["output"], atol=ATOL, rtol=0)
    recorded = [k for k in ref if k.startswith(("h_", "c_", "gate_", "grad_loss_h_"))]
    assert recorded, "the reference records states and gates"
    for key in recorded:
        np.testing.assert_allclose(trace[key], ref[key], atol=ATOL, rtol=0, err_msg=key)
    np.testing.assert_allclose(trace["loss"], ref["loss"], atol=ATOL, rtol=0)
    for key in (k for k in ref if k.startswith("grad_param_")):
        np.testing.assert_allclose(trace[key], ref[key], atol=ATOL, rtol=1e-5, err_msg=key)


def test_projected_lstm_is_read_as_lstm_proj():
    spec, _ = infer_spec(_state_dict(_config("emb_lstm_proj_2bi")))
    assert (spec.cell, spec.hidden_size, dict(spec.options)["proj_size"], spec.num_layers,
            spec.bidirectional, spec.output_size) == ("lstm_proj", 5, 2, 2, True, 2)


def test_gru_hint_picks_cho_gru():
    spec, _ = infer_spec(_state_dict(_config("emb_gru_2")), cell_hints=("gru_cho",))
    assert spec.cell == "gru_cho"


def test_pt_state_dict_is_read_with_weights_only():
    pytest.importorskip("torch")  # reading .pt needs PyTorch by design (torch.load)
    ref = _config("emb_lstm_proj_2bi")
    spec, params = read_model(REFERENCE / "emb_lstm_proj.pt")
    assert spec.cell == "lstm_proj"
    np.testing.assert_array_equal(params["embedding.weight"], ref["embed.weight"])
    np.testing.assert_array_equal(params["weight_hr_l1_reverse"], ref["rnn.weight_hr_l1_reverse"])


class Sneaky:
    """A class a pickle would construct: weights_only loading must refuse it."""


def test_pickled_object_in_pt_is_refused_in_one_line(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps(Sneaky(), protocol=2))
    with pytest.raises(RnnvizError, match=r"model\.pt: not a PyTorch state_dict") as err:
        read_model(path)
    assert "\n" not in str(err.value)


def test_pt_without_torch_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    path = tmp_path / "model.pth"
    path.write_bytes(b"not read")
    with pytest.raises(RnnvizError, match=r"model\.pth: reading a PyTorch .pt/.pth file needs "
                                          r"PyTorch"):
        read_model(path)


def test_unknown_layer_is_named():
    arrays = _state_dict(_config("emb_lstm_1"))
    arrays["attn.in_proj_weight"] = np.zeros((12, 4), np.float32)
    with pytest.raises(RnnvizError, match=r"unexpected key\(s\) attn.in_proj_weight .*rnnviz "
                                          r"shows an optional embedding"):
        infer_spec(arrays, source="net.safetensors")
