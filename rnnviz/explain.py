"""One unit's equations with the numbers plugged in, for the explorer's side panel.

Plain numpy on one unit's weight rows: cheap enough to run on every step, and checked by the
tests against the trace it explains.
"""

from __future__ import annotations

import numpy as np

from rnnviz.spec import ModelSpec


def _sigmoid(v: float) -> float:
    return float(1.0 / (1.0 + np.exp(-v)))


def explain_unit(spec: ModelSpec, params: dict, unit: str, j: int, x, h_prev, c_prev=None
                 ) -> list[tuple[str, float]]:
    """The equations of hidden unit ``j`` of ``unit`` (``l0``, ``l1_reverse``, ...) at one step.

    ``x`` is what the layer reads at this step (the input, or the layer below's output
    ``(D*H,)``), ``h_prev``/``c_prev`` the unit's state ``(H,)`` before it. Returns
    ``(line, value)`` pairs such as
    ``("f_t = sigma(W_if x_t + b_if + W_hf h_(t-1) + b_hf) = sigma(0.12 + 0.19) = sigma(0.31)
    = 0.58", 0.58)``, the value being the quantity the line computes.
    """
    h = spec.hidden_size
    w_ih = np.asarray(params[f"weight_ih_{unit}"], np.float64)
    w_hh = np.asarray(params[f"weight_hh_{unit}"], np.float64)
    b_ih = np.asarray(params[f"bias_ih_{unit}"], np.float64)
    b_hh = np.asarray(params[f"bias_hh_{unit}"], np.float64)
    x = np.asarray(x, np.float64)
    h_prev = np.asarray(h_prev, np.float64)

    def parts(block: int) -> tuple[float, float]:
        row = block * h + j
        return (float(w_ih[row] @ x + b_ih[row]), float(w_hh[row] @ h_prev + b_hh[row]))

    def gate(letter: str, block: int, act: str) -> tuple[str, float]:
        a, b = parts(block)
        value = _sigmoid(a + b) if act == "sigma" else float(np.tanh(a + b))
        return (f"{letter}_t = {act}(W_i{letter} x_t + b_i{letter} + W_h{letter} h_(t-1) + "
                f"b_h{letter}) = {act}({a:.2f} {b:+.2f}) = {act}({a + b:.2f}) = {value:.2f}",
                value)

    cell = spec.cell
    if cell in ("rnn_tanh", "rnn_relu"):
        a, b = parts(0)
        act = "tanh" if cell == "rnn_tanh" else "relu"
        value = float(np.tanh(a + b)) if act == "tanh" else max(a + b, 0.0)
        return [(f"h_t = {act}(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) = {act}({a:.2f} {b:+.2f})"
                 f" = {value:.2f}", value)]
    if cell == "lstm":
        lines = [gate("i", 0, "sigma"), gate("f", 1, "sigma"), gate("g", 2, "tanh"),
                 gate("o", 3, "sigma")]
        i, f, g, o = (v for _, v in lines)
        cp = float(np.asarray(c_prev, np.float64)[j])
        c = f * cp + i * g
        hv = o * float(np.tanh(c))
        lines.append((f"c_t = f_t c_(t-1) + i_t g_t = {f:.2f}*{cp:.2f} + {i:.2f}*{g:.2f} = "
                      f"{c:.2f}", c))
        lines.append((f"h_t = o_t tanh(c_t) = {o:.2f}*tanh({c:.2f}) = {hv:.2f}", hv))
        return lines
    # GRU, PyTorch's form: the reset gate multiplies (W_hn h + b_hn)
    r_line, z_line = gate("r", 0, "sigma"), gate("z", 1, "sigma")
    r, z = r_line[1], z_line[1]
    a, b = parts(2)
    n = float(np.tanh(a + r * b))
    hp = float(h_prev[j])
    hv = (1 - z) * n + z * hp
    return [r_line, z_line,
            (f"n_t = tanh(W_in x_t + b_in + r_t (W_hn h_(t-1) + b_hn)) = tanh({a:.2f} + "
             f"{r:.2f}*{b:.2f}) = {n:.2f}", n),
            (f"h_t = (1 - z_t) n_t + z_t h_(t-1) = {1 - z:.2f}*{n:.2f} + {z:.2f}*{hp:.2f} = "
             f"{hv:.2f}", hv)]


def layer_input(spec: ModelSpec, trace_arrays: dict, inputs, unit: str, t: int) -> np.ndarray:
    """What ``unit`` reads at step ``t``: the input, or the layer below's ``[fwd, rev]`` h."""
    layer = int(unit[1:].split("_")[0])
    if layer == 0:
        return np.asarray(inputs)[t]
    below = [trace_arrays[f"h_l{layer - 1}{sfx}"][t] for sfx in spec.directions]
    return np.concatenate(below)


def state_before(spec: ModelSpec, trace_arrays: dict, unit: str, t: int, name: str = "h"):
    """``h`` or ``c`` of ``unit`` entering step ``t`` (zeros before the first step, or after
    the last for a reverse direction)."""
    prev = t + 1 if unit.endswith("_reverse") else t - 1
    if not 0 <= prev < len(trace_arrays[f"{name}_{unit}"]):
        return np.zeros(spec.hidden_size)
    return trace_arrays[f"{name}_{unit}"][prev]
