"""``rnnviz.core.saliency`` against central finite differences (float64) and a hand-derived case.

The finite differences perturb one input entry ``x_k[i]`` by ``+-DELTA``, rerun the whole
model and take ``(output_t(+) - output_t(-)) / 2 DELTA``: one column of the ``(O, I)``
Jacobian at k. The hand case is a 1-unit tanh RNN whose derivative is a product of known
factors.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from rnnviz.core import saliency
from rnnviz.core.forward import run
from rnnviz.core.model import Model
from rnnviz.core.spec import ModelSpec, enable_float64

T, INPUT, OUTPUT = 6, 2, 3
DELTA = 1e-5
CONFIGS = {  # name: (cell, hidden, layers, bidirectional)
    "rnn_tanh": ("rnn_tanh", 3, 1, False),
    "rnn_relu": ("rnn_relu", 3, 1, False),
    "lstm": ("lstm", 3, 1, False),
    "gru": ("gru", 3, 1, False),
    "lstm_2layers": ("lstm", 2, 2, False),
    "gru_2bi": ("gru", 2, 2, True),
    # two modern cells: the LRU (its trace's scan the parallel one, its output y, not h) and
    # Mamba (its convolution's window in the carry); minGRU's and minLSTM's step is simpler
    "lru": ("lru", 3, 1, False),
    "mamba": ("mamba", 3, 1, False),
}
OPTIONS = {"lru": (("state_size", 2),), "mamba": (("d_inner", 4), ("d_state", 2))}


def _case(name: str):
    cell, hidden, layers, bidirectional = CONFIGS[name]
    enable_float64()
    spec = ModelSpec(cell, INPUT, hidden, layers, bidirectional, output_size=OUTPUT,
                     dtype="float64", options=OPTIONS.get(name, ()))
    rng = np.random.default_rng(sum(map(ord, name)))
    bound = 1.5 / np.sqrt(hidden)
    params = {k: rng.uniform(-bound, bound, shape) for k, shape in spec.param_shapes().items()}
    return spec, params, rng.normal(size=(T, INPUT))


def _finite_difference_saliency(spec, params, xs, t):
    """``||d output_t / d x_k||_F`` for every k by central differences, ``(T,)``. All
    ``2 * T * I`` perturbed inputs run as one batch."""
    eye = DELTA * np.eye(T * INPUT).reshape(T * INPUT, T, INPUT)
    batch = np.concatenate([xs + eye, xs - eye])
    outputs = np.asarray(jax.jit(jax.vmap(lambda x: run(spec, params, x)[2]))(batch))[:, t]
    plus, minus = np.split(outputs, 2)                        # (T*I, O) each
    jac = ((plus - minus) / (2 * DELTA)).reshape(T, INPUT, OUTPUT)
    return np.sqrt((jac ** 2).sum(axis=(1, 2)))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_saliency_matches_finite_differences(name):
    spec, params, xs = _case(name)
    for t in (0, 2, T - 1):
        got = np.asarray(saliency.saliency_row(spec, params, xs, t))
        expected = _finite_difference_saliency(spec, params, xs, t)
        assert got.shape == (T,)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
        if spec.bidirectional:
            assert np.all(got[t + 1:] > 0)  # the reverse direction reads the future
        else:
            assert np.all(got[t + 1:] == 0)  # the output at t has not seen k > t
            assert np.all(got[: t + 1] > 0)


def test_saliency_of_a_one_unit_rnn_by_hand():
    """``h_t = tanh(a x_t + w h_(t-1))``, ``y_t = r h_t``, so by the chain rule
    ``dy_t/dx_k = r * a * (1 - h_k^2) * prod_{j=k+1..t} w (1 - h_j^2)`` for ``k <= t``."""
    a, w, r = 0.8, 0.9, -1.3
    enable_float64()
    spec = ModelSpec("rnn_tanh", 1, 1, output_size=1, dtype="float64")
    params = {"weight_ih_l0": np.array([[a]]), "weight_hh_l0": np.array([[w]]),
              "bias_ih_l0": np.zeros(1), "bias_hh_l0": np.zeros(1),
              "readout.weight": np.array([[r]]), "readout.bias": np.zeros(1)}
    xs = np.array([0.5, -1.0, 0.3, 0.9, -0.2])[:, None]
    h, prev = [], 0.0
    for x in xs[:, 0]:
        prev = np.tanh(a * x + w * prev)
        h.append(prev)
    h = np.array(h)
    t = 4
    expected = np.zeros(len(xs))
    for k in range(t + 1):
        factor = r * a * (1 - h[k] ** 2)
        for j in range(k + 1, t + 1):
            factor *= w * (1 - h[j] ** 2)
        expected[k] = abs(factor)
    got = np.asarray(saliency.saliency_row(spec, params, xs, t))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_saliency_compiles_once_for_every_step():
    spec = ModelSpec("lstm", 1, 4, output_size=1)
    model = Model.create("lstm", 1, 4, output_size=1, seed=1)
    xs = np.sin(np.linspace(0, 6, 40))[:, None]
    before = saliency.saliency_row._cache_size()
    rows = [model.saliency(xs, t) for t in (3, 17, 39)]
    assert saliency.saliency_row._cache_size() == before + 1
    assert spec == model.spec
    for t, row in zip((3, 17, 39), rows, strict=True):
        assert row.shape == (40,) and row.dtype == np.float32
        assert np.all(row[t + 1:] == 0) and row[t] > 0
    expected = np.asarray(saliency.saliency_row(
        model.spec, model.params, jax.numpy.asarray(xs, "float32"), 17))
    np.testing.assert_allclose(rows[1], expected, rtol=1e-6)
