"""Back-propagation through time: whole, truncated to windows, or rematerialised in chunks.

The training loss of a batch of ``B`` sequences (``rnnviz.training.loop``) is a weighted sum
over every step,

    L = sum_t sum_b w_bt l_bt,      w_bt = m_bt / (B max(1, sum_s m_bs)),

so it splits exactly into the sums over consecutive pieces of the sequence. ``value_and_grad``
differentiates it three ways (``Bptt`` says which):

- **whole** (``window=None``): the gradient of ``L``, through every step back to the first.
- **truncated** (``window=W``): the sequence is cut into windows of ``W`` steps,
  ``[0, W), [W, 2W), ...``; each window's part ``L_w`` is differentiated on its own, from the
  state it starts with, and the gradients are summed, ``g = sum_w dL_w/dtheta``. The state
  entering window ``w`` is the one the previous window ended with, detached
  (``lax.stop_gradient``: no gradient flows across a window boundary) when ``carry`` is on,
  or zero when it is off (each window then starts afresh, as if it were a sequence of its
  own). A loss at step ``t`` therefore reaches back only to the start of its window,
  ``W floor(t / W)``: the gradient with respect to every earlier input is exactly zero. With
  ``carry`` on, the forward pass (the states, the outputs, the loss) is the whole
  sequence's; with ``W >= T`` there is one window and the gradient is the whole one.
  The windows are differentiated one after another inside a ``lax.scan``, so the backward
  pass holds one window's activations at a time, not the sequence's.
- **rematerialised** (``chunk=C``): the steps are grouped in chunks of ``C``; the forward pass
  keeps only the state entering each chunk, and the backward pass runs each chunk's forward
  again (``jax.checkpoint``) to get its activations back. Same gradient, about one more
  forward pass of compute, and ``ceil(T/C)`` states plus one chunk's activations held instead
  of ``T`` steps' (``rnnviz.training.memory`` gives the figures). Combined with a window, the
  chunks cut each window.

Truncation and chunks need the state to flow one way through time: a bidirectional model's
reverse direction reads the sequence from its end, so it takes neither (``check_bptt``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from rnnviz.core.forward import run, zero_carries
from rnnviz.core.losses import step_losses
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError


class Bptt(NamedTuple):
    """How the gradient goes back through time (hashable: it shapes compiled programs).

    ``window``: truncation window in steps (None = the whole sequence); ``carry``: the state
    crosses window boundaries (detached) rather than restarting from zero; ``chunk``:
    rematerialise in chunks of this many steps (None = keep every step's activations)."""

    window: int | None = None
    carry: bool = True
    chunk: int | None = None

    @property
    def whole(self) -> bool:
        """Plain back-propagation through the whole sequence, nothing truncated or
        recomputed."""
        return self.window is None and self.chunk is None


WHOLE = Bptt()


def check_bptt(spec: ModelSpec, bptt: Bptt) -> None:
    """One line for a bidirectional model asked to truncate or rematerialise."""
    if spec.bidirectional and not bptt.whole:
        key = "bptt_window" if bptt.window is not None else "remat_chunk"
        raise RnnvizError(f"{key}: a bidirectional model reads its sequence from both ends, so "
                          f"its gradient cannot be cut in time; expected none for "
                          f"{spec.describe()}")


def step_weights(mask: jax.Array) -> jax.Array:
    """``w (B, T)``: each step's weight in the batch's loss, ``m_bt / (B max(1, sum_s m_bs))``
    for a mask ``(B, T)``."""
    per_sequence = jnp.maximum(jnp.sum(mask, axis=1, keepdims=True), 1.0)
    return mask / per_sequence / mask.shape[0]


def _pad_time(a: jax.Array, steps: int) -> jax.Array:
    """``a (T, ...)`` with zeros appended to ``steps`` steps."""
    extra = steps - a.shape[0]
    return a if extra == 0 else jnp.concatenate([a, jnp.zeros((extra, *a.shape[1:]),
                                                               a.dtype)])


def _pieces(a: jax.Array, size: int) -> jax.Array:
    """``a (T, ...)`` padded with zeros and cut into ``(ceil(T/size), size, ...)``."""
    n = math.ceil(a.shape[0] / size)
    return _pad_time(a, n * size).reshape(n, size, *a.shape[1:])


def _piece_loss(spec: ModelSpec, params, carry, xs, ys, ws, kind: str):
    """``(sum_t sum_b w_bt l_bt, final carry)`` of a run over ``xs (S, B, I)`` from
    ``carry``."""
    final, _, outputs = run(spec, params, xs, carry)
    return jnp.sum(step_losses(outputs, ys, ws, kind)), final


def piece_loss(spec: ModelSpec, params, carry, xs, ys, ws, kind: str, chunk: int | None):
    """The weighted loss of steps ``xs (S, B, I)``, ``ys``, ``ws (S, B)`` from ``carry``, and
    the carry they end with; with ``chunk``, a scan over chunks of ``chunk`` steps whose body
    is ``jax.checkpoint``-ed (padding steps weigh 0, and the carry they reach is dropped)."""
    steps = xs.shape[0]
    if chunk is None or chunk >= steps:
        return _piece_loss(spec, params, carry, xs, ys, ws, kind)

    @jax.checkpoint
    def body(carry, piece):
        x, y, w = piece
        loss, final = _piece_loss(spec, params, carry, x, y, w, kind)
        return final, loss

    full = steps // chunk * chunk
    final, losses = lax.scan(body, carry, (_pieces(xs[:full], chunk), _pieces(ys[:full], chunk),
                                           _pieces(ws[:full], chunk)))
    loss = jnp.sum(losses)
    if full < steps:  # the last, shorter chunk: its own checkpointed piece, no padding
        rest, final = jax.checkpoint(_piece_loss, static_argnums=(0, 6))(
            spec, params, final, xs[full:], ys[full:], ws[full:], kind)
        loss = loss + rest
    return loss, final


def value_and_grad(spec: ModelSpec, params: dict, xs, ys, mask, kind: str,
                   bptt: Bptt = WHOLE):
    """``(L, dL/dparams, dL/dxs)`` with ``L`` the batch's loss (the module docstring) for
    ``xs (B, T, I)``, ``ys (B, T, O)`` or ``(B, T)``, ``mask (B, T)``, the gradient taken as
    ``bptt`` says. Under truncation the "gradient" is the sum of the windows' gradients, and
    ``L`` the sum of the windows' losses (the whole loss when ``carry`` is on).
    ``dL/dxs (B, T, I)`` shows how far back the gradient reaches; training drops it (and XLA
    with it)."""
    check_bptt(spec, bptt)
    x_t, y_t = jnp.swapaxes(xs, 0, 1), jnp.swapaxes(ys, 0, 1)  # time first: (T, B, ...)
    w_t = jnp.swapaxes(step_weights(mask), 0, 1)
    carry0 = zero_carries(spec, (xs.shape[0],))
    steps = x_t.shape[0]

    def loss_of(p, x, y, w, carry):
        return piece_loss(spec, p, carry, x, y, w, kind, bptt.chunk)

    grad = jax.value_and_grad(loss_of, argnums=(0, 1), has_aux=True)
    if bptt.window is None or bptt.window >= steps:
        (loss, _), (g_params, g_x) = grad(params, x_t, y_t, w_t, carry0)
        return loss, g_params, jnp.swapaxes(g_x, 0, 1)

    def window(state, piece):
        carry, total, g_sum = state
        x, y, w = piece
        start = lax.stop_gradient(carry) if bptt.carry else carry0
        (loss, final), (g_params, g_x) = grad(params, x, y, w, start)
        g_sum = jax.tree.map(jnp.add, g_sum, g_params)
        return (final, total + loss, g_sum), g_x

    size = bptt.window
    zeros = jax.tree.map(jnp.zeros_like, params)
    (_, loss, g_params), g_x = lax.scan(
        window, (carry0, jnp.zeros((), w_t.dtype), zeros),
        (_pieces(x_t, size), _pieces(y_t, size), _pieces(w_t, size)))
    g_x = g_x.reshape(-1, *g_x.shape[2:])[:steps]
    return loss, g_params, jnp.swapaxes(g_x, 0, 1)
