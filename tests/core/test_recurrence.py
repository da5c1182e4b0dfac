"""``rnnviz.core.recurrence``'s hand-written backward pass against plain autodiff through
``lax.scan`` (``run(..., autodiff=True)``), for every cell, stacked and bidirectional, with the
``eps`` perturbation, a batch, and ``vmap`` of a ``vjp`` (how ``memory_row`` and saliency use it).

The function differentiated reads every output the scan has: each state (h, c, every gate), the
readout, the final carries, each weighted by fixed random numbers, so every cotangent the
backward pass receives is non-zero.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz.core.forward import run, zero_carries
from rnnviz.core.init import init_params
from rnnviz.core.losses import sequence_loss, step_losses
from rnnviz.core.spec import ModelSpec
from rnnviz.training.loop import batch_loss

CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
TOL = {"rtol": 1e-5, "atol": 1e-6}


def _problem(cell, layers=2, bidirectional=True, batch=(), steps=7, hidden=5, inputs=3):
    spec = ModelSpec(cell, inputs, hidden, layers, bidirectional, output_size=2)
    params = init_params(spec, seed=1)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(steps, *batch, inputs)), jnp.float32)
    carry0 = {u: tuple(jnp.asarray(0.5 * rng.normal(size=(*batch, hidden)), jnp.float32)
                       for _ in c) for u, c in zero_carries(spec).items()}
    eps = {u: jnp.asarray(0.1 * rng.normal(size=(steps, *batch, hidden)), jnp.float32)
           for u in spec.units}
    return spec, params, xs, carry0, eps, rng


def _objective(spec, params, xs, carry0, eps, rng):
    """``f(params, xs, carry0, eps, autodiff)``: a scalar reading every state, the output and
    the final carries, each weighted by fixed random numbers."""
    finals, states, outputs = run(spec, params, xs, carry0, eps)
    weights = jax.tree.map(lambda v: jnp.asarray(rng.normal(size=v.shape), jnp.float32),
                           (finals, {**states, "output": outputs}))

    def f(params, xs, carry0, eps, autodiff):
        finals, states, outputs = run(spec, params, xs, carry0, eps, autodiff=autodiff)
        products = jax.tree.map(lambda w, v: jnp.sum(w * v), weights,
                                (finals, {**states, "output": outputs}))
        return sum(jax.tree.leaves(products))
    return f


def _assert_trees_close(a, b):
    for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree.leaves(b),
                            strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), **TOL,
                                   err_msg=jax.tree_util.keystr(path))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("batch", [(), (3,)], ids=["single", "batch3"])
def test_custom_vjp_equals_autodiff(cell, batch):
    spec, params, xs, carry0, eps, rng = _problem(cell, batch=batch)
    f = _objective(spec, params, xs, carry0, eps, rng)
    grads = jax.grad(f, argnums=(0, 1, 2, 3))(params, xs, carry0, eps, False)
    expected = jax.grad(f, argnums=(0, 1, 2, 3))(params, xs, carry0, eps, True)
    _assert_trees_close(grads, expected)
    assert all(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads))


@pytest.mark.parametrize("cell", CELLS)
def test_perturbation_gradient_is_total_derivative_at_zero(cell):
    """At ``eps = 0`` (how the engine asks for dL/dh_t), unbatched and jitted."""
    spec, params, xs, _, eps, _ = _problem(cell, layers=1, bidirectional=False, steps=20)
    zero = jax.tree.map(jnp.zeros_like, eps)

    def loss(e, autodiff):
        _, states, outputs = run(spec, params, xs, eps=e, autodiff=autodiff)
        return jnp.sum(outputs ** 2) + jnp.sum(jnp.sin(states["h_l0"]))

    got = jax.jit(jax.grad(lambda e: loss(e, False)))(zero)
    want = jax.jit(jax.grad(lambda e: loss(e, True)))(zero)
    _assert_trees_close(got, want)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_vmap_of_vjp_equals_autodiff(cell):
    """Rows of the Jacobian dh_t / dh_k by ``vmap`` over ``vjp`` cotangents (memory_row)."""
    spec, params, xs, _, eps, _ = _problem(cell, layers=1, bidirectional=True)

    def jacobian_rows(autodiff):
        def h_t(e):
            _, states, _ = run(spec, params, xs, eps={**eps, "l0": e}, autodiff=autodiff)
            return states["h_l0"][4]
        _, vjp = jax.vjp(h_t, eps["l0"])
        return jax.vmap(vjp)(jnp.eye(spec.hidden_size, dtype=jnp.float32))

    _assert_trees_close(jacobian_rows(False), jacobian_rows(True))


def test_batched_run_equals_one_run_per_sequence():
    spec, params, xs, _, _, _ = _problem("lstm", batch=(4,))
    _, states, outputs = run(spec, params, xs)
    for b in range(4):
        _, states_b, outputs_b = run(spec, params, xs[:, b])
        np.testing.assert_allclose(outputs[:, b], outputs_b, atol=1e-6)
        np.testing.assert_allclose(states["gate_f_l1_reverse"][:, b],
                                   states_b["gate_f_l1_reverse"], atol=1e-6)


@pytest.mark.parametrize("kind", ["mse", "xent"])
def test_batch_loss_equals_mean_of_sequence_losses(kind):
    """``training.batch_loss`` (one batched scan, custom backward) against one plain-autodiff
    run per sequence, the loss and its gradient."""
    spec, params, xs, _, _, rng = _problem("gru", layers=1, bidirectional=True, batch=(4,))
    xs = jnp.swapaxes(xs, 0, 1)                                   # (B, T, I)
    steps = xs.shape[1]
    mask = jnp.asarray(rng.integers(0, 2, size=(4, steps)), jnp.float32).at[:, 0].set(1.0)
    ys = (jnp.asarray(rng.integers(0, 2, size=(4, steps)), jnp.int32) if kind == "xent" else
          jnp.asarray(rng.normal(size=(4, steps, 2)), jnp.float32))

    def reference(params):
        total = 0.0
        for b in range(4):
            _, _, out = run(spec, params, xs[b], autodiff=True)
            total = total + sequence_loss(step_losses(out, ys[b], mask[b], kind), mask[b])
        return total / 4

    loss, outputs = batch_loss(spec, params, xs, ys, mask, kind)
    assert outputs.shape == (4, steps, 2)
    np.testing.assert_allclose(loss, reference(params), rtol=1e-6)
    grads = jax.grad(lambda p: batch_loss(spec, p, xs, ys, mask, kind)[0])(params)
    _assert_trees_close(grads, jax.grad(reference)(params))
