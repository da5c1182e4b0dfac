"""The vanilla (Elman) RNN, as PyTorch's ``nn.RNN`` defines it, with tanh or relu.

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

One gate block (``G = 1``): ``weight_ih (H, I)``, ``weight_hh (H, H)``, ``bias_ih``,
``bias_hh (H,)``. Carry ``(h,)``; the record holds ``h`` only: the vanilla RNN has no gates.

Backward, per step t with ``dh = dL/dh_t`` (from step t+1 plus the record's cotangent):
``dz = dh * act'(z)``, ``tanh'`` written with the output as ``1 - h^2`` and ``relu'`` as
``[h > 0]``; then ``dL/dh_{t-1} = W_hh^T dz``. Both read h before any perturbation of the
scan (``saves_raw_h``).

As a linear map of the cotangent (``linear_step``): ``dL/dh_{t-1} = dh @ (diag(act'(z)) W_hh)``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.core.cells.base import (
    Backward,
    Carry,
    CellType,
    LinearStep,
    Lines,
    Params,
    Record,
    UnitRows,
    plus,
    recurrent_matmul,
)


def _recur(activation: Callable[[jax.Array], jax.Array]):
    def recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
        (h,) = carry
        h = activation(xp + recurrent_matmul(params["weight_hh"], h) + params["bias_hh"])
        return (h,), {"h": h}

    return recur


def _backward(derivative: Callable[[jax.Array], jax.Array]):
    def backward(w, records, extra, carry0, d_final, cts, reverse, perturbed) -> Backward:
        h_raw = extra["h_raw"] if perturbed else records["h"]

        def body(d_next, inputs):
            gh, h = inputs
            dh = plus(d_next[0], gh)
            dz = dh * derivative(h)
            return (dz @ w,), (dz, dh if perturbed else None)

        d_carry0, (dz, dh) = lax.scan(body, d_final, (cts["h"], h_raw), reverse=not reverse)
        return Backward(d_carry0, dz, dz, dh)

    return backward


def _linear_step(derivative: Callable[[jax.Array], jax.Array]) -> LinearStep:
    def coefficients(params: Params, records: Record, carry_prev: Carry):
        return derivative(records["h"])[..., None] * params["weight_hh"][None]

    def apply(m, d: Carry) -> Carry:
        return (d[0] @ m,)

    return LinearStep(coefficients, apply)


def _explain(act: str):
    def explain(u: UnitRows) -> Lines:
        a, b = u.parts(0)
        value = float(np.tanh(a + b)) if act == "tanh" else max(a + b, 0.0)
        return [(f"h_t = {act}(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) = {act}({a:.2f} "
                 f"{b:+.2f}) = {value:.2f}", value)]

    return explain


def _rnn(activation_name: str, activation, derivative, label: str,
         aliases: tuple[str, ...], bounded: tuple[str, ...]) -> CellType:
    return CellType(
        name=f"rnn_{activation_name}",
        label=label,
        kind="RNN",
        aliases=aliases,
        num_gates=1,
        gates={},
        carry_names=("h",),
        recur=_recur(activation),
        backward=_backward(derivative),
        linear_step=_linear_step(derivative),
        saves_raw_h=True,
        bounded=bounded,
        explain=_explain(activation_name),
        equations=f"h_t = {activation_name}(W_ih x_t + b_ih + W_hh h_{{t-1}} + b_hh)",
    )


RNN_TANH = _rnn("tanh", jnp.tanh, lambda h: 1 - h * h, "RNN", ("rnn", "tanh"), ("h",))
RNN_RELU = _rnn("relu", jax.nn.relu, lambda h: (h > 0).astype(h.dtype), "RNN (relu)",
                ("relu",), ())
