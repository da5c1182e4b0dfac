"""Running a whole model: a scan over a sequence, or a single time step.

State names are flat strings shared by traces, steppers, files and views:
``h_l{k}{sfx}`` and ``c_l{k}{sfx}`` (LSTM) for the carry, ``gate_{letter}_l{k}{sfx}`` for each
gate (``i f g o`` LSTM, ``r z n`` GRU) or other per-step record of a modern cell (Mamba's
``dt``, ``B``, ``C``, ``y``, ``w``), with ``sfx`` ``""`` or ``"_reverse"``; ``h`` for the top
layer's output as PyTorch returns it (forward and reverse concatenated, ``(D*H,)`` per step),
``output`` for the readout. Each layer passes on its cell's ``output`` record (h, or the LRU's
and Mamba's ``y``); records are ``(H,)`` unless the cell says otherwise (``widths``: the
projected LSTM's h is ``(P,)``).

A model with an embedding (``spec.vocab_size``) reads token ids, ``(T, 1)`` (whole numbers
stored in the model's dtype); ``embed`` turns them into the ``(T, input_size)`` vectors its
first layer reads. Every other model reads its input as it is.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from rnnviz.core import recurrence
from rnnviz.core.cells import CellType
from rnnviz.core.cells.scan import sequence_scan
from rnnviz.core.spec import ModelSpec, unit_params


def state_key(name: str, unit: str) -> str:
    """``h``/``c`` or a gate letter, with a unit such as ``l0_reverse`` -> ``gate_f_l0_reverse``."""
    return f"{name}_{unit}" if name in ("h", "c") else f"gate_{name}_{unit}"


def state_keys(spec: ModelSpec) -> list[str]:
    """Every per-unit state name of ``spec``, bottom unit first."""
    return [state_key(n, u) for u in spec.units for n in spec.cell_type.state_names]


def widths(spec: ModelSpec) -> dict[str, int]:
    """The width of each record of ``spec``'s cell (``h``, ``c``, each gate): ``H`` for the
    PyTorch cells, the cell's own for the modern ones (an LRU's h is ``2N``)."""
    return spec.cell_type.record_widths(spec.hidden_size, spec.options)


def readout(spec: ModelSpec, params: dict, top: jax.Array) -> jax.Array:
    """``readout.weight @ top + readout.bias``, or ``top`` itself when there is no readout."""
    if spec.output_size is None:
        return top
    return top @ params["readout.weight"].T + params["readout.bias"]


def embed(spec: ModelSpec, params: dict, xs: jax.Array) -> jax.Array:
    """What the first layer reads: ``embedding.weight[id]`` for each token id of
    ``xs (..., 1)`` (``(..., input_size)``), or ``xs`` itself when the model has no
    embedding."""
    if spec.vocab_size is None:
        return xs
    return jnp.take(params["embedding.weight"], xs[..., 0].astype(jnp.int32), axis=0)


def zero_carries(spec: ModelSpec, batch_shape: tuple[int, ...] = ()) -> dict:
    """The all-zero initial state of every unit, as PyTorch starts by default; each carry
    ``(*batch_shape, spec.state_size(name))`` (``(..., H)`` but where the cell says otherwise,
    ``widths``: h ``(..., P)`` with a projection)."""
    dtype = jnp.dtype(spec.dtype)
    return {u: spec.cell_type.zero_carry(spec.hidden_size, dtype, batch_shape, spec.options)
            for u in spec.units}


def carries_from(spec: ModelSpec, state_at: Callable[[str], object] | None) -> dict:
    """The carry of every unit entering a step, rebuilt from the states recorded at the step
    before: ``state_at(name)`` gives that step's ``(H,)`` value of state ``name`` (``h_l0``,
    ``c_l1_reverse``); ``state_at=None`` (before the first step) gives the zero carries."""
    if state_at is None:
        return zero_carries(spec)
    names = spec.cell_type.carry_names
    return {u: tuple(jnp.asarray(state_at(state_key(n, u))) for n in names) for u in spec.units}


def scan_unit(cell: CellType, p: dict, xs: jax.Array, carry0, *, reverse: bool = False,
              eps: jax.Array | None = None, autodiff: bool = False,
              parallel: bool | None = None):
    """Run one layer and direction over ``xs (T, I)`` (or a batch, ``(T, B, I)`` with
    carries ``(B, H)``) from ``carry0``.

    The input projection is one ``(T, I) @ (I, G*H)`` matmul before the scan, so each step
    only does the recurrent matmul. With ``eps (T, H)`` the hidden state is perturbed,
    ``h_t <- h_t + eps_t`` (the perturbed value feeds the next step), so that the gradient of
    anything with respect to ``eps`` at ``eps = 0`` is its total derivative with respect to
    each ``h_t``. ``reverse`` runs from the last step back, with outputs kept in time order.
    Returns ``(final_carry, records)`` with each record stacked to ``(T, H)``.

    The scan's derivative is ``rnnviz.core.recurrence``'s hand-written backward pass (one
    recurrent matmul per step, the weight gradients as single matmuls afterwards);
    ``autodiff=True`` differentiates the plain ``lax.scan`` instead (the reference in tests).
    A modern cell (no hand-written backward) runs its own scan, differentiated by JAX
    (``rnnviz.core.cells.scan.sequence_scan``): its associative scan over all steps at once
    with ``parallel=True``, a ``lax.scan`` of its step with ``False``, the one the cell
    prefers (``CellType.prefer_parallel``) with None.
    """
    xp = cell.project_input(p, xs)
    if cell.backward is None:
        use_parallel = cell.prefer_parallel if parallel is None else parallel
        return sequence_scan(cell, p, xp, carry0, reverse=reverse, eps=eps,
                             parallel=use_parallel and cell.parallel is not None)
    scan = recurrence.scan_autodiff if autodiff else recurrence.scan
    return scan(cell, p, xp, carry0, reverse=reverse, eps=eps)


def run(spec: ModelSpec, params: dict, xs: jax.Array, carry0: dict | None = None,
        eps: dict | None = None, *, autodiff: bool = False, parallel: bool | None = None,
        embedded: bool = False):
    """Run the model over ``xs (T, I)``, or over a batch ``xs (T, B, I)`` in one scan
    (token ids ``(T, 1)`` with an embedding; ``embedded=True``: ``xs`` are already the
    embedded vectors ``(T, input_size)``, as ``embed`` gives them).

    Returns ``(final_carries, states, outputs)``: ``final_carries`` maps each unit to its
    carry, ``states`` maps every state name (``h_l0``, ``gate_f_l1_reverse``, ... and ``h``)
    to a ``(T, H)`` (``(T, D*H)`` for ``h``) array, ``outputs`` is ``(T, O)`` (with a batch,
    ``(T, B, H)`` and ``(T, B, O)``). ``eps`` optionally maps units to ``(T, H)`` hidden-state
    perturbations (``(T, width of h)``, see ``scan_unit``); ``autodiff`` and ``parallel`` as in
    ``scan_unit``.
    """
    cell = spec.cell_type
    carry0 = zero_carries(spec, xs.shape[1:-1]) if carry0 is None else carry0
    states, finals = {}, {}
    layer_input = xs if embedded else embed(spec, params, xs)
    for k in range(spec.num_layers):
        outs = []
        for sfx in spec.directions:
            unit = f"l{k}{sfx}"
            final, rec = scan_unit(
                cell, unit_params(params, unit), layer_input, carry0[unit],
                reverse=bool(sfx), eps=None if eps is None else eps[unit], autodiff=autodiff,
                parallel=parallel,
            )
            finals[unit] = final
            states.update({state_key(name, unit): v for name, v in rec.items()})
            outs.append(rec[cell.output])
        layer_input = outs[0] if len(outs) == 1 else jnp.concatenate(outs, axis=-1)
    states["h"] = layer_input
    return finals, states, readout(spec, params, layer_input)


def step(spec: ModelSpec, params: dict, carries: dict, x: jax.Array):
    """One time step of a unidirectional model from ``x (I,)`` (a token id ``(1,)`` with an
    embedding).

    Returns ``(carries, states, output)`` with ``states`` as in ``run`` but one step each,
    ``(H,)``. Uses the same cell functions as ``run``, so stepping T times equals one scan.
    """
    if spec.bidirectional:
        raise ValueError("a bidirectional model cannot be stepped: its reverse direction "
                         "needs the whole sequence; run it instead")
    cell = spec.cell_type
    states, new = {}, {}
    layer_input = embed(spec, params, x)
    for k in range(spec.num_layers):
        unit = f"l{k}"
        new[unit], rec = cell(unit_params(params, unit), carries[unit], layer_input)
        states.update({state_key(name, unit): v for name, v in rec.items()})
        layer_input = rec[cell.output]
    states["h"] = layer_input
    return new, states, readout(spec, params, layer_input)
