"""What truncation and rematerialisation cost in time: one training gradient, side by side.

    .venv/bin/python benchmarks/bench_bptt_time.py            # LSTM 64, batch 32, T 1000, ~1 min
    .venv/bin/python benchmarks/bench_bptt_time.py --cell gru --length 500 --rounds 7

Each variant (whole sequence, windows of ``--window``, recomputed in chunks of ``--chunk``)
is one jitted gradient of a batch's loss (``rnnviz.training.bptt.value_and_grad``, what a
training step differentiates), compiled first; each round then times every variant once, in
turn, so a busy machine slows all alike. The table shows the median milliseconds per
gradient over rounds and the ratio to the whole sequence's. The load average before and
after is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.init import init_params
from rnnviz.core.spec import ModelSpec
from rnnviz.training.bptt import Bptt, value_and_grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    spec = ModelSpec(args.cell, 1, args.hidden, output_size=1)
    params = init_params(spec, seed=0)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.standard_normal((args.batch, args.length, 1)), jnp.float32)
    ys = jnp.asarray(rng.standard_normal((args.batch, args.length, 1)), jnp.float32)
    mask = jnp.ones((args.batch, args.length), jnp.float32)
    variants = {"whole": Bptt(), f"windows of {args.window}": Bptt(window=args.window),
                f"chunks of {args.chunk}": Bptt(chunk=args.chunk)}

    @partial(jax.jit, static_argnames="bptt")
    def gradient(params, bptt):
        return value_and_grad(spec, params, xs, ys, mask, "mse", bptt)[:2]

    for bptt in variants.values():
        jax.block_until_ready(gradient(params, bptt))
    print(f"load average {os.getloadavg()[0]:.2f}; {args.cell} {args.hidden}, batch "
          f"{args.batch}, T {args.length}, {args.rounds} rounds")
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, bptt in variants.items():
            start = time.perf_counter()
            jax.block_until_ready(gradient(params, bptt))
            times[name].append(time.perf_counter() - start)
    whole = statistics.median(times["whole"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:16} {1000 * median:9.1f} ms   x{median / whole:.2f}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
