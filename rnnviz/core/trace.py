"""A full trace: one scan over a sequence, every state and gradient as numpy arrays.

Array names (each unit ``u`` is ``l{k}`` or ``l{k}_reverse``):

=========================  ===========  =====================================================
``h_u``, ``c_u``           ``(T, H)``   hidden and (LSTM) cell state
``gate_{x}_u``             ``(T, H)``   gate ``x`` (``i f g o`` LSTM, ``r z n`` GRU)
``h``                      ``(T, D*H)`` the top layer's output, as PyTorch's ``output``
``output``                 ``(T, O)``   the readout (``h`` when there is none)
``loss``                   ``(T,)``     per-step loss (0 where the mask does not score)
``grad_loss_h_u``          ``(T,)``     ``||dL/dh_k||``, BPTT of the whole sequence's loss
``grad_flow_u``            ``(T, T)``   row t: ``||d loss_t / dh_k||`` for every k
``memory_u``               ``(T, T)``   row t: ``||dh_t / dh_k||_F`` (Frobenius norm)
``grad_param_{name}``      ``()``       ``||dL/dW||`` of each parameter tensor
=========================  ===========  =====================================================

The loss and gradient arrays are present only when the trace had a target (``memory_u`` needs
none); the ``(T, T)`` ones only when asked for.

``Trace.timing`` (a ``TraceTime``) is the measured wall time of the trace's jitted forward
pass (and, with a target, its backward pass), waited for with ``jax.block_until_ready``, and
which scan the cell ran: ``"parallel"`` (an associative scan over every step at once, where
the cell prefers it) or ``"sequential"`` (a ``lax.scan`` of its step). A call that compiled
its program is run and timed once more, so compilation is never counted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import jax
import numpy as np

from rnnviz.arrays import finite_as, real_array
from rnnviz.core import gradient_maps, gradients
from rnnviz.core.forward import run
from rnnviz.core.losses import Target
from rnnviz.core.programs import PROGRAMS
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_LENGTH, MAX_MATRIX_VALUES
from rnnviz.paths import atomic_file


@partial(jax.jit, static_argnums=0)
def _run_states(spec: ModelSpec, params: dict, xs):
    _, states, outputs = run(spec, params, xs)
    return states, outputs


class TraceTime(NamedTuple):
    """How long a trace's jitted work took: ``seconds`` of wall time (compilation not
    counted), over ``steps`` steps, with the ``scan`` the cell ran (``"parallel"`` or
    ``"sequential"``)."""

    seconds: float
    steps: int
    scan: str


def scan_kind(spec: ModelSpec) -> str:
    """``"parallel"`` if the trace runs the cell's associative scan (``prefer_parallel``),
    else ``"sequential"``."""
    cell = spec.cell_type
    return "parallel" if cell.prefer_parallel and cell.parallel is not None else "sequential"


RERUN_MAX_STEPS = 10_000  # a trace that compiled is run again to be timed up to this length


def timed(fn, *args, rerun: bool = True, **kwargs):
    """``(fn(*args, **kwargs), seconds)`` for a jitted ``fn``, waited for with
    ``jax.block_until_ready``. A call that compiled (the jit cache grew) is run again and that
    run timed, so the seconds are the program's, not the compiler's; with ``rerun=False`` (a
    long sequence, where running twice would cost the user more than the figure is worth)
    its seconds are None (unknown), and the next call of that shape is timed."""
    cache_size = getattr(fn, "_cache_size", lambda: 0)  # jax.jit's; a plain function: 0
    size = cache_size()
    seconds: float | None = None
    for _ in range(2):
        start = time.perf_counter()
        out = jax.block_until_ready(fn(*args, **kwargs))
        seconds = time.perf_counter() - start
        if cache_size() == size:
            break
        size = cache_size()
        if not rerun:
            return out, None
    return out, seconds


@dataclass
class Trace:
    """Named numpy arrays of one run (see the module docstring for the names), and how long
    the run took (``timing``; None for a trace spliced or read from elsewhere)."""

    spec: ModelSpec
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    timing: TraceTime | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __contains__(self, name: str) -> bool:
        return name in self.arrays

    @property
    def steps(self) -> int:
        return len(self.arrays["output"])

    @property
    def nonfinite(self) -> list[str]:
        """Names of the arrays holding NaN or Inf (an exploding gradient, say)."""
        return [k for k, v in self.arrays.items()
                if np.issubdtype(v.dtype, np.floating) and not np.all(np.isfinite(v))]

    def save_npz(self, path: str | os.PathLike) -> None:
        """Write every array to an ``.npz`` at exactly ``path``, atomically (readable with
        ``allow_pickle=False``); one-line ``RnnvizError`` when it cannot be written."""
        with atomic_file(path) as f:
            np.savez(f, **self.arrays)  # type: ignore[arg-type]  # numpy's stub: no **kwargs


def to_host(tree):
    """Every array of ``tree`` as numpy (read-only, as ``jax.device_get`` gives them), waiting
    for each: one ``np.asarray`` per leaf costs about a fifth of ``jax.device_get``'s
    per-array bookkeeping, which was a third of a small trace's time
    (``benchmarks/bench_overhead.py``)."""
    return jax.tree_util.tree_map(np.asarray, tree)


def as_input(spec: ModelSpec, xs, source: str = "input") -> jax.Array:
    """Check ``xs`` is ``(T, input_size)`` real numbers, finite in the model's dtype, with
    ``1 <= T <= MAX_LENGTH``, and cast it to that dtype; one-line ``RnnvizError`` (starting
    with ``source``) otherwise. A model with an embedding reads token ids: ``(T,)`` or
    ``(T, 1)`` whole numbers in ``0..vocab_size-1``, kept as ``(T, 1)`` in the model's dtype
    (exact: ids stay below ``MAX_TOKENS``)."""
    xs = real_array(xs, source)
    width = spec.in_size
    if xs.ndim == 1 and width == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != width:
        what = "token ids" if spec.vocab_size is not None else "values"
        raise RnnvizError(f"{source} must be (T, {width}) {what}, got shape {xs.shape}")
    if len(xs) == 0:
        raise RnnvizError(f"{source} has no time steps")
    if len(xs) > MAX_LENGTH:
        raise RnnvizError(f"{source} has {len(xs)} time steps; at most {MAX_LENGTH} "
                          f"(limit MAX_LENGTH)")
    if spec.vocab_size is not None:
        check_token_ids(xs[:, 0], spec.vocab_size, source)
    return jax.numpy.asarray(finite_as(xs, spec.dtype, source))


def check_token_ids(ids: np.ndarray, vocab_size: int, source: str) -> None:
    """One line naming the first step whose id is not a whole number in ``0..V-1``."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(ids) & (ids == np.round(ids)) & (ids >= 0) & (ids < vocab_size))
    if np.any(bad):
        t = int(np.flatnonzero(bad)[0])
        raise RnnvizError(f"{source}: token ids must be whole numbers in 0..{vocab_size - 1} "
                          f"(the embedding's rows), got {ids[t]:g} at step {t}")


def check_matrices(spec: ModelSpec, steps: int, *, flow: bool, memory: bool) -> None:
    """Refuse a trace whose ``(T, T)`` arrays (``grad_flow_u`` with ``flow``, ``memory_u``
    with ``memory``, one per unit) would hold more than ``MAX_MATRIX_VALUES`` values."""
    values = (int(flow) + int(memory)) * len(spec.units) * steps * steps
    if values > MAX_MATRIX_VALUES:
        names = " and ".join(name for name, on in (("gradient-flow", flow), ("memory", memory))
                             if on)
        raise RnnvizError(f"the (T, T) {names} arrays of {len(spec.units)} unit(s) over "
                          f"{steps} steps would hold {values} values; at most "
                          f"{MAX_MATRIX_VALUES} (limit MAX_MATRIX_VALUES): trace fewer steps "
                          f"or leave them out")


def check_target(spec: ModelSpec, target: Target, steps: int) -> None:
    """One-line ``RnnvizError`` unless ``target`` has ``steps`` steps and fits the model's
    output (``(T, O)`` values, or class indices below ``O``)."""
    if len(target) != steps:
        raise RnnvizError(f"target has {len(target)} steps, the input {steps}")
    if target.kind == "mse" and target.values.shape[1] != spec.out_size:
        raise RnnvizError(f"target must be ({steps}, {spec.out_size}) to match the model's "
                          f"output, got {target.values.shape}")
    if target.kind == "xent" and (target.values.min() < 0
                                  or target.values.max() >= spec.out_size):
        raise RnnvizError(f"class targets must lie in [0, {spec.out_size}), "
                          f"got {target.values.min()}..{target.values.max()}")


def compute_trace(spec: ModelSpec, params: dict, xs, target: Target | None = None, *,
                  flow: bool = False, memory: bool = False) -> Trace:
    """Run ``spec`` with ``params`` over ``xs (T, input_size)`` and collect everything.

    With a ``target``: per-step loss, ``grad_loss_h_u`` and ``grad_param_*`` (one forward and
    one backward pass); ``flow=True`` adds the ``(T, T)`` ``grad_flow_u``. ``memory=True`` adds
    the ``(T, T)`` ``memory_u`` (``T*H`` backward passes per unit). Both are computed many rows
    at a time by ``rnnviz.core.gradient_maps``.
    """
    xs = as_input(spec, xs)
    check_matrices(spec, len(xs), flow=flow and target is not None, memory=memory)
    PROGRAMS.use(spec, len(xs))
    out: dict[str, np.ndarray] = {}
    if target is None:
        (states, outputs), seconds = timed(_run_states, spec, params, xs,
                                           rerun=len(xs) <= RERUN_MAX_STEPS)
        out.update(to_host(states))
        out["output"] = np.asarray(outputs)
    else:
        check_target(spec, target, len(xs))
        values, mask = target.values, target.mask  # numpy: jit moves them in its C++ path
        result, seconds = timed(gradients.trace_with_bptt, spec, params, xs, values, mask,
                                target.kind, rerun=len(xs) <= RERUN_MAX_STEPS)
        states, outputs, losses, grad_h, grad_params = to_host(result)
        out.update(states)
        out["output"], out["loss"] = outputs, losses
        out.update({f"grad_loss_h_{u}": g for u, g in grad_h.items()})
        out.update({f"grad_param_{n}": np.asarray(g) for n, g in grad_params.items()})
        if flow:  # many chunks: the target moved to the device once
            values, mask = jax.device_put((values, mask))
            rows = gradient_maps.flow_map(spec, params, xs, values, mask, target.kind)
            out.update({f"grad_flow_{u}": r for u, r in rows.items()})
    if memory:
        for unit in spec.units:
            out[f"memory_{unit}"] = gradient_maps.memory_map(spec, params, xs, unit)
    timing = None if seconds is None else TraceTime(seconds, len(xs), scan_kind(spec))
    return Trace(spec, {k: np.asarray(v) for k, v in out.items()}, timing)


def class_probability(trace: Trace, target: Target) -> np.ndarray:
    """``p(y_t) = softmax(output_t)[y_t]``, the probability the model gives the right class at
    each step the target scores, NaN at the others: ``(T,)``, from the trace's logits
    ``output (T, O)`` and class targets ``y (T,)``."""
    logits = trace["output"]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    correct = p[np.arange(trace.steps), target.values]
    return np.where(target.mask > 0, correct, np.nan)
