"""Sequential against parallel: one forward pass over T steps, one step after another
(``lax.scan`` of the cell's step) or all steps at once (the cell's associative scan), for the
modern cells and the LSTM (which has only the sequential form), with PyTorch beside them.

    .venv/bin/python benchmarks/bench_parallel.py                  # T = 1,000 / 10,000 / 100,000
    .venv/bin/python benchmarks/bench_parallel.py --steps 1000 10000 --repeats 3

Every model: input 1, hidden 32 (Mamba: d_model 16, its defaults d_inner 32, d_state 16),
one layer, a readout to 1, float32, batch 1, the whole ``rnnviz.core.forward.run`` jitted
(states and gates of every step included, as the trace computes them). Times are the median of
``--repeats`` calls after one warm-up (compilation not counted), in milliseconds, and the
ratio sequential / parallel (above 1: the parallel scan is faster).

PyTorch (if installed; not a dependency of rnnviz), the same cell and sizes, the same output:
``nn.LSTM`` (its fused C++ loop); minGRU and minLSTM in the paper's parallel log-space form
(``logcumsumexp``, Feng et al. 2024, Appendix B, as lucidrains/minGRU-pytorch computes it);
the LRU and Mamba as a Python loop over steps (PyTorch has no associative scan; ``mamba_ssm``'s
``selective_scan_ref`` is such a loop, its fast kernel needs CUDA), Mamba with its causal
convolution, Delta's bias and the skip ``D`` as the module's slow path computes them. Quote
the load average: the machine is shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax

from rnnviz import Model
from rnnviz.core.forward import run

CELLS = {"lstm": 32, "mingru": 32, "minlstm": 32, "lru": 32, "mamba": 16}


def median_ms(fn, repeats: int) -> float:
    fn()                                   # warm-up: compiles
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def jax_times(cell: str, steps: int, repeats: int) -> dict[str, float]:
    model = Model.create(cell, 1, CELLS[cell], output_size=1, seed=0)
    xs = jax.random.normal(jax.random.key(0), (steps, 1))
    out = {}
    modes = {"sequential": False, "parallel": True} if model.spec.cell_type.parallel else \
        {"sequential": None}
    for name, parallel in modes.items():
        f = jax.jit(lambda p, x, parallel=parallel: run(model.spec, p, x, parallel=parallel))
        out[name] = median_ms(lambda f=f: jax.block_until_ready(f(model.params, xs)), repeats)
    return out


def torch_ms(cell: str, steps: int, repeats: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    softplus = torch.nn.functional.softplus
    torch.manual_seed(0)
    h = CELLS[cell]
    x = torch.randn(steps, 1)
    readout = torch.nn.Linear(h, 1)
    if cell == "lstm":
        lstm = torch.nn.LSTM(1, h)

        def forward():
            return readout(lstm(x[:, None])[0][:, 0])
    elif cell in ("mingru", "minlstm"):
        blocks = 2 if cell == "mingru" else 3
        linear = torch.nn.Linear(1, blocks * h)

        def log_g(v):
            return torch.where(v >= 0, torch.log(torch.relu(v) + 0.5), -softplus(-v))

        def forward():
            parts = linear(x).chunk(blocks, dim=-1)
            if cell == "mingru":
                p, k = parts
                log_a, log_b = -softplus(k), -softplus(-k) + log_g(p)
            else:
                p, k, q = parts
                diff = softplus(-q) - softplus(-k)
                log_a = -softplus(-diff)
                log_b = -softplus(diff) + log_g(p)
            a_star = torch.cumsum(log_a, dim=0)           # Heinsen's scan, h_0 = 0
            h_t = torch.exp(a_star + torch.logcumsumexp(log_b - a_star, dim=0))
            return readout(h_t)
    elif cell == "lru":
        lam = torch.exp(torch.complex(-torch.rand(h), torch.rand(h)))
        b, c = torch.randn(h, 1, dtype=torch.complex64), torch.randn(h, h, dtype=torch.complex64)
        d = torch.randn(h, 1)

        def forward():
            s, ys = torch.zeros(h, dtype=torch.complex64), []
            u = (x.to(torch.complex64) @ b.T)
            for t in range(steps):
                s = lam * s + u[t]
                ys.append((c @ s).real)
            return readout(torch.stack(ys) + x @ d.T)
    else:
        e, n, k = 2 * h, 16, 4
        a = -torch.arange(1, n + 1).float().repeat(e, 1)
        w_in, w_x = torch.randn(2 * e, 1), torch.randn(1 + 2 * n, e)
        w_conv, b_conv, d = torch.randn(e, 1, k), torch.randn(e), torch.ones(e)
        w_dt, b_dt, w_out = torch.randn(e, 1), torch.randn(e), torch.randn(h, e)
        silu = torch.nn.functional.silu

        def forward():              # mamba_simple.Mamba's slow path, batch 1
            xz = x @ w_in.T
            u, z = xz.chunk(2, dim=-1)
            u = silu(torch.nn.functional.conv1d(u.T[None], w_conv, b_conv, padding=k - 1,
                                                groups=e)[0, :, :steps].T)
            dt_low, bb, cc = torch.split(u @ w_x.T, [1, n, n], dim=-1)
            delta = softplus(dt_low @ w_dt.T + b_dt)
            s, ys = torch.zeros(e, n), []
            for t in range(steps):       # selective_scan_ref's loop
                s = torch.exp(delta[t][:, None] * a) * s + (delta[t] * u[t])[:, None] * bb[t]
                ys.append(s @ cc[t])
            y = (torch.stack(ys) + u * d) * silu(z)
            return readout(y @ w_out.T)
    torch.set_num_threads(1)
    with torch.no_grad():
        return median_ms(forward, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, jax {jax.__version__}, "
          f"{jax.devices()[0].platform}")
    print(f"{'cell':8} {'T':>7} {'sequential ms':>14} {'parallel ms':>12} {'seq/par':>8} "
          f"{'torch ms':>9}")
    for steps in args.steps:
        for cell in CELLS:
            times = jax_times(cell, steps, args.repeats)
            seq, par = times["sequential"], times.get("parallel")
            ref = None if args.no_torch else torch_ms(cell, steps, max(1, args.repeats // 2))
            print(f"{cell:8} {steps:7d} {seq:14.2f} "
                  f"{'' if par is None else f'{par:.2f}':>12} "
                  f"{'' if par is None else f'{seq / par:.2f}x':>8} "
                  f"{'' if ref is None else f'{ref:.1f}':>9}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
