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

Each cell's backward scan (its equations in its module's docstring) is
``cell.backward(w_hh, records, residuals, carry0, d_final, cts, reverse, perturbed)``: it gets
the records and residuals of the forward scan, the cotangent of the final carry and the
records' cotangents ``cts`` (None where symbolically zero), and returns a ``Backward``.

Only reverse mode is defined (``jax.grad``, ``jax.vjp``, and ``vmap`` of either); nothing in
rnnviz uses forward mode (``jax.jvp``), which a ``custom_vjp`` does not support.
"""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from rnnviz.core.cells import Carry, CellType, Params, get_cell
from rnnviz.core.cells.base import previous


def scan(cell: CellType, params: Params, xp: jax.Array, carry0: Carry, *,
         reverse: bool = False, eps: jax.Array | None = None):
    """``lax.scan`` of ``cell.recur`` over ``xp (T, ..., G*H)`` from ``carry0``, with the
    backward pass above. ``params`` needs ``weight_hh (G*H, H)`` and ``bias_hh (G*H,)``.
    Returns ``(final_carry, records)``. A cell without a hand-written backward pass
    (``cell.backward`` None) is differentiated by autodiff (``scan_autodiff``)."""
    if cell.backward is None:
        return scan_autodiff(cell, params, xp, carry0, reverse=reverse, eps=eps)
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
    backward pass needs beyond the record (``cell.recur_saving``'s, and for a cell that
    ``saves_raw_h``, h before the perturbation)."""
    def body(carry, inputs):
        xp_t, e_t = inputs if perturbed else (inputs, None)
        carry, record, extra = cell.recur_saving(params, carry, xp_t)
        if perturbed:
            if cell.saves_raw_h:
                extra = {**extra, "h_raw": record["h"]}
            h = record["h"] + e_t
            carry, record = (h, *carry[1:]), {**record, "h": h}
        return carry, (record, extra)

    return body


def _weight_grads(dz: jax.Array, h_prev: jax.Array):
    """``dW_hh = sum dz h_prev^T`` and ``db_hh = sum dz`` over every step and batch entry, as
    one matmul."""
    gh = dz.shape[-1]
    dz2 = dz.reshape(-1, gh)
    return dz2.T @ h_prev.reshape(-1, h_prev.shape[-1]), jnp.sum(dz2, axis=0)


@cache
def _recurrence(cell_name: str, reverse: bool, perturbed: bool):
    """The ``custom_vjp`` function ``(w_hh, b_hh, xp, carry0[, eps]) -> (final, records)``
    for one cell, direction and perturbation flag.

    It uses symbolic zeros: the cotangents of outputs nothing depends on (every gate, when
    only a loss of h is differentiated) arrive as ``SymbolicZero`` and cost nothing in the
    backward scan. Gradients of inputs that are not differentiated (the weights, in
    ``memory_row``) are computed and dropped, and XLA removes that dead code.
    """
    cell = get_cell(cell_name)
    backward = cell.backward
    assert backward is not None  # scan() sends the cells without one to scan_autodiff

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
        d_carry0, dz_hh, dxp, dh = backward(w, records, extra, carry0, d_final, cts_rec,
                                            reverse, perturbed)
        h_prev = previous(records["h"], carry0[0], reverse)
        dw, db = _weight_grads(dz_hh, h_prev)
        grads = (dw, db, dxp, tuple(d_carry0))
        return (*grads, dh) if perturbed else grads

    recurrence.defvjp(fwd, bwd, symbolic_zeros=True)
    return recurrence


def _is_zero(ct) -> bool:
    return isinstance(ct, SymbolicZero)
