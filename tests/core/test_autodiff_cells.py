"""The PyTorch-family cells without a hand-written backward (the LSTM with a projection, Cho's
GRU): stepping equals one scan, the scan JAX differentiates (``sequence_scan``, the perturbation
inside the step) equals the reference scan (``recurrence.scan_autodiff``, the perturbation after
it), and the projection size is the cell's option ``proj_size``.

Their numbers are checked against PyTorch, Keras and ONNX Runtime in ``tests/files``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz import Model, Target
from rnnviz.core import recurrence
from rnnviz.core.cells import UnitRows
from rnnviz.core.cells.scan import sequence_scan
from rnnviz.core.gradients import memory_row
from rnnviz.core.spec import ModelSpec, unit_params
from rnnviz.errors import RnnvizError

CELLS = ["lstm_proj", "gru_cho"]
OPTIONS = {"lstm_proj": {"proj_size": 3}}


def _model(cell, layers=2, bidirectional=False):
    return Model.create(cell, 2, 5, num_layers=layers, bidirectional=bidirectional,
                        output_size=2, seed=4, options=OPTIONS.get(cell))


def _data(steps=12, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, 2)), Target(rng.normal(size=(steps, 2)))


@pytest.mark.parametrize("cell", CELLS)
def test_stepping_equals_one_scan(cell):
    model = _model(cell)
    xs, target = _data()
    trace = model.trace(xs, target)
    stepper = model.stepper(xs, target)
    while stepper.step():
        pass
    gates = [k for k in trace.arrays if k.startswith("gate_")]
    for name in ["h_l0", "h_l1", "output", "loss", *gates]:
        np.testing.assert_allclose(stepper.history(name).reshape(trace[name].shape),
                                   trace[name], atol=1e-5, rtol=0, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("reverse", [False, True])
def test_sequence_scan_and_its_gradient_equal_the_reference_scan(cell, reverse):
    model = _model(cell, layers=1)
    p = unit_params(model.params, "l0")
    xs, _ = _data(steps=9)
    xp = model.spec.cell_type.project_input(p, jnp.asarray(xs, jnp.float32))
    carry0 = model.spec.cell_type.zero_carry(5, jnp.float32, options=model.spec.options)
    eps = 0.1 * jax.random.normal(jax.random.key(2), (9, model.spec.h_size), jnp.float32)

    def loss(p, eps, scan):
        _, rec = scan(model.spec.cell_type, p, xp, carry0, reverse=reverse, eps=eps)
        return sum(jnp.sum(jnp.sin(v)) for v in rec.values())

    ours = jax.grad(loss, argnums=(0, 1))(p, eps, sequence_scan)
    ref = jax.grad(loss, argnums=(0, 1))(p, eps, recurrence.scan_autodiff)
    np.testing.assert_allclose(loss(p, eps, sequence_scan), loss(p, eps, recurrence.scan_autodiff),
                               rtol=1e-6)
    for name in ours[0]:
        np.testing.assert_allclose(ours[0][name], ref[0][name], atol=1e-5, err_msg=name)
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_the_trace_has_every_view(cell):
    model = _model(cell, layers=1, bidirectional=True)
    xs, target = _data(steps=8)
    trace = model.trace(xs, target, flow=True, memory=True)
    width = model.spec.h_size
    assert trace["h_l0"].shape == trace["h_l0_reverse"].shape == (8, width)
    assert trace["h"].shape == (8, 2 * width)
    for name, value in trace.arrays.items():
        assert np.all(np.isfinite(value)), name
    row = np.asarray(memory_row(model.spec, model.params, jnp.asarray(xs, jnp.float32),
                                "l0", 4))
    np.testing.assert_allclose(row[4], np.sqrt(width), rtol=1e-5)  # dh_t/dh_t = I
    assert np.all(row[5:] == 0)


@pytest.mark.parametrize("cell", CELLS)
def test_the_inspectors_numbers_are_the_traces(cell):
    """Each line's value (a gate, c, Cho's h) equals the trace's at that unit and step."""
    model = _model(cell, layers=1)
    xs, target = _data(steps=6)
    trace = model.trace(xs, target)
    t, j = 3, 1
    c_prev = trace["c_l0"][t - 1] if model.spec.cell_type.has_cell_state else None
    rows = UnitRows(unit_params(model.params, "l0"), j, 5, xs[t], trace["h_l0"][t - 1], c_prev)
    values = [v for _, v in model.spec.cell_type.explain(rows)]
    names = ["gate_i_l0", "gate_f_l0", "gate_g_l0", "gate_o_l0", "c_l0"] \
        if cell == "lstm_proj" else ["gate_r_l0", "gate_z_l0", "gate_n_l0", "h_l0"]
    expected = [trace[name][t, j] for name in names]
    np.testing.assert_allclose(values[: len(names)], expected, atol=1e-5)


def test_proj_size_is_the_projected_lstms_option():
    spec = ModelSpec("lstm_proj", 3, 8, num_layers=2, bidirectional=True, output_size=1,
                     options={"proj_size": 2})
    assert dict(spec.options) == {"proj_size": 2} and spec.h_size == 2 and spec.top_size == 4
    shapes = spec.param_shapes()
    assert shapes["weight_hh_l0"] == (32, 2) and shapes["weight_hr_l1_reverse"] == (2, 8)
    assert shapes["weight_ih_l1"] == (32, 4) and shapes["readout.weight"] == (1, 4)
    assert spec.describe() == "LSTM (projected) 2x8 (proj_size 2) bi"
    assert dict(ModelSpec("lstm_proj", 3, 8).options) == {"proj_size": 4}  # default H // 2
    with pytest.raises(RnnvizError, match=r"options: proj_size \(features of the projected h, "
                                          r"PyTorch's proj_size\): expected an integer in "
                                          r"1\.\.1024, got 0"):
        ModelSpec("lstm_proj", 3, 8, options={"proj_size": 0})
    with pytest.raises(RnnvizError, match=r"options: proj_size: unknown option of a LSTM "
                                          r"cell; expected none"):
        ModelSpec("lstm", 3, 8, options={"proj_size": 2})
