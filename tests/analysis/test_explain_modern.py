"""The unit inspector's equations for the modern cells compute the values the trace holds:
the selected row's value is one of the lines' (the last one for h)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz import Model
from rnnviz.analysis.explain import explain_unit, layer_input, records_at, state_before
from rnnviz.core.forward import state_key

LRU, MAMBA = {"state_size": 3}, {"d_state": 3, "d_inner": 4}
CASES = [("mingru", None, ("h", "z", "n")), ("minlstm", None, ("h", "f", "i", "g")),
         ("lru", LRU, ("h", "mod", "phase", "y")),
         ("mamba", MAMBA, ("h", "w", "dt", "B", "C", "y")),
         ("mamba_signed", MAMBA, ("h", "w", "dt", "B", "C", "y"))]


@pytest.mark.parametrize("cell,options,rows", CASES)
def test_the_lines_compute_the_traced_value(cell, options, rows):
    model = Model.create(cell, 2, 3, num_layers=2, output_size=1, seed=2, options=options)
    xs = np.random.default_rng(0).normal(size=(6, 2))
    arrays = model.trace(xs).arrays
    spec, unit, t = model.spec, "l1", 4
    before, now = records_at(spec, arrays, unit, t)
    assert set(rows) == set(now)              # every record the cell keeps
    for row in rows:
        for j in range(now[row].shape[0]):
            lines = explain_unit(spec, model.params, unit, j,
                                 layer_input(spec, arrays, xs, unit, t),
                                 state_before(spec, arrays, unit, t), row=row, before=before,
                                 now=now)
            traced = arrays[state_key(row, unit)][t, j]
            values = [v for _, v in lines[-1:]] if row == "h" else [v for _, v in lines]
            assert np.any(np.abs(np.array(values) - traced) < 1e-4), (row, j, traced, lines)
