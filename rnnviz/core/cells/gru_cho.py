"""Cho et al.'s original GRU (2014), the reset gate applied to h before the recurrent matmul.

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The one difference from PyTorch's GRU (``rnnviz.core.cells.gru``), which computes
``n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))``: here the reset gate chooses
which parts of the old state the candidate reads (before the matmul), there it scales what
the matmul made of all of it (after). Keras's ``GRU(reset_after=False)`` and ONNX's ``GRU``
with ``linear_before_reset=0`` are this cell (Keras adds no recurrent bias: ``b_h* = 0``).

PyTorch's layout and gate order r, z, n: ``weight_ih (3H, I)``, ``weight_hh (3H, H)``, biases
``(3H,)``. Carry ``(h,)``. No hand-written backward pass: the n block's recurrent matmul reads
``r * h``, not ``h``, which the shared backward scan (``dW_hh = sum dz h_{t-1}^T``) does not
express, so the scan is differentiated by JAX's autodiff
(``rnnviz.core.cells.scan.sequence_scan``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import (
    SIGMOID,
    TANH,
    Carry,
    CellType,
    Gate,
    Lines,
    Params,
    Record,
    UnitRows,
    recurrent_matmul,
)


def _recur(params: Params, carry: Carry, xp, eps=None) -> tuple[Carry, Record]:
    """One step; ``eps (H,)`` perturbs the new h (``rnnviz.core.cells.scan.sequence_scan``)."""
    (h,) = carry
    w_hh, b_hh = params["weight_hh"], params["bias_hh"]
    hidden = h.shape[-1]
    xr, xz, xn = jnp.split(xp, 3, axis=-1)
    hr, hz = jnp.split(recurrent_matmul(w_hh[: 2 * hidden], h) + b_hh[: 2 * hidden], 2,
                       axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    z = jax.nn.sigmoid(xz + hz)
    n = jnp.tanh(xn + recurrent_matmul(w_hh[2 * hidden:], r * h) + b_hh[2 * hidden:])
    h = (1 - z) * n + z * h
    if eps is not None:
        h = h + eps
    return (h,), {"h": h, "r": r, "z": z, "n": n}


def _explain(u: UnitRows) -> Lines:
    r_line, z_line = u.gate("r", 0, "sigma"), u.gate("z", 1, "sigma")
    z = z_line[1]
    # r_t for every unit: the candidate of unit j reads the whole reset state r * h
    hidden, p = u.hidden, u.params
    w_ih, b_ih, w_hh, b_hh = p["weight_ih"], p["bias_ih"], p["weight_hh"], p["bias_hh"]
    pre = w_ih[:hidden] @ u.x + b_ih[:hidden] + w_hh[:hidden] @ u.h_prev + b_hh[:hidden]
    r_all = 1.0 / (1.0 + np.exp(-pre))
    row = 2 * hidden + u.j
    a = float(w_ih[row] @ u.x + b_ih[row])
    b = float(w_hh[row] @ (r_all * u.h_prev) + b_hh[row])
    n = float(np.tanh(a + b))
    hp = float(u.h_prev[u.j])
    hv = (1 - z) * n + z * hp
    return [r_line, z_line,
            (f"n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_(t-1)) + b_hn) = tanh({a:.2f} "
             f"{b:+.2f}) = {n:.2f}", n),
            (f"h_t = (1 - z_t) n_t + z_t h_(t-1) = {1 - z:.2f}*{n:.2f} + {z:.2f}*{hp:.2f} = "
             f"{hv:.2f}", hv)]


GRU_CHO = CellType(
    name="gru_cho",
    label="GRU (Cho)",
    kind="GRU",
    aliases=("gru_reset_before",),
    num_gates=3,
    gates={"r": Gate("reset", SIGMOID), "z": Gate("update", SIGMOID),
           "n": Gate("candidate", TANH)},
    carry_names=("h",),
    recur=_recur,
    backward=None,
    explain=_explain,
    equations=(
        "r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)\n"
        "z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)\n"
        "n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)\n"
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}\n"
        "(Cho et al. 2014: the reset gate multiplies h before the matmul W_hn,\n"
        " where PyTorch's GRU multiplies W_hn h + b_hn after it)"
    ),
    note=("Cho et al.'s original GRU (Keras reset_after=False, ONNX linear_before_reset=0): "
          "the reset gate multiplies h before the matmul, so it picks which parts of the old "
          "state the candidate reads; PyTorch's GRU scales W_hn h + b_hn after it."),
)
