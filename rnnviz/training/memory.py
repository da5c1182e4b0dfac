"""The memory back-propagation through time holds: a formula, checked against XLA by
``benchmarks/bench_bptt_memory.py``.

To differentiate a run over ``T`` steps, the backward pass needs what the forward pass
computed at every step: ``rnnviz.core.recurrence``'s forward scan keeps, per step, layer and
direction, every record of the cell (h, the LSTM's c, every gate) and the residuals its
backward reads (the GRU's ``W_hn h + b_hn``), ``S H`` values with ``S`` the cell's count
(``saved_per_unit``: RNN 1, GRU 5, LSTM 6); the readout keeps the ``O`` outputs of each step
for the loss's derivative; a bidirectional model's upper layers also keep their input, both
directions' h side by side (``2 H``). Per step of a batch of ``B`` sequences, in bytes
(``b`` = 4 for float32),

    step = b B (D L S H + [D = 2] (L - 1) 2 H + O),

and the stored activations are ``stored = n step + k state``, where ``state = b B D L C H`` is
one copy of every unit's carry (``C`` = 1 for h, 2 for the LSTM's h and c) and

- whole BPTT: ``n = T``, ``k = 0``: it grows linearly with the sequence;
- truncated to windows of ``W`` steps (``rnnviz.training.bptt``): ``n = min(W, T)``, ``k = 1``
  (one window's activations at a time, and the state carried into it), whatever ``T``
  (``k = 0`` when ``W >= T``: one window, the whole gradient);
- rematerialised in chunks of ``K`` steps: ``n = min(K, T)``, ``k = ceil(T / K)`` (the state
  entering each chunk, and one chunk's activations while its backward pass runs); ``K`` near
  ``sqrt(T step / state)`` makes both terms small, ``O(sqrt T)``;
- both: ``n = min(K, W, T)``, ``k = ceil(min(W, T) / K) + 1``.

The peak while the gradient is computed is higher: the steps held also need, one layer at a
time, the projected inputs ``W_ih x_t`` and the backward pass's two gradients of the
pre-activations, ``3 b B n G H`` (``G`` gate blocks: RNN 1, GRU 3, LSTM 4), so
``peak = stored + 3 b B n G H``. For an LSTM of 256 units, 32 sequences of 1000 steps, that
is 198 MB stored and 591 MB at the peak, and XLA's own plan for the compiled gradient asks
592 MB (the benchmark's other figures are in docs/performance.md). The weights, their
gradients, the optimizer's state and the batch itself come on top, and do not grow with T.

Cells of other shapes (the projected LSTM, minGRU, minLSTM, the LRU, Mamba) are counted the
same way from their own shapes (``unit_step_values``): ``S H`` becomes what one unit's
``recur_saving`` returns per step, ``C H`` its carry, ``G H`` its projected input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import jax
import numpy as np

from rnnviz.core.cells import CellType, get_cell
from rnnviz.core.cells.base import project
from rnnviz.core.spec import ModelSpec

MB = 1e6


@cache
def saved_per_unit(cell_name: str) -> int:
    """``S``: the values per hidden unit that the cell's forward scan keeps at each step for
    its backward pass (its record and its residuals; read off ``recur_saving``'s shapes)."""
    cell: CellType = get_cell(cell_name)
    h, g = 3, cell.num_gates  # any hidden size: the count is per unit
    f32 = np.float32
    params = {"weight_hh": jax.ShapeDtypeStruct((g * h, h), f32),
              "bias_hh": jax.ShapeDtypeStruct((g * h,), f32)}
    carry = tuple(jax.ShapeDtypeStruct((h,), f32) for _ in cell.carry_names)
    assert cell.recur_saving is not None  # CellType fills it in
    _, record, extra = jax.eval_shape(cell.recur_saving, params, carry,
                                      jax.ShapeDtypeStruct((g * h,), f32))
    values = sum(math.prod(a.shape) for a in jax.tree.leaves((record, extra)))
    return values // h


@cache
def unit_step_values(spec: ModelSpec) -> tuple[int, int, int]:
    """``(saved, carry, projected)``: the values one layer and direction of ``spec`` keeps
    per step for its backward pass (``S * H`` for the PyTorch cells), the values of its
    carry, and of its projected input (``G * H``); read off the shapes of the cell's own
    ``project`` and ``recur_saving`` for its sizes and options, so any cell is counted (the
    projected LSTM, the LRU's complex state, Mamba's states)."""
    cell = spec.cell_type
    f32 = np.float32
    shapes = cell.unit_param_shapes(spec.input_size, spec.hidden_size, spec.options)
    params = {k: jax.ShapeDtypeStruct(v, f32) for k, v in shapes.items()}
    carry = tuple(jax.ShapeDtypeStruct((spec.state_size(n),), f32) for n in cell.carry_names)
    x = jax.ShapeDtypeStruct((spec.input_size,), f32)
    xp = jax.eval_shape(cell.project or project, params, x)
    assert cell.recur_saving is not None  # CellType fills it in
    _, record, extra = jax.eval_shape(cell.recur_saving, params, carry, xp)

    def count(tree) -> int:
        return sum(math.prod(a.shape) for a in jax.tree.leaves(tree))

    return count((record, extra)), count(carry), count(xp)


@dataclass(frozen=True)
class MemoryCost:
    """What one gradient of a batch holds (the module docstring): ``stored`` bytes of
    activations, ``peak`` bytes with the backward pass's temporaries; ``steps_held`` is
    ``n``, ``states_held`` is ``k``, ``step_bytes`` and ``state_bytes`` one step's and one
    carry's bytes."""

    stored: int
    peak: int
    steps_held: int
    states_held: int
    step_bytes: int
    state_bytes: int

    @property
    def stored_mb(self) -> float:
        return self.stored / MB

    @property
    def peak_mb(self) -> float:
        return self.peak / MB


def bptt_memory(spec: ModelSpec, length: int, *, batch: int = 1, window: int | None = None,
                chunk: int | None = None) -> MemoryCost:
    """The activations back-propagation through ``length`` steps of ``spec`` holds for a
    batch of ``batch`` sequences, truncated to ``window`` steps and rematerialised in chunks
    of ``chunk`` steps if given (the formula is the module docstring's)."""
    b = np.dtype(spec.dtype).itemsize
    H, L, D = spec.h_size, spec.num_layers, spec.num_directions
    saved, carry, projected = unit_step_values(spec)
    step = b * batch * (D * L * saved + (2 * H * (L - 1) if D == 2 else 0) + spec.out_size)
    state = b * batch * D * L * carry
    span = length if window is None else min(window, length)
    held = span if chunk is None else min(chunk, span)
    states = 0 if window is None or window >= length else 1  # one window: the whole
    if chunk is not None and chunk < span:
        states += math.ceil(span / chunk)
    temporaries = 3 * b * batch * held * projected
    stored = held * step + states * state
    return MemoryCost(stored, stored + temporaries, held, states, step, state)
