"""One unit's equations with the numbers plugged in, for the explorer's side panel.

Plain numpy on one unit's weight rows: cheap enough to run on every step, and checked by the
tests against the trace it explains.
"""

from __future__ import annotations

import numpy as np

from rnnviz.core.cells import UnitRows
from rnnviz.core.spec import ModelSpec, unit_params


def explain_unit(spec: ModelSpec, params: dict, unit: str, j: int, x, h_prev, c_prev=None
                 ) -> list[tuple[str, float]]:
    """The equations of hidden unit ``j`` of ``unit`` (``l0``, ``l1_reverse``, ...) at one step.

    ``x`` is what the layer reads at this step (the input, or the layer below's output
    ``(D*H,)``), ``h_prev``/``c_prev`` the unit's state ``(H,)`` before it. Returns
    ``(line, value)`` pairs such as
    ``("f_t = sigma(W_if x_t + b_if + W_hf h_(t-1) + b_hf) = sigma(0.12 + 0.19) = sigma(0.31)
    = 0.58", 0.58)``, the value being the quantity the line computes.
    """
    rows = UnitRows(unit_params(params, unit), j, spec.hidden_size, x, h_prev, c_prev)
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
    below = [trace_arrays[f"h_l{layer - 1}{sfx}"][t] for sfx in spec.directions]
    return np.concatenate(below)


def state_before(spec: ModelSpec, trace_arrays: dict, unit: str, t: int, name: str = "h"):
    """``h`` or ``c`` of ``unit`` entering step ``t`` (zeros before the first step, or after
    the last for a reverse direction)."""
    prev = t + 1 if unit.endswith("_reverse") else t - 1
    if not 0 <= prev < len(trace_arrays[f"{name}_{unit}"]):
        return np.zeros(spec.state_size(name))
    return trace_arrays[f"{name}_{unit}"][prev]
