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
(``rnn``, ``lstm``, ``gru``, ``lstm_proj``, ``gru_cho``, ``mingru``, ``minlstm``, ``lru``,
``mamba``) as one ``CellType``; ``rnnviz.core.cells`` registers them.

The modern recurrences (``mingru``, ``minlstm``, ``lru``, ``mamba``) bring their own parameters
(``layout``, ``init``, ``infer``), their own input projection (``project``), records whose
widths need not be ``H`` (``widths``), sizes of their own beyond ``H`` (``options``, such as
Mamba's ``d_state``), an output other than h where the layer passes on something else
(``output``) and a parallel scan over the whole sequence (``parallel``). They have no
hand-written backward (``backward`` is None): JAX differentiates their scans. Whatever the
cell, the record ``"h"`` is the state that carries memory from one step to the next (the
first carry), so that perturbing it gives the total derivatives ``dL/dh_k`` the gradient
views show.

Two PyTorch-family cells use the same mechanisms: the LSTM with a projection (``lstm_proj``)
has a size beyond ``H``, ``options`` ``proj_size`` ``P``, an h of width ``P`` (``widths``) and
PyTorch's tensors plus ``weight_hr`` (``layout``, ``infer``); it and Cho's GRU (``gru_cho``)
have no hand-written backward either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_STATE

Params = dict[str, jax.Array]
Carry = tuple[jax.Array, ...]
Record = dict[str, jax.Array]
Options = dict[str, int]
SIGMOID = (0.0, 1.0)
TANH = (-1.0, 1.0)


class Gate(NamedTuple):
    """One gate (or, for the modern cells, any per-step quantity shown in a row beside h): its
    name for people (``"forget"``) and the range of its values (the views' fixed colour scale:
    ``(0, 1)`` for a sigmoid, ``(-1, 1)`` for a tanh; None: scaled to what it reaches)."""

    name: str
    range: tuple[float, float] | None


class CellOption(NamedTuple):
    """A size a cell has beyond ``H`` (Mamba's ``d_state``): its name in presets and
    ``ModelSpec.options``, what it is, its default from the hidden size ``H`` and its bounds."""

    name: str
    about: str
    default: Callable[[int], int]
    lo: int
    hi: int


class Grid(NamedTuple):
    """A record that is a matrix written out row by row (Mamba's state: ``d_inner`` channels
    by ``d_state`` states, unit ``r * cols + c`` at row r, column c), which the views draw at
    the cursor as a small heatmap rather than bars; ``row_name``/``col_name`` say what its
    rows and columns are."""

    rows: int
    cols: int
    row_name: str
    col_name: str


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
    row of gate block ``block``; ``h_prev``/``c_prev`` are the unit's state before the step.

    For cells with their own parameters: ``params`` (every tensor of the layer, float64),
    ``row`` the record the unit belongs to (``"h"``, a gate's letter; units of records of
    other widths are numbered within that record), ``before`` and ``now`` every record of the
    layer at the step before (zeros before the first) and at this step."""

    def __init__(self, params: dict, j: int, hidden: int, x, h_prev, c_prev=None, *,
                 row: str = "h", before: dict | None = None, now: dict | None = None):
        self.j, self.hidden, self.row = j, hidden, row
        self.params = {k: np.asarray(v, np.float64) for k, v in params.items()}
        self.x = np.asarray(x, np.float64)
        self.h_prev = np.asarray(h_prev, np.float64)
        self.c_prev = None if c_prev is None else np.asarray(c_prev, np.float64)
        self.before = {k: np.asarray(v, np.float64) for k, v in (before or {}).items()}
        self.now = {k: np.asarray(v, np.float64) for k, v in (now or {}).items()}

    def parts(self, block: int) -> tuple[float, float]:
        p, row = self.params, block * self.hidden + self.j
        return (float(p["weight_ih"][row] @ self.x + p["bias_ih"][row]),
                float(p["weight_hh"][row] @ self.h_prev + p["bias_hh"][row]))

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
      (PyTorch's layout, kept by the projected LSTM's own; 0 for a modern cell's ``layout``),
      and ``gates``: each gate's letter, in block order, with its name and range (none for
      the vanilla RNN); a modern cell lists there every per-step quantity shown in a row
      beside h;
    - ``carry_names``: ``("h",)`` or ``("h", "c")``; the first is always h;
    - ``recur``: one step from the projected input; ``recur_saving`` also returns the
      residuals its backward pass needs beyond the record (default: none);
    - ``backward``: its hand-written backward scan (``rnnviz.core.recurrence`` documents the
      contract), or None: JAX differentiates the cell's scans (the modern recurrences, and a
      cell whose recurrent matmul does not read h itself or that has weights beyond
      ``weight_hh`` and ``bias_hh`` in its recurrence: Cho's GRU, the projected LSTM); such a
      cell's ``recur`` takes a fourth argument, the perturbation ``eps`` of h (see
      ``rnnviz.core.cells.scan.sequence_scan``); ``saves_raw_h``: its backward reads h before
      a perturbation (the RNN's activation derivative), which the scan then keeps;
    - ``forget_block``: the block whose bias ``InitOptions.forget_bias`` sets (None: no
      forget gate);
    - ``bounded``: the carries whose values stay in [-1, 1] whatever the weights (the views'
      fixed colour scale; the others are scaled to what they reach);
    - ``layout``: the parameters of one layer and direction, ``(cell, input_size, hidden_size,
      options) -> {short name: shape}``; None is PyTorch's four tensors of ``G`` gate blocks;
    - ``explain``: the inspector's equations of one unit with its numbers, ``(line, value)``
      pairs; ``equations`` the same in symbols, ``note`` a remark shown beside them.

    What a modern recurrence adds (all optional; the defaults describe the PyTorch cells):

    - ``project``: the part of a step that does not read the carry, for one step ``(I,)`` or
      a whole sequence ``(T, I)`` at once (default ``W_ih x + b_ih``);
    - ``parallel``: ``(params, xp (T, ..., P), carry0, eps) -> (final, records)``, the same
      as a sequential scan of ``recur`` (with the hidden state perturbed by ``eps``, see
      ``rnnviz.core.forward.scan_unit``) computed for all steps at once by an associative
      scan; ``prefer_parallel``: the trace uses it (where measured faster on the CPU,
      ``benchmarks/bench_parallel.py``);
    - ``output``: the record the layer passes on (to the layer above and the readout), of its
      width in ``widths`` (``(H,)`` but for the projected LSTM's ``(P,)`` h); default h;
    - ``options``: sizes beyond ``H`` (``ModelSpec.options``); ``widths``: ``(H, options) ->
      {record: width}`` for records that are not ``(H,)``; ``grids``: ``(H, options) ->
      {record: Grid}`` for records that are matrices (shown as one at the cursor);
    - ``init``: ``(key, input_size, hidden_size, options, dtype) -> params`` of one layer
      and direction (default: every tensor ``U(-1/sqrt(H), 1/sqrt(H))``, as PyTorch);
      ``infer``: ``(arrays) -> (input_size, hidden_size, options, arrays)`` read off one
      layer's tensors by their short names (the weight reader's; the arrays come back as the
      layout wants them, the LRU turning a vector ``D`` into a matrix), None where they do
      not fit;
    - ``transition``: ``(params, record) -> eigenvalues`` of the diagonal map from
      ``h_{t-1}`` to ``h_t`` at one step (numpy, complex), for the Weights tab;
    - ``linear_step``: its backward step as a linear map (``LinearStep``), which the
      gradient maps sweep many rows at a time with; None (every modern recurrence, Cho's GRU
      and the projected LSTM): they use its backward through autodiff instead (correct,
      slower).
    """

    name: str
    label: str
    kind: str
    num_gates: int
    gates: dict[str, Gate]
    carry_names: tuple[str, ...]
    recur: Callable[[Params, Carry, Any], tuple[Carry, Record]]
    backward: Callable[..., Backward] | None
    explain: Callable[[UnitRows], Lines]
    equations: str
    aliases: tuple[str, ...] = ()
    recur_saving: Callable[..., tuple[Carry, Record, dict[str, Any]]] | None = None
    saves_raw_h: bool = False
    forget_block: int | None = None
    bounded: tuple[str, ...] = ("h",)
    layout: Callable[[CellType, int, int, Options], dict[str, tuple[int, ...]]] | None = None
    note: str = ""
    project: Callable[[Params, jax.Array], Any] | None = None
    parallel: Callable[..., tuple[Carry, Record]] | None = None
    prefer_parallel: bool = False
    output: str = "h"
    options: tuple[CellOption, ...] = ()
    widths: Callable[[int, Options], dict[str, int]] | None = None
    grids: Callable[[int, Options], dict[str, Grid]] | None = None
    init: Callable[..., dict[str, jax.Array]] | None = None
    infer: Callable[[dict[str, np.ndarray]], tuple[int, int, Options, dict] | None] | None \
        = None
    transition: Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], np.ndarray] | None \
        = None
    linear_step: LinearStep | None = None

    def __post_init__(self):
        if self.recur_saving is None:
            object.__setattr__(self, "recur_saving", _no_residuals(self.recur))

    def __call__(self, params: Params, carry: Carry, x: jax.Array) -> tuple[Carry, Record]:
        """One time step from the raw input ``x`` of shape ``(I,)``."""
        return self.recur(params, carry, self.project_input(params, x))

    def project_input(self, params: Params, x: jax.Array):
        """The input projection of one step ``(I,)`` or a sequence ``(T, ..., I)``."""
        return project(params, x) if self.project is None else self.project(params, x)

    @property
    def has_cell_state(self) -> bool:
        return "c" in self.carry_names

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of everything a record holds, in a fixed order: the carry, then the gates."""
        return self.carry_names + tuple(g for g in self.gates if g not in self.carry_names)

    def check_options(self, options, hidden_size: int, source: str = "options"
                      ) -> tuple[tuple[str, int], ...]:
        """``options`` (a mapping or pairs) checked against the cell's ``CellOption`` s, with
        every default filled in from ``hidden_size``: sorted ``(name, value)`` pairs. One-line
        ``RnnvizError`` naming the option otherwise."""
        given = dict(options or {})
        known = {o.name: o for o in self.options}
        for name in given:
            if name not in known:
                expected = f"one of {', '.join(known)}" if known else "none"
                raise RnnvizError(f"{source}: {name}: unknown option of a {self.label} cell; "
                                  f"expected {expected}")
        out = {}
        for name, option in known.items():
            value = given.get(name, option.default(hidden_size))
            if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
                    or not option.lo <= value <= option.hi):
                raise RnnvizError(f"{source}: {name} ({option.about}): expected an integer "
                                  f"in {option.lo}..{option.hi}, got {value!r}")
            out[name] = int(value)
        if self.widths is not None:
            wide = max(self.widths(hidden_size, out).values(), default=0)
            if wide > MAX_STATE:
                raise RnnvizError(f"{source}: a {self.label} layer of {hidden_size} units with "
                                  f"{out} keeps {wide} values per step; at most {MAX_STATE} "
                                  f"(limit MAX_STATE)")
        return tuple(sorted(out.items()))

    def record_widths(self, hidden_size: int, options=()) -> dict[str, int]:
        """The width of every record (``state_names``): ``H`` unless ``widths`` says else."""
        own = ({} if self.widths is None else
               self.widths(hidden_size, dict(self.check_options(options, hidden_size))))
        return {name: own.get(name, hidden_size) for name in self.state_names}

    def record_grids(self, hidden_size: int, options=()) -> dict[str, Grid]:
        """The records that are matrices (``grids``), each ``Grid`` ``rows * cols`` wide."""
        if self.grids is None:
            return {}
        return self.grids(hidden_size, dict(self.check_options(options, hidden_size)))

    def zero_carry(self, hidden_size: int, dtype, batch_shape: tuple[int, ...] = (),
                   options=()) -> Carry:
        """All-zero carry, each ``(*batch_shape, width)`` (``(H,)`` for the PyTorch cells)."""
        widths = self.record_widths(hidden_size, options)
        return tuple(jnp.zeros((*batch_shape, widths[n]), dtype) for n in self.carry_names)

    def unit_param_shapes(self, input_size: int, hidden_size: int, options=()
                          ) -> dict[str, tuple]:
        """The tensors of one layer and direction, by their short names: PyTorch's four
        (``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)``)
        unless the cell has a ``layout`` of its own (the projected LSTM's adds ``weight_hr``,
        the modern cells' are their own)."""
        if self.layout is not None:
            return self.layout(self, input_size, hidden_size, dict(options))
        gh = self.num_gates * hidden_size
        return {"weight_ih": (gh, input_size), "weight_hh": (gh, hidden_size),
                "bias_ih": (gh,), "bias_hh": (gh,)}
