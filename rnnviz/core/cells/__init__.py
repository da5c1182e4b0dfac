"""Recurrent cells as pure functions, with PyTorch's parameter names, layouts and gate order.

Each cell type is one module (``rnn``, ``lstm``, ``gru``) holding one ``CellType`` (see
``rnnviz.core.cells.base``); this registry is the only place that lists them. Adding a cell type
is a module and one line in ``CELLS``.
"""

from __future__ import annotations

from rnnviz.core.cells.base import (
    Carry,
    CellType,
    Gate,
    Params,
    Record,
    UnitRows,
    project,
    recurrent_matmul,
)
from rnnviz.core.cells.gru import GRU
from rnnviz.core.cells.gru_cho import GRU_CHO
from rnnviz.core.cells.lstm import LSTM, lstm_gates
from rnnviz.core.cells.lstm_proj import LSTM_PROJ
from rnnviz.core.cells.rnn import RNN_RELU, RNN_TANH

CELLS: dict[str, CellType] = {c.name: c for c in (RNN_TANH, RNN_RELU, LSTM, GRU, LSTM_PROJ,
                                                  GRU_CHO)}
_NAMES = {alias: c.name for c in CELLS.values() for alias in (c.name, *c.aliases)}


def cell_names() -> tuple[str, ...]:
    """Every name ``get_cell`` accepts (the cells' own names and their aliases)."""
    return tuple(_NAMES)


def get_cell(name: str) -> CellType:
    """The cell type called ``name`` (or one of its aliases, such as ``rnn``)."""
    key = _NAMES.get(name.lower()) if isinstance(name, str) else None
    if key is None:
        raise ValueError(f"unknown cell {name!r}: expected one of {', '.join(CELLS)}")
    return CELLS[key]


def cell_with_gate_blocks(num_gates: int, hints=(), *, projected: bool = False
                          ) -> CellType | None:
    """The cell whose PyTorch layout has ``num_gates`` row blocks (and a projection
    ``weight_hr`` when ``projected``): where several have (the tanh and relu RNNs share their
    weights' layout, so do the GRU and Cho's GRU), the first of ``hints`` (cell names; None
    and unknown names are skipped) that is one of them, else the first registered. None when
    no cell has that many blocks."""
    matches = [c for c in CELLS.values() if c.num_gates == num_gates and c.layout is None
               and c.projected == projected]
    for hint in hints:
        named = CELLS.get(_NAMES.get(hint.lower(), "")) if isinstance(hint, str) else None
        if named in matches:
            return named
    return matches[0] if matches else None


__all__ = ["CELLS", "GRU", "GRU_CHO", "LSTM", "LSTM_PROJ", "RNN_RELU", "RNN_TANH", "Carry",
           "CellType", "Gate", "Params", "Record", "UnitRows", "cell_names",
           "cell_with_gate_blocks", "get_cell", "lstm_gates", "project", "recurrent_matmul"]
