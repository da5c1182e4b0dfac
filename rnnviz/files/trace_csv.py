"""A trace as CSV: one row per time step, one column per number.

The header names each column after its array: ``t``, then ``h_l0[0] ... h_l0[H-1]``,
``gate_f_l0[3]``, ``output[0]``, ``loss``, ``grad_loss_h_l0`` ... in the trace's order. A
``(T,)`` array is one column, a ``(T, N)`` array ``N`` columns (a ``(T, T)`` gradient-flow or
Jacobian matrix gives row ``t`` on line ``t``). The per-tensor gradient norms
``grad_param_*`` have no time axis and are left out (``Trace.save_npz`` keeps them).

Numbers are written with enough digits to read back exactly (9 significant digits for float32,
17 for float64); NaN and Inf are written as ``nan``, ``inf`` and ``-inf``, which
``numpy.loadtxt`` reads back.
"""

from __future__ import annotations

import os

import numpy as np

from rnnviz.core.trace import Trace
from rnnviz.paths import atomic_file


def csv_columns(trace: Trace) -> tuple[list[str], np.ndarray]:
    """The header names and the ``(T, 1 + columns)`` float64 table (first column: ``t``)."""
    steps = trace.steps
    names, blocks = ["t"], [np.arange(steps, dtype=np.float64)[:, None]]
    for name, array in trace.arrays.items():
        if array.ndim == 0 or len(array) != steps:
            continue
        if array.ndim == 1:
            names.append(name)
            blocks.append(array.astype(np.float64)[:, None])
        else:
            flat = array.reshape(steps, -1)
            names += [f"{name}[{j}]" for j in range(flat.shape[1])]
            blocks.append(flat.astype(np.float64))
    return names, np.concatenate(blocks, axis=1)


def trace_to_csv(trace: Trace, path: str | os.PathLike) -> None:
    """Write ``trace`` as CSV with a header row at exactly ``path``, atomically."""
    names, table = csv_columns(trace)
    digits = 17 if any(a.dtype == np.float64 for a in trace.arrays.values()) else 9
    with atomic_file(path) as f:
        np.savetxt(f, table, fmt=f"%.{digits}g", delimiter=",", header=",".join(names),
                   comments="", encoding="utf-8")
