"""The GRU, as PyTorch's ``nn.GRU`` defines it (gate blocks in the order r, z, n).

    r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

The reset gate multiplies ``W_hn h + b_hn``, after the recurrent matmul: PyTorch's (and
cuDNN's) form, not Cho et al.'s (2014), which applies it to h before. ``weight_ih (3H, I)``,
``weight_hh (3H, H)``, biases ``(3H,)``. Carry ``(h,)``; the record holds h and the gates.

Backward, per step t with ``dh = dL/dh_t``, ``s(x) = x (1 - x)`` and ``hn = W_hn h + b_hn``
(saved by the forward scan: the record cannot give it back):
``dn = (dh (1 - z) + gn)(1 - n^2)``, ``dz_r = (dn hn + gr) s(r)``,
``dz_z = (dh (h_{t-1} - n) + gz) s(z)``; recurrent part ``[dz_r, dz_z, dn r]``, input part
``[dz_r, dz_z, dn]``, ``dL/dh_{t-1} = dh z + W_hh^T [dz_r, dz_z, dn r]``.

As a linear map of the cotangent (``linear_step``): ``dL/dh_{t-1} = dh @ M`` with, writing
``u = (1 - z)(1 - n^2)``, ``M = diag(u hn s(r)) W_hr + diag((h_{t-1} - n) s(z)) W_hz +
diag(u r) W_hn + diag(z)``: one ``(B, H) @ (H, H)`` product per step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.core.cells.base import (
    SIGMOID,
    TANH,
    Backward,
    Carry,
    CellType,
    Gate,
    LinearStep,
    Lines,
    Params,
    Record,
    UnitRows,
    plus,
    previous,
    recurrent_matmul,
)


def _recur_saving(params: Params, carry: Carry, xp: jax.Array):
    """The step, also returning ``{"hn": W_hn h + b_hn}`` for the backward pass."""
    (h,) = carry
    hp = recurrent_matmul(params["weight_hh"], h) + params["bias_hh"]
    xr, xz, xn = jnp.split(xp, 3, axis=-1)
    hr, hz, hn = jnp.split(hp, 3, axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    z = jax.nn.sigmoid(xz + hz)
    n = jnp.tanh(xn + r * hn)
    h = (1 - z) * n + z * h
    return (h,), {"h": h, "r": r, "z": z, "n": n}, {"hn": hn}


def _recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
    carry, record, _ = _recur_saving(params, carry, xp)
    return carry, record


def _backward(w, records, extra, carry0, d_final, cts, reverse, perturbed) -> Backward:
    h_prev = previous(records["h"], carry0[0], reverse)

    def body(d_next, inputs):
        (gh, gr, gz, gn), (r, z, n, hn, hp) = inputs
        dh = plus(d_next[0], gh)
        dn = plus(dh * (1 - z), gn) * (1 - n * n)          # gradient of n's pre-activation
        dz_r = plus(dn * hn, gr) * r * (1 - r)
        dz_z = plus(dh * (hp - n), gz) * z * (1 - z)
        dz_hh = jnp.concatenate([dz_r, dz_z, dn * r], axis=-1)
        return (dh * z + dz_hh @ w,), (dz_hh, dn, dh if perturbed else None)

    inputs = (tuple(cts[k] for k in "hrzn"), (records["r"], records["z"], records["n"],
                                             extra["hn"], h_prev))
    d_carry0, (dz_hh, dn, dh) = lax.scan(body, d_final, inputs, reverse=not reverse)
    hidden = dn.shape[-1]
    dxp = jnp.concatenate([dz_hh[..., : 2 * hidden], dn], axis=-1)
    return Backward(d_carry0, dz_hh, dxp, dh)


def _coefficients(params: Params, records: Record, carry_prev: Carry):
    """Per step ``M (H, H)`` of the linear map in the module docstring."""
    w = params["weight_hh"]
    h_prev = carry_prev[0]
    r, z, n = (records[k] for k in "rzn")
    hn = jnp.split(recurrent_matmul(w, h_prev) + params["bias_hh"], 3, axis=-1)[2]
    w_r, w_z, w_n = (blk[None] for blk in jnp.split(w, 3, axis=0))
    u = (1 - z) * (1 - n * n)
    m = ((u * hn * r * (1 - r))[..., None] * w_r + ((h_prev - n) * z * (1 - z))[..., None] * w_z
         + (u * r)[..., None] * w_n)
    return m + z[..., None] * jnp.eye(w.shape[1], dtype=w.dtype)


def _apply(m, d: Carry) -> Carry:
    return (d[0] @ m,)


def _explain(u: UnitRows) -> Lines:
    r_line, z_line = u.gate("r", 0, "sigma"), u.gate("z", 1, "sigma")
    r, z = r_line[1], z_line[1]
    a, b = u.parts(2)
    n = float(np.tanh(a + r * b))
    hp = float(u.h_prev[u.j])
    hv = (1 - z) * n + z * hp
    return [r_line, z_line,
            (f"n_t = tanh(W_in x_t + b_in + r_t (W_hn h_(t-1) + b_hn)) = tanh({a:.2f} + "
             f"{r:.2f}*{b:.2f}) = {n:.2f}", n),
            (f"h_t = (1 - z_t) n_t + z_t h_(t-1) = {1 - z:.2f}*{n:.2f} + {z:.2f}*{hp:.2f} = "
             f"{hv:.2f}", hv)]


GRU = CellType(
    name="gru",
    label="GRU",
    kind="GRU",
    num_gates=3,
    gates={"r": Gate("reset", SIGMOID), "z": Gate("update", SIGMOID),
           "n": Gate("candidate", TANH)},
    carry_names=("h",),
    recur=_recur,
    recur_saving=_recur_saving,
    backward=_backward,
    explain=_explain,
    linear_step=LinearStep(_coefficients, _apply),
    equations=(
        "r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)\n"
        "z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)\n"
        "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))\n"
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}\n"
        "(PyTorch's form: the reset gate multiplies W_hn h + b_hn, after the matmul,\n"
        " not h before it as in Cho et al. 2014)"
    ),
    note=("PyTorch's GRU: the reset gate multiplies W_hn h + b_hn, after the matmul (Cho et "
          "al. 2014 apply it to h before)."),
)
