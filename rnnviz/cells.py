"""Recurrent cells as pure functions, with PyTorch's parameter names, layouts and gate order.

Every cell is a single step ``cell(params, carry, x) -> (carry, record)``, the signature
``lax.scan`` wants, so stepping one time step and scanning a whole sequence share one function.
A cell is split in two so that a scan can hoist the input projection out of the loop:

- ``project(params, x)``: ``W_ih x + b_ih``, shape ``(G*H,)`` for ``x`` of shape ``(I,)``,
  or ``(T, G*H)`` for a whole sequence ``(T, I)`` in one matmul;
- ``recur(params, carry, xp)``: everything that depends on the previous state.

``params`` holds one layer and direction: ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``,
``bias_ih (G*H,)``, ``bias_hh (G*H,)``, with ``G`` the number of gates (1 RNN, 4 LSTM, 3 GRU).

The carry is a tuple: ``(h,)`` for the RNN and GRU, ``(h, c)`` for the LSTM (PyTorch's order,
unlike Flax's ``(c, h)``), each of shape ``(H,)``. The record is a dict with the new ``h``,
``c`` for the LSTM, and every gate by its letter, each ``(H,)``.

Every function also takes a batch: leading axes on ``x``/``xp`` and the carry (``(B, I)``,
``(B, H)``) are carried through, which is how training runs one scan over a whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Params = dict[str, jax.Array]
Carry = tuple[jax.Array, ...]
Record = dict[str, jax.Array]


def project(params: Params, x: jax.Array) -> jax.Array:
    """Input projection ``W_ih x + b_ih`` for one step ``(I,)`` or a sequence ``(T, I)``
    (or ``(T, B, I)``): ``(..., G*H)``."""
    return x @ params["weight_ih"].T + params["bias_ih"]


def recurrent_matmul(weight_hh: jax.Array, h: jax.Array) -> jax.Array:
    """``W_hh h`` for ``h (..., H)``: ``(..., G*H)``.

    Written as a ``dot_general`` contracting ``W_hh``'s second axis, never ``h @ W_hh.T``:
    inside a scan, XLA's CPU backend copies that transpose at every step (7x slower at
    H = 256, measured in benchmarks/bench_levers.py).
    """
    return lax.dot_general(h, weight_hh, (((h.ndim - 1,), (1,)), ((), ())))


def _rnn_recur(activation: Callable[[jax.Array], jax.Array]):
    def recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
        (h,) = carry
        h = activation(xp + recurrent_matmul(params["weight_hh"], h) + params["bias_hh"])
        return (h,), {"h": h}

    return recur


def lstm_gates(z: jax.Array) -> jax.Array:
    """The LSTM's gates from their pre-activations ``z (..., 4H)``, packed in PyTorch's
    blocks ``i, f, g, o``: a sigmoid on ``i``, ``f``, ``o`` and a tanh on ``g``, computed as
    one tanh of the whole array through ``sigma(x) = (1 + tanh(x / 2)) / 2``:
    ``tanh(s z) s + s`` on the sigmoid blocks (``s = 1/2``), ``tanh(z)`` on ``g``.

    Why one tanh: XLA's CPU backend emits an elementwise fusion that holds two or more
    transcendental ops 5 to 10x slower than one that holds a single one
    (benchmarks/bench_xla_fusion.py). With four activations, any loop that does not keep
    the gates (a forward pass for a loss alone, as in validation) fused them all into the
    cell-state update and ran 2.2x slower.
    """
    hidden = z.shape[-1] // 4
    scale = np.repeat(np.array([0.5, 0.5, 1.0, 0.5], z.dtype), hidden)
    shift = np.repeat(np.array([0.5, 0.5, 0.0, 0.5], z.dtype), hidden)
    return jnp.tanh(z * scale) * scale + shift


def _lstm_recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
    h, c = carry
    z = xp + recurrent_matmul(params["weight_hh"], h) + params["bias_hh"]
    i, f, g, o = jnp.split(lstm_gates(z), 4, axis=-1)
    c = f * c + i * g
    h = o * jnp.tanh(c)
    return (h, c), {"h": h, "c": c, "i": i, "f": f, "g": g, "o": o}


def gru_recur_with_hn(params: Params, carry: Carry,
                      xp: jax.Array) -> tuple[Carry, Record, jax.Array]:
    """The GRU step, also returning ``hn = W_hn h + b_hn``, which its backward pass needs and
    the record cannot give back (``rnnviz.recurrence`` saves it)."""
    (h,) = carry
    hp = recurrent_matmul(params["weight_hh"], h) + params["bias_hh"]
    xr, xz, xn = jnp.split(xp, 3, axis=-1)
    hr, hz, hn = jnp.split(hp, 3, axis=-1)
    r = jax.nn.sigmoid(xr + hr)
    z = jax.nn.sigmoid(xz + hz)
    n = jnp.tanh(xn + r * hn)
    h = (1 - z) * n + z * h
    return (h,), {"h": h, "r": r, "z": z, "n": n}, hn


def _gru_recur(params: Params, carry: Carry, xp: jax.Array) -> tuple[Carry, Record]:
    carry, record, _ = gru_recur_with_hn(params, carry, xp)
    return carry, record


@dataclass(frozen=True)
class CellType:
    """What distinguishes one kind of cell: its gates, its carry and its step.

    ``gates`` maps each gate letter to ``(name, range)``, the range being the activation's
    image, ``(0, 1)`` for a sigmoid and ``(-1, 1)`` for a tanh, which the views use as a
    fixed colour scale.
    """

    name: str
    num_gates: int
    gates: dict[str, tuple[str, tuple[float, float]]]
    has_cell_state: bool
    recur: Callable[[Params, Carry, jax.Array], tuple[Carry, Record]]
    equations: str

    def __call__(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, Record]:
        """One time step from the raw input ``x`` of shape ``(I,)``."""
        return self.recur(params, carry, project(params, x))

    @property
    def carry_names(self) -> tuple[str, ...]:
        return ("h", "c") if self.has_cell_state else ("h",)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of everything a record holds, in a fixed order."""
        return self.carry_names + tuple(self.gates)

    def zero_carry(self, hidden_size: int, dtype, batch_shape: tuple[int, ...] = ()) -> Carry:
        """All-zero carry, each ``(*batch_shape, H)``."""
        return tuple(jnp.zeros((*batch_shape, hidden_size), dtype) for _ in self.carry_names)


_SIGMOID = (0.0, 1.0)
_TANH = (-1.0, 1.0)

RNN_TANH = CellType(
    name="rnn_tanh",
    num_gates=1,
    gates={},
    has_cell_state=False,
    recur=_rnn_recur(jnp.tanh),
    equations="h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)",
)
RNN_RELU = CellType(
    name="rnn_relu",
    num_gates=1,
    gates={},
    has_cell_state=False,
    recur=_rnn_recur(jax.nn.relu),
    equations="h_t = relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)",
)
LSTM = CellType(
    name="lstm",
    num_gates=4,
    gates={"i": ("input", _SIGMOID), "f": ("forget", _SIGMOID),
           "g": ("candidate", _TANH), "o": ("output", _SIGMOID)},
    has_cell_state=True,
    recur=_lstm_recur,
    equations=(
        "i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)\n"
        "f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)\n"
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)\n"
        "o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)\n"
        "c_t = f_t * c_{t-1} + i_t * g_t\n"
        "h_t = o_t * tanh(c_t)"
    ),
)
GRU = CellType(
    name="gru",
    num_gates=3,
    gates={"r": ("reset", _SIGMOID), "z": ("update", _SIGMOID), "n": ("candidate", _TANH)},
    has_cell_state=False,
    recur=_gru_recur,
    equations=(
        "r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)\n"
        "z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)\n"
        "n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))\n"
        "h_t = (1 - z_t) * n_t + z_t * h_{t-1}\n"
        "(PyTorch's form: the reset gate multiplies W_hn h + b_hn, after the matmul,\n"
        " not h before it as in Cho et al. 2014)"
    ),
)

CELLS: dict[str, CellType] = {c.name: c for c in (RNN_TANH, RNN_RELU, LSTM, GRU)}
CELL_ALIASES = {"rnn": "rnn_tanh", "tanh": "rnn_tanh", "relu": "rnn_relu"}


def get_cell(name: str) -> CellType:
    """The cell type called ``name`` (``rnn``/``rnn_tanh``, ``rnn_relu``, ``lstm``, ``gru``)."""
    key = CELL_ALIASES.get(name.lower(), name.lower())
    if key not in CELLS:
        raise ValueError(f"unknown cell {name!r}: expected one of rnn, rnn_relu, lstm, gru")
    return CELLS[key]
