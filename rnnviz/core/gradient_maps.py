"""The whole gradient-flow and Jacobian-memory maps, or chosen rows of them, computed many rows
at a time.

For a sequence of ``T`` steps and each unit (layer and direction):

- flow ``F[t, k] = ||d l_t / d h_k||``: row t is the gradient of step t's loss flowing back
  (zero for k > t in a forward direction), one backward pass per row;
- memory ``M[t, k] = ||d h_t / d h_k||_F`` within one unit: row t is ``H`` backward passes,
  one per component of ``h_t``.

Both are what ``rnnviz.core.gradients`` computes one row at a time (``flow_row``,
``memory_row``); this module computes the same numbers for many rows at once, in chunks, with
progress and a way to stop between chunks. Three ways, the fastest that applies:

1. **sweep** (a cell with a ``linear_step``; the flow of a one-layer unidirectional model, the
   memory of any unit): the backward step is a linear map of the carry's cotangent,
   ``d_{k-1} = A_k(d_k)``. A chunk of ``R`` rows sweeps back from its last row's step to step 0
   with the ``R`` cotangents (``R H`` for memory) as one ``(B, ...)`` batch, so each step is
   one matrix-matrix product; row t's cotangent enters at step t (``d l_t / d h_t`` through
   the readout, or the identity). ``A_k``'s coefficients (the gate derivatives folded into
   ``W_hh``) are made per block of steps, once per chunk. A row costs t steps, not T: the whole
   map is about ``T^2 / 2`` row-steps, the floor of any method that runs the backward passes.
2. **blocks** (a stacked unidirectional model, or a cell without ``linear_step``): the same
   chunks and blocks, each block's backward taken by ``jax.vjp`` of the model over that block
   from the carries the forward pass recorded, ``vmap``-ed over the chunk's rows.
3. **whole** (a bidirectional model, whose reverse direction carries the future back): each
   chunk's rows as ``vmap`` of one ``vjp`` of the whole sequence.

Multiply-adds (``map_cost``): the sweep does, per row and step, one ``(1, C H) @ (C H, H)``
product (``C`` carries: LSTM ``2 H^2``, GRU and RNN ``H^2``); the issue's floor counts the
``(1, G H) @ (G H, H)`` product of ``W_hh^T dz`` (``4 H^2`` for the LSTM), ``4 T^2 H^2``
flops for the whole LSTM flow map. ``benchmarks/bench_flow_map.py`` prints both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.core import gradients
from rnnviz.core.cells.base import previous
from rnnviz.core.forward import readout, run, state_key
from rnnviz.core.losses import step_losses
from rnnviz.core.spec import ModelSpec, unit_params
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_MATRIX_VALUES

FLOW_ROWS_PER_CHUNK = 128     # rows swept together: a (128, C H) @ (C H, H) product per step
MEMORY_BATCH = 512            # cotangents swept together for memory rows (rows x H)
COEFFICIENT_BYTES = 16 << 20  # a block's folded W_hh copies: sets the block length
SEGMENT_FLOPS = 2e9           # a sweep's work between two chances to stop (~10 ms idle)
Progress = Callable[[float], None]
ShouldStop = Callable[[], bool]


class Cancelled(Exception):
    """``should_stop`` said stop: the map was left unfinished."""


@dataclass(frozen=True)
class MapCost:
    """What computing a map will take: ``flops`` (the issue's count, ``2 G H^2`` per row and
    step reached), ``out_bytes`` (the arrays it returns), ``work_bytes`` (the largest
    temporary buffers) and ``method`` (``sweep``, ``blocks`` or ``whole``)."""

    flops: float
    out_bytes: int
    work_bytes: int
    method: str

    def seconds(self, rate: float) -> float:
        """Estimated seconds at ``rate`` flop/s (``matmul_rate`` times an efficiency)."""
        return self.flops / rate


def flow_method(spec: ModelSpec) -> str:
    """How ``flow_map`` computes ``spec``'s flow (module docstring)."""
    if spec.bidirectional:
        return "whole"
    if spec.num_layers == 1 and spec.cell_type.linear_step is not None:
        return "sweep"
    return "blocks"


def memory_method(spec: ModelSpec) -> str:
    return "sweep" if spec.cell_type.linear_step is not None else "whole"


def _row_steps(method: str, steps: int, rows: int | None) -> float:
    """Backward steps over every row: ``t + 1`` per row t for a sweep or blocks (about T/2 on
    average; a chosen set of rows is costed at its worst, T each), T for the whole."""
    if rows is None:
        return steps * (steps + 1) / 2 if method != "whole" else float(steps) * steps
    return float(rows) * steps


def map_cost(spec: ModelSpec, steps: int, kind: str, rows: int | None = None) -> MapCost:
    """The cost of ``kind`` (``"flow"``: every unit; ``"memory"``: every unit) over ``steps``
    steps, for every row (``rows=None``) or ``rows`` chosen ones."""
    h, g = spec.hidden_size, spec.cell_type.num_gates
    per_row_step = 2.0 * g * h * h * len(spec.units)
    method = flow_method(spec) if kind == "flow" else memory_method(spec)
    flops = per_row_step * _row_steps(method, steps, rows) * (h if kind == "memory" else 1)
    n_rows = steps if rows is None else rows
    out = n_rows * steps * np.dtype(spec.dtype).itemsize * len(spec.units)
    batch = FLOW_ROWS_PER_CHUNK if kind == "flow" else MEMORY_BATCH
    work = COEFFICIENT_BYTES + 4 * batch * steps * 4 + batch * h * 4 * 8
    if method == "whole" or method == "blocks":   # vmap of vjp keeps each row's (T, H)
        work += batch * steps * h * 4 * (2 if method == "whole" else 0)
    return MapCost(flops, int(out), int(work), method)


def matmul_rate(repeats: int = 5) -> float:
    """Flop/s of a float32 ``(512, 512) @ (512, 512)`` product in this process (the best of
    ``repeats``, about 3 ms each), the rate the maps' estimates are scaled by."""
    import time

    a = jnp.ones((512, 512), jnp.float32)
    f = jax.jit(lambda a: a @ a)
    f(a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 2 * 512**3 / best


# -- the sweep ---------------------------------------------------------------------------------
def _block_length(spec: ModelSpec) -> int:
    h = spec.hidden_size
    per_step = len(spec.cell_type.carry_names) * h * h * np.dtype(spec.dtype).itemsize
    return int(np.clip(COEFFICIENT_BYTES // per_step, 4, 32))


@partial(jax.jit, static_argnames=("spec", "unit"))
def _records(spec: ModelSpec, params: dict, xs, unit: str):
    """The unit's records (each state, ``(T, H)``) and the carry entering each step, in the
    order its recurrence runs (reversed for a reverse direction), and the top h ``(T, D H)``."""
    _, states, _ = run(spec, params, xs)
    cell = spec.cell_type
    records = {n: states[state_key(n, unit)] for n in cell.state_names}
    zero = jnp.zeros((spec.hidden_size,), spec.dtype)
    reverse = unit.endswith("_reverse")
    carry_prev = tuple(previous(records[n], zero, reverse) for n in cell.carry_names)
    if reverse:
        records = {n: v[::-1] for n, v in records.items()}
        carry_prev = tuple(c[::-1] for c in carry_prev)
    return records, carry_prev, states["h"]


@partial(jax.jit, static_argnames=("spec", "kind"))
def loss_injections(spec: ModelSpec, params: dict, top_h, values, mask, kind: str):
    """``d l_t / d h_t`` for every t, ``(T, D H)``: where row t's cotangent enters (the
    readout and the loss at step t only; no recurrence)."""
    def loss_t(h, v, m):
        return step_losses(readout(spec, params, h), v, m, kind)

    return jax.vmap(jax.grad(loss_t))(top_h, values, mask)


def _pad(a, n: int):
    return jnp.pad(a, [(0, n - a.shape[0])] + [(0, 0)] * (a.ndim - 1))


@partial(jax.jit, static_argnames=("spec", "unit", "block", "memory"))
def _sweep_chunk(spec: ModelSpec, params: dict, records, carry_prev, inject, rows, last_block,
                 first_block, d0, out0, *, unit: str, block: int, memory: bool):
    """The cotangents ``d`` entering block ``first_block`` and the squared norms ``out``
    ``(R, N)`` of the cotangent of h at every step for the chunk's rows ``rows (R,)`` (steps in
    sweep order, -1 for none), swept back from block ``last_block`` to ``first_block`` with
    ``d0`` (the carries' cotangents, each ``(B, H)``) entering ``last_block`` and ``out0``'s
    squares for the blocks already swept. ``records``/``carry_prev``/``inject`` are padded to
    ``N`` steps, a multiple of ``block``. Flow: row r's cotangent ``inject[rows[r]]`` enters at
    its step; memory: the ``H`` identity vectors, summed over in the norm (a Frobenius
    norm)."""
    step = spec.cell_type.linear_step
    p = unit_params(params, unit)
    h = spec.hidden_size
    dtype = jnp.dtype(spec.dtype)
    n_rows = rows.shape[0]
    batch = n_rows * h if memory else n_rows
    eye = jnp.eye(h, dtype=dtype)

    def block_body(i, state):
        d, out = state
        start = (last_block - i) * block

        def cut(a):
            return lax.dynamic_slice_in_dim(a, start, block)

        coeffs = step.coefficients(p, {k: cut(v) for k, v in records.items()},
                                   tuple(cut(c) for c in carry_prev))
        steps = start + jnp.arange(block)

        def body(d, xs):
            k_t, s, v = xs
            hit = (rows == s).astype(dtype)
            add = ((hit[:, None, None] * eye).reshape(batch, h) if memory
                   else hit[:, None] * v[None])
            dh = d[0] + add
            squares = jnp.sum((dh * dh).reshape(n_rows, -1), axis=1)
            return step.apply(k_t, (dh, *d[1:])), squares

        d, squares = lax.scan(body, d, (coeffs, steps, cut(inject)), reverse=True)
        return d, lax.dynamic_update_slice_in_dim(out, squares.T, start, axis=1)

    return lax.fori_loop(0, last_block - first_block + 1, block_body, (d0, out0))


def _segment_blocks(spec: ModelSpec, batch: int, block: int) -> int:
    """Blocks swept in one call: about ``SEGMENT_FLOPS`` of work, so that a long row can be
    stopped (and the window's worker freed for the next step's rows) between calls."""
    carries = len(spec.cell_type.carry_names)
    per_block = 2.0 * batch * carries * spec.hidden_size ** 2 * block
    return max(1, int(SEGMENT_FLOPS // per_block))


def _chunks(order: np.ndarray, size: int):
    """``order`` (sorted steps) in chunks of ``size``, the last padded with -1."""
    for first in range(0, len(order), size):
        chunk = order[first:first + size]
        yield first, np.concatenate([chunk, np.full(size - len(chunk), -1, chunk.dtype)])


def _run_chunks(chunks: list, cost_of, compute, progress: Progress | None,
                should_stop: ShouldStop | None) -> None:
    """Call ``compute(chunk)`` for each chunk, reporting the fraction of work done (each
    chunk weighted by ``cost_of(chunk)``) and stopping between chunks when asked."""
    total = float(sum(cost_of(c) for c in chunks)) or 1.0
    done = 0.0
    for chunk in chunks:
        if should_stop is not None and should_stop():
            raise Cancelled
        compute(chunk)
        done += cost_of(chunk)
        if progress is not None:
            progress(done / total)


@partial(jax.jit, static_argnames=("spec", "unit", "kind", "padded"))
def _sweep_inputs(spec: ModelSpec, params: dict, xs, values, mask, *, unit: str,
                  kind: str | None, padded: int):
    """What the sweep's chunks read, padded to ``padded`` steps, in one program (the
    padding as eager operations cost more than the sweep of a small model's row): the
    unit's records and entering carries (``_records``) and where each row's cotangent enters,
    ``(padded, H)`` (the loss injections for the flow map, ``kind`` given; zeros for
    memory, ``kind`` None)."""
    records, carry_prev, top_h = _records(spec, params, xs, unit)
    inject = (jnp.zeros((padded, spec.hidden_size), spec.dtype) if kind is None
              else _pad(loss_injections(spec, params, top_h, values, mask, kind), padded))
    return ({k: _pad(v, padded) for k, v in records.items()},
            tuple(_pad(c, padded) for c in carry_prev), inject)


def _sweep(spec: ModelSpec, params: dict, xs, unit: str, rows: np.ndarray, target,
           progress, should_stop) -> np.ndarray:
    """Rows ``rows`` (steps, sorted) of the flow (``target``: ``(values, mask, kind)``) or
    memory (``target`` None) map of ``unit`` by the sweep: ``(len(rows), T)``."""
    steps = xs.shape[0]
    block = _block_length(spec)
    padded = -(-steps // block) * block
    memory = target is None
    values, mask, kind = (None, None, None) if memory else target
    records, carry_prev, inject = _sweep_inputs(spec, params, xs, values, mask, unit=unit,
                                                kind=kind, padded=padded)
    reverse = unit.endswith("_reverse")
    order = np.sort(steps - 1 - rows if reverse else rows).astype(np.int32)
    size = (max(1, MEMORY_BATCH // spec.hidden_size) if memory else FLOW_ROWS_PER_CHUNK)
    size = min(size, len(order))
    out = np.zeros((len(order), steps), np.dtype(spec.dtype))

    batch = size * spec.hidden_size if memory else size
    segment = _segment_blocks(spec, batch, block)

    def compute(item):
        first, chunk = item
        last = int(chunk.max()) // block
        # numpy zeros: jit moves them in its C++ path, where eager jnp.zeros dispatched one
        # program each (most of the Python around a small model's memory row)
        d = tuple(np.zeros((batch, spec.hidden_size), np.dtype(spec.dtype))
                  for _ in spec.cell_type.carry_names)
        squares = np.zeros((size, padded), np.dtype(spec.dtype))
        for top in range(last, -1, -segment):  # the sweep in segments, stoppable between
            if top != last and should_stop is not None and should_stop():
                raise Cancelled
            d, squares = _sweep_chunk(spec, params, records, carry_prev, inject, chunk, top,
                                      max(top - segment + 1, 0), d, squares, unit=unit,
                                      block=block, memory=memory)
            squares.block_until_ready()  # JAX returns at once: wait, to stop between segments
        count = min(len(chunk), len(order) - first)
        out[first:first + count] = np.sqrt(np.asarray(squares)[:count, :steps])

    _run_chunks(list(_chunks(order, size)), lambda c: int(c[1].max()) // block + 1, compute,
                progress, should_stop)
    if reverse:  # back to time order: rows ascending in t, columns k
        out = out[::-1, ::-1]
    return np.ascontiguousarray(out)


# -- blocks and whole: autodiff of the model ---------------------------------------------------
@partial(jax.jit, static_argnames=("spec", "kind", "block"))
def _blocks_chunk(spec: ModelSpec, params: dict, xs, values, mask, carries, rows, last_block,
                  *, kind: str, block: int):
    """Flow rows ``rows (R,)`` (-1 for none) of every unit, ``(R, N)`` each, for a
    unidirectional model: per block, from the last down to 0, ``vjp`` of the model over the
    block from its recorded entering ``carries`` (each ``(N / block, H)``), vmapped over the
    rows; row r's loss cotangent enters in its step's block."""
    units, h, dtype = spec.units, spec.h_size, jnp.dtype(spec.dtype)
    n_rows, total = rows.shape[0], xs.shape[0]
    widths = [spec.state_size(n) for n in spec.cell_type.carry_names]

    def block_fn(start, carry_in, eps):
        def cut(a):
            return lax.dynamic_slice_in_dim(a, start, block)

        finals, _, outputs = run(spec, params, cut(xs), carry0=carry_in, eps=eps)
        return finals, step_losses(outputs, cut(values), cut(mask), kind)

    def body(i, state):
        d_final, out = state
        b = last_block - i
        start = b * block
        carry_in = {u: tuple(c[b] for c in carries[u]) for u in units}
        eps0 = {u: jnp.zeros((block, h), dtype) for u in units}  # h's width, not H
        _, pull = jax.vjp(lambda c, e: block_fn(start, c, e), carry_in, eps0)
        d_losses = (rows[:, None] == start + jnp.arange(block)[None]).astype(dtype)
        d_carry, d_eps = jax.vmap(pull)((d_final, d_losses))
        out = {u: lax.dynamic_update_slice_in_dim(
            out[u], jnp.sqrt(jnp.sum(d_eps[u] ** 2, axis=-1)), start, axis=1) for u in units}
        return d_carry, out

    d0 = {u: tuple(jnp.zeros((n_rows, w), dtype) for w in widths) for u in units}
    out0 = {u: jnp.zeros((n_rows, total), dtype) for u in units}
    return lax.fori_loop(0, last_block + 1, body, (d0, out0))[1]


@partial(jax.jit, static_argnames=("spec", "block"))
def _block_carries(spec: ModelSpec, params: dict, xs, *, block: int):
    """The carry entering each block, ``(N / block, width)`` per carry and unit (``H`` wide
    for the PyTorch cells; the projected LSTM's h, an LRU's or Mamba's state are not)."""
    _, states, _ = run(spec, params, xs)
    out = {}
    for u in spec.units:
        out[u] = tuple(jnp.concatenate([jnp.zeros((1, spec.state_size(n)), spec.dtype),
                                        states[state_key(n, u)][block - 1::block][:-1]])
                       for n in spec.cell_type.carry_names)
    return out


@partial(jax.jit, static_argnames=("spec", "kind"))
def _whole_chunk(spec: ModelSpec, params: dict, xs, values, mask, rows, *, kind: str):
    """Flow rows ``rows (R,)`` of every unit, ``(R, T)`` each: ``vmap`` of one ``vjp`` of
    the whole sequence (any model)."""
    steps = xs.shape[0]

    def losses(eps):
        _, _, outputs = run(spec, params, xs, eps=eps)
        return step_losses(outputs, values, mask, kind)

    eps0 = {u: jnp.zeros((steps, spec.h_size), spec.dtype) for u in spec.units}
    _, pull = jax.vjp(losses, eps0)
    onehots = (rows[:, None] == jnp.arange(steps)[None]).astype(spec.dtype)
    (g,) = jax.vmap(pull)(onehots)
    return {u: jnp.sqrt(jnp.sum(v * v, axis=-1)) for u, v in g.items()}


# -- the public functions ----------------------------------------------------------------------
def _rows(rows: Sequence[int] | None, steps: int, units: int) -> np.ndarray:
    """The steps ``rows`` (default: every step) checked: within ``0..steps-1``, and the
    ``(len(rows), T)`` arrays of ``units`` units within ``MAX_MATRIX_VALUES`` values (refused
    before anything is allocated)."""
    count = steps if rows is None else np.size(rows)
    if count * steps * units > MAX_MATRIX_VALUES:
        raise RnnvizError(f"{count} rows over {steps} steps for {units} unit(s) would hold "
                          f"{count * steps * units} values; at most {MAX_MATRIX_VALUES} "
                          f"(limit MAX_MATRIX_VALUES): ask for fewer rows or steps")
    if rows is None:
        return np.arange(steps, dtype=np.int32)
    out = np.asarray(rows, np.int64).reshape(-1)
    if out.size and (out.min() < 0 or out.max() >= steps):
        raise RnnvizError(f"rows must lie in 0..{steps - 1}, got {out.min()}..{out.max()}")
    return out.astype(np.int32)


def flow_map(spec: ModelSpec, params: dict, xs, values, mask, kind: str,
             rows: Sequence[int] | None = None, *, progress: Progress | None = None,
             should_stop: ShouldStop | None = None) -> dict[str, np.ndarray]:
    """``||d l_t / dh_k||`` for rows ``rows`` (default: every step) and every k: a
    ``(len(rows), T)`` array per unit, rows in the order given (repeats allowed).
    ``progress(fraction)`` is called after each chunk; ``should_stop()`` is asked before each
    and raises ``Cancelled`` when true."""
    steps = xs.shape[0]
    wanted = _rows(rows, steps, len(spec.units))
    order = np.unique(wanted)
    method = flow_method(spec)
    if method == "sweep":
        (unit,) = spec.units
        maps = {unit: _sweep(spec, params, xs, unit, order, (values, mask, kind), progress,
                             should_stop)}
    else:
        maps = _autodiff_flow(spec, params, xs, values, mask, kind, order, method, progress,
                              should_stop)
    where = np.searchsorted(order, wanted)
    return {u: m if rows is None else m[where] for u, m in maps.items()}


def _autodiff_flow(spec, params, xs, values, mask, kind, order, method, progress,
                   should_stop) -> dict[str, np.ndarray]:
    steps = xs.shape[0]
    out = {u: np.zeros((len(order), steps), np.dtype(spec.dtype)) for u in spec.units}
    size = min(FLOW_ROWS_PER_CHUNK if method == "blocks" else 32, len(order))
    if method == "blocks":
        block = 32
        padded = -(-steps // block) * block
        xs_p, values_p, mask_p = _pad(xs, padded), _pad(values, padded), _pad(mask, padded)
        carries = _block_carries(spec, params, xs_p, block=block)

        def compute(item):
            first, chunk = item
            norms = _blocks_chunk(spec, params, xs_p, values_p, mask_p, carries,
                                  jnp.asarray(chunk), int(chunk.max()) // block, kind=kind,
                                  block=block)
            _store(out, norms, first, chunk, order, steps)

        def cost(item) -> int:
            return int(item[1].max()) // block + 1
    else:
        def compute(item):
            first, chunk = item
            norms = _whole_chunk(spec, params, xs, values, mask, jnp.asarray(chunk), kind=kind)
            _store(out, norms, first, chunk, order, steps)

        def cost(item) -> int:
            return 1
    _run_chunks(list(_chunks(order, size)), cost, compute, progress, should_stop)
    return out


def _store(out: dict, norms: dict, first: int, chunk, order, steps: int) -> None:
    count = min(len(chunk), len(order) - first)
    for u, v in norms.items():
        out[u][first:first + count] = np.asarray(v)[:count, :steps]


def memory_map(spec: ModelSpec, params: dict, xs, unit: str,
               rows: Sequence[int] | None = None, *, progress: Progress | None = None,
               should_stop: ShouldStop | None = None) -> np.ndarray:
    """``||dh_t / dh_k||_F`` within ``unit`` for rows ``rows`` (default: every step) and
    every k, ``(len(rows), T)``; ``progress`` and ``should_stop`` as in ``flow_map``."""
    steps = xs.shape[0]
    wanted = _rows(rows, steps, 1)
    order = np.unique(wanted)
    if memory_method(spec) == "sweep":
        out = _sweep(spec, params, xs, unit, order, None, progress, should_stop)
    else:
        out = np.zeros((len(order), steps), np.dtype(spec.dtype))

        def compute(item):
            index, t = item
            out[index] = np.asarray(gradients.memory_row(spec, params, xs, unit, int(t)))

        _run_chunks(list(enumerate(order)), lambda c: 1, compute, progress, should_stop)
    return out if rows is None else out[np.searchsorted(order, wanted)]
