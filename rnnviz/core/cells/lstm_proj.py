"""The LSTM with a projection, as PyTorch's ``nn.LSTM(proj_size=P)`` defines it.

    i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = W_hr (o_t * tanh(c_t))

The gates and c are ``(H,)``; h is ``(P,)``, ``P = proj_size < H`` in PyTorch (any ``P`` here):
the ``(P, H)`` matrix ``weight_hr`` maps the LSTM's usual output to it, and h is what the
next step and the layer above read. ``weight_ih (4H, I)``, ``weight_hh (4H, P)``, biases
``(4H,)``, ``weight_hr (P, H)`` (no bias), gate blocks in PyTorch's order i, f, g, o. Carry
``(h, c)``.

``P`` is the cell's one option, ``proj_size`` (``ModelSpec(..., options={"proj_size": P})``,
default ``max(1, H // 2)``), and h's width (``widths``); the tensors are the cell's own
``layout`` (PyTorch's four with ``weight_hh`` reading ``P`` features, and ``weight_hr``), read
off a file by ``infer`` (``rnnviz.files.weights`` takes this cell where ``weight_hr_l0`` is).

No hand-written backward pass: the projection adds a weight inside the recurrence, which the
shared backward scan (``rnnviz.core.recurrence``: gradients of ``weight_hh`` and ``bias_hh``
only) does not know, so the scan is differentiated by JAX's autodiff
(``rnnviz.core.cells.scan.sequence_scan``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import (
    SIGMOID,
    TANH,
    Carry,
    CellOption,
    CellType,
    Gate,
    Lines,
    Options,
    Params,
    Record,
    UnitRows,
    recurrent_matmul,
)
from rnnviz.core.cells.lstm import lstm_gates
from rnnviz.limits import MAX_HIDDEN

PROJ_SIZE = CellOption("proj_size", "features of the projected h, PyTorch's proj_size",
                       lambda hidden: max(1, hidden // 2), 1, MAX_HIDDEN)


def _recur(params: Params, carry: Carry, xp, eps=None) -> tuple[Carry, Record]:
    """One step; ``eps (P,)`` perturbs the new h (``rnnviz.core.cells.scan.sequence_scan``)."""
    h, c = carry
    z = xp + recurrent_matmul(params["weight_hh"], h) + params["bias_hh"]
    i, f, g, o = jnp.split(lstm_gates(z), 4, axis=-1)
    c = f * c + i * g
    h = recurrent_matmul(params["weight_hr"], o * jnp.tanh(c))
    if eps is not None:
        h = h + eps
    return (h, c), {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


def _widths(hidden_size: int, options: Options) -> dict[str, int]:
    return {"h": options["proj_size"]}


def _layout(cell: CellType, input_size: int, hidden_size: int, options: Options
            ) -> dict[str, tuple[int, ...]]:
    """PyTorch's ``nn.LSTM(proj_size=P)`` tensors of one layer and direction."""
    gh, proj = 4 * hidden_size, options["proj_size"]
    return {"weight_ih": (gh, input_size), "weight_hh": (gh, proj), "bias_ih": (gh,),
            "bias_hh": (gh,), "weight_hr": (proj, hidden_size)}


def _infer(arrays: dict[str, np.ndarray]):
    """``(I, H, {"proj_size": P}, arrays)`` read off ``weight_hr (P, H)`` and ``weight_ih
    (4H, I)``; None where those are missing or not of those shapes. The other tensors'
    shapes are the reader's to check against the layout (one line naming the one that does
    not fit)."""
    w_ih, w_hr = arrays.get("weight_ih"), arrays.get("weight_hr")
    if w_ih is None or w_hr is None or np.ndim(w_ih) != 2 or np.ndim(w_hr) != 2:
        return None
    proj, hidden = w_hr.shape
    if hidden == 0 or proj == 0 or w_ih.shape[0] != 4 * hidden:
        return None
    return int(w_ih.shape[1]), int(hidden), {"proj_size": int(proj)}, arrays


def _explain(u: UnitRows) -> Lines:
    """Unit ``j`` of the cell (its gates and c); the projected h mixes every unit, so the
    last line is ``h_t[j]`` (for ``j < P``) from every unit's ``o tanh(c)``."""
    lines = [u.gate("i", 0, "sigma"), u.gate("f", 1, "sigma"), u.gate("g", 2, "tanh"),
             u.gate("o", 3, "sigma")]
    i, f, g, o = (v for _, v in lines)
    assert u.c_prev is not None  # an LSTM unit always has a cell state before its step
    cp = float(u.c_prev[u.j])
    c = f * cp + i * g
    lines.append((f"c_t = f_t c_(t-1) + i_t g_t = {f:.2f}*{cp:.2f} + {i:.2f}*{g:.2f} = "
                  f"{c:.2f}", c))
    m = o * float(np.tanh(c))
    lines.append((f"m_t = o_t tanh(c_t) = {o:.2f}*tanh({c:.2f}) = {m:.2f} (before the "
                  f"projection)", m))
    return lines


LSTM_PROJ = CellType(
    name="lstm_proj",
    label="LSTM (projected)",
    kind="LSTM",
    aliases=("lstm_projection",),
    num_gates=4,
    gates={"i": Gate("input", SIGMOID), "f": Gate("forget", SIGMOID),
           "g": Gate("candidate", TANH), "o": Gate("output", SIGMOID)},
    carry_names=("h", "c"),
    recur=_recur,
    backward=None,
    forget_block=1,
    bounded=(),  # W_hr can scale h beyond [-1, 1]
    layout=_layout,
    options=(PROJ_SIZE,),
    widths=_widths,
    infer=_infer,
    explain=_explain,
    equations=(
        "i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)\n"
        "f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)\n"
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)\n"
        "o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)\n"
        "c_t = f_t * c_{t-1} + i_t * g_t\n"
        "h_t = W_hr (o_t * tanh(c_t))   (P values: the projection)"
    ),
    note=("PyTorch's LSTM with proj_size: h = W_hr (o * tanh(c)) has proj_size values, "
          "fewer than the cell's; the next step and the layer above read that h."),
)
