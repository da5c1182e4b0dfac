"""The recurrence of one layer and direction as a scan with a hand-written backward pass.

``scan(cell, params, xp, carry0)`` runs ``cell.recur`` over the projected inputs
``xp (T, ..., G*H)`` (leading batch axes after T allowed, carries ``(..., H)``) and returns what
``lax.scan`` would, ``(final_carry, records)``, records stacked to ``(T, ..., H)``. Its forward
pass *is* that scan. Its derivative is a ``jax.custom_vjp`` built the way cuDNN builds it:

1. the forward scan saves the records (every gate, h, c; the GRU also ``hn = W_hn h + b_hn``),
   so nothing is recomputed (no matmul; ``tanh c`` is the one elementwise recomputation);
2. the backward scan carries ``dL/dh`` (and ``dL/dc``) and does per step only the gate
   derivatives ``dz_t`` (gradient of the pre-activations ``z_t = xp_t + W_hh h_{t-1} + b_hh``)
   and the one recurrent matmul ``dL/dh_{t-1} += W_hh^T dz_t``; cotangents that are zero
   (the gates', when only a loss is differentiated) are known to be zero at trace time and
   cost nothing;
3. afterwards the weight gradients are single matmuls over all steps (and batch entries):
   ``dW_hh = sum_t dz_t h_{t-1}^T``, ``db_hh = sum_t dz_t``, ``dxp_t = dz_t`` (the GRU's ``n``
   block of ``dxp`` differs: there ``r`` multiplies the recurrent part only).

With ``eps (T, ..., H)`` the hidden state is perturbed, ``h_t <- h_t + eps_t`` after the cell,
and the cotangent of ``eps_t`` is the total derivative ``dL/dh_t`` (see ``forward.scan_unit``).

Per step t, with ``dh = dL/dh_t`` (total: from step t+1 plus the record's cotangent ``gh_t``),
``s(x) = x (1 - x)`` the sigmoid's derivative written with its output:

- RNN: ``dz = dh * act'(z)`` (tanh: ``1 - h^2``; relu: ``[h > 0]``);
- LSTM: ``dc = dc_{t+1} + gc_t + dh o (1 - tanh^2 c)``,
  ``dz = [(dc g + gi) s(i), (dc c_{t-1} + gf) s(f), (dc i + gg)(1 - g^2), (dh tanh c + go) s(o)]``,
  ``dL/dc_{t-1} = dc f``;
- GRU: ``dn = (dh (1 - z) + gn)(1 - n^2)``, ``dz_r = (dn hn + gr) s(r)``,
  ``dz_z = (dh (h_{t-1} - n) + gz) s(z)``, recurrent part ``[dz_r, dz_z, dn r]``,
  input part ``[dz_r, dz_z, dn]``, ``dL/dh_{t-1} = dh z + W_hh^T [dz_r, dz_z, dn r]``.

Only reverse mode is defined (``jax.grad``, ``jax.vjp``, and ``vmap`` of either); nothing in
rnnviz uses forward mode (``jax.jvp``), which a ``custom_vjp`` does not support.
"""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from rnnviz.cells import CELLS, GRU, LSTM, Carry, CellType, Params, gru_recur_with_hn


def scan(cell: CellType, params: Params, xp: jax.Array, carry0: Carry, *,
         reverse: bool = False, eps: jax.Array | None = None):
    """``lax.scan`` of ``cell.recur`` over ``xp (T, ..., G*H)`` from ``carry0``, with the
    backward pass above. ``params`` needs ``weight_hh (G*H, H)`` and ``bias_hh (G*H,)``.
    Returns ``(final_carry, records)``."""
    fn = _recurrence(cell.name, reverse, eps is not None)
    args = (params["weight_hh"], params["bias_hh"], xp, tuple(carry0))
    return fn(*args, eps) if eps is not None else fn(*args)


def scan_autodiff(cell: CellType, params: Params, xp: jax.Array, carry0: Carry, *,
                  reverse: bool = False, eps: jax.Array | None = None):
    """The same scan differentiated by plain autodiff (the reference for ``scan``)."""
    body = _forward_body(cell, params, eps is not None)
    inputs = xp if eps is None else (xp, eps)
    final, (records, _) = lax.scan(body, tuple(carry0), inputs, reverse=reverse)
    return final, records


def _forward_body(cell: CellType, params: Params, perturbed: bool):
    """Scan body returning ``(carry, (record, residuals))``; the residuals are what the
    backward pass needs beyond the record (GRU: ``hn``; perturbed RNN: the unperturbed h)."""
    def body(carry, inputs):
        xp_t, e_t = inputs if perturbed else (inputs, None)
        if cell is GRU:
            carry, record, hn = gru_recur_with_hn(params, carry, xp_t)
            extra = {"hn": hn}
        else:
            carry, record = cell.recur(params, carry, xp_t)
            extra = {}
        if perturbed:
            if cell not in (LSTM, GRU):  # the RNN's derivative needs h before the perturbation
                extra["h_raw"] = record["h"]
            h = record["h"] + e_t
            carry, record = (h, *carry[1:]), {**record, "h": h}
        return carry, (record, extra)

    return body


def _previous(seq: jax.Array, first: jax.Array, reverse: bool) -> jax.Array:
    """The value entering each step: ``seq`` shifted by one step in scan order, ``first``
    (the initial carry) entering the first step."""
    if reverse:
        return jnp.concatenate([seq[1:], first[None]])
    return jnp.concatenate([first[None], seq[:-1]])


def _plus(x, ct):
    """``x + ct``, where a cotangent ``ct`` that is a symbolic zero comes as None."""
    return x if ct is None else x + ct


def _weight_grads(dz: jax.Array, h_prev: jax.Array):
    """``dW_hh = sum dz h_prev^T`` and ``db_hh = sum dz`` over every step and batch entry, as
    one matmul."""
    gh = dz.shape[-1]
    dz2 = dz.reshape(-1, gh)
    return dz2.T @ h_prev.reshape(-1, h_prev.shape[-1]), jnp.sum(dz2, axis=0)


def _rnn_backward(cell, w, records, extra, carry0, d_final, cts, reverse, perturbed):
    h_raw = extra["h_raw"] if perturbed else records["h"]
    tanh = cell.name == "rnn_tanh"

    def body(d_next, inputs):
        gh, h = inputs
        dh = _plus(d_next[0], gh)
        dz = dh * ((1 - h * h) if tanh else (h > 0).astype(h.dtype))
        return (dz @ w,), (dz, dh if perturbed else None)

    d_carry0, (dz, dh) = lax.scan(body, d_final, (cts["h"], h_raw), reverse=not reverse)
    return d_carry0, dz, dz, dh


def _lstm_backward(cell, w, records, extra, carry0, d_final, cts, reverse, perturbed):
    c_prev = _previous(records["c"], carry0[1], reverse)

    def body(d_next, inputs):
        (gh, gc, gi, gf, gg, go), (i, f, g, o, c, cp) = inputs
        tc = jnp.tanh(c)
        dh = _plus(d_next[0], gh)
        dc = _plus(d_next[1] + dh * o * (1 - tc * tc), gc)
        dz = jnp.concatenate([_plus(dc * g, gi) * i * (1 - i), _plus(dc * cp, gf) * f * (1 - f),
                              _plus(dc * i, gg) * (1 - g * g), _plus(dh * tc, go) * o * (1 - o)],
                             axis=-1)
        return (dz @ w, dc * f), (dz, dh if perturbed else None)

    inputs = (tuple(cts[k] for k in "hcifgo"),
              tuple(records[k] for k in "ifgoc") + (c_prev,))
    d_carry0, (dz, dh) = lax.scan(body, d_final, inputs, reverse=not reverse)
    return d_carry0, dz, dz, dh


def _gru_backward(cell, w, records, extra, carry0, d_final, cts, reverse, perturbed):
    h_prev = _previous(records["h"], carry0[0], reverse)

    def body(d_next, inputs):
        (gh, gr, gz, gn), (r, z, n, hn, hp) = inputs
        dh = _plus(d_next[0], gh)
        dn = _plus(dh * (1 - z), gn) * (1 - n * n)          # gradient of n's pre-activation
        dz_r = _plus(dn * hn, gr) * r * (1 - r)
        dz_z = _plus(dh * (hp - n), gz) * z * (1 - z)
        dz_hh = jnp.concatenate([dz_r, dz_z, dn * r], axis=-1)
        return (dh * z + dz_hh @ w,), (dz_hh, dn, dh if perturbed else None)

    inputs = (tuple(cts[k] for k in "hrzn"), (records["r"], records["z"], records["n"],
                                             extra["hn"], h_prev))
    d_carry0, (dz_hh, dn, dh) = lax.scan(body, d_final, inputs, reverse=not reverse)
    hidden = dn.shape[-1]
    dxp = jnp.concatenate([dz_hh[..., : 2 * hidden], dn], axis=-1)
    return d_carry0, dz_hh, dxp, dh


_BACKWARD = {"rnn_tanh": _rnn_backward, "rnn_relu": _rnn_backward, LSTM.name: _lstm_backward,
             GRU.name: _gru_backward}


@cache
def _recurrence(cell_name: str, reverse: bool, perturbed: bool):
    """The ``custom_vjp`` function ``(w_hh, b_hh, xp, carry0[, eps]) -> (final, records)``
    for one cell, direction and perturbation flag.

    It uses symbolic zeros: the cotangents of outputs nothing depends on (every gate, when
    only a loss of h is differentiated) arrive as ``SymbolicZero`` and cost nothing in the
    backward scan. Gradients of inputs that are not differentiated (the weights, in
    ``memory_row``) are computed and dropped, and XLA removes that dead code.
    """
    cell = CELLS[cell_name]
    backward = _BACKWARD[cell_name]

    def forward(w, b, xp, carry0, *eps):
        params = {"weight_hh": w, "bias_hh": b}
        body = _forward_body(cell, params, perturbed)
        inputs = (xp, eps[0]) if perturbed else xp
        final, (records, extra) = lax.scan(body, carry0, inputs, reverse=reverse)
        return (final, records), (w, records, extra, carry0)

    @jax.custom_vjp
    def recurrence(w, b, xp, carry0, *eps):
        return forward(w, b, xp, carry0, *eps)[0]

    def fwd(*args):
        return forward(*jax.tree.map(lambda a: a.value, args))

    def bwd(residuals, cts):
        w, records, extra, carry0 = residuals
        cts_final, cts_rec = cts
        d_final = tuple(jnp.zeros(c.shape, c.dtype) if _is_zero(ct) else ct
                        for ct, c in zip(cts_final, carry0, strict=True))
        cts_rec = {k: None if _is_zero(ct) else ct for k, ct in cts_rec.items()}
        d_carry0, dz_hh, dxp, dh = backward(cell, w, records, extra, carry0, d_final, cts_rec,
                                            reverse, perturbed)
        h_prev = _previous(records["h"], carry0[0], reverse)
        dw, db = _weight_grads(dz_hh, h_prev)
        grads = (dw, db, dxp, tuple(d_carry0))
        return (*grads, dh) if perturbed else grads

    recurrence.defvjp(fwd, bwd, symbolic_zeros=True)
    return recurrence


def _is_zero(ct) -> bool:
    return isinstance(ct, SymbolicZero)
