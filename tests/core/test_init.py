import subprocess
import sys

import jax
import numpy as np
import pytest

from rnnviz import InitOptions, ModelSpec, enable_float64, init_params
from rnnviz.core.init import spectral_radius


def test_same_seed_same_numbers_other_seed_other_numbers():
    spec = ModelSpec("lstm", 2, 8, num_layers=2, output_size=1)
    a, b, c = (init_params(spec, seed=s) for s in (4, 4, 5))
    for name in a:
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]))
    assert not np.allclose(np.asarray(a["weight_hh_l0"]), np.asarray(c["weight_hh_l0"]))


def test_pytorch_default_is_uniform_within_one_over_sqrt_h():
    params = init_params(ModelSpec("gru", 3, 16), seed=0)
    for value in params.values():
        assert np.abs(np.asarray(value)).max() <= 0.25


def test_orthogonal_gate_blocks():
    w = np.asarray(init_params(ModelSpec("lstm", 1, 8), options=InitOptions("orthogonal"))
                   ["weight_hh_l0"])
    for block in np.split(w, 4):
        np.testing.assert_allclose(block @ block.T, np.eye(8), atol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_target_spectral_radius(cell):
    spec = ModelSpec(cell, 1, 12)
    params = init_params(spec, options=InitOptions(spectral_radius=1.5))
    radii = spectral_radius(params["weight_hh_l0"], spec.cell_type.num_gates)
    np.testing.assert_allclose(radii, 1.5, rtol=1e-5)


def test_gain_scales_recurrent_weights_only():
    spec = ModelSpec("rnn", 2, 4)
    plain = init_params(spec, seed=1)
    scaled = init_params(spec, seed=1, options=InitOptions(recurrent_gain=3.0))
    np.testing.assert_allclose(np.asarray(scaled["weight_hh_l0"]),
                               3 * np.asarray(plain["weight_hh_l0"]), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(scaled["weight_ih_l0"]),
                                  np.asarray(plain["weight_ih_l0"]))


def test_forget_gate_bias():
    params = init_params(ModelSpec("lstm", 1, 5), options=InitOptions(forget_bias=1.0))
    np.testing.assert_array_equal(np.asarray(params["bias_ih_l0"])[5:10], 1.0)
    np.testing.assert_array_equal(np.asarray(params["bias_hh_l0"])[5:10], 0.0)


def test_float64_on_request():
    enable_float64()
    params = init_params(ModelSpec("gru", 1, 3, dtype="float64"))
    assert params["weight_hh_l0"].dtype == np.float64
    assert jax.config.jax_enable_x64
    assert init_params(ModelSpec("gru", 1, 3))["weight_hh_l0"].dtype == np.float32


def test_float64_is_asked_for_never_switched_on_by_a_spec():
    code = ("import jax, rnnviz; from rnnviz import ModelSpec, RnnvizError\n"
            "try:\n    ModelSpec('gru', 1, 3, dtype='float64')\n"
            "except RnnvizError as exc:\n    print(exc)\n"
            "assert not jax.config.jax_enable_x64")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "rnnviz.enable_float64()" in out and len(out.splitlines()) == 1


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="recurrent init"):
        InitOptions(recurrent="xavier")
    with pytest.raises(ValueError, match="hidden_size"):
        ModelSpec("lstm", 1, 0)
    with pytest.raises(ValueError, match="unknown cell"):
        ModelSpec("transformer", 1, 2)
