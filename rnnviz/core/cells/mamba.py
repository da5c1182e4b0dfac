"""The Mamba block (Gu & Dao 2023, arXiv 2312.00752): a selective state space (S6) between an
input projection, a short causal convolution, a gate and an output projection, as
``mamba_ssm.modules.mamba_simple.Mamba`` computes it (``selective_scan_ref`` for the scan).

For the input ``u_t (I,)`` of one layer, with ``E = d_inner``, ``N = d_state``, ``R =
dt_rank``, ``K = d_conv``:

    [x_t; z_t]     = W_in u_t                                     (2E,)  in_proj
    xc_t           = silu(sum_k w_conv[:, k] * x_(t-K+1+k) + b_conv)  (E,)   conv1d, causal
    [d_t; B_t; C_t] = W_x xc_t                                    (R + 2N,)  x_proj
    Delta_t        = softplus(W_dt d_t + b_dt)                    (E,)   dt_proj (bias inside)
    A              = -exp(A_log)                                  (E, N)
    s_t            = exp(Delta_t A) * s_(t-1) + (Delta_t xc_t) B_t^T   (E, N), elementwise
    y_t            = W_out ((s_t C_t + D * xc_t) * silu(z_t))     (H,)   out_proj

Parameters under ``mamba_ssm``'s names, so that a ``Mamba`` module's state_dict loads:
``in_proj.weight (2E, I)``, ``conv1d.weight (E, 1, K)``, ``conv1d.bias (E,)``,
``x_proj.weight (R + 2N, E)``, ``dt_proj.weight (E, R)``, ``dt_proj.bias (E,)``,
``A_log (E, N)``, ``D (E,)``, ``out_proj.weight (H, E)`` (the module's defaults: no bias on
the two projections). ``E``, ``N``, ``K``, ``R`` are ``ModelSpec.options`` ``d_inner``
(default ``2H``), ``d_state`` (16), ``d_conv`` (4), ``dt_rank`` (``ceil(H / 16)``), the
module's defaults for ``d_model = H``; ``H`` is the block's output (``d_model``), which the
layer passes on, and ``I`` its input (``d_model`` too in ``mamba_ssm``; any size here).

What the views show: the record ``h`` is the selective state ``s_t`` written out channel by
channel, ``(E*N,)`` (row ``e*N + n`` is channel e, state n): it is what carries memory, so
the gradient views perturb it; the rows beside it are ``dt`` (``Delta_t``, ``(E,)``: how much
each channel writes, large, or keeps, near 0, at this step: the selection), ``B`` and ``C``
(``(N,)``) and the output ``y`` (``(H,)``); at the cursor, h is drawn as the matrix it is,
channels by states (``grids``). The carry is ``(h, w)``: ``w`` holds the last
``K - 1`` inputs of the convolution, oldest first, ``((K-1)*E,)``. The transition at step t is
diagonal with eigenvalues ``exp(Delta_t A)`` in (0, 1).

``MAMBA_SIGNED`` ("Mamba [-1,1]") replaces ``exp(Delta_t A)`` by ``2 exp(Delta_t A) - 1``,
eigenvalues in (-1, 1): the change Grazzi et al. (2024, arXiv 2411.12537) make so that a
diagonal linear recurrence can track parity. Same parameters.

Initialisation as ``mamba_ssm``'s: projections and the convolution as PyTorch's
``nn.Linear``/``nn.Conv1d`` draw them, ``dt_proj.weight ~ U(+-R^-1/2)``, ``dt_proj.bias``
the inverse softplus of ``Delta`` drawn log-uniform in [0.001, 0.1], ``A_log = log(1..N)`` for
every channel (S4D-real), ``D = 1``. The parallel form is one associative scan over
``(T, E, N)`` (``rnnviz.core.cells.scan.linear_scan``), the convolution a sum of ``K`` shifted
copies; the trace runs the step scan, which ``benchmarks/bench_parallel.py`` measures faster on
the CPU.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import (
    Carry,
    CellOption,
    CellType,
    Gate,
    Grid,
    Lines,
    Options,
    Params,
    UnitRows,
)
from rnnviz.core.cells.modern import torch_uniform
from rnnviz.core.cells.scan import linear_scan
from rnnviz.limits import MAX_HIDDEN

DT_MIN, DT_MAX, DT_FLOOR = 0.001, 0.1, 1e-4
OPTIONS = (
    CellOption("d_inner", "E, channels of the selective scan", lambda h: 2 * h, 1,
               4 * MAX_HIDDEN),
    CellOption("d_state", "N, state size per channel", lambda h: 16, 1, 256),
    CellOption("d_conv", "K, width of the causal convolution", lambda h: 4, 2, 8),
    CellOption("dt_rank", "R, rank of the Delta projection", lambda h: math.ceil(h / 16), 1,
               4 * MAX_HIDDEN),
)


def _layout(cell: CellType, input_size: int, hidden_size: int, options: Options):
    e, n, k, r = (options[name] for name in ("d_inner", "d_state", "d_conv", "dt_rank"))
    return {"in_proj.weight": (2 * e, input_size), "conv1d.weight": (e, 1, k),
            "conv1d.bias": (e,), "x_proj.weight": (r + 2 * n, e), "dt_proj.weight": (e, r),
            "dt_proj.bias": (e,), "A_log": (e, n), "D": (e,),
            "out_proj.weight": (hidden_size, e)}


def _widths(hidden_size: int, options: Options) -> dict[str, int]:
    e, n, k = options["d_inner"], options["d_state"], options["d_conv"]
    return {"h": e * n, "w": (k - 1) * e, "dt": e, "B": n, "C": n, "y": hidden_size}


def _grids(hidden_size: int, options: Options) -> dict[str, Grid]:
    """The state ``h`` is the matrix ``s_t``, ``(E, N)``: channels by states."""
    return {"h": Grid(options["d_inner"], options["d_state"], "channel", "state")}


def _project(params: Params, u: jax.Array) -> jax.Array:
    return u @ params["in_proj.weight"].T


def _selection(params: Params, xc: jax.Array):
    """``(Delta, B, C)`` from the convolved input ``xc (..., E)``."""
    rank = params["dt_proj.weight"].shape[1]
    n = params["A_log"].shape[1]
    low, b, c = jnp.split(xc @ params["x_proj.weight"].T, [rank, rank + n], axis=-1)
    delta = jax.nn.softplus(low @ params["dt_proj.weight"].T + params["dt_proj.bias"])
    return delta, b, c


def _decay(signed: bool):
    def decay(params: Params, delta: jax.Array) -> jax.Array:
        """The transition ``exp(Delta A)`` (``(..., E, N)``), or ``2 exp(Delta A) - 1``."""
        a = jnp.exp(delta[..., None] * -jnp.exp(params["A_log"]))
        return 2 * a - 1 if signed else a
    return decay


def _output(params: Params, s: jax.Array, c: jax.Array, xc: jax.Array, z: jax.Array):
    """``W_out ((s C + D xc) * silu(z))``."""
    y = jnp.sum(s * c[..., None, :], axis=-1) + params["D"] * xc
    return (y * jax.nn.silu(z)) @ params["out_proj.weight"].T


def _conv(params: Params, window: jax.Array) -> jax.Array:
    """``silu`` of the depthwise convolution of ``window (..., K, E)`` (oldest first)."""
    weight = params["conv1d.weight"][:, 0, :]                  # (E, K)
    return jax.nn.silu(jnp.einsum("...ke,ek->...e", window, weight) + params["conv1d.bias"])


def _flat(s: jax.Array) -> jax.Array:
    return s.reshape(*s.shape[:-2], s.shape[-2] * s.shape[-1])


def _recur_fn(signed: bool):
    decay = _decay(signed)

    def recur(params: Params, carry: Carry, xp: jax.Array, eps: jax.Array | None = None):
        e, n = params["A_log"].shape
        h, w = carry
        x, z = jnp.split(xp, 2, axis=-1)
        window = jnp.concatenate([w.reshape(*w.shape[:-1], -1, e), x[..., None, :]], axis=-2)
        xc = _conv(params, window)
        delta, b, c = _selection(params, xc)
        s = decay(params, delta) * h.reshape(*h.shape[:-1], e, n) \
            + (delta * xc)[..., None] * b[..., None, :]
        if eps is not None:
            s = s + eps.reshape(s.shape)
        h, w = _flat(s), _flat(window[..., 1:, :])
        return (h, w), {"h": h, "w": w, "dt": delta, "B": b, "C": c,
                        "y": _output(params, s, c, xc, z)}

    return recur


def _parallel_fn(signed: bool):
    decay = _decay(signed)

    def parallel(params: Params, xp: jax.Array, carry0: Carry, eps: jax.Array | None):
        e, n = params["A_log"].shape
        steps, k = xp.shape[0], params["conv1d.weight"].shape[2]
        x, z = jnp.split(xp, 2, axis=-1)                               # (T, ..., E)
        h0, w0 = carry0
        first = jnp.moveaxis(w0.reshape(*w0.shape[:-1], k - 1, e), -2, 0)   # (K-1, ..., E)
        inputs = jnp.concatenate([first.astype(x.dtype), x], axis=0)        # (T+K-1, ..., E)
        windows = jnp.stack([inputs[j: j + steps] for j in range(k)], axis=-2)  # (T, ..., K, E)
        xc = _conv(params, windows)
        delta, b, c = _selection(params, xc)
        write = (delta * xc)[..., None] * b[..., None, :]               # (T, ..., E, N)
        if eps is not None:
            write = write + eps.reshape(write.shape)
        s = linear_scan(decay(params, delta), write, h0.reshape(*h0.shape[:-1], e, n))
        h, w = _flat(s), _flat(windows[..., 1:, :])
        return (h[-1], w[-1]), {"h": h, "w": w, "dt": delta, "B": b, "C": c,
                                "y": _output(params, s, c, xc, z)}

    return parallel


def _init(key, input_size: int, hidden_size: int, options: Options, dtype):
    e, n, k, r = (options[name] for name in ("d_inner", "d_state", "d_conv", "dt_rank"))
    keys = jax.random.split(key, 7)
    # Delta drawn log-uniform in [DT_MIN, DT_MAX]; the bias is its inverse softplus
    delta = jnp.exp(jax.random.uniform(keys[5], (e,), dtype) * (np.log(DT_MAX) - np.log(DT_MIN))
                    + np.log(DT_MIN))
    delta = jnp.maximum(delta, DT_FLOOR)
    return {"in_proj.weight": torch_uniform(keys[0], (2 * e, input_size), input_size, dtype),
            "conv1d.weight": torch_uniform(keys[1], (e, 1, k), k, dtype),
            "conv1d.bias": torch_uniform(keys[2], (e,), k, dtype),
            "x_proj.weight": torch_uniform(keys[3], (r + 2 * n, e), e, dtype),
            "dt_proj.weight": torch_uniform(keys[4], (e, r), r, dtype),
            "dt_proj.bias": delta + jnp.log(-jnp.expm1(-delta)),
            "A_log": jnp.log(jnp.tile(jnp.arange(1, n + 1, dtype=dtype), (e, 1))),
            "D": jnp.ones((e,), dtype),
            "out_proj.weight": torch_uniform(keys[6], (hidden_size, e), e, dtype)}


def _infer(arrays: dict[str, np.ndarray]):
    """The sizes from ``in_proj.weight (2E, I)``, ``A_log (E, N)``, ``conv1d.weight
    (E, 1, K)``, ``dt_proj.weight (E, R)`` and ``out_proj.weight (H, E)``."""
    shapes = {name: np.shape(arrays[name]) for name in
              ("in_proj.weight", "A_log", "conv1d.weight", "dt_proj.weight", "out_proj.weight")
              if name in arrays}
    if len(shapes) < 5 or len(shapes["A_log"]) != 2 or len(shapes["conv1d.weight"]) != 3 \
            or len(shapes["dt_proj.weight"]) != 2 or len(shapes["out_proj.weight"]) != 2 \
            or len(shapes["in_proj.weight"]) != 2:
        return None
    e, n = shapes["A_log"]
    options = {"d_inner": e, "d_state": n, "d_conv": shapes["conv1d.weight"][2],
               "dt_rank": shapes["dt_proj.weight"][1]}
    return (int(shapes["in_proj.weight"][1]), int(shapes["out_proj.weight"][0]),
            {k: int(v) for k, v in options.items()}, arrays)


def _transition_fn(signed: bool):
    def transition(params, record) -> np.ndarray:
        a = np.exp(np.asarray(record["dt"], np.float64)[:, None]
                   * -np.exp(np.asarray(params["A_log"], np.float64)))
        return (2 * a - 1 if signed else a).ravel().astype(complex)
    return transition


def _softplus(v):
    return np.logaddexp(0.0, v)


def _silu(v):
    return v / (1 + np.exp(-v))


def numpy_step(u: UnitRows, signed: bool) -> dict[str, np.ndarray]:
    """One step of the block in float64 numpy from the layer's input ``u.x`` and the records
    before it (``u.before``: the state ``h`` and the convolution's inputs ``w``): every
    intermediate of the module docstring's equations, for the inspector."""
    p = u.params
    e, n = p["A_log"].shape
    x, z = np.split(p["in_proj.weight"] @ u.x, 2)
    window = np.concatenate([u.before["w"].reshape(-1, e), x[None]])        # (K, E)
    pre = np.sum(window * p["conv1d.weight"][:, 0, :].T, axis=0) + p["conv1d.bias"]
    xc = _silu(pre)
    rank = p["dt_proj.weight"].shape[1]
    low, b, c = np.split(p["x_proj.weight"] @ xc, [rank, rank + n])
    dt_pre = p["dt_proj.weight"] @ low + p["dt_proj.bias"]
    delta = _softplus(dt_pre)
    a_cont = -np.exp(p["A_log"])
    decay = np.exp(delta[:, None] * a_cont)
    decay = 2 * decay - 1 if signed else decay
    prev = u.before["h"].reshape(e, n)
    s = decay * prev + (delta * xc)[:, None] * b[None, :]
    y_ssm = s @ c + p["D"] * xc
    gated = y_ssm * _silu(z)
    return {"x": x, "z": z, "window": window, "pre": pre, "xc": xc, "B": b, "C": c,
            "dt_pre": dt_pre, "dt": delta, "A": a_cont, "decay": decay, "prev": prev, "s": s,
            "y_ssm": y_ssm, "gated": gated, "y": p["out_proj.weight"] @ gated}


def _explain_fn(signed: bool):
    bar = "2 exp(Delta A) - 1" if signed else "exp(Delta A)"

    def explain(u: UnitRows) -> Lines:
        v = numpy_step(u, signed)
        e, n = u.params["A_log"].shape
        j = u.j
        if u.row == "y":
            return [(f"y_t = W_out[{j}] . ((s_t C_t + D xc_t) * silu(z_t)) = {v['y'][j]:.2f}",
                     float(v["y"][j]))]
        if u.row == "w":     # the convolution's inputs kept for the next steps, oldest first
            k, d = divmod(j, e)
            ago = v["window"].shape[0] - 2 - k
            when = "t" if ago == 0 else f"t-{ago}"
            value = float(v["window"][k + 1, d])
            return [(f"w_t[{j}] = x_{when}[{d}] = {value:.2f}   (x = (W_in u)[:E], kept for "
                     f"the causal conv1d of the next steps)", value)]
        if u.row in ("B", "C"):
            return [(f"{u.row}_t[{j}] = W_x[{u.row} row {j}] . xc_t = {v[u.row][j]:.2f}",
                     float(v[u.row][j]))]
        d, k = (j // n, j % n) if u.row == "h" else (j, 0)
        lines = [(f"xc_t[{d}] = silu(conv1d of x over the last {u.params['conv1d.weight'].shape[2]}"
                  f" steps) = silu({v['pre'][d]:.2f}) = {v['xc'][d]:.2f}", float(v["xc"][d])),
                 (f"Delta_t[{d}] = softplus(W_dt d_t + b_dt) = softplus({v['dt_pre'][d]:.2f}) = "
                  f"{v['dt'][d]:.3f}", float(v["dt"][d]))]
        if u.row == "dt":
            lines.append((f"A_bar = {bar} for the {n} states: {v['decay'][d].min():.3f} .. "
                          f"{v['decay'][d].max():.3f}   (near 1: keep; small: overwrite)",
                          float(v["decay"][d].mean())))
            return lines
        lines += [(f"A_bar = {bar} = exp({v['dt'][d]:.3f}*{v['A'][d, k]:.2f})"
                   + (" * 2 - 1" if signed else "") + f" = {v['decay'][d, k]:.3f}",
                   float(v["decay"][d, k])),
                  (f"B_t[{k}] = {v['B'][k]:.2f}", float(v["B"][k])),
                  (f"s_t = A_bar s_(t-1) + Delta xc B = {v['decay'][d, k]:.3f}*"
                   f"{v['prev'][d, k]:.2f} + {v['dt'][d]:.3f}*{v['xc'][d]:.2f}*{v['B'][k]:.2f} = "
                   f"{v['s'][d, k]:.3f}", float(v["s"][d, k]))]
        return lines

    return explain


def _mamba(signed: bool) -> CellType:
    bar = "2 exp(Delta A) - 1" if signed else "exp(Delta A)"
    return CellType(
        name="mamba_signed" if signed else "mamba",
        label="Mamba [-1,1]" if signed else "Mamba",
        kind="Mamba",
        num_gates=0,
        gates={"dt": Gate("Delta (write)", None),
               "B": Gate("B_t (write)", None), "C": Gate("C_t (read)", None),
               "y": Gate("output", None)},
        carry_names=("h", "w"),
        recur=_recur_fn(signed),
        backward=None,
        explain=_explain_fn(signed),
        bounded=(),
        layout=_layout,
        project=_project,
        parallel=_parallel_fn(signed),
        prefer_parallel=False,   # measured slower on the CPU (benchmarks/bench_parallel.py)
        output="y",
        options=OPTIONS,
        widths=_widths,
        grids=_grids,
        init=_init,
        infer=_infer,
        transition=_transition_fn(signed),
        equations=(
            "[x; z] = W_in u_t;  xc_t = silu(causal conv1d of x)\n"
            "Delta_t = softplus(W_dt (W_x xc_t)_dt + b_dt);  B_t, C_t = (W_x xc_t)_B, _C\n"
            f"s_t = {bar} * s_(t-1) + Delta_t xc_t B_t   (A = -exp(A_log), per channel)\n"
            "y_t = W_out ((s_t C_t + D xc_t) * silu(z_t));   h = s (channels x states)"
        ),
        note=(("Grazzi et al. 2024: 2 exp(Delta A) - 1 puts the eigenvalues in (-1, 1), so "
               "the state can flip sign: what parity needs. ") if signed else "")
        + "Mamba (Gu & Dao 2023): Delta, B and C depend on the input (selection); row h is "
          "the state s, channel by channel.",
    )


MAMBA = _mamba(signed=False)
MAMBA_SIGNED = _mamba(signed=True)
