"""minGRU, minLSTM, the LRU and Mamba: one step at a time, one sequential scan and one parallel
(associative) scan give the same states, gates, outputs and gradients.

The numbers themselves are checked against PyTorch in ``test_modern_reference.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz import Model, Target
from rnnviz.core.forward import run
from rnnviz.core.gradients import memory_row
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError

MODERN = ["mingru", "minlstm", "lru", "mamba", "mamba_signed"]
OPTIONS = {"lru": {"state_size": 3}, "mamba": {"d_state": 4, "d_inner": 6},
           "mamba_signed": {"d_state": 4, "d_inner": 6}}


def _model(cell, layers=2, bidirectional=True, seed=3):
    return Model.create(cell, 2, 4, num_layers=layers, bidirectional=bidirectional,
                        output_size=3, seed=seed, options=OPTIONS.get(cell))


def _data(steps=30, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, 2)), Target(rng.normal(size=(steps, 3)))


@pytest.mark.parametrize("cell", MODERN)
def test_parallel_scan_equals_sequential_scan_and_its_gradient(cell):
    model = _model(cell, layers=1)      # both directions (stacking: the stepper test)
    xs, target = _data()
    xs = jnp.asarray(xs, jnp.float32)

    def loss(params, parallel):
        _, states, out = run(model.spec, params, xs, parallel=parallel)
        return jnp.mean((out - target.values) ** 2), states

    (l_par, s_par), g_par = jax.value_and_grad(loss, has_aux=True)(model.params, True)
    (l_seq, s_seq), g_seq = jax.value_and_grad(loss, has_aux=True)(model.params, False)
    assert set(s_par) == set(s_seq)
    for name in s_par:
        np.testing.assert_allclose(s_par[name], s_seq[name], atol=1e-5, rtol=0, err_msg=name)
    np.testing.assert_allclose(l_par, l_seq, rtol=1e-6)
    for name in g_par:
        np.testing.assert_allclose(g_par[name], g_seq[name], atol=1e-5, rtol=1e-4,
                                   err_msg=name)


@pytest.mark.parametrize("cell", MODERN)
def test_stepping_equals_one_scan(cell):
    model = _model(cell, layers=2, bidirectional=False)
    xs, target = _data(steps=12)
    trace = model.trace(xs, target)
    stepper = model.stepper(xs, target)
    while stepper.step():
        pass
    gates = [k for k in trace.arrays if k.startswith("gate_")]
    for name in ["h_l0", "h_l1", "output", "loss", *gates]:
        np.testing.assert_allclose(stepper.history(name).reshape(trace[name].shape),
                                   trace[name], atol=1e-5, rtol=0, err_msg=name)


@pytest.mark.parametrize("cell", MODERN)
def test_parallel_and_sequential_agree_over_ten_thousand_steps(cell):
    """In float32, to 1e-5 of the largest value a record reaches (the LRU's complex state,
    |lambda| up to 1, reaches about 6 and differs by about 3e-5 in absolute terms)."""
    spec = ModelSpec(cell, 2, 4, output_size=1, options=tuple(OPTIONS.get(cell, {}).items()))
    params = Model.create(cell, 2, 4, output_size=1, seed=5, options=OPTIONS.get(cell)).params
    xs = jax.random.normal(jax.random.key(1), (10_000, 2), jnp.float32)
    _, par, _ = run(spec, params, xs, parallel=True)
    _, seq, _ = run(spec, params, xs, parallel=False)
    for name in par:
        scale = max(1.0, float(jnp.max(jnp.abs(seq[name]))))
        assert float(jnp.max(jnp.abs(par[name] - seq[name]))) <= 1e-5 * scale, name


@pytest.mark.parametrize("cell", MODERN)
def test_the_trace_has_every_view(cell):
    model = _model(cell, layers=1, bidirectional=False)
    xs, target = _data(steps=10)
    trace = model.trace(xs, target, flow=True, memory=True)
    widths = model.spec.cell_type.record_widths(4, model.spec.options)
    assert trace["h_l0"].shape == (10, widths["h"])
    # the trace says how long it took and which scan it ran (the LRU's parallel one only)
    assert trace.timing.steps == 10 and trace.timing.seconds > 0
    assert trace.timing.scan == ("parallel" if cell == "lru" else "sequential")
    for name, value in trace.arrays.items():
        assert np.all(np.isfinite(value)), name
    # the memory view is the Jacobian of h_t with respect to h_k: the identity at k = t
    row = np.asarray(memory_row(model.spec, model.params, jnp.asarray(xs, jnp.float32),
                                "l0", 5))
    np.testing.assert_allclose(row[5], np.sqrt(widths["h"]), rtol=1e-5)
    assert np.all(row[6:] == 0)


def test_mamba_options_are_checked_with_one_line():
    with pytest.raises(RnnvizError, match="d_state .*expected an integer in 1..256"):
        ModelSpec("mamba", 2, 4, options=(("d_state", 0),))
    with pytest.raises(RnnvizError, match="colour: unknown option of a Mamba cell"):
        ModelSpec("mamba", 2, 4, options=(("colour", 3),))
    with pytest.raises(RnnvizError, match="unknown option of a minGRU cell; expected none"):
        ModelSpec("mingru", 2, 4, options=(("d_state", 3),))
    with pytest.raises(RnnvizError, match="MAX_STATE"):
        ModelSpec("mamba", 2, 1024, options=(("d_state", 64),))


def test_defaults_are_the_reference_modules():
    spec = ModelSpec("mamba", 8, 32)
    assert dict(spec.options) == {"d_conv": 4, "d_inner": 64, "d_state": 16, "dt_rank": 2}
    shapes = spec.param_shapes()
    assert shapes["in_proj.weight_l0"] == (128, 8) and shapes["A_log_l0"] == (64, 16)
    assert shapes["x_proj.weight_l0"] == (2 + 32, 64) and shapes["conv1d.weight_l0"] == (64, 1, 4)
    lru = Model.create("lru", 3, 5, seed=0)
    radius = np.exp(-np.exp(np.asarray(lru.params["nu_log_l0"])))
    assert np.all((radius > 0) & (radius < 1))
    np.testing.assert_allclose(np.exp(np.asarray(lru.params["gamma_log_l0"])),
                               np.sqrt(1 - radius**2), rtol=1e-5)


def test_a_wide_state_takes_its_jacobian_rows_in_batches(monkeypatch):
    """Mamba's state is E*N values: the memory row is then computed a few Jacobian rows at a
    time (``MAX_JACOBIAN_BLOCK``), with the same result."""
    from rnnviz.core import gradients

    model = Model.create("mamba", 1, 3, output_size=1, options={"d_state": 5})   # 6 * 5 = 30
    xs = jnp.asarray(np.random.default_rng(0).normal(size=(40, 1)), jnp.float32)
    whole = gradients._memory_row(model.spec, model.params, xs, "l0", 20)
    monkeypatch.setattr(gradients, "MAX_JACOBIAN_BLOCK", 40 * 30 * 7)     # 4 batches of 7, 2
    batched = gradients._memory_row(model.spec, model.params, xs, "l0", 20)
    np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-6)
    assert float(whole[20]) == pytest.approx(np.sqrt(30), rel=1e-5)
