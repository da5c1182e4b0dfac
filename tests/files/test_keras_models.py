"""Keras 3 models (``.keras`` and ``.weights.h5``) read by rnnviz and run, checked against
Keras's own answers in ``reference/keras/keras_models.npz`` (written with the model files by
``reference/make_keras_models.py``; Keras is not needed to run these tests, h5py is)."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnviz import Model, RnnvizError
from rnnviz.files.models import read_model

REFERENCE = Path(__file__).parent / "reference" / "keras"
CELLS = {"simple_rnn_relu_2": "rnn_relu", "lstm_emb_bi_2": "lstm", "gru_after_1": "gru",
         "gru_before_2": "gru_cho", "gru_before_emb_bi": "gru_cho", "lstm_sine": "lstm"}
ATOL = 1e-5


def _reference(name):
    with np.load(REFERENCE / "keras_models.npz") as z:
        return {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith(name + "/")}


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("name", list(CELLS))
def test_trace_matches_keras(name, suffix):
    ref = _reference(name)
    hint = "rnn_relu" if suffix == ".weights.h5" and "relu" in name else None
    model = Model.load(REFERENCE / f"{name}{suffix}", cell=hint)
    assert model.spec.cell == CELLS[name]
    trace = model.trace(ref["x"])
    np.testing.assert_allclose(trace["output"], ref["output"], atol=ATOL, rtol=0)
    recorded = [k for k in ref if k.startswith(("h_", "c_", "gate_"))]
    assert any(k.startswith("gate_") for k in recorded) or "rnn" in CELLS[name]
    for key in recorded:
        np.testing.assert_allclose(trace[key], ref[key], atol=ATOL, rtol=0, err_msg=key)


def test_sizes_are_read_off_the_file():
    spec, _ = read_model(REFERENCE / "lstm_emb_bi_2.keras")
    assert (spec.vocab_size, spec.input_size, spec.hidden_size, spec.num_layers,
            spec.bidirectional, spec.output_size) == (13, 3, 4, 2, True, 2)


def _one_line(path, pattern):
    with pytest.raises(RnnvizError, match=pattern) as err:
        read_model(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_truncated_keras_file_is_one_line(tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes((REFERENCE / "gru_after_1.keras").read_bytes()[:3000])
    _one_line(path, "not a .keras archive")


def test_truncated_weights_file_is_one_line(tmp_path):
    path = tmp_path / "cut.weights.h5"
    path.write_bytes((REFERENCE / "gru_after_1.weights.h5").read_bytes()[:3000])
    _one_line(path, "not an HDF5 file")


def _rewrite_config(tmp_path, source, edit):
    """A copy of a ``.keras`` archive with its config.json edited (no Keras needed)."""
    import json

    with zipfile.ZipFile(REFERENCE / source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config["config"]["layers"])
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / source
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)
    return path


def test_unsupported_layer_is_named(tmp_path):
    def conv(layers):
        layers[1]["class_name"] = "Conv1D"
    path = _rewrite_config(tmp_path, "gru_after_1.keras", conv)
    _one_line(path, r"layer 'gru' is a Conv1D; rnnviz shows an optional Embedding")


def test_non_linear_head_is_refused(tmp_path):
    def softmax(layers):
        layers[-1]["config"]["activation"] = "softmax"
    path = _rewrite_config(tmp_path, "gru_after_1.keras", softmax)
    _one_line(path, r"Dense 'dense[_0-9]*' has activation 'softmax'; expected a linear head")


def test_wrong_shapes_are_one_line(tmp_path):
    import h5py

    path = tmp_path / "bad.weights.h5"
    path.write_bytes((REFERENCE / "gru_after_1.weights.h5").read_bytes())
    with h5py.File(path, "r+") as h5:
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = np.zeros((4, 1), np.float32)
    _one_line(path, r"Dense 'dense[_0-9]*' kernel is \(4, 1\); expected \(5, O\)")


def test_pickle_is_not_a_weights_file(tmp_path):
    import pickle

    path = tmp_path / "model.weights.h5"
    path.write_bytes(pickle.dumps({"a": 1}))
    _one_line(path, "not an HDF5 file")
