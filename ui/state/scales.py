"""Scales shared by every column, so that comparing columns is honest (no Qt).

- ``levels(name)``: the colour scale of a state row (``"h"``, ``"c"``): [-1, 1] when every
  column's cell keeps that state in it (``CellType.bounded``), else symmetric around 0 at the
  largest ``|value|`` any column reaches (at least 1).
- The gradient plot's log10 range: each column says what its curves need
  (``need_grad_range``); the range shown is the union, announced by ``events.grad_range``.
  It only grows while stepping (a change redraws every column's gradient plot): whole decades
  at the top; at the bottom, multiples of three decades, three more than needed once it starts
  moving down (a vanishing gradient reaches a new decade every few steps), and never below the
  smallest number the model's float type holds.

The window owns one ``SharedScales`` and passes it to its column views.
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal, SignalGroup

from .explorer import ExplorerState

TANH = (-1.0, 1.0)


def reached_levels(values: np.ndarray) -> tuple[float, float]:
    """The colour scale of a row without a fixed range (a modern cell's Delta, B, C, output):
    ``(0, max)`` when it never goes below 0, else symmetric around 0 at the largest
    ``|value|`` (a flat or empty row gets ``(0, 1)``)."""
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    if top == 0.0:
        return (0.0, 1.0)
    return (-top, top) if float(finite.min()) < 0 else (0.0, top)


class ScaleEvents(SignalGroup):
    grad_range = Signal(float, float)  # (lo, hi) in log10


class SharedScales:
    def __init__(self, state: ExplorerState):
        self.state = state
        self.events = ScaleEvents()
        self._needs: dict[int, tuple[float, float]] = {}   # column id: its curves' range
        self.grad_range: tuple[float, float] | None = None

    # -- colour scales -----------------------------------------------------------------------
    def levels(self, name: str) -> tuple[float, float]:
        """The shared colour scale of state ``name`` (see the module docstring)."""
        columns = [c for c in self.state.columns if c.ready and c.model is not None]
        if all(name in c.model.spec.cell_type.bounded for c in columns
               if name in c.model.spec.cell_type.carry_names):
            return TANH
        top = 1.0
        for c in columns:
            values = c.trace.arrays.get(f"{name}_{c.unit}")
            if values is not None:
                finite = values[np.isfinite(values)]
                if finite.size:
                    top = max(top, float(np.abs(finite).max()))
        return (-top, top)

    # -- the gradient plot's range -----------------------------------------------------------
    def forget(self, column_id: int) -> None:
        """A column's curves were replaced (a new trace): its old needs no longer count."""
        self._needs.pop(column_id, None)

    def need_grad_range(self, column_id: int, values: np.ndarray, dtype) -> None:
        """Column ``column_id`` shows the positive finite ``values`` on the log axis."""
        values = values[np.isfinite(values) & (values > 0)]
        if values.size == 0:
            return
        floor = np.log10(np.finfo(dtype).smallest_subnormal)  # float32: -44.9
        lo = 3 * np.floor(np.log10(values.min()) / 3)
        hi = np.ceil(np.log10(values.max()))
        mine = self._needs.get(column_id)
        if mine is not None:
            lo, hi = min(lo, mine[0]), max(hi, mine[1])
        if self.grad_range is not None and lo < self.grad_range[0]:
            lo -= 3  # it is moving down: leave room for the next decades
        lo = max(lo, 3 * np.floor(floor / 3))
        self._needs[column_id] = (float(lo), float(max(hi, lo + 1)))
        alive = {c.id for c in self.state.columns}
        needs = [r for cid, r in self._needs.items() if cid in alive]
        shared = (min(r[0] for r in needs), max(r[1] for r in needs))
        if shared != self.grad_range:
            self.grad_range = shared
            self.events.grad_range.emit(*shared)
