"""XLA's CPU backend and transcendental ops: why the LSTM's gates are one tanh.

    .venv/bin/python benchmarks/bench_xla_fusion.py            # ~1 min on 2 cores

1. ``per fusion``: a 100-step ``lax.scan`` over ``(32, 64)`` carries whose body adds 1, 2 or
   3 sigmoids (or tanhs, or exps) of slices of its input, which XLA fuses into one
   elementwise kernel; microseconds per step. One transcendental per fusion is fast; two
   or more make the kernel 5 to 10x slower (on jax 0.10.2, x86-64 with AVX-512).
2. ``lstm``: the LSTM's gates as four activations (``jax.nn.sigmoid`` three times and one
   ``jnp.tanh``, what ``rnnviz.core.cells`` did before) against
   ``rnnviz.core.cells.lstm.lstm_gates`` (one
   tanh of the packed pre-activations through ``sigma(x) = (1 + tanh(x / 2)) / 2``), in
   ``rnnviz.training.loop``'s own jitted functions on the sine task's shapes (hidden 64, 100
   steps): a chunk of 8 Adam updates at batch 32 (milliseconds per update) and a validation
   forward pass at batch 128 (milliseconds per call). The validation keeps no gates, so XLA
   fuses all four activations into the cell-state update: the case of part 1.

Each figure is the median over ``--rounds`` rounds in which the variants take turns; the
variants are compiled once each (``rnnviz.core.cells.lstm.lstm_gates`` patched while tracing).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import rnnviz.core.cells.lstm
from rnnviz import ModelSpec, init_params
from rnnviz.tasks import make_task
from rnnviz.training.loop import (
    TrainOptions,
    _cast,
    _eval_batch,
    _make_chunk,
    _optimizer,
    _OptKey,
    _train_chunk,
)

HIDDEN, LENGTH, BATCH, EVAL_BATCH, CHUNK = 64, 100, 32, 128, 8


def median_seconds(fn, calls: int) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def in_turns(fns: dict, rounds: int, calls: int) -> dict:
    """``{name: median seconds}``, the variants taking turns, ``calls`` calls a turn."""
    for fn in fns.values():
        jax.block_until_ready(fn())
    results = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            results[name].append(median_seconds(fn, calls))
    return {name: statistics.median(r) for name, r in results.items()}


def per_fusion(rounds: int) -> None:
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.standard_normal((LENGTH, 32, 4 * HIDDEN)).astype(np.float32))

    def loop(count: int, op):
        def body(carry, x):
            term = carry
            for k in range(count):
                term = term * op(x[:, k * HIDDEN:(k + 1) * HIDDEN]) if k else op(x[:, :HIDDEN])
            return carry + term, None

        fn = jax.jit(lambda xs: lax.scan(body, jnp.zeros((32, HIDDEN)), xs)[0])
        return lambda: fn(xs)

    ops = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "exp": jnp.exp}
    fns = {(name, n): loop(n, op) for name, op in ops.items() for n in (1, 2, 3)}
    times = in_turns(fns, rounds, 50)
    print("1. transcendental ops in one fused elementwise kernel, (32, 64) per step, "
          "us per step")
    print(f"   {'op':8s}" + "".join(f"{n:>10d}" for n in (1, 2, 3)))
    for name in ops:
        print(f"   {name:8s}" + "".join(f"{1e6 * times[name, n] / LENGTH:10.2f}"
                                         for n in (1, 2, 3)))


def four_activations(z: jax.Array) -> jax.Array:
    """The gates as ``rnnviz.core.cells`` computed them before ``lstm_gates``."""
    zi, zf, zg, zo = jnp.split(z, 4, axis=-1)
    return jnp.concatenate([jax.nn.sigmoid(zi), jax.nn.sigmoid(zf), jnp.tanh(zg),
                            jax.nn.sigmoid(zo)], axis=-1)


def lstm(rounds: int) -> None:
    spec = ModelSpec("lstm", 1, HIDDEN, output_size=1)
    params = {k: jnp.asarray(v) for k, v in init_params(spec, seed=0).items()}
    task = make_task("sine", length=LENGTH)
    key = _OptKey("adam", 0.01, 0.9, None)
    opt_state = _optimizer(key).init(params)
    xs, ys, mask, active = _make_chunk(task, TrainOptions(batch_size=BATCH), 0, CHUNK, CHUNK)
    chunk = (*_cast(spec, task, xs, ys, mask), active)
    val = _cast(spec, task, *task.batch(EVAL_BATCH, seed=1))

    one_tanh = rnnviz.core.cells.lstm.lstm_gates
    fns = {}
    for name, gates in (("four activations", four_activations), ("one tanh", one_tanh)):
        rnnviz.core.cells.lstm.lstm_gates = gates
        jax.clear_caches()  # else the second lowering reuses the first one's trace
        try:
            update = _train_chunk.lower(spec, task.loss, key, params, opt_state,
                                        *chunk).compile()
            validate = _eval_batch.lower(spec, task.loss, params, *val).compile()
        finally:
            rnnviz.core.cells.lstm.lstm_gates = one_tanh
        fns[name, "update"] = lambda u=update: u(params, opt_state, *chunk)
        fns[name, "validate"] = lambda v=validate: v(params, *val)
    times = in_turns(fns, rounds, 20)
    print(f"2. LSTM, hidden {HIDDEN}, {LENGTH} steps, ms: one Adam update at batch {BATCH} "
          f"(a chunk of {CHUNK} / {CHUNK}), one validation pass at batch {EVAL_BATCH}")
    print(f"   {'gates':18s}{'update':>10s}{'validate':>10s}")
    for name in ("four activations", "one tanh"):
        print(f"   {name:18s}{1e3 * times[name, 'update'] / CHUNK:10.2f}"
              f"{1e3 * times[name, 'validate']:10.2f}")
    base, new = (times[n, "update"] for n in ("four activations", "one tanh"))
    vbase, vnew = (times[n, "validate"] for n in ("four activations", "one tanh"))
    print(f"   one tanh: update {base / new:.2f}x, validation {vbase / vnew:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"jax {jax.__version__} ({jax.default_backend()})")
    per_fusion(args.rounds)
    lstm(args.rounds)


if __name__ == "__main__":
    main()
