"""Write ``tests/core/reference/modern_reference.npz``: PyTorch's answers for
``tests/core/test_modern_reference.py`` (minGRU, minLSTM, LRU, Mamba, Mamba [-1,1]).

Needs torch (not a test dependency; the tests only read the ``.npz``). Run from anywhere:

    python tests/core/reference/make_modern_reference.py

Each cell is written here again, independently of rnnviz, in PyTorch and in linear space, one
step at a time:

- minGRU and minLSTM from the equations of Feng et al. 2024 (arXiv 2410.01201, Sec. 3 and
  Appendix B): ``h_t = (1 - z_t) h_{t-1} + z_t g(p_t)`` and ``h_t = f'_t h_{t-1} + i'_t g(p_t)``
  with ``f' = f / (f + i)``, ``i' = i / (f + i)`` (products, not sums);
- the LRU from Orvieto et al. 2023 (arXiv 2303.06349) as the minimal LRU writes it, in
  complex arithmetic: ``s_t = lambda s_{t-1} + gamma (B x_t)``, ``y_t = Re(C s_t) + D x_t``;
- the Mamba block as ``mamba_ssm.modules.mamba_simple.Mamba.forward``'s slow path computes it
  (``in_proj``, ``nn.Conv1d`` with ``padding = d_conv - 1`` cut to the sequence, ``silu``,
  ``x_proj``, ``dt_proj.weight`` without bias then ``selective_scan_ref`` with
  ``delta_bias = dt_proj.bias`` and ``delta_softplus=True``, ``out_proj``);
  ``selective_scan_ref``'s loop is copied below, with ``signed=True`` replacing
  ``exp(Delta A)`` by ``2 exp(Delta A) - 1`` (Grazzi et al. 2024) for ``mamba_signed``.

Every configuration is 2 stacked layers (the layer above reads the cell's output: h, or the
LRU's and Mamba's ``y``), input 3, hidden 4, T = 9, a linear readout to 2, float32. Stored under
``{cell}/``: the parameters under rnnviz's names (``{short name}_l{k}``, ``readout.*``), ``x``,
``target``, every record rnnviz's trace holds (``h_l{k}``, ``gate_{name}_l{k}``), ``h`` (top
layer's output), ``readout_output``, ``loss (T,)`` and ``loss_total``, and from autograd
``grad_loss_h_l{k} (T,)`` (``||dL/dh_t||``, ``h_t`` being the state node every later
computation reads: the LRU's ``[Re s; Im s]``, Mamba's state flattened channel by channel),
``grad_param_{name}`` (``||dL/dW||``), ``grad_flow_l{k} (T, T)`` and ``memory_l{k} (T, T)``
(``||dh_t / dh_k||_F``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

T, INPUT, HIDDEN, OUT, LAYERS = 9, 3, 4, 2, 2
LRU_N = 3
MAMBA = {"d_inner": 6, "d_state": 4, "d_conv": 3, "dt_rank": 2}
SEED = 20241001
OUT_PATH = Path(__file__).with_name("modern_reference.npz")
CELLS = ["mingru", "minlstm", "lru", "mamba", "mamba_signed"]


def g(v):
    """Feng et al.'s g: ``v + 1/2`` for ``v >= 0``, ``sigma(v)`` below."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


# -- parameters, drawn here (not by rnnviz's initialisation) ---------------------------------
def draw(cell: str, inputs: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=gen) * scale

    if cell == "mingru":
        return {"to_hidden_and_gate.weight": randn(2 * HIDDEN, inputs, scale=0.8),
                "to_hidden_and_gate.bias": randn(2 * HIDDEN, scale=0.5)}
    if cell == "minlstm":
        return {"to_hidden_and_f_i_gate.weight": randn(3 * HIDDEN, inputs, scale=0.8),
                "to_hidden_and_f_i_gate.bias": randn(3 * HIDDEN, scale=0.5)}
    if cell == "lru":
        u1, u2 = torch.rand(LRU_N, generator=gen), torch.rand(LRU_N, generator=gen)
        r_min, r_max = 0.5, 0.95
        nu_log = torch.log(-0.5 * torch.log(u1 * (r_max**2 - r_min**2) + r_min**2))
        theta_log = torch.log(u2 * 3.0 + 0.1)
        gamma_log = torch.log(torch.sqrt(1 - torch.exp(-2 * torch.exp(nu_log))))
        return {"nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
                "B_re": randn(LRU_N, inputs, scale=0.5), "B_im": randn(LRU_N, inputs, scale=0.5),
                "C_re": randn(HIDDEN, LRU_N, scale=0.6), "C_im": randn(HIDDEN, LRU_N, scale=0.6),
                "D": randn(HIDDEN, inputs, scale=0.5)}
    e, n, k, r = MAMBA["d_inner"], MAMBA["d_state"], MAMBA["d_conv"], MAMBA["dt_rank"]
    dt = torch.exp(torch.rand(e, generator=gen) * (np.log(0.5) - np.log(0.05)) + np.log(0.05))
    return {"in_proj.weight": randn(2 * e, inputs, scale=0.6),
            "conv1d.weight": randn(e, 1, k, scale=0.5), "conv1d.bias": randn(e, scale=0.2),
            "x_proj.weight": randn(r + 2 * n, e, scale=0.5),
            "dt_proj.weight": randn(e, r, scale=0.5),
            "dt_proj.bias": dt + torch.log(-torch.expm1(-dt)),      # inverse softplus
            "A_log": torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(e, 1)
            + randn(e, n, scale=0.1),
            "D": 1 + randn(e, scale=0.2), "out_proj.weight": randn(HIDDEN, e, scale=0.5)}


# -- the cells, one layer over a whole sequence -----------------------------------------------
# each returns (output (T, H), records {name: (T, width)}, state nodes [T] with retain_grad)
def state_node(h):
    h.retain_grad()
    return h


def min_gru(p, x):
    h, hs, zs, ns = torch.zeros(HIDDEN), [], [], []
    for t in range(T):
        hidden, gate = (p["to_hidden_and_gate.weight"] @ x[t]
                        + p["to_hidden_and_gate.bias"]).chunk(2)
        z, n = torch.sigmoid(gate), g(hidden)
        h = state_node((1 - z) * h + z * n)
        hs.append(h), zs.append(z), ns.append(n)
    return torch.stack(hs), {"h": torch.stack(hs), "z": torch.stack(zs), "n": torch.stack(ns)}, hs


def min_lstm(p, x):
    h, out = torch.zeros(HIDDEN), {"h": [], "f": [], "i": [], "g": []}
    for t in range(T):
        hidden, f_gate, i_gate = (p["to_hidden_and_f_i_gate.weight"] @ x[t]
                                  + p["to_hidden_and_f_i_gate.bias"]).chunk(3)
        f, i = torch.sigmoid(f_gate), torch.sigmoid(i_gate)
        f_n, i_n = f / (f + i), i / (f + i)
        h = state_node(f_n * h + i_n * g(hidden))
        for name, v in (("h", h), ("f", f_n), ("i", i_n), ("g", g(hidden))):
            out[name].append(v)
    records = {k: torch.stack(v) for k, v in out.items()}
    return records["h"], records, out["h"]


def lru(p, x):
    lam = torch.exp(torch.complex(-torch.exp(p["nu_log"]), torch.exp(p["theta_log"])))
    gamma = torch.exp(p["gamma_log"])
    b = torch.complex(p["B_re"], p["B_im"])
    c = torch.complex(p["C_re"], p["C_im"])
    h = torch.zeros(2 * LRU_N)
    out = {"h": [], "mod": [], "phase": [], "y": []}
    for t in range(T):
        s_prev = torch.complex(h[:LRU_N], h[LRU_N:])
        s = lam * s_prev + gamma * (b @ x[t].to(torch.complex64))
        h = state_node(torch.cat([s.real, s.imag]))
        s = torch.complex(h[:LRU_N], h[LRU_N:])
        y = (c @ s).real + p["D"] @ x[t]
        for name, v in (("h", h), ("mod", s.abs()), ("phase", torch.angle(s) / np.pi),
                        ("y", y)):
            out[name].append(v)
    records = {k: torch.stack(v) for k, v in out.items()}
    return records["y"], records, out["h"]


def selective_scan_ref(u, delta, A, B, C, D, z, delta_bias, signed, nodes):
    """``mamba_ssm.ops.selective_scan_interface.selective_scan_ref`` for real ``A``, variable
    ``B``, ``C`` ``(b, N, L)``, ``delta_softplus=True``; each step's state goes through
    ``nodes`` (a ``retain_grad`` node read by everything after it) and is kept."""
    delta = F.softplus(delta + delta_bias[..., None].float())
    batch, dim, dstate = u.shape[0], A.shape[0], A.shape[1]
    x = A.new_zeros((batch, dim, dstate))
    ys, states = [], []
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    if signed:
        deltaA = 2 * deltaA - 1
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    for i in range(u.shape[2]):
        x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
        flat = nodes(x.reshape(-1))
        states.append(flat)
        x = flat.reshape(batch, dim, dstate)
        y = torch.einsum("bdn,bn->bd", x, C[:, :, i])
        ys.append(y)
    y = torch.stack(ys, dim=2)
    out = y + u * D[:, None]
    out = out * F.silu(z)
    return out, delta, states


def mamba(signed):
    def block(p, hidden_states):
        e, n, k, r = MAMBA["d_inner"], MAMBA["d_state"], MAMBA["d_conv"], MAMBA["dt_rank"]
        seqlen = hidden_states.shape[0]
        xz = (p["in_proj.weight"] @ hidden_states.T)[None]             # (1, 2E, L)
        A = -torch.exp(p["A_log"].float())
        x, z = xz.chunk(2, dim=1)
        x_in = x
        x = F.silu(F.conv1d(x, p["conv1d.weight"], p["conv1d.bias"], padding=k - 1,
                            groups=e)[..., :seqlen])
        x_dbl = x[0].T @ p["x_proj.weight"].T                          # (L, R + 2N)
        dt, B, C = torch.split(x_dbl, [r, n, n], dim=-1)
        dt = (p["dt_proj.weight"] @ dt.T)[None]                         # (1, E, L)
        B, C = B.T[None].contiguous(), C.T[None].contiguous()           # (1, N, L)
        y, delta, states = selective_scan_ref(x, dt, A, B, C, p["D"].float(), z,
                                              p["dt_proj.bias"].float(), signed, state_node)
        out = y[0].T @ p["out_proj.weight"].T                           # (L, H)
        padded = torch.cat([torch.zeros(e, k - 1), x_in[0]], dim=1)     # (E, K-1+L)
        window = torch.stack([padded[:, t + 1: t + k].T.reshape(-1) for t in range(seqlen)])
        records = {"h": torch.stack(states), "w": window, "dt": delta[0].T, "B": B[0].T,
                   "C": C[0].T, "y": out}
        return out, records, states
    return block


FORWARD = {"mingru": min_gru, "minlstm": min_lstm, "lru": lru, "mamba": mamba(False),
           "mamba_signed": mamba(True)}


def norms(grads) -> np.ndarray:
    return np.array([0.0 if g is None else float(g.norm()) for g in grads], dtype=np.float32)


def reference(cell: str, seed: int) -> dict[str, np.ndarray]:
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for k in range(LAYERS):
        drawn = draw(cell, INPUT if k == 0 else HIDDEN, gen)
        params.update({f"{name}_l{k}": v.requires_grad_() for name, v in drawn.items()})
    params["readout.weight"] = (torch.randn(OUT, HIDDEN, generator=gen) * 0.5).requires_grad_()
    params["readout.bias"] = (torch.randn(OUT, generator=gen) * 0.1).requires_grad_()
    x, target = torch.randn(T, INPUT, generator=gen), torch.randn(T, OUT, generator=gen)

    out: dict[str, torch.Tensor | np.ndarray] = {k: v.detach() for k, v in params.items()}
    out["x"], out["target"] = x, target
    layer_input, nodes = x, {}
    for k in range(LAYERS):
        p = {name[: -len(f"_l{k}")]: v for name, v in params.items() if name.endswith(f"_l{k}")}
        layer_input, records, nodes[f"l{k}"] = FORWARD[cell](p, layer_input)
        for name, v in records.items():
            out[f"{name}_l{k}" if name == "h" else f"gate_{name}_l{k}"] = v.detach()
    y = layer_input @ params["readout.weight"].T + params["readout.bias"]
    step_loss = ((y - target) ** 2).mean(dim=1)
    loss = F.mse_loss(y, target)
    out["h"], out["readout_output"] = layer_input.detach(), y.detach()
    out["loss_total"], out["loss"] = loss.detach(), step_loss.detach()
    loss.backward(retain_graph=True)
    for unit, h_list in nodes.items():
        out[f"grad_loss_h_{unit}"] = norms(h.grad for h in h_list)
    for name, v in params.items():
        out[f"grad_param_{name}"] = v.grad.norm().detach()
    for unit, h_list in nodes.items():
        out[f"grad_flow_{unit}"] = np.stack([
            norms(torch.autograd.grad(step_loss[t], h_list, retain_graph=True,
                                      allow_unused=True)) for t in range(T)])
        width = h_list[0].shape[0]
        mem = np.zeros((T, T), np.float64)
        for t in range(T):
            for j in range(width):
                grads = torch.autograd.grad(h_list[t][j], h_list, retain_graph=True,
                                            allow_unused=True)
                mem[t] += norms(grads).astype(np.float64) ** 2
        out[f"memory_{unit}"] = np.sqrt(mem).astype(np.float32)
        assert np.allclose(np.diag(out[f"memory_{unit}"]), np.sqrt(width))
    return {f"{cell}/{k}": np.asarray(v, dtype=np.float32) for k, v in out.items()}


def main() -> None:
    torch.set_default_dtype(torch.float32)
    arrays: dict[str, np.ndarray] = {}
    for i, cell in enumerate(CELLS):
        seed = SEED + 100 * i
        arrays.update(reference(cell, seed))
        arrays[f"{cell}/seed"] = np.array(seed)
    np.savez_compressed(OUT_PATH, **arrays)
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size} bytes, {len(arrays)} arrays, "
          f"torch {torch.__version__})")


if __name__ == "__main__":
    main()
