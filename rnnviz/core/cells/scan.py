"""Diagonal linear recurrences ``h_t = a_t * h_{t-1} + b_t`` computed for all steps at once.

The modern recurrences (minGRU, minLSTM, LRU, Mamba) have this shape, with ``a_t`` and ``b_t``
that do not read ``h_{t-1}``. Composing two steps gives a step of the same shape,

    (a1, b1) then (a2, b2)  =  (a1 a2, a2 b1 + b2),

an associative operation, so ``jax.lax.associative_scan`` computes every ``h_t`` in
``O(log T)`` sequential depth instead of ``T`` (Blelloch 1990; the LRU's reference code
scans the same way). Arrays are ``(T, ...)``, the scan runs along the first axis, and the
initial state ``h0 (...)`` enters as ``h_t = A_t h0 + B_t`` with ``(A_t, B_t)`` the composed
steps ``1..t``.

``log_scan`` is the log-space form Feng et al. (2024, Sec. 3.1.3 and Appendix B) use for
minGRU and minLSTM, where ``a_t`` lies in (0, 1) and ``b_t > 0``: the pairs are carried as
``(log A, log B)`` and composed with ``(la1 + la2, logaddexp(la2 + lb1, lb2))``, which stays
accurate where products of many ``a_t`` underflow.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax


def _compose(first, second):
    a1, b1 = first
    a2, b2 = second
    return a1 * a2, a2 * b1 + b2


def linear_scan(a: jax.Array, b: jax.Array, h0) -> jax.Array:
    """``h_t = a_t h_{t-1} + b_t`` for every t from ``h0``: ``a``, ``b`` ``(T, ...)`` (real or
    complex), ``h0`` broadcastable to ``b[0]`` (0 for a zero start)."""
    a_all, b_all = lax.associative_scan(_compose, (a, b), axis=0)
    return a_all * h0 + b_all


def _compose_log(first, second):
    la1, lb1 = first
    la2, lb2 = second
    return la1 + la2, jnp.logaddexp(la2 + lb1, lb2)


def log_scan(log_a: jax.Array, log_b: jax.Array, h0, eps: jax.Array | None = None
             ) -> jax.Array:
    """``h_t = a_t h_{t-1} + b_t (+ eps_t)`` from ``h0`` with ``a_t = exp(log_a_t)`` and
    ``b_t = exp(log_b_t) > 0``, composed in log space (see the module docstring).

    ``h0`` may have any sign (it enters linearly, ``exp(log A_t) h0``), and so may the
    perturbation ``eps (T, ...)``, which is scanned apart in linear space: the total is linear
    in it, ``sum_k (prod_{k<j<=t} a_j) eps_k``."""
    log_a_all, log_b_all = lax.associative_scan(_compose_log, (log_a, log_b), axis=0)
    h = jnp.exp(log_a_all) * h0 + jnp.exp(log_b_all)
    if eps is not None:
        h = h + linear_scan(jnp.exp(log_a), eps, 0.0)
    return h


def previous_states(h: jax.Array, h0) -> jax.Array:
    """``h_{t-1}`` for every t: ``h0`` then ``h_0 .. h_{T-2}`` along the first axis."""
    first = jnp.broadcast_to(h0, h.shape[1:]).astype(h.dtype)
    return jnp.concatenate([first[None], h[:-1]], axis=0)


def _flip(tree):
    return jax.tree.map(lambda v: jnp.flip(v, axis=0), tree)


def sequence_scan(cell, params, xp, carry0, *, reverse: bool = False,
                  eps: jax.Array | None = None, parallel: bool = False):
    """Run a modern cell (one without a hand-written backward) over the projected inputs
    ``xp (T, ..., P)`` from ``carry0``: ``(final_carry, records)``, records in time order.

    ``parallel=False`` is a ``lax.scan`` of ``cell.recur`` (the stepper's function),
    ``parallel=True`` the cell's associative scan; both take the perturbation ``eps (T, ...,
    width of h)``, ``h_t <- h_t + eps_t`` inside the step, before anything reads ``h_t``
    (the layer's output, the next step). ``reverse`` runs from the last step back. JAX
    differentiates either (no custom backward)."""
    if reverse:
        xp = _flip(xp)
        eps = None if eps is None else _flip(eps)
    if parallel:
        final, records = cell.parallel(params, xp, tuple(carry0), eps)
    else:
        def body(carry, inputs):
            xp_t, e_t = inputs
            return cell.recur(params, carry, xp_t, e_t)

        final, records = lax.scan(body, tuple(carry0), (xp, eps))
    return final, (_flip(records) if reverse else records)
