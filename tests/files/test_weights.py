import numpy as np
import pytest

from rnnviz import Model, RnnvizError
from rnnviz.files.weights import infer_spec, load_weights, save_weights


def _torch_like_lstm(prefix="", layers=2, bidirectional=True, hidden=3, inputs=2, bias=True):
    """Arrays named and shaped as a PyTorch nn.LSTM state_dict (no torch needed)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for k in range(layers):
        for sfx in ("", "_reverse") if bidirectional else ("",):
            width = inputs if k == 0 else hidden * (2 if bidirectional else 1)
            arrays[f"{prefix}weight_ih_l{k}{sfx}"] = rng.normal(size=(4 * hidden, width))
            arrays[f"{prefix}weight_hh_l{k}{sfx}"] = rng.normal(size=(4 * hidden, hidden))
            if bias:
                arrays[f"{prefix}bias_ih_l{k}{sfx}"] = rng.normal(size=(4 * hidden,))
                arrays[f"{prefix}bias_hh_l{k}{sfx}"] = rng.normal(size=(4 * hidden,))
    return {k: v.astype(np.float32) for k, v in arrays.items()}


@pytest.mark.parametrize("suffix", [".safetensors", ".npz", ".NPZ"])
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_save_load_round_trip(tmp_path, suffix, cell):
    model = Model.create(cell, 2, 3, num_layers=2, bidirectional=True, output_size=4, seed=5)
    path = tmp_path / f"w{suffix}"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # exactly that name, alone
    loaded = Model.load(path)
    assert loaded.spec == model.spec
    for name, value in model.params.items():
        np.testing.assert_array_equal(np.asarray(loaded.params[name]), np.asarray(value))


def test_torch_state_dict_names_are_inferred():
    spec, params = infer_spec(_torch_like_lstm())
    assert (spec.cell, spec.input_size, spec.hidden_size, spec.num_layers, spec.bidirectional,
            spec.output_size) == ("lstm", 2, 3, 2, True, None)
    assert params["weight_ih_l1_reverse"].shape == (12, 6)


def test_module_prefix_and_linear_readout(tmp_path):
    arrays = _torch_like_lstm(prefix="rnn.", bidirectional=False)
    arrays["fc.weight"] = np.ones((5, 3), np.float32)
    arrays["fc.bias"] = np.zeros(5, np.float32)
    np.savez(tmp_path / "model.npz", **arrays)
    spec, params = load_weights(tmp_path / "model.npz")
    assert spec.output_size == 5 and spec.num_layers == 2
    np.testing.assert_array_equal(np.asarray(params["readout.weight"]), arrays["fc.weight"])


def test_missing_biases_load_as_zeros():
    spec, params = infer_spec(_torch_like_lstm(bias=False, layers=1, bidirectional=False))
    assert not np.any(params["bias_ih_l0"]) and params["bias_hh_l0"].shape == (12,)


def test_gru_and_rnn_are_told_apart_by_gate_count():
    gru = {"weight_ih_l0": np.zeros((9, 2)), "weight_hh_l0": np.zeros((9, 3)),
           "bias_ih_l0": np.zeros(9), "bias_hh_l0": np.zeros(9)}
    assert infer_spec(gru)[0].cell == "gru"
    rnn = {k: v[:3] for k, v in gru.items()}
    assert infer_spec(rnn)[0].cell == "rnn_tanh"
    assert infer_spec(rnn, cell_hints=("relu",))[0].cell == "rnn_relu"


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: a.pop("weight_hh_l1"), "missing weight_hh_l1"),
    (lambda a: a.update(weight_hh_l0=np.zeros((12, 5))), "gate blocks"),
    (lambda a: a.update(weight_ih_l1=np.zeros((12, 4))), r"weight_ih_l1 is \(12, 4\)"),
    (lambda a: a.update(weight_hr_l0=np.zeros((2, 3))), r"hh_l0 is \(12, 3\), expected \(12, 2\)"),
    (lambda a: a.update(embedding=np.zeros((2, 3))), "unexpected key"),
    (lambda a: [a.pop(k) for k in list(a)], "no weight_ih_l0"),
])
def test_files_that_fit_no_model_get_one_line(change, message):
    arrays = _torch_like_lstm(bidirectional=False)
    change(arrays)
    with pytest.raises(RnnvizError, match=message) as info:
        infer_spec(arrays, source="w.npz")
    text = str(info.value)
    assert "\n" not in text and text.startswith("w.npz:") and "expected" in text


def test_unreadable_files(tmp_path):
    with pytest.raises(RnnvizError, match="no such file"):
        load_weights(tmp_path / "absent.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a safetensors file at all")
    with pytest.raises(RnnvizError, match="not a readable .safetensors"):
        load_weights(garbage)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, weight_ih_l0=np.array([{"a": 1}], dtype=object))
    with pytest.raises(RnnvizError, match="Python objects, which only pickle can read"):
        load_weights(pickled)  # object arrays need pickle, which is never allowed
    with pytest.raises(RnnvizError, match="expected .safetensors or .npz"):
        save_weights(tmp_path / "w.pt", Model.create("gru", 1, 2).spec, {})


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    model = Model.create("gru", 1, 2)
    model.save(path)
    before = path.read_bytes()

    def explode(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", explode)  # the last step of an atomic write
    with pytest.raises(RnnvizError, match="w.safetensors: cannot write: No space left"):
        Model.create("gru", 1, 2, seed=9).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_saved_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a private temporary file; the result is readable like any
    file the user writes (0666 less the umask), not owner-only."""
    import os

    from rnnviz import Model
    from rnnviz.paths import _UMASK

    path = tmp_path / "w.safetensors"
    Model.create("gru", 1, 3, output_size=1, seed=0).save(path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~_UMASK
