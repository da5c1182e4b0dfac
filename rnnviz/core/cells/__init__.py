"""Recurrent cells as pure functions, with PyTorch's parameter names, layouts and gate order.

Each cell type is one module (``rnn``, ``lstm``, ``gru``, ``lstm_proj``, ``gru_cho``; the
modern recurrences ``mingru``, ``minlstm``, ``lru``, ``mamba``) holding its ``CellType`` (see
``rnnviz.core.cells.base``); this registry is the only place that lists them. Adding a cell
type is a module and one line in ``CELLS``.
"""

from __future__ import annotations

from rnnviz.core.cells.base import (
    Carry,
    CellOption,
    CellType,
    Gate,
    Grid,
    Params,
    Record,
    UnitRows,
    project,
    recurrent_matmul,
)
from rnnviz.core.cells.gru import GRU
from rnnviz.core.cells.gru_cho import GRU_CHO
from rnnviz.core.cells.lru import LRU
from rnnviz.core.cells.lstm import LSTM, lstm_gates
from rnnviz.core.cells.lstm_proj import LSTM_PROJ
from rnnviz.core.cells.mamba import MAMBA, MAMBA_SIGNED
from rnnviz.core.cells.mingru import MINGRU
from rnnviz.core.cells.minlstm import MINLSTM
from rnnviz.core.cells.rnn import RNN_RELU, RNN_TANH

CELLS: dict[str, CellType] = {c.name: c for c in (RNN_TANH, RNN_RELU, LSTM, GRU, LSTM_PROJ,
                                                  GRU_CHO, MINGRU, MINLSTM, LRU, MAMBA,
                                                  MAMBA_SIGNED)}
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


def cell_with_gate_blocks(num_gates: int, hints=()) -> CellType | None:
    """The cell whose PyTorch layout (the four tensors, no layout of its own) has
    ``num_gates`` row blocks: where several have (the tanh and relu RNNs share their
    weights' layout, so do the GRU and Cho's GRU), the first of ``hints`` (cell names; None
    and unknown names are skipped) that is one of them, else the first registered. None when
    no cell has that many blocks."""
    matches = [c for c in CELLS.values() if c.layout is None and c.num_gates == num_gates]
    return _first_hinted(matches, hints)


def _first_hinted(matches: list[CellType], hints) -> CellType | None:
    for hint in hints:
        named = CELLS.get(_NAMES.get(hint.lower(), "")) if isinstance(hint, str) else None
        if named in matches:
            return named
    return matches[0] if matches else None


def own_parameter_names() -> dict[str, tuple[str, ...]]:
    """Each cell with a layout of its own and the short names of its tensors (its layout at
    its default sizes for one input and one hidden unit)."""
    out = {}
    for cell in CELLS.values():
        if cell.layout is not None:
            options = dict(cell.check_options({}, 1))
            out[cell.name] = tuple(cell.unit_param_shapes(1, 1, options))
    return out


def cell_with_layout(arrays: dict, hints=()):
    """The cell with a layout of its own whose ``infer`` reads one layer's ``arrays`` (short
    names), and what it read ``(cell, (input_size, hidden_size, options, arrays))``: where
    several do (Mamba and Mamba [-1,1] share their parameters), the first of ``hints``
    that does, else the first registered. None when none does. (PyTorch's LSTM with
    ``proj_size`` is read here: its ``weight_hr`` is beyond the four tensors of
    ``cell_with_gate_blocks``.)"""
    found = {c: c.infer(arrays) for c in CELLS.values()
             if c.layout is not None and c.infer is not None}
    found = {c: read for c, read in found.items() if read is not None}
    cell = _first_hinted(list(found), hints)
    return None if cell is None else (cell, found[cell])


__all__ = ["CELLS", "GRU", "GRU_CHO", "LRU", "LSTM", "LSTM_PROJ", "MAMBA", "MAMBA_SIGNED",
           "MINGRU", "MINLSTM", "RNN_RELU", "RNN_TANH", "Carry", "CellOption", "CellType", "Gate",
           "Grid", "Params", "Record", "UnitRows", "cell_names", "cell_with_gate_blocks",
           "cell_with_layout", "get_cell", "lstm_gates", "own_parameter_names", "project",
           "recurrent_matmul"]
