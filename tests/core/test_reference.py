"""rnnviz against PyTorch: states, gates, outputs, losses and every gradient.

``tests/core/reference/torch_reference.npz`` is written by
``tests/core/reference/make_reference.py``
(which needs torch; the tests do not). For each configuration it holds a PyTorch state_dict,
an input, a target, the fused module's output, and, from a cell loop written from PyTorch's
documented equations and run through autograd, every state, gate, loss and gradient norm
(see that script for the definitions). Here the state_dict is loaded as a user's torch file
would be (``rnnviz.files.weights.infer_spec``) and one ``compute_trace`` must reproduce it all.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rnnviz.core.losses import Target
from rnnviz.core.spec import ModelSpec
from rnnviz.core.trace import compute_trace
from rnnviz.files.weights import infer_spec

REFERENCE = Path(__file__).parent / "reference" / "torch_reference.npz"
CONFIGS = [f"{cell}_{shape}" for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru")
           for shape in ("1", "2", "2bi")]
SHAPES = {"1": (1, False), "2": (2, False), "2bi": (2, True)}
STATE_DICT_KEY = re.compile(
    r"^(?:(?:weight|bias)_(?:ih|hh)_l\d+(?:_reverse)?|readout\.(?:weight|bias))$")
TOL = {"rtol": 1e-5, "atol": 1e-5}

# torch's name -> rnnviz's trace name, for the arrays whose names differ
RENAMED = {"output": "h", "readout_output": "output"}
# stored for the record or checked separately
NOT_IN_TRACE = {"x", "target", "seed", "loss_total"}


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(REFERENCE, allow_pickle=False) as npz:
        for key in npz.files:
            config, name = key.split("/", 1)
            out.setdefault(config, {})[name] = npz[key]
    return out


@pytest.fixture(scope="module")
def traces(reference):
    """One ``compute_trace`` per configuration, shared by the tests below."""
    cache = {}

    def get(config):
        if config not in cache:
            ref = reference[config]
            state_dict = {k: v for k, v in ref.items() if STATE_DICT_KEY.match(k)}
            spec, params = infer_spec(state_dict, cell_hints=(config.rsplit("_", 1)[0],))
            trace = compute_trace(spec, params, ref["x"], Target(ref["target"]),
                                  flow=True, memory=True)
            cache[config] = spec, params, trace
        return cache[config]

    return get


def test_reference_file_holds_every_configuration(reference):
    assert REFERENCE.stat().st_size < 1_000_000
    assert sorted(reference) == sorted(CONFIGS)


@pytest.mark.parametrize("config", CONFIGS)
def test_spec_inferred_from_the_torch_state_dict(config, reference, traces):
    spec, params, _ = traces(config)
    cell, shape = config.rsplit("_", 1)
    layers, bidirectional = SHAPES[shape]
    assert spec == ModelSpec(cell, input_size=3, hidden_size=4, num_layers=layers,
                             bidirectional=bidirectional, output_size=2, dtype="float32")
    ref = reference[config]
    assert sorted(params) == sorted(k for k in ref if STATE_DICT_KEY.match(k))
    for name, value in params.items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, ref[name])


@pytest.mark.parametrize("config", CONFIGS)
def test_trace_matches_torch(config, reference, traces):
    spec, _, trace = traces(config)
    ref = reference[config]
    checked, worst = [], {}
    for name, expected in ref.items():
        if STATE_DICT_KEY.match(name) or name in NOT_IN_TRACE:
            continue
        got = trace[RENAMED.get(name, name)]
        assert got.dtype == np.float32, name
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, **TOL, err_msg=f"{config}: {name}")
        worst[name] = float(np.max(np.abs(got - expected)))
        checked.append(name)
    np.testing.assert_allclose(trace["loss"].mean(), ref["loss_total"], **TOL)

    # every state, gate and gradient rnnviz has was compared with torch's
    units = spec.units
    letters = {"lstm": "ifgo", "gru": "rzn"}.get(spec.cell, "")
    expected_names = {"output", "readout_output", "loss"}
    for u in units:
        expected_names |= {f"h_{u}", f"grad_loss_h_{u}", f"grad_flow_{u}", f"memory_{u}"}
        expected_names |= {f"gate_{g}_{u}" for g in letters}
        if spec.cell == "lstm":
            expected_names.add(f"c_{u}")
    expected_names |= {f"grad_param_{p}" for p in spec.param_shapes()}
    assert set(checked) == expected_names
    assert {RENAMED.get(n, n) for n in checked} == set(trace.arrays)
