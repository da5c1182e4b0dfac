"""minLSTM (Feng et al. 2024, "Were RNNs All We Needed?", arXiv 2410.01201), the log-space
version of its Appendix B.3.2: an LSTM without output gate whose gates do not read the
previous state, normalised so that the state cannot grow without bound.

    [p_t; k_t; q_t] = W x_t + b                  (W (3H, I): rows of p, then k, then q)
    f_t = sigma(k_t),  i_t = sigma(q_t)
    f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)     (they add up to 1)
    h~_t = g(p_t),  g(v) = v + 1/2 for v >= 0, sigma(v) below
    h_t  = f'_t * h_{t-1} + i'_t * h~_t

(Products, not sums: one public implementation writes ``f' + h + i' + h~``.) Parameters under
the names of lucidrains/minGRU-pytorch's minLSTM (``to_hidden_and_f_i_gate``, rows p, f, i),
with a bias: ``to_hidden_and_f_i_gate.weight (3H, I)``, ``to_hidden_and_f_i_gate.bias (3H,)``.
Carry ``(h,)``; the record holds h, the normalised gates f (= f') and i (= i') and the
candidate g (= h~), each ``(H,)``.

``f'`` is computed as ``sigma(log f - log i)`` (equal to ``f / (f + i)``, and finite where both
gates underflow); the parallel form scans ``(log f', log i' + log g(p))`` in log space
(``rnnviz.core.cells.scan.log_scan``); the trace runs the step scan, which
``benchmarks/bench_parallel.py`` measures faster on the CPU. The transition at step t is
diagonal with eigenvalues ``f'_t`` in (0, 1).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import Carry, CellType, Gate, Lines, Params, UnitRows, sigmoid
from rnnviz.core.cells.modern import (
    SIGMOID,
    g,
    g_numpy,
    linear_init,
    linear_layout,
    linear_sizes,
    log_g,
)
from rnnviz.core.cells.scan import log_scan

WEIGHT, BIAS = "to_hidden_and_f_i_gate.weight", "to_hidden_and_f_i_gate.bias"


def _project(params: Params, x: jax.Array) -> jax.Array:
    return x @ params[WEIGHT].T + params[BIAS]


def _gates(xp: jax.Array):
    """``(p, diff)`` with ``diff = log f - log i``: ``f' = sigma(diff)``, ``i' = sigma(-diff)``."""
    p, k, q = jnp.split(xp, 3, axis=-1)
    return p, jax.nn.softplus(-q) - jax.nn.softplus(-k)


def _recur(params: Params, carry: Carry, xp: jax.Array, eps: jax.Array | None = None):
    (h,) = carry
    p, diff = _gates(xp)
    f, i, n = jax.nn.sigmoid(diff), jax.nn.sigmoid(-diff), g(p)
    h = f * h + i * n
    if eps is not None:
        h = h + eps
    return (h,), {"h": h, "f": f, "i": i, "g": n}


def _parallel(params: Params, xp: jax.Array, carry0: Carry, eps: jax.Array | None):
    p, diff = _gates(xp)
    h = log_scan(-jax.nn.softplus(-diff), -jax.nn.softplus(diff) + log_g(p), carry0[0], eps)
    return (h[-1],), {"h": h, "f": jax.nn.sigmoid(diff), "i": jax.nn.sigmoid(-diff),
                      "g": g(p)}


def _explain(u: UnitRows) -> Lines:
    w, b, j, hidden = u.params[WEIGHT], u.params[BIAS], u.j, u.hidden
    p, k, q = (float(w[r * hidden + j] @ u.x + b[r * hidden + j]) for r in range(3))
    f, i = sigmoid(k), sigmoid(q)
    fn, in_ = f / (f + i), i / (f + i)
    n, hp = g_numpy(p), float(u.h_prev[j])
    h = fn * hp + in_ * n
    return [(f"f_t = sigma(W_f x_t + b_f) = sigma({k:.2f}) = {f:.2f}", f),
            (f"i_t = sigma(W_i x_t + b_i) = sigma({q:.2f}) = {i:.2f}", i),
            (f"f'_t = f_t / (f_t + i_t) = {f:.2f}/{f + i:.2f} = {fn:.2f}", fn),
            (f"i'_t = i_t / (f_t + i_t) = 1 - f'_t = {in_:.2f}", in_),
            (f"h~_t = g(W_h x_t + b_h) = g({p:.2f}) = {n:.2f}   "
             f"(g(v) = v + 0.5 for v >= 0, sigma(v) below)", n),
            (f"h_t = f'_t h_(t-1) + i'_t h~_t = {fn:.2f}*{hp:.2f} + {in_:.2f}*{n:.2f} = "
             f"{h:.2f}", h)]


def _infer(arrays: dict[str, np.ndarray]):
    return linear_sizes(arrays, WEIGHT, 3)


def _transition(params, record) -> np.ndarray:
    return np.asarray(record["f"], np.float64).astype(complex)


MINLSTM = CellType(
    name="minlstm",
    label="minLSTM",
    kind="minLSTM",
    num_gates=0,
    gates={"f": Gate("forget (normalised)", SIGMOID), "i": Gate("input (normalised)", SIGMOID),
           "g": Gate("candidate", None)},
    carry_names=("h",),
    recur=_recur,
    backward=None,
    explain=_explain,
    bounded=(),
    layout=linear_layout(WEIGHT, BIAS, 3),
    project=_project,
    parallel=_parallel,
    prefer_parallel=False,   # measured slower on the CPU (benchmarks/bench_parallel.py)
    init=linear_init(WEIGHT, BIAS, 3),
    infer=_infer,
    transition=_transition,
    equations=(
        "f_t = sigma(W_f x_t + b_f),  i_t = sigma(W_i x_t + b_i)\n"
        "f'_t = f_t / (f_t + i_t),  i'_t = i_t / (f_t + i_t)\n"
        "h~_t = g(W_h x_t + b_h),  g(v) = v + 1/2 (v >= 0), sigma(v) (v < 0)\n"
        "h_t = f'_t * h_{t-1} + i'_t * h~_t"
    ),
    note=("minLSTM (Feng et al. 2024): no output gate, gates that read only x_t, normalised to "
          "add up to 1; h_t = f'_t h_(t-1) + i'_t h~_t can be one associative scan."),
)
