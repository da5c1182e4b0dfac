"""minGRU, minLSTM, the LRU and Mamba against PyTorch: states, gates, outputs, losses and every
gradient view.

``tests/core/reference/modern_reference.npz`` is written by
``tests/core/reference/make_modern_reference.py`` (which needs torch; the tests do not): each
cell written again in PyTorch from the papers' equations, one step at a time in linear space,
Mamba's scan being ``mamba_ssm``'s ``selective_scan_ref``. Here one ``compute_trace`` must
reproduce it all, both scans (sequential and parallel) every record, and a stepper the
states.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz.core.forward import run
from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.spec import ModelSpec
from rnnviz.core.trace import compute_trace

REFERENCE = Path(__file__).parent / "reference" / "modern_reference.npz"
CELLS = ["mingru", "minlstm", "lru", "mamba", "mamba_signed"]
OPTIONS = {"lru": {"state_size": 3},
           "mamba": {"d_inner": 6, "d_state": 4, "d_conv": 3, "dt_rank": 2}}
TOL = {"rtol": 1e-5, "atol": 1e-5}
RENAMED = {"readout_output": "output"}
NOT_IN_TRACE = {"x", "target", "seed", "loss_total"}


@pytest.fixture(scope="module")
def reference() -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(REFERENCE, allow_pickle=False) as npz:
        for key in npz.files:
            cell, name = key.split("/", 1)
            out.setdefault(cell, {})[name] = npz[key]
    return out


def _model(cell, ref) -> Model:
    options = OPTIONS.get(cell.removesuffix("_signed"), {})
    spec = ModelSpec(cell, 3, 4, num_layers=2, output_size=2,
                     options=tuple(options.items()))
    assert set(spec.param_shapes()) <= set(ref)
    params = {name: ref[name] for name in spec.param_shapes()}
    for name, shape in spec.param_shapes().items():
        assert params[name].shape == shape, name
    return Model(spec, params)


def test_reference_file_holds_every_cell(reference):
    assert REFERENCE.stat().st_size < 200_000
    assert sorted(reference) == sorted(CELLS)


@pytest.mark.parametrize("cell", CELLS)
def test_trace_matches_torch(cell, reference):
    ref = reference[cell]
    model = _model(cell, ref)
    trace = compute_trace(model.spec, model.params, ref["x"], Target(ref["target"]),
                          flow=True, memory=True)
    checked = set()
    for name, expected in ref.items():
        if name in model.params or name in NOT_IN_TRACE:
            continue
        got = trace[RENAMED.get(name, name)]
        assert got.shape == expected.shape, name
        np.testing.assert_allclose(got, expected, **TOL, err_msg=f"{cell}: {name}")
        checked.add(RENAMED.get(name, name))
    np.testing.assert_allclose(trace["loss"].mean(), ref["loss_total"], **TOL)
    assert checked == set(trace.arrays)          # every array of the trace was compared


@pytest.mark.parametrize("cell", CELLS)
def test_stepper_matches_torch(cell, reference):
    ref = reference[cell]
    stepper = _model(cell, ref).stepper(ref["x"], Target(ref["target"]))
    while stepper.step():          # one step at a time, each its own computation
        pass
    assert stepper.computed == len(ref["x"])
    for name in ("h_l0", "h_l1", "output", "loss"):
        expected = ref[{"output": "readout_output"}.get(name, name)]
        np.testing.assert_allclose(stepper.history(name).reshape(expected.shape), expected,
                                   **TOL, err_msg=f"{cell}: {name}")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("parallel", [False, True])
def test_both_scans_match_torch(cell, parallel, reference):
    ref = reference[cell]
    model = _model(cell, ref)
    _, states, outputs = run(model.spec, model.params, ref["x"].astype(np.float32),
                             parallel=parallel)
    for name, got in states.items():
        np.testing.assert_allclose(got, ref[name], **TOL, err_msg=f"{cell}: {name}")
    np.testing.assert_allclose(outputs, ref["readout_output"], **TOL)
