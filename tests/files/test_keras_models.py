"""Keras 3 models (``.keras`` and ``.weights.h5``) read by rnnviz and run, checked against
Keras itself: the models are built, given random weights and saved by Keras at test time, and
their outputs and every recorded state and gate come from Keras's own layers and cells
(``tests/keras_reference.py``, the session fixture ``keras_models``)."""

import json
import zipfile

import numpy as np
import pytest
from keras_reference import CELLS, CONFIGS

from rnnviz import Model, RnnvizError
from rnnviz.files.models import read_model

ATOL = 1e-5


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_trace_matches_keras(keras_models, name, suffix):
    folder, answers = keras_models
    ref = answers[name]
    hint = "rnn_relu" if suffix == ".weights.h5" and "relu" in name else None
    model = Model.load(folder / f"{name}{suffix}", cell=hint)
    assert model.spec.cell == CELLS[name]
    trace = model.trace(ref["x"])
    np.testing.assert_allclose(trace["output"], ref["output"], atol=ATOL, rtol=0)
    recorded = {k for k in trace.arrays if k.startswith(("h_", "c_", "gate_"))}
    assert recorded == {k for k in ref if k.startswith(("h_", "c_", "gate_"))}  # every one
    assert any(k.startswith("gate_") for k in recorded) or "rnn" in CELLS[name]
    for key in sorted(recorded):
        np.testing.assert_allclose(trace[key], ref[key], atol=ATOL, rtol=0, err_msg=key)


def test_sizes_are_read_off_the_file(keras_models):
    folder, _ = keras_models
    spec, _ = read_model(folder / "lstm_emb_bi_2.keras")
    assert (spec.vocab_size, spec.input_size, spec.hidden_size, spec.num_layers,
            spec.bidirectional, spec.output_size) == (13, 3, 4, 2, True, 2)


def _one_line(path, pattern):
    with pytest.raises(RnnvizError, match=pattern) as err:
        read_model(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_truncated_keras_file_is_one_line(keras_models, tmp_path):
    path = tmp_path / "cut.keras"
    path.write_bytes((keras_models[0] / "gru_after_1.keras").read_bytes()[:3000])
    _one_line(path, "not a .keras archive")


def test_truncated_weights_file_is_one_line(keras_models, tmp_path):
    path = tmp_path / "cut.weights.h5"
    path.write_bytes((keras_models[0] / "gru_after_1.weights.h5").read_bytes()[:3000])
    _one_line(path, "not an HDF5 file")


def _rewrite_config(folder, tmp_path, source, edit):
    """A copy of a ``.keras`` archive with its config.json edited."""
    with zipfile.ZipFile(folder / source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    config = json.loads(members["config.json"])
    edit(config["config"]["layers"])
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / source
    with zipfile.ZipFile(path, "w") as archive:
        for n, data in members.items():
            archive.writestr(n, data)
    return path


def test_unsupported_layer_is_named(keras_models, tmp_path):
    def conv(layers):
        layers[1]["class_name"] = "Conv1D"
    path = _rewrite_config(keras_models[0], tmp_path, "gru_after_1.keras", conv)
    _one_line(path, r"layer 'gru[_0-9]*' is a Conv1D; rnnviz shows an optional Embedding")


def test_non_linear_head_is_refused(keras_models, tmp_path):
    def softmax(layers):
        layers[-1]["config"]["activation"] = "softmax"
    path = _rewrite_config(keras_models[0], tmp_path, "gru_after_1.keras", softmax)
    _one_line(path, r"Dense 'dense[_0-9]*' has activation 'softmax'; expected a linear head")


def test_wrong_shapes_are_one_line(keras_models, tmp_path):
    import h5py

    path = tmp_path / "bad.weights.h5"
    path.write_bytes((keras_models[0] / "gru_after_1.weights.h5").read_bytes())
    with h5py.File(path, "r+") as h5:
        del h5["layers/dense/vars/0"]
        h5["layers/dense/vars/0"] = np.zeros((4, 1), np.float32)
    _one_line(path, r"Dense 'dense[_0-9]*' kernel is \(4, 1\); expected \(5, O\)")


def test_pickle_is_not_a_weights_file(tmp_path):
    import pickle

    path = tmp_path / "model.weights.h5"
    path.write_bytes(pickle.dumps({"a": 1}))
    _one_line(path, "not an HDF5 file")
