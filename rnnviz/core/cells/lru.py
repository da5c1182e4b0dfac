"""The Linear Recurrent Unit (Orvieto et al. 2023, arXiv 2303.06349), as the minimal LRU
(NicolasZucchet/minimal-LRU, ``lru/model.py``) defines it: a complex diagonal linear recurrence.

    lambda = exp(-exp(nu_log) + i exp(theta_log))        (N,) complex, |lambda| < 1
    gamma  = exp(gamma_log)                              (N,), initialised to sqrt(1 - |lambda|^2)
    s_t    = lambda * s_{t-1} + gamma * (B x_t),   B = B_re + i B_im   (N, I)
    y_t    = Re(C s_t) + D x_t,                    C = C_re + i C_im   (H, N),  D (H, I)

``N`` is ``ModelSpec.options["state_size"]`` (default ``H``); ``H`` is the width of the output
``y`` the layer passes on. Parameters under the minimal LRU's names: ``nu_log``,
``theta_log``, ``gamma_log`` ``(N,)``, ``B_re``, ``B_im`` ``(N, I)``, ``C_re``, ``C_im``
``(H, N)``, ``D``. The minimal LRU's ``D`` is a vector ``(H,)`` applied elementwise (its input
and output sizes are equal); here it is the paper's matrix ``(H, I)``, so that the input may
have another size (a file with a vector ``D`` loads as ``diag(D)``).

What the views show: the record ``h`` is the complex state written out as real numbers,
``[Re s_t; Im s_t]`` ``(2N,)`` (rows ``0..N-1`` the real parts, ``N..2N-1`` the imaginary
parts), so that the gradient views perturb both parts and the PCA trajectory sees each
mode's rotation; ``mod`` ``|s_t|`` and ``phase`` ``arg(s_t) / pi`` ``(N,)`` are shown beside
it, with the output ``y`` ``(H,)``. Carry ``(h,)``, ``(2N,)``. The transition is diagonal with
the fixed eigenvalues ``lambda``: the Weights tab draws them on the complex plane.

Initialisation as the minimal LRU (defaults ``r_min = 0``, ``r_max = 1``, ``max_phase =
6.28``): ``|lambda|^2`` uniform on ``[r_min^2, r_max^2]``, the phase uniform on
``[0, max_phase]``; ``B ~ N(0, 1/(2I))``, ``C ~ N(0, 1/N)``; ``D ~ N(0, 1/I)``. The sequence
is one associative scan (``rnnviz.core.cells.scan.linear_scan``) in complex numbers, as the
reference computes it; the stepper runs the same recurrence in real arithmetic.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import (
    Carry,
    CellOption,
    CellType,
    Gate,
    Lines,
    Options,
    Params,
    UnitRows,
)
from rnnviz.core.cells.scan import linear_scan
from rnnviz.limits import MAX_HIDDEN

R_MIN, R_MAX, MAX_PHASE = 0.0, 1.0, 6.28
NAMES = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D")


def _layout(cell: CellType, input_size: int, hidden_size: int, options: Options):
    n = options["state_size"]
    return {"nu_log": (n,), "theta_log": (n,), "gamma_log": (n,),
            "B_re": (n, input_size), "B_im": (n, input_size),
            "C_re": (hidden_size, n), "C_im": (hidden_size, n), "D": (hidden_size, input_size)}


def _widths(hidden_size: int, options: Options) -> dict[str, int]:
    n = options["state_size"]
    return {"h": 2 * n, "mod": n, "phase": n, "y": hidden_size}


def _project(params: Params, x: jax.Array) -> jax.Array:
    """``[Re(gamma B x); Im(gamma B x); D x]``: ``(..., 2N + H)``."""
    gamma = jnp.exp(params["gamma_log"])
    return jnp.concatenate([(x @ params["B_re"].T) * gamma, (x @ params["B_im"].T) * gamma,
                            x @ params["D"].T], axis=-1)


def _eigenvalues(params: Params):
    """``(Re lambda, Im lambda)``, each ``(N,)``."""
    radius = jnp.exp(-jnp.exp(params["nu_log"]))
    angle = jnp.exp(params["theta_log"])
    return radius * jnp.cos(angle), radius * jnp.sin(angle)


def _polar(re: jax.Array, im: jax.Array):
    """``(|s|, arg(s) / pi)`` with gradients that stay finite at ``s = 0`` (both 0 there)."""
    sq = re * re + im * im
    nonzero = sq > 0
    safe_re = jnp.where(nonzero, re, 1.0)
    modulus = jnp.where(nonzero, jnp.sqrt(jnp.where(nonzero, sq, 1.0)), 0.0)
    return modulus, jnp.where(nonzero, jnp.arctan2(im, safe_re), 0.0) / np.pi


def _records(params: Params, re: jax.Array, im: jax.Array, dx: jax.Array) -> dict:
    y = re @ params["C_re"].T - im @ params["C_im"].T + dx       # Re(C s) + D x
    modulus, phase = _polar(re, im)
    return {"h": jnp.concatenate([re, im], axis=-1), "mod": modulus, "phase": phase, "y": y}


def _recur(params: Params, carry: Carry, xp: jax.Array, eps: jax.Array | None = None):
    n = params["nu_log"].shape[0]
    u_re, u_im, dx = xp[..., :n], xp[..., n: 2 * n], xp[..., 2 * n:]
    (h,) = carry
    re, im = h[..., :n], h[..., n:]
    lam_re, lam_im = _eigenvalues(params)
    re, im = lam_re * re - lam_im * im + u_re, lam_re * im + lam_im * re + u_im
    if eps is not None:
        re, im = re + eps[..., :n], im + eps[..., n:]
    record = _records(params, re, im, dx)
    return (record["h"],), record


def _parallel(params: Params, xp: jax.Array, carry0: Carry, eps: jax.Array | None):
    n = params["nu_log"].shape[0]
    u = jax.lax.complex(xp[..., :n], xp[..., n: 2 * n])
    if eps is not None:
        u = u + jax.lax.complex(eps[..., :n], eps[..., n:])
    lam = jax.lax.complex(*_eigenvalues(params))
    h0 = jax.lax.complex(carry0[0][..., :n], carry0[0][..., n:])
    s = linear_scan(jnp.broadcast_to(lam, u.shape), u, h0)
    record = _records(params, s.real, s.imag, xp[..., 2 * n:])
    return (record["h"][-1],), record


def _init(key, input_size: int, hidden_size: int, options: Options, dtype):
    n = options["state_size"]
    keys = jax.random.split(key, 7)
    # |lambda|^2 uniform on [r_min^2, r_max^2]; u is kept off 0 so that nu_log stays finite
    u = jax.random.uniform(keys[0], (n,), dtype, 1e-6, 1.0)
    nu_log = jnp.log(-0.5 * jnp.log(u * (R_MAX**2 - R_MIN**2) + R_MIN**2))
    theta_log = jnp.log(MAX_PHASE * jax.random.uniform(keys[1], (n,), dtype, 1e-6, 1.0))
    gamma_log = jnp.log(jnp.sqrt(1 - jnp.exp(-2 * jnp.exp(nu_log))))   # 1 - |lambda|^2

    def normal(k, shape, scale):
        return jax.random.normal(k, shape, dtype) * scale

    return {"nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
            "B_re": normal(keys[2], (n, input_size), 1 / np.sqrt(2 * input_size)),
            "B_im": normal(keys[3], (n, input_size), 1 / np.sqrt(2 * input_size)),
            "C_re": normal(keys[4], (hidden_size, n), 1 / np.sqrt(n)),
            "C_im": normal(keys[5], (hidden_size, n), 1 / np.sqrt(n)),
            "D": normal(keys[6], (hidden_size, input_size), 1 / np.sqrt(input_size))}


def _infer(arrays: dict[str, np.ndarray]):
    """Sizes from ``B_re (N, I)`` and ``C_re (H, N)``; a vector ``D (H,)`` (the minimal LRU's,
    with ``I = H``) becomes ``diag(D)``."""
    b, c, d = arrays.get("B_re"), arrays.get("C_re"), arrays.get("D")
    if b is None or c is None or b.ndim != 2 or c.ndim != 2 or c.shape[1] != b.shape[0]:
        return None
    n, inputs, hidden = b.shape[0], b.shape[1], c.shape[0]
    if d is not None and d.ndim == 1 and d.shape == (hidden,) and inputs == hidden:
        arrays = {**arrays, "D": np.diag(d)}
    return int(inputs), int(hidden), {"state_size": int(n)}, arrays


def _transition(params, record) -> np.ndarray:
    radius = np.exp(-np.exp(np.asarray(params["nu_log"], np.float64)))
    return radius * np.exp(1j * np.exp(np.asarray(params["theta_log"], np.float64)))


def _explain(u: UnitRows) -> Lines:
    p, j = u.params, u.j
    n = p["nu_log"].shape[0]
    if u.row == "y":
        s = u.now["h"][:n] + 1j * u.now["h"][n:]
        re = float(p["C_re"][j] @ s.real - p["C_im"][j] @ s.imag)
        dx = float(p["D"][j] @ u.x)
        return [(f"y_t = Re(C s_t) + D x_t = {re:.2f} {dx:+.2f} = {re + dx:.2f}", re + dx)]
    m = j % n if u.row == "h" else j
    lam = _transition(p, {})[m]
    gamma = float(np.exp(p["gamma_log"][m]))
    bx = complex(p["B_re"][m] @ u.x, p["B_im"][m] @ u.x)
    prev = complex(u.h_prev[m], u.h_prev[n + m])
    s = lam * prev + gamma * bx
    lines = [(f"lambda = exp(-exp(nu) + i exp(theta)) = {abs(lam):.3f} e^(i {np.angle(lam):.2f})"
              f" = {_c(lam)}", abs(lam)),
             (f"gamma = exp(gamma_log) = {gamma:.3f}   (sqrt(1 - |lambda|^2) = "
              f"{np.sqrt(max(0.0, 1 - abs(lam) ** 2)):.3f})", gamma),
             (f"B x_t = {_c(bx)}", abs(bx)),
             (f"s_t = lambda s_(t-1) + gamma B x_t = ({_c(lam)})({_c(prev)}) + {gamma:.2f}"
              f"({_c(bx)}) = {_c(s)}", abs(s))]
    if u.row == "h":
        part = s.real if j < n else s.imag
        lines.append((f"{'Re' if j < n else 'Im'} s_t = {part:.2f}", part))
    elif u.row == "phase":
        lines.append((f"arg(s_t) / pi = {np.angle(s) / np.pi:.2f}", np.angle(s) / np.pi))
    else:
        lines.append((f"|s_t| = {abs(s):.2f}", abs(s)))
    return lines


def _c(z: complex) -> str:
    return f"{z.real:.2f}{z.imag:+.2f}i"


LRU = CellType(
    name="lru",
    label="LRU",
    kind="LRU",
    num_gates=0,
    gates={"mod": Gate("|s|", None), "phase": Gate("arg(s)/pi", (-1.0, 1.0)),
           "y": Gate("output", None)},
    carry_names=("h",),
    recur=_recur,
    backward=None,
    explain=_explain,
    bounded=(),
    layout=_layout,
    project=_project,
    parallel=_parallel,
    prefer_parallel=True,    # measured faster on the CPU (benchmarks/bench_parallel.py)
    output="y",
    options=(CellOption("state_size", "N, complex state units", lambda h: h, 1, MAX_HIDDEN),),
    widths=_widths,
    init=_init,
    infer=_infer,
    transition=_transition,
    equations=(
        "lambda = exp(-exp(nu_log) + i exp(theta_log)),  gamma = exp(gamma_log)\n"
        "s_t = lambda * s_{t-1} + gamma * (B x_t)     (complex, diagonal)\n"
        "y_t = Re(C s_t) + D x_t\n"
        "h = [Re s; Im s]"
    ),
    note=("LRU (Orvieto et al. 2023): lambda does not depend on the input; the row h holds the "
          "complex state as [Re s; Im s]; the Weights tab draws lambda with the unit circle."),
)
