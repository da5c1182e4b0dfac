"""Editing the input of a traced sequence: recompute only the steps that follow the edit.

A unidirectional model's states at steps ``< k`` depend only on the inputs ``x_0..x_{k-1}``,
so when ``x_k`` changes they stay as they are: ``retrace_from(model, trace, xs, target, k)``
runs the forward from step ``k`` with the carry ``(h_{k-1}, c_{k-1})`` read off the old trace
and splices the new rows into copies of the trace's arrays. A bidirectional model's reverse
direction reads every step from the end, so any edit changes every step: it is recomputed
from 0.

The gradient arrays are another matter: ``||dL/dh_j||`` is the total derivative of the whole
sequence's loss, which reaches back through every later step, so an edit at ``k`` changes it
at every ``j`` (before ``k`` too). ``bptt_arrays`` recomputes them with one full forward and
backward pass (autodiff needs the activations of every step).

A task keeps its target consistent with an edited input where it defines the target as a
function of the input (``Task.retarget``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core import gradients
from rnnviz.core.forward import carries_from, run, state_keys
from rnnviz.core.losses import Target, step_losses
from rnnviz.core.model import Model
from rnnviz.core.programs import PROGRAMS
from rnnviz.core.trace import Trace, as_input, check_target


def _bucket(n: int, total: int) -> int:
    """The scan length for ``n`` remaining steps: the next power of two (at least 16), at most
    ``total``, so that a drag over every step compiles about ``log2(T)`` scans, not ``T``."""
    return min(total, max(16, 1 << (n - 1).bit_length()))


@partial(jax.jit, static_argnames=("spec", "kind"))
def _tail(spec, params, carries, xs, values, mask, kind):
    """Every state, the outputs and (with a target) the per-step losses over ``xs (n, I)``,
    starting from ``carries``."""
    _, states, outputs = run(spec, params, xs, carry0=carries)
    losses = None if kind is None else step_losses(outputs, values, mask, kind)
    return states, outputs, losses


@partial(jax.jit, static_argnames=("kind",))
def _losses(outputs, values, mask, kind):
    return step_losses(outputs, values, mask, kind)


def carry_before(model: Model, trace: Trace, k: int) -> dict:
    """The carry entering step ``k`` of every unit, read off ``trace`` (zeros at ``k = 0``)."""
    return carries_from(model.spec, None if k == 0 else (lambda name: trace[name][k - 1]))


def retrace_from(model: Model, trace: Trace, inputs, target: Target | None, k: int) -> Trace:
    """``trace`` after the inputs from step ``k`` on changed to ``inputs[k:]``.

    ``trace`` must hold the states of ``inputs[:k]`` (the rows before ``k`` are kept as they
    are); the target may have changed anywhere (the per-step loss is recomputed over every
    step: it is cheap). States, ``output`` and ``loss`` of steps ``>= k`` are computed by one
    scan of ``T - k`` steps (padded to a power of two) from the carry at ``k - 1``. Gradient
    arrays are copied unchanged: recompute them with ``bptt_arrays``.
    """
    spec = model.spec
    xs = np.asarray(as_input(spec, inputs))
    steps = len(xs)
    PROGRAMS.use(spec, steps)  # the tails' programs are counted with the length's
    if trace.steps != steps:
        raise ValueError(f"the trace has {trace.steps} steps, the input {steps}")
    if target is not None:
        check_target(spec, target, steps)
    k = 0 if spec.bidirectional else int(np.clip(k, 0, steps - 1))
    n = steps - k
    width = _bucket(n, steps)
    pad = np.zeros((width, xs.shape[1]), xs.dtype)
    pad[:n] = xs[k:]
    kind = None if target is None else target.kind
    values = mask = None
    if target is not None:
        values = np.zeros((width, *target.values.shape[1:]), target.values.dtype)
        mask = np.zeros(width, target.mask.dtype)
        values[:n], mask[:n] = target.values[k:], target.mask[k:]
    states, outputs, _ = jax.device_get(
        _tail(spec, model.params, carry_before(model, trace, k), pad, values, mask, kind))

    arrays = dict(trace.arrays)
    for name in [*state_keys(spec), "h"]:
        arrays[name] = _spliced(trace[name], states[name][:n], k)
    arrays["output"] = _spliced(trace["output"], outputs[:n], k)
    if target is not None:
        arrays["loss"] = np.asarray(_losses(arrays["output"], target.values, target.mask,
                                            target.kind))
    return Trace(spec, arrays)


def _spliced(old: np.ndarray, tail: np.ndarray, k: int) -> np.ndarray:
    new = old.copy()  # the old array may still be on screen or in an undo cache
    new[k:] = tail
    return new


def bptt_arrays(model: Model, inputs, target: Target) -> dict[str, np.ndarray]:
    """``grad_loss_h_u`` ``(T,)`` for every unit and ``grad_param_{name}`` ``()``, as in a
    full trace: one forward and one backward pass over the whole sequence."""
    spec = model.spec
    xs = as_input(spec, inputs)
    check_target(spec, target, len(xs))
    PROGRAMS.use(spec, len(xs))
    _, _, _, grad_h, grad_params = gradients.trace_with_bptt(
        spec, model.params, xs, jnp.asarray(target.values), jnp.asarray(target.mask),
        target.kind)
    grad_h, grad_params = jax.device_get((grad_h, grad_params))
    out = {f"grad_loss_h_{u}": np.asarray(g) for u, g in grad_h.items()}
    out.update({f"grad_param_{n}": np.asarray(g) for n, g in grad_params.items()})
    return out


def with_arrays(trace: Trace, arrays: dict[str, np.ndarray]) -> Trace:
    """A new trace: ``trace``'s arrays updated with ``arrays``."""
    return Trace(trace.spec, {**trace.arrays, **arrays})
