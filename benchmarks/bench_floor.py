"""The matmul floor of one LSTM training update on this CPU, next to the 1.5x-PyTorch target.

    .venv/bin/python benchmarks/bench_floor.py --threads 1     # ~30 s

One update of ``bench_training.py`` (LSTM, input 1, hidden 64, 100 steps, batch 32, Adam) does,
in any library that gives the same gradients, three sets of float32 matmuls:

- forward: 100 sequential ``(32, 64) @ (64, 256)``, the recurrent matmul of each step;
- backward: 100 sequential ``(32, 256) @ (256, 64)``, ``W_hh^T dz_t`` of each step;
- ``dW_hh``: ``(256, 3200) @ (3200, 64)`` once, over every step and sequence (as cuDNN does).

That is 3 x 105 MFLOP. The script times each set alone, in XLA (the sequential ones as a loop
whose next step needs the previous step's result, the recurrence's dependency) and in torch
(``torch.mm`` in a Python loop), and a ``(1024, 1024) @ (1024, 1024)`` matmul for the core's
peak rate. ``floor`` is the sum over the three sets of the faster library's time: no update can
be quicker, whatever its elementwise work, optimiser and dispatch cost. It is printed next to
PyTorch's whole update (``nn.LSTM`` + ``Adam``, as in ``bench_training.py``) and the time
per update that 1.5x PyTorch would need.

``--threads 1`` also pins the process to one core: XLA has no thread-count flag, and without
the pin its large matmuls (the ``(1024, 1024)`` one here) run on both cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import xla_threads  # noqa: F401  (sets XLA_FLAGS from --threads before JAX starts)

# isort: split
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from bench_training import torch_steps_per_second  # noqa: E402
from jax import lax  # noqa: E402

BATCH, HIDDEN, STEPS = 32, 64, 100
GATES = 4 * HIDDEN
NT = (((1,), (1,)), ((), ()))          # a @ b.T, as the cells' recurrent matmul


def median_s(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def xla_sets(rng) -> dict[str, float]:
    """Seconds per update for each matmul set, in XLA."""
    w = jnp.asarray(rng.normal(size=(GATES, HIDDEN)).astype(np.float32) * 0.1)
    h0 = jnp.asarray(rng.normal(size=(BATCH, HIDDEN)).astype(np.float32))
    d0 = jnp.asarray(rng.normal(size=(BATCH, GATES)).astype(np.float32))
    dz = jnp.asarray(rng.normal(size=(GATES, STEPS * BATCH)).astype(np.float32))
    hs = jnp.asarray(rng.normal(size=(STEPS * BATCH, HIDDEN)).astype(np.float32))

    @jax.jit
    def forward(h, w):
        def step(_, h):
            z = lax.dot_general(h, w, NT)                 # (B, 4H): every column is used
            return (z[:, :HIDDEN] + z[:, HIDDEN:2 * HIDDEN] + z[:, 2 * HIDDEN:3 * HIDDEN]
                    + z[:, 3 * HIDDEN:]) * 0.1
        return lax.fori_loop(0, STEPS, step, h)

    @jax.jit
    def backward(d, w):
        def step(_, d):
            return jnp.tile(d @ w, (1, 4)) * 0.1         # (B, 4H) @ (4H, H), back to (B, 4H)
        return lax.fori_loop(0, STEPS, step, d)

    weight_grad = jax.jit(lambda dz, hs: dz @ hs)
    return {"forward": median_s(lambda: forward(h0, w).block_until_ready(), 200),
            "backward": median_s(lambda: backward(d0, w).block_until_ready(), 200),
            "dW_hh": median_s(lambda: weight_grad(dz, hs).block_until_ready(), 200)}


def torch_sets(rng) -> dict[str, float]:
    """Seconds per update for each matmul set, in torch."""
    w = torch.from_numpy(rng.normal(size=(GATES, HIDDEN)).astype(np.float32) * 0.1)
    wt = w.t().contiguous()
    h0 = torch.from_numpy(rng.normal(size=(BATCH, HIDDEN)).astype(np.float32))
    d0 = torch.from_numpy(rng.normal(size=(BATCH, GATES)).astype(np.float32))
    dz = torch.from_numpy(rng.normal(size=(GATES, STEPS * BATCH)).astype(np.float32))
    hs = torch.from_numpy(rng.normal(size=(STEPS * BATCH, HIDDEN)).astype(np.float32))
    zbuf, gbuf = torch.empty(BATCH, GATES), torch.empty(BATCH, HIDDEN)

    def forward():
        h = h0
        for _ in range(STEPS):
            torch.mm(h, wt, out=zbuf)
            h = zbuf[:, :HIDDEN]

    def backward():
        d = d0
        for _ in range(STEPS):
            torch.mm(d, w, out=gbuf)
            d = gbuf.repeat(1, 4)

    with torch.no_grad():
        return {"forward": median_s(forward, 200), "backward": median_s(backward, 200),
                "dW_hh": median_s(lambda: torch.mm(dz, hs), 200)}


def peak_gflops() -> tuple[float, float]:
    """GFLOP/s of a (1024, 1024) @ (1024, 1024) matmul in XLA and in torch."""
    a = np.random.default_rng(0).normal(size=(1024, 1024)).astype(np.float32)
    ja, ta = jnp.asarray(a), torch.from_numpy(a)
    mm = jax.jit(lambda x: x @ x)
    flop = 2 * 1024 ** 3
    return (flop / median_s(lambda: mm(ja).block_until_ready(), 30) / 1e9,
            flop / median_s(lambda: torch.mm(ta, ta), 30) / 1e9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for torch, and XLA single-threaded when 1")
    parser.add_argument("--steps", type=int, default=200, help="torch update steps timed")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.threads == 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    print(f"jax {jax.__version__}, torch {torch.__version__} ({torch.get_num_threads()} "
          f"threads), on cores {sorted(os.sched_getaffinity(0))}; load average "
          f"{os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(0)
    ours, theirs = xla_sets(rng), torch_sets(rng)
    mflop = 2 * BATCH * HIDDEN * GATES * STEPS / 1e6
    print(f"\nmatmul sets of one update ({mflop:.0f} MFLOP each), ms per update:")
    print(f"{'set':<10}{'XLA':>8}{'torch':>8}{'GFLOP/s (best)':>17}")
    floor = 0.0
    for name in ours:
        best = min(ours[name], theirs[name])
        floor += best
        print(f"{name:<10}{1e3 * ours[name]:>8.2f}{1e3 * theirs[name]:>8.2f}"
              f"{mflop / 1e3 / best:>17.0f}")
    xla_peak, torch_peak = peak_gflops()
    print(f"(1024, 1024) @ (1024, 1024): XLA {xla_peak:.0f}, torch {torch_peak:.0f} GFLOP/s")
    rate = statistics.median(torch_steps_per_second("lstm", args.steps) for _ in range(3))
    update = 1.0 / rate
    print(f"\nfloor (the faster side of each set): {1e3 * floor:.2f} ms per update")
    print(f"PyTorch's whole update (nn.LSTM + Adam): {1e3 * update:.2f} ms ({rate:.0f} steps/s)")
    print(f"1.5x PyTorch needs {1e3 * update / 1.5:.2f} ms per update: "
          + ("below the floor" if update / 1.5 < floor else
             f"{1e3 * (update / 1.5 - floor):.2f} ms above the floor for everything else"))


if __name__ == "__main__":
    main()
