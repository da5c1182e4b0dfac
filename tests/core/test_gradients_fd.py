"""``rnnviz.core.gradients`` against central finite differences, in float64.

The derivative with respect to ``h_k`` is rnnviz's: ``h_k`` is perturbed after the cell
computes it and the perturbed value feeds everything downstream (``forward.run``'s ``eps``);
an LSTM's cell state is not perturbed. The finite differences perturb one hidden unit at one
step (or one parameter entry) by ``+-DELTA`` and rerun the whole model; the loss is written
out here in numpy, independently of ``rnnviz.core.losses``.

``enable_float64`` switches JAX's x64 mode on for the rest of the process, as it does in
the app; it is left on, so the float32 tests that run after these run with x64 on (they check
their arrays stay float32).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz.core import gradients
from rnnviz.core.forward import run
from rnnviz.core.spec import ModelSpec, enable_float64

T, INPUT, OUTPUT = 5, 2, 2
DELTA = 1e-5
TOL = {"rtol": 1e-6, "atol": 1e-10}
MASK = np.array([1.0, 0.0, 1.0, 1.0, 1.0])  # step 1 is not scored
CONFIGS = {  # name: (cell, hidden, layers, bidirectional)
    "rnn_tanh": ("rnn_tanh", 3, 1, False),
    "lstm": ("lstm", 3, 1, False),
    "gru": ("gru", 3, 1, False),
    "rnn_tanh_2bi": ("rnn_tanh", 2, 2, True),  # stacking and directions are cell-agnostic
}


def numpy_losses(outputs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-step losses ``(..., T)`` (mean squared error over outputs, masked) and the mean
    over the scored steps."""
    per_step = ((outputs - values) ** 2).mean(axis=-1) * MASK
    return per_step, per_step.sum(axis=-1) / MASK.sum()


class Case:
    """A tiny float64 model, an input, a target, and every finite difference."""

    def __init__(self, name: str):
        cell, hidden, layers, bidirectional = CONFIGS[name]
        enable_float64()
        self.spec = spec = ModelSpec(cell, INPUT, hidden, layers, bidirectional,
                                     output_size=OUTPUT, dtype="float64")
        assert jax.config.jax_enable_x64
        rng = np.random.default_rng(sum(map(ord, name)))
        # uniform like PyTorch's default, a little wider so the gradients do not all vanish
        shapes = spec.param_shapes()
        bound = 1.5 / np.sqrt(hidden)
        self.params = {k: rng.uniform(-bound, bound, shape) for k, shape in shapes.items()}
        self.xs = rng.normal(size=(T, INPUT))
        self.values = rng.normal(size=(T, OUTPUT))
        self.mask = MASK
        units = spec.units
        flat = np.concatenate([v.ravel() for v in self.params.values()])
        ends = np.cumsum([int(np.prod(shape)) for shape in shapes.values()])

        def unravel(flat_params):
            parts = np.split(flat_params, ends[:-1]) if isinstance(flat_params, np.ndarray) \
                else [flat_params[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
            return {k: v.reshape(shape) for (k, shape), v in zip(shapes.items(), parts,
                                                                  strict=True)}
        self.unravel = unravel

        def model(flat_params, eps):
            _, states, outputs = run(spec, unravel(flat_params), self.xs, eps=eps)
            return {u: states[f"h_{u}"] for u in units}, outputs

        # one batch of perturbations, +DELTA then -DELTA: first each parameter entry, then each
        # hidden state (unit u, step k, hidden unit j) with the parameters unperturbed
        n_w, n_h = flat.size, len(units) * T * hidden
        dw = np.concatenate([DELTA * np.eye(n_w), np.zeros((n_h, n_w))])
        dh = np.concatenate([np.zeros((n_w, n_h)), DELTA * np.eye(n_h)])
        dw, dh = np.concatenate([dw, -dw]), np.concatenate([dh, -dh])
        eps = {u: jnp.asarray(dh[:, n * T * hidden:(n + 1) * T * hidden].reshape(-1, T, hidden))
               for n, u in enumerate(units)}
        hs, ys = jax.jit(jax.vmap(model))(flat + dw, eps)
        hs, ys = {u: np.asarray(v) for u, v in hs.items()}, np.asarray(ys)
        half = n_w + n_h

        def central(a: np.ndarray) -> np.ndarray:
            return (a[:half] - a[half:]) / (2 * DELTA)

        losses, loss = numpy_losses(ys, self.values)
        self.dL_dw = central(loss)[:n_w]
        shape = (len(units), T, hidden)  # (unit, k, j)
        # d l_t / dh_k[j]: (unit, k, j, t)
        self.dl_dh = central(losses)[n_w:].reshape(*shape, T)
        # dh_t[i] / dh_k[j] within the perturbed unit: (unit, k, j, t, i)
        self.dh_dh = np.stack([central(hs[u])[n_w:].reshape(*shape, T, hidden)[n]
                               for n, u in enumerate(units)])

    def args(self):
        return self.spec, self.params, self.xs, jnp.asarray(self.values), jnp.asarray(self.mask)


@pytest.fixture(scope="module")
def cases():
    made = {}

    def get(name):
        if name not in made:
            made[name] = Case(name)
        return made[name]
    return get


@pytest.mark.parametrize("name", CONFIGS)
def test_bptt_norms_and_parameter_gradients(name, cases):
    case = cases(name)
    states, outputs, losses, grad_h, grad_params = gradients.trace_with_bptt(
        *case.args(), "mse")
    expected_losses, _ = numpy_losses(np.asarray(outputs), case.values)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-12, atol=1e-12)
    for n, u in enumerate(case.spec.units):
        assert states[f"h_{u}"].dtype == jnp.float64
        # dL/dh_k = sum_t m_t dl_t/dh_k / sum m (the mask is already in dl_dh)
        dL_dh = case.dl_dh[n].sum(axis=-1) / MASK.sum()  # (k, j)
        np.testing.assert_allclose(grad_h[u], np.linalg.norm(dL_dh, axis=-1), **TOL,
                                   err_msg=u)
    fd = {k: float(np.linalg.norm(v)) for k, v in case.unravel(case.dL_dw).items()}
    assert sorted(grad_params) == sorted(case.spec.param_shapes())
    for pname, norm in fd.items():
        assert norm > 1e-6, pname
        np.testing.assert_allclose(grad_params[pname], norm, **TOL, err_msg=pname)


@pytest.mark.parametrize("name", CONFIGS)
def test_flow_rows_and_matrix(name, cases):
    case = cases(name)
    units = case.spec.units
    # row t, column k: ||d l_t / dh_k|| over hidden units
    expected = {u: np.linalg.norm(case.dl_dh[n], axis=1).T for n, u in enumerate(units)}
    matrix = gradients.flow_matrix(*case.args(), "mse")
    for t in range(T):
        row = gradients.flow_row(*case.args(), "mse", t)
        for u in units:
            np.testing.assert_allclose(row[u], expected[u][t], **TOL, err_msg=f"{u} row {t}")
    for u in units:
        np.testing.assert_allclose(matrix[u], expected[u], **TOL, err_msg=u)
        assert not np.any(expected[u][1])  # step 1 is not scored
        if u in case.spec.top_units:  # below the top, a bidirectional layer mixes both ways
            # the loss at t sees h_k of the forward direction for k <= t, reverse for k >= t
            future = np.tril(expected[u], -1) if u.endswith("_reverse") else np.triu(expected[u], 1)
            assert not np.any(future)


@pytest.mark.parametrize("name", CONFIGS)
def test_memory_rows_and_matrix(name, cases):
    case = cases(name)
    hidden = case.spec.hidden_size
    for n, u in enumerate(case.spec.units):
        # row t, column k: Frobenius norm of the (H, H) Jacobian dh_t / dh_k
        jac = case.dh_dh[n]  # (k, j, t, i)
        expected = np.sqrt((jac ** 2).sum(axis=(1, 3))).T
        np.testing.assert_allclose(np.diag(expected), np.sqrt(hidden), **TOL)
        for t in range(T):
            row = gradients.memory_row(case.spec, case.params, case.xs, u, t)
            np.testing.assert_allclose(row, expected[t], **TOL, err_msg=f"{u} row {t}")
        matrix = gradients.memory_matrix(case.spec, case.params, case.xs, u)
        np.testing.assert_allclose(matrix, expected, **TOL, err_msg=u)
        zero = np.tril(expected, -1) if u.endswith("_reverse") else np.triu(expected, 1)
        assert not np.any(zero)
        assert np.all(expected[np.tril_indices(T, -1) if not u.endswith("_reverse")
                               else np.triu_indices(T, 1)] > 1e-6)


def test_zero_perturbation_changes_nothing(cases):
    case = cases("rnn_tanh_2bi")
    zeros = {u: jnp.zeros((T, case.spec.hidden_size)) for u in case.spec.units}
    plain = run(case.spec, case.params, case.xs)
    perturbed = run(case.spec, case.params, case.xs, eps=zeros)
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(perturbed), strict=True):
        np.testing.assert_array_equal(a, b)
