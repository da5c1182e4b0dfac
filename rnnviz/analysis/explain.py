"""One unit's equations with the numbers plugged in, for the explorer's side panel.

Plain numpy on one unit's weight rows: cheap enough to run on every step, and checked by the
tests against the trace it explains.
"""

from __future__ import annotations

import numpy as np

from rnnviz.core.cells import UnitRows
from rnnviz.core.forward import state_key
from rnnviz.core.spec import ModelSpec, unit_params


def explain_unit(spec: ModelSpec, params: dict, unit: str, j: int, x, h_prev, c_prev=None, *,
                 row: str = "h", before: dict | None = None, now: dict | None = None
                 ) -> list[tuple[str, float]]:
    """The equations of hidden unit ``j`` of ``unit`` (``l0``, ``l1_reverse``, ...) at one step.

    ``x`` is what the layer reads at this step (the input, or the layer below's output
    ``(D*H,)``), ``h_prev``/``c_prev`` the unit's state ``(H,)`` before it. Returns
    ``(line, value)`` pairs such as
    ``("f_t = sigma(W_if x_t + b_if + W_hf h_(t-1) + b_hf) = sigma(0.12 + 0.19) = sigma(0.31)
    = 0.58", 0.58)``, the value being the quantity the line computes.

    The modern cells (minGRU, minLSTM, LRU, Mamba) explain the unit ``j`` of the record
    ``row`` (``"h"``, ``"dt"``, ...) and read every record of the layer at the step before and
    at this step, ``before`` and ``now`` (``records_at``).
    """
    rows = UnitRows(unit_params(params, unit), j, spec.hidden_size, x, h_prev, c_prev,
                    row=row, before=before, now=now)
    return spec.cell_type.explain(rows)


def layer_input(spec: ModelSpec, trace_arrays: dict, inputs, unit: str, t: int,
                params: dict | None = None) -> np.ndarray:
    """What ``unit`` reads at step ``t``: the input (a token's embedding vector with an
    embedding), or the layer below's ``[fwd, rev]`` h."""
    layer = int(unit[1:].split("_")[0])
    if layer == 0:
        x = np.asarray(inputs)[t]
        if spec.vocab_size is None or params is None:
            return x
        return np.asarray(params["embedding.weight"])[int(x[0])]
    output = spec.cell_type.output           # h, or the LRU's and Mamba's y
    below = [trace_arrays[state_key(output, f"l{layer - 1}{sfx}")][t] for sfx in spec.directions]
    return np.concatenate(below)


def records_at(spec: ModelSpec, trace_arrays: dict, unit: str, t: int) -> tuple[dict, dict]:
    """Every record of ``unit`` (``h``, ``c``, each gate; by its short name) entering step
    ``t`` and at step ``t``: ``(before, now)``, before being zeros at the start."""
    before = {n: state_before(spec, trace_arrays, unit, t, n)
              for n in spec.cell_type.state_names}
    now = {n: trace_arrays[state_key(n, unit)][t] for n in spec.cell_type.state_names}
    return before, now


def state_before(spec: ModelSpec, trace_arrays: dict, unit: str, t: int, name: str = "h"):
    """``h`` or ``c`` of ``unit`` entering step ``t`` (zeros before the first step, or after
    the last for a reverse direction)."""
    prev = t + 1 if unit.endswith("_reverse") else t - 1
    values = trace_arrays[state_key(name, unit)]
    if not 0 <= prev < len(values):
        return np.zeros(values.shape[1:])
    return values[prev]
