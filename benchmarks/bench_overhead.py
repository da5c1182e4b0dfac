"""How much of a small public call is Python around the jitted work? (issue 16, item 8)

    .venv/bin/python benchmarks/bench_overhead.py                  # LSTM (32, 100)
    .venv/bin/python benchmarks/bench_overhead.py --cell gru --hidden 128 --steps 1000

For one model (batch 1, input 1, output 1, an MSE target, float32) it times each public call
end to end, numpy in and numpy out, as a notebook or the window makes it:

- ``Model.trace(xs, target)``: every state, gate, loss and gradient norm;
- ``Stepper.step()``: one step, its values copied into the stepper's numpy cache (timed over
  a whole sequence of steps, the cache dropped before each pass; per step; its jitted work
  waits for each step's result, as the stepper must before it can show it);
- ``Model.gradient_flow(xs, target, t)``, ``Model.saliency(xs, t)``, ``Model.memory(xs, t)``:
  the window's gradient rows for the cursor at ``t = T // 2``.

How the jitted work is separated from the Python around it: the same programs are compiled
ahead of time (``jit(...).lower(...).compile()``) and called with their arguments already
on the device, waiting for the result with ``jax.block_until_ready`` and copying nothing to
numpy. That time is the XLA work plus the executable's minimal C++ dispatch; the public
call minus it is the Python (checks, conversions, transfers, copies, the dispatch of jitted
functions and of eager operations). ``Model.memory`` runs two programs (the forward records,
padded since 2026-11-30, then the sweep), both counted as jitted work.

The public call and its jitted work take turns in rounds (a machine busy with other work
slows both alike); medians in microseconds. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz import Model
from rnnviz.core import gradient_maps, gradients, saliency
from rnnviz.core.losses import Target
from rnnviz.core.stepper import _step_flat

ROUNDS = 5
BUDGET_S = 0.4   # per side and round


def time_in_turns(fns: dict, rounds: int = ROUNDS, budget_s: float = BUDGET_S) -> dict:
    """Median seconds per call of each function, the functions taking turns in rounds."""
    repeats = {}
    for name, fn in fns.items():
        for _ in range(3):
            fn()
        t0 = time.perf_counter()
        fn()
        repeats[name] = max(3, int(budget_s / max(time.perf_counter() - t0, 1e-6)))
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(repeats[name]):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(v) for name, v in times.items()}


def calls(cell: str, hidden: int, steps: int) -> dict:
    """``{what: (public call, its jitted work, calls per timing)}``."""
    model = Model.create(cell, 1, hidden, output_size=1, seed=0)
    spec, t = model.spec, steps // 2
    grid = np.linspace(0.0, 4 * np.pi, steps + 1, dtype=np.float32)
    xs, ys = np.sin(grid[:-1, None]), np.sin(grid[1:, None])
    target = Target(ys)
    p = jax.device_put(model.params)
    x, v, m = jnp.asarray(xs), jnp.asarray(target.values), jnp.asarray(target.mask)

    def compiled(fn, *args, **static):
        return fn.lower(*args, **static).compile()

    trace_c = compiled(gradients.trace_with_bptt, spec, p, x, v, m, "mse")
    flow_c = compiled(gradients.flow_row, spec, p, x, v, m, "mse", t)
    sal_c = compiled(saliency.saliency_row, spec, p, x, t)
    unit = spec.top_units[0]
    block = gradient_maps._block_length(spec)  # noqa: SLF001
    padded = -(-steps // block) * block
    if hasattr(gradient_maps, "_sweep_inputs"):  # since 2026-11-30: one program
        prepare = gradient_maps._sweep_inputs  # noqa: SLF001
        prepare_args, prepare_static = (spec, p, x, None, None), dict(unit=unit, kind=None,
                                                                       padded=padded)
    else:  # before: the records jitted, the padding eager (not counted as jitted work)
        prepare, prepare_args, prepare_static = (gradient_maps._records,  # noqa: SLF001
                                                 (spec, p, x), dict(unit=unit))
    prepare_c = compiled(prepare, *prepare_args, **prepare_static)
    records, carry_prev, _ = gradient_maps._records(spec, p, x, unit)  # noqa: SLF001
    records = {k: gradient_maps._pad(r, padded) for k, r in records.items()}  # noqa: SLF001
    carry_prev = tuple(gradient_maps._pad(c, padded) for c in carry_prev)  # noqa: SLF001
    inject = jnp.zeros((padded, hidden), spec.dtype)
    rows = jnp.asarray(np.array([t], np.int32))
    sweep_args = (spec, p, records, carry_prev, inject, rows, t // block)
    if "first_block" in inspect.signature(gradient_maps._sweep_chunk).parameters:  # noqa: SLF001
        # since the sweep stops between segments: the segment's first block and the entering
        # cotangents and squares, as ``gradient_maps._sweep`` passes them for one memory row
        batch = hidden
        segment = gradient_maps._segment_blocks(spec, batch, block)  # noqa: SLF001
        sweep_args += (max(t // block - segment + 1, 0),
                       tuple(jnp.zeros((batch, hidden), spec.dtype)
                             for _ in spec.cell_type.carry_names),
                       jnp.zeros((1, padded), spec.dtype))
    sweep_c = compiled(gradient_maps._sweep_chunk, *sweep_args,  # noqa: SLF001
                       unit=unit, block=block, memory=True)

    stepper = model.stepper(xs, target)
    carry0 = {k: jax.device_put(c) for k, c in
              stepper._carry_before(0).items()}  # noqa: SLF001
    step_c = compiled(_step_flat, spec, p, carry0, x[0], v[0], m[0], "mse")
    step_inputs = [(x[k], v[k], m[k]) for k in range(steps)]

    def steps_public():
        stepper._invalidate(0)  # noqa: SLF001 (drop the cache: every step computes)
        stepper.reset()
        while stepper.step():
            pass

    def steps_jitted():
        carries = carry0
        for xk, yk, mk in step_inputs:  # each step waited for, as the stepper must
            carries, flat = jax.block_until_ready(step_c(p, carries, xk, yk, mk))

    def memory_jitted():
        jax.block_until_ready(prepare_c(*prepare_args[1:]))
        jax.block_until_ready(sweep_c(*sweep_args[1:]))

    return {
        "Model.trace": (lambda: model.trace(xs, target),
                        lambda: jax.block_until_ready(trace_c(p, x, v, m)), 1),
        "Stepper.step": (steps_public, steps_jitted, steps),
        "Model.gradient_flow": (lambda: model.gradient_flow(xs, target, t),
                                lambda: jax.block_until_ready(flow_c(p, x, v, m, t)), 1),
        "Model.saliency": (lambda: model.saliency(xs, t),
                           lambda: jax.block_until_ready(sal_c(p, x, t)), 1),
        "Model.memory": (lambda: model.memory(xs, t), memory_jitted, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    print("load average at start: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"{args.cell} hidden {args.hidden}, {args.steps} steps; us per call (median)")
    print(f"{'call':<22}{'public':>10}{'jitted':>10}{'python':>10}{'python/jitted':>15}")
    for name, (public, jitted, per) in calls(args.cell, args.hidden, args.steps).items():
        times = time_in_turns({"public": public, "jitted": jitted})
        pub, jit = 1e6 * times["public"] / per, 1e6 * times["jitted"] / per
        print(f"{name:<22}{pub:>10.1f}{jit:>10.1f}{pub - jit:>10.1f}{(pub - jit) / jit:>15.2f}")
    print("load average at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
