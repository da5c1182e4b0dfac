"""Gradients through time, by JAX autodiff through the scans (never finite differences).

All of them use one device: the hidden state of every unit is perturbed, ``h_t <- h_t + eps_t``,
and derivatives are taken with respect to ``eps`` at ``eps = 0``. That gives the *total*
derivative with respect to ``h_t`` (through every later step), which is what backpropagation
through time carries.

1. ``bptt``: ``||dL/dh_k||`` for every step k, ``L`` the whole sequence's loss, shape ``(T,)``
   per unit, plus ``||dL/dW||`` for every parameter tensor.
2. ``flow_row``: for one step t, ``||d l_t / dh_k||`` for every k, shape ``(T,)`` per unit
   (zero for k > t in a forward direction): the gradient of one step's loss fading, or blowing
   up, as it flows back. ``flow_matrix`` stacks all t into ``(T, T)``, rows t, columns k.
3. ``memory_row``: for one step t, the Frobenius norm ``||dh_t / dh_k||_F`` of the ``(H, H)``
   Jacobian for every k, within one unit: how much of step k the network still holds at
   step t. Needs no loss. ``memory_matrix`` stacks rows into ``(T, T)``.

NaN and Inf are kept as they come (an exploding gradient overflows float32); callers flag them.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import lax

from rnnviz.core.forward import run, widths
from rnnviz.core.losses import sequence_loss, step_losses
from rnnviz.core.spec import ModelSpec


def _zero_eps(spec: ModelSpec, steps: int) -> dict:
    """A zero perturbation of every unit's h, ``(T, width of h)`` (``(T, H)`` but for the
    LRU's ``[Re s; Im s]``, Mamba's state and the projected LSTM's ``(P,)`` h, see
    ``rnnviz.core.cells``)."""
    return {u: jnp.zeros((steps, widths(spec)["h"]), spec.dtype) for u in spec.units}


def _norms(tree: dict) -> dict:
    """``||g_t||`` over the last axis for each unit's ``(..., T, H)`` gradient."""
    return {u: jnp.sqrt(jnp.sum(g * g, axis=-1)) for u, g in tree.items()}


@partial(jax.jit, static_argnames=("spec", "kind"))
def trace_with_bptt(spec: ModelSpec, params: dict, xs, values, mask, kind: str):
    """One forward scan recording every state, and one backward pass.

    Returns ``(states, outputs, losses, grad_h, grad_params)``: ``states``/``outputs`` as in
    ``forward.run``, per-step ``losses (T,)``, ``grad_h`` maps each unit to
    ``||dL/dh_k|| (T,)`` and ``grad_params`` each parameter name to ``||dL/dW||``.
    """
    def loss_fn(params, eps):
        _, states, outputs = run(spec, params, xs, eps=eps)
        losses = step_losses(outputs, values, mask, kind)
        return sequence_loss(losses, mask), (states, outputs, losses)

    grad_fn = jax.grad(loss_fn, argnums=(0, 1), has_aux=True)
    (g_params, g_eps), (states, outputs, losses) = grad_fn(params, _zero_eps(spec, len(xs)))
    param_norms = {name: jnp.sqrt(jnp.sum(g * g)) for name, g in g_params.items()}
    return states, outputs, losses, _norms(g_eps), param_norms


def _step_losses_of_eps(spec, params, xs, values, mask, kind):
    def f(eps):
        _, _, outputs = run(spec, params, xs, eps=eps)
        return step_losses(outputs, values, mask, kind)
    return f


@partial(jax.jit, static_argnames=("spec", "kind"))
def flow_row(spec: ModelSpec, params: dict, xs, values, mask, kind: str, t):
    """``||d l_t / dh_k||`` for every k: a dict of ``(T,)`` per unit. ``t`` may be traced."""
    f = _step_losses_of_eps(spec, params, xs, values, mask, kind)
    g = jax.grad(lambda eps: f(eps)[t])(_zero_eps(spec, len(xs)))
    return _norms(g)


@partial(jax.jit, static_argnames=("spec", "kind", "batch_size"))
def flow_matrix(spec: ModelSpec, params: dict, xs, values, mask, kind: str,
                batch_size: int = 32):
    """``(T, T)`` per unit: row t is ``flow_row(t)``. One forward pass, T backward passes
    run ``batch_size`` at a time."""
    steps = len(xs)
    f = _step_losses_of_eps(spec, params, xs, values, mask, kind)
    _, vjp = jax.vjp(f, _zero_eps(spec, steps))

    def row(t):
        (g,) = vjp(jax.nn.one_hot(t, steps, dtype=spec.dtype))
        return _norms(g)

    return lax.map(row, jnp.arange(steps), batch_size=batch_size)


def _unit_h_of_eps(spec, params, xs, unit):
    zeros = _zero_eps(spec, len(xs))

    def f(e_unit):
        _, states, _ = run(spec, params, xs, eps={**zeros, unit: e_unit})
        return states[f"h_{unit}"]
    return f, zeros[unit]


MAX_JACOBIAN_BLOCK = 2**24   # values of one batch of Jacobian rows (64 MB in float32)


def _memory_row(spec, params, xs, unit, t):
    f, e0 = _unit_h_of_eps(spec, params, xs, unit)
    _, vjp = jax.vjp(lambda e: f(e)[t], e0)
    width, steps = widths(spec)["h"], len(xs)
    chunk = max(1, min(width, MAX_JACOBIAN_BLOCK // (steps * width)))
    if chunk == width:
        eye = jnp.eye(width, dtype=spec.dtype)
        (jac,) = jax.vmap(vjp)(eye)          # (H_out, T, H_in) = dh_t / dh_k for every k
        return jnp.sqrt(jnp.sum(jac * jac, axis=(0, 2)))

    # a wide state (Mamba's E*N values) or a long sequence: the rows of the Jacobian a batch
    # of ``chunk`` at a time, so that no more than MAX_JACOBIAN_BLOCK values are held at once
    def squares(start):
        rows = jax.nn.one_hot(start + jnp.arange(chunk), width, dtype=spec.dtype)
        (jac,) = jax.vmap(vjp)(rows)         # rows past the last are all zero
        return jnp.sum(jac * jac, axis=(0, 2))

    starts = jnp.arange(0, width, chunk)
    return jnp.sqrt(jnp.sum(lax.map(squares, starts), axis=0))


@partial(jax.jit, static_argnames=("spec", "unit"))
def memory_row(spec: ModelSpec, params: dict, xs, unit: str, t):
    """``||dh_t / dh_k||_F`` for every k within ``unit``, shape ``(T,)``. Costs one backward
    pass per value of h (H, or a modern cell's wider state), batched: all at once, or a batch
    of rows at a time where all would hold more than ``MAX_JACOBIAN_BLOCK`` values."""
    return _memory_row(spec, params, xs, unit, t)


@partial(jax.jit, static_argnames=("spec", "unit", "batch_size"))
def memory_matrix(spec: ModelSpec, params: dict, xs, unit: str, batch_size: int = 8):
    """``(T, T)``: row t is ``memory_row(t)``. Costs ``T*H`` backward passes: meant for short
    sequences and small models (the explorer asks for one row at a time)."""
    return lax.map(lambda t: _memory_row(spec, params, xs, unit, t), jnp.arange(len(xs)),
                   batch_size=batch_size)
