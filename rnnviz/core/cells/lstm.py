"""The LSTM, as PyTorch's ``nn.LSTM`` defines it (gate blocks in the order i, f, g, o).

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

``weight_ih (4H, I)``, ``weight_hh (4H, H)``, biases ``(4H,)``. Carry ``(h, c)`` (PyTorch's
order), each ``(H,)``; the record holds h, c and the four gates.

Backward, per step t with ``dh = dL/dh_t``, ``s(x) = x (1 - x)`` the sigmoid's derivative
written with its output and ``g*`` the records' own cotangents:
``dc = dc_{t+1} + gc_t + dh o (1 - tanh^2 c)``,
``dz = [(dc g + gi) s(i), (dc c_{t-1} + gf) s(f), (dc i + gg)(1 - g^2), (dh tanh c + go) s(o)]``,
``dL/dc_{t-1} = dc f`` and ``dL/dh_{t-1} = W_hh^T dz``.

As a linear map of the cotangent (``linear_step``, for sweeping many rows at once):
``dc' = dc + dh a`` with ``a = o (1 - tanh^2 c)``, ``dL/dh_{t-1} = [dc', dh] @ [P; Q]`` with
``P = diag(g s(i)) W_hi + diag(c_{t-1} s(f)) W_hf + diag(i (1 - g^2)) W_hg`` and
``Q = diag(tanh c s(o)) W_ho``, ``dL/dc_{t-1} = dc' f``: one ``(B, 2H) @ (2H, H)`` product
per step, half the multiply-adds of ``dz @ W_hh``.

``InitOptions.forget_bias`` sets the f block's input bias (``forget_block = 1``).
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


def lstm_gates(z: jax.Array) -> jax.Array:
    """The LSTM's gates from their pre-activations ``z (..., 4H)``, packed in PyTorch's
    blocks ``i, f, g, o``: a sigmoid on ``i``, ``f``, ``o`` and a tanh on ``g``, computed as
    one tanh of the whole array through ``sigma(x) = (1 + tanh(x / 2)) / 2``:
    ``tanh(s z) s + s`` on the sigmoid blocks (``s = 1/2``), ``tanh(z)`` on ``g``.

    Why one tanh: XLA's CPU backend emits an elementwise fusion that holds two or more
    transcendental ops 5 to 10x slower than one that holds a single one
    (benchmarks/bench_xla_fusion.py). With four activations, any loop that does not keep
    the gates (a forward pass for a loss alone, as in validation) fused them all into the
    cell-state update and ran 2.2x slower.
    """
    hidden = z.shape[-1] // 4
    scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], z.dtype), hidden)
    shift = np.repeat(np.array([0.5, 0.5, 0.0, 0.5], z.dtype), hidden)
    return jnp.tanh(z * scale) * scale + shift


def _recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
    h, c = carry
    z = xp + recurrent_matmul(params["weight_hh"], h) + params["bias_hh"]
    i, f, g, o = jnp.split(lstm_gates(z), 4, axis=-1)
    c = f * c + i * g
    h = o * jnp.tanh(c)
    return (h, c), {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


def _backward(w, records, extra, carry0, d_final, cts, reverse, perturbed) -> Backward:
    c_prev = previous(records["c"], carry0[1], reverse)

    def body(d_next, inputs):
        (gh, gc, gi, gf, gg, go), (i, f, g, o, c, cp) = inputs
        tc = jnp.tanh(c)
        dh = plus(d_next[0], gh)
        dc = plus(d_next[1] + dh * o * (1 - tc * tc), gc)
        dz = jnp.concatenate([plus(dc * g, gi) * i * (1 - i), plus(dc * cp, gf) * f * (1 - f),
                              plus(dc * i, gg) * (1 - g * g), plus(dh * tc, go) * o * (1 - o)],
                             axis=-1)
        return (dz @ w, dc * f), (dz, dh if perturbed else None)

    inputs = (tuple(cts[k] for k in "hcifgo"),
              tuple(records[k] for k in "ifgoc") + (c_prev,))
    d_carry0, (dz, dh) = lax.scan(body, d_final, inputs, reverse=not reverse)
    return Backward(d_carry0, dz, dz, dh)


def _coefficients(params: Params, records: Record, carry_prev: Carry):
    """Per step ``(a (H,), M (2H, H), f (H,))`` of the linear map in the module docstring."""
    w = params["weight_hh"]
    i, f, g, o, c = (records[k] for k in "ifgoc")
    c_prev = carry_prev[1]
    tc = jnp.tanh(c)
    w_i, w_f, w_g, w_o = (blk[None] for blk in jnp.split(w, 4, axis=0))
    p = ((g * i * (1 - i))[..., None] * w_i + (c_prev * f * (1 - f))[..., None] * w_f
         + (i * (1 - g * g))[..., None] * w_g)
    q = (tc * o * (1 - o))[..., None] * w_o
    return o * (1 - tc * tc), jnp.concatenate([p, q], axis=-2), f


def _apply(k, d: Carry) -> Carry:
    a, m, f = k
    dh, dc = d
    dc = dc + dh * a
    return jnp.concatenate([dc, dh], axis=-1) @ m, dc * f


def _explain(u: UnitRows) -> Lines:
    lines = [u.gate("i", 0, "sigma"), u.gate("f", 1, "sigma"), u.gate("g", 2, "tanh"),
             u.gate("o", 3, "sigma")]
    i, f, g, o = (v for _, v in lines)
    assert u.c_prev is not None  # an LSTM unit always has a cell state before its step
    cp = float(u.c_prev[u.j])
    c = f * cp + i * g
    hv = o * float(np.tanh(c))
    lines.append((f"c_t = f_t c_(t-1) + i_t g_t = {f:.2f}*{cp:.2f} + {i:.2f}*{g:.2f} = "
                  f"{c:.2f}", c))
    lines.append((f"h_t = o_t tanh(c_t) = {o:.2f}*tanh({c:.2f}) = {hv:.2f}", hv))
    return lines


LSTM = CellType(
    name="lstm",
    label="LSTM",
    kind="LSTM",
    num_gates=4,
    gates={"i": Gate("input", SIGMOID), "f": Gate("forget", SIGMOID),
           "g": Gate("candidate", TANH), "o": Gate("output", SIGMOID)},
    carry_names=("h", "c"),
    recur=_recur,
    backward=_backward,
    forget_block=1,
    explain=_explain,
    linear_step=LinearStep(_coefficients, _apply),
    equations=(
        "i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)\n"
        "f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)\n"
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)\n"
        "o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)\n"
        "c_t = f_t * c_{t-1} + i_t * g_t\n"
        "h_t = o_t * tanh(c_t)"
    ),
)
