"""minGRU (Feng et al. 2024, "Were RNNs All We Needed?", arXiv 2410.01201), the log-space
version of its Appendix B.3.1: a GRU whose gate does not read the previous state.

    [p_t; k_t] = W x_t + b                       (W (2H, I): rows of p first, then k)
    z_t  = sigma(k_t)                            update gate
    h~_t = g(p_t),  g(v) = v + 1/2 for v >= 0, sigma(v) below   (candidate, always > 0)
    h_t  = (1 - z_t) * h_{t-1} + z_t * h~_t

Parameters under the names of lucidrains/minGRU-pytorch (``to_hidden_and_gate``, the hidden
rows first), with a bias: ``to_hidden_and_gate.weight (2H, I)``, ``to_hidden_and_gate.bias
(2H,)`` (a file without the bias loads with zeros). Carry ``(h,)``, ``(H,)``; the record holds
h, z and the candidate n (= h~), each ``(H,)``. h starts at 0 and stays positive: the
candidate is positive (that is what g is for: the log-space scan needs ``b_t > 0``).

Two ways to compute a sequence, one answer: the stepper's ``recur`` in linear space, and an
associative scan of the pairs ``(log a_t, log b_t) = (-softplus(k_t), -softplus(-k_t) +
log g(p_t))`` (``rnnviz.core.cells.scan.log_scan``), the paper's parallel form. JAX
differentiates both; the trace runs the first, which ``benchmarks/bench_parallel.py`` measures
faster on the CPU. The transition at step t is diagonal with eigenvalues ``1 - z_t`` in
(0, 1).
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

WEIGHT, BIAS = "to_hidden_and_gate.weight", "to_hidden_and_gate.bias"


def _project(params: Params, x: jax.Array) -> jax.Array:
    return x @ params[WEIGHT].T + params[BIAS]


def _recur(params: Params, carry: Carry, xp: jax.Array, eps: jax.Array | None = None):
    (h,) = carry
    p, k = jnp.split(xp, 2, axis=-1)
    z, n = jax.nn.sigmoid(k), g(p)
    h = jax.nn.sigmoid(-k) * h + z * n     # sigma(-k) = 1 - z, accurate when z is near 1
    if eps is not None:
        h = h + eps
    return (h,), {"h": h, "z": z, "n": n}


def _parallel(params: Params, xp: jax.Array, carry0: Carry, eps: jax.Array | None):
    p, k = jnp.split(xp, 2, axis=-1)
    h = log_scan(-jax.nn.softplus(k), -jax.nn.softplus(-k) + log_g(p), carry0[0], eps)
    return (h[-1],), {"h": h, "z": jax.nn.sigmoid(k), "n": g(p)}


def _explain(u: UnitRows) -> Lines:
    w, b, j, hidden = u.params[WEIGHT], u.params[BIAS], u.j, u.hidden
    p = float(w[j] @ u.x + b[j])
    k = float(w[hidden + j] @ u.x + b[hidden + j])
    z, n, hp = sigmoid(k), g_numpy(p), float(u.h_prev[j])
    h = (1 - z) * hp + z * n
    return [(f"z_t = sigma(W_z x_t + b_z) = sigma({k:.2f}) = {z:.2f}", z),
            (f"h~_t = g(W_h x_t + b_h) = g({p:.2f}) = {n:.2f}   "
             f"(g(v) = v + 0.5 for v >= 0, sigma(v) below)", n),
            (f"h_t = (1 - z_t) h_(t-1) + z_t h~_t = {1 - z:.2f}*{hp:.2f} + {z:.2f}*{n:.2f} = "
             f"{h:.2f}", h)]


def _infer(arrays: dict[str, np.ndarray]):
    return linear_sizes(arrays, WEIGHT, 2)


def _transition(params, record) -> np.ndarray:
    return (1.0 - np.asarray(record["z"], np.float64)).astype(complex)


MINGRU = CellType(
    name="mingru",
    label="minGRU",
    kind="minGRU",
    num_gates=0,
    gates={"z": Gate("update", SIGMOID), "n": Gate("candidate", None)},
    carry_names=("h",),
    recur=_recur,
    backward=None,
    explain=_explain,
    bounded=(),
    layout=linear_layout(WEIGHT, BIAS, 2),
    project=_project,
    parallel=_parallel,
    prefer_parallel=False,   # measured slower on the CPU (benchmarks/bench_parallel.py)
    init=linear_init(WEIGHT, BIAS, 2),
    infer=_infer,
    transition=_transition,
    equations=(
        "z_t = sigma(W_z x_t + b_z)\n"
        "h~_t = g(W_h x_t + b_h),  g(v) = v + 1/2 (v >= 0), sigma(v) (v < 0)\n"
        "h_t = (1 - z_t) * h_{t-1} + z_t * h~_t\n"
        "(no h_{t-1} inside the gate: every step at once by a parallel scan)"
    ),
    note=("minGRU (Feng et al. 2024): the gate reads only x_t, so h_t = a_t h_(t-1) + b_t with "
          "a_t = 1 - z_t; the whole sequence can be one associative scan."),
)
