"""What every cell type provides, and the pieces cells share.

A cell is a single step ``cell(params, carry, x) -> (carry, record)``, the signature
``lax.scan`` wants, so stepping one time step and scanning a whole sequence share one function.
It is split in two so that a scan can hoist the input projection out of the loop:

- ``project(params, x)``: ``W_ih x + b_ih``, shape ``(G*H,)`` for ``x`` of shape ``(I,)``,
  or ``(T, G*H)`` for a whole sequence ``(T, I)`` in one matmul;
- ``recur(params, carry, xp)``: everything that depends on the previous state.

``params`` holds one layer and direction under PyTorch's short names: ``weight_ih (G*H, I)``,
``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)``, ``G`` the cell's number of
gate blocks. The carry is a tuple named by ``carry_names`` (``(h,)``, or ``(h, c)`` in
PyTorch's order, unlike Flax's ``(c, h)``), each ``(H,)``. The record is a dict with every
carry and every gate by its letter, each ``(H,)``. Every function also takes a batch: leading
axes on ``x``/``xp`` and the carry (``(B, I)``, ``(B, H)``) are carried through.

Everything about one cell type (equations, gates and their ranges, forward, backward,
initialisation rules, the inspector's equations with numbers) lives in its own module
(``rnn``, ``lstm``, ``gru``) as one ``CellType``; ``rnnviz.core.cells`` registers them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Params = dict[str, jax.Array]
Carry = tuple[jax.Array, ...]
Record = dict[str, jax.Array]
SIGMOID = (0.0, 1.0)
TANH = (-1.0, 1.0)


class Gate(NamedTuple):
    """One gate: its name for people (``"forget"``) and the range of its activation (the
    views' fixed colour scale: ``(0, 1)`` for a sigmoid, ``(-1, 1)`` for a tanh)."""

    name: str
    range: tuple[float, float]


class Backward(NamedTuple):
    """What a cell's backward scan returns (see ``rnnviz.core.recurrence``): the cotangent of the
    initial carry, ``dz_hh (T, ..., G*H)`` the gradient of the recurrent pre-activations (for
    ``dW_hh``, ``db_hh``), ``dxp (T, ..., G*H)`` that of the projected input, and, for a
    perturbed scan, ``dh (T, ..., H)`` the total derivative of each step's h (else None)."""

    d_carry0: tuple
    dz_hh: jax.Array
    dxp: jax.Array
    dh: jax.Array | None


class LinearStep(NamedTuple):
    """A cell's backward step written as a linear map of the carry's cotangent, for sweeping
    many cotangents back at once (``rnnviz.core.gradient_maps``: every row of the
    gradient-flow and memory maps).

    - ``coefficients(params, records, carry_prev) -> K``: from one layer and direction's
      params, its records ``(S, H)`` each and the carry entering each step ``(S, H)`` each,
      what each step's map needs, every leaf with leading axis ``S``; the diagonal factors of
      the gate derivatives are folded into copies of ``W_hh`` here, once per step, so that the
      sweep's work per step is one matrix-matrix product for the whole batch;
    - ``apply(K_t, d) -> d_prev``: ``d`` the carry's cotangent at step t, ``(B, H)`` each, h's
      being the total derivative ``dL/dh_t``; returns the cotangent of the carry entering the
      step (h's before anything step t-1 adds to it). Equal to one step of the cell's
      ``backward`` with zero gate cotangents.
    """

    coefficients: Callable[[Params, Record, Carry], Any]
    apply: Callable[[Any, Carry], Carry]


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


def previous(seq: jax.Array, first: jax.Array, reverse: bool) -> jax.Array:
    """The value entering each step: ``seq`` shifted by one step in scan order, ``first``
    (the initial carry) entering the first step."""
    if reverse:
        return jnp.concatenate([seq[1:], first[None]])
    return jnp.concatenate([first[None], seq[:-1]])


def plus(x, ct):
    """``x + ct``, where a cotangent ``ct`` that is a symbolic zero comes as None."""
    return x if ct is None else x + ct


def sigmoid(v: float) -> float:
    return float(1.0 / (1.0 + np.exp(-v)))


class UnitRows:
    """One hidden unit ``j`` of one layer and direction, in float64 numpy, for the inspector:
    ``parts(block)`` gives ``(W_ih[row] x + b_ih[row], W_hh[row] h_prev + b_hh[row])`` for the
    row of gate block ``block``; ``h_prev``/``c_prev`` are the unit's state before the step."""

    def __init__(self, params: dict, j: int, hidden: int, x, h_prev, c_prev=None):
        self.j, self.hidden = j, hidden
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = (
            np.asarray(params[k], np.float64)
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        self.x = np.asarray(x, np.float64)
        self.h_prev = np.asarray(h_prev, np.float64)
        self.c_prev = None if c_prev is None else np.asarray(c_prev, np.float64)

    def parts(self, block: int) -> tuple[float, float]:
        row = block * self.hidden + self.j
        return (float(self.w_ih[row] @ self.x + self.b_ih[row]),
                float(self.w_hh[row] @ self.h_prev + self.b_hh[row]))

    def gate(self, letter: str, block: int, act: str) -> tuple[str, float]:
        """The line of a gate computed as ``act(W_i. x + b_i. + W_h. h + b_h.)``."""
        a, b = self.parts(block)
        value = sigmoid(a + b) if act == "sigma" else float(np.tanh(a + b))
        return (f"{letter}_t = {act}(W_i{letter} x_t + b_i{letter} + W_h{letter} h_(t-1) + "
                f"b_h{letter}) = {act}({a:.2f} {b:+.2f}) = {act}({a + b:.2f}) = {value:.2f}",
                value)


Lines = list[tuple[str, float]]


def _no_residuals(recur):
    def recur_saving(params, carry, xp):
        carry, record = recur(params, carry, xp)
        return carry, record, {}
    return recur_saving


@dataclass(frozen=True, eq=False)  # one object per cell type: identity is equality
class CellType:
    """One kind of recurrent cell, with everything the rest of rnnviz needs to know about it.

    - ``name`` (as in files and presets), ``label`` (for people: ``"RNN (relu)"``), ``kind``
      (the family, in sentences: ``"RNN"``), ``aliases`` (other names ``get_cell`` accepts);
    - ``num_gates``: ``G``, the number of ``(H, ...)`` row blocks of ``weight_ih``/``weight_hh``
      (PyTorch's layout), and ``gates``: each gate's letter, in block order, with its name and
      range (none for the vanilla RNN);
    - ``carry_names``: ``("h",)`` or ``("h", "c")``;
    - ``recur``: one step from the projected input; ``recur_saving`` also returns the
      residuals its backward pass needs beyond the record (default: none);
    - ``backward``: its hand-written backward scan (``rnnviz.core.recurrence`` documents the
      contract); ``saves_raw_h``: its backward reads h before a perturbation (the RNN's
      activation derivative), which the scan then keeps;
    - ``forget_block``: the block whose bias ``InitOptions.forget_bias`` sets (None: no
      forget gate);
    - ``bounded``: the carries whose values stay in [-1, 1] whatever the weights (the views'
      fixed colour scale; the others are scaled to what they reach);
    - ``layout``: the parameters of one layer and direction, ``(cell, input_size, hidden_size)
      -> {short name: shape}``; None is PyTorch's four tensors of ``G`` gate blocks;
    - ``explain``: the inspector's equations of one unit with its numbers, ``(line, value)``
      pairs; ``equations`` the same in symbols, ``note`` a remark shown beside them;
    - ``linear_step``: its backward step as a linear map (``LinearStep``), which the
      gradient maps sweep many rows at a time with; None: they use its ``backward`` through
      autodiff instead (correct, slower).
    """

    name: str
    label: str
    kind: str
    num_gates: int
    gates: dict[str, Gate]
    carry_names: tuple[str, ...]
    recur: Callable[[Params, Carry, jax.Array], tuple[Carry, Record]]
    backward: Callable[..., Backward]
    explain: Callable[[UnitRows], Lines]
    equations: str
    aliases: tuple[str, ...] = ()
    recur_saving: Callable[..., tuple[Carry, Record, dict[str, Any]]] | None = None
    saves_raw_h: bool = False
    forget_block: int | None = None
    bounded: tuple[str, ...] = ("h",)
    layout: Callable[[CellType, int, int], dict[str, tuple[int, ...]]] | None = None
    note: str = ""
    linear_step: LinearStep | None = None

    def __post_init__(self):
        if self.recur_saving is None:
            object.__setattr__(self, "recur_saving", _no_residuals(self.recur))

    def __call__(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, Record]:
        """One time step from the raw input ``x`` of shape ``(I,)``."""
        return self.recur(params, carry, project(params, x))

    @property
    def has_cell_state(self) -> bool:
        return "c" in self.carry_names

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of everything a record holds, in a fixed order: the carry, then the gates."""
        return self.carry_names + tuple(self.gates)

    def zero_carry(self, hidden_size: int, dtype, batch_shape: tuple[int, ...] = ()) -> Carry:
        """All-zero carry, each ``(*batch_shape, H)``."""
        return tuple(jnp.zeros((*batch_shape, hidden_size), dtype) for _ in self.carry_names)

    def unit_param_shapes(self, input_size: int, hidden_size: int) -> dict[str, tuple]:
        """The tensors of one layer and direction, by their short names: PyTorch's four
        (``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)``)
        unless the cell has a ``layout`` of its own."""
        if self.layout is not None:
            return self.layout(self, input_size, hidden_size)
        gh = self.num_gates * hidden_size
        return {"weight_ih": (gh, input_size), "weight_hh": (gh, hidden_size),
                "bias_ih": (gh,), "bias_hh": (gh,)}
