"""What each performance lever of the engine is worth, measured one at a time.

    .venv/bin/python benchmarks/bench_levers.py            # ~1 min on 2 cores
    .venv/bin/python benchmarks/bench_levers.py --rounds 40

Two workloads, float32, the variants of each timed in turns (``rounds`` calls each, one after
the other), median milliseconds per call of wall-clock time and of process CPU time (CPU time
is less disturbed by other processes on a shared machine; both are printed):

1. ``trace``: what ``gradients.trace_with_bptt`` does (every state recorded, the loss, the
   gradient with respect to every ``h_t`` and every parameter), batch 1, at (hidden, steps)
   (128, 1000) and (256, 1000);
2. ``train``: one Adam update on the sine task's shapes (hidden 64, 100 steps, batch 32), as
   ``training._train_chunk`` does it.

Variants: ``autodiff`` differentiates the plain ``lax.scan`` (``run(..., autodiff=True)``);
``custom`` uses ``rnnviz.core.recurrence``'s backward pass; for training, ``vmap`` runs one scan
per sequence under ``jax.vmap`` and ``batched`` one scan with ``(B, H)`` carries (what
``training.batch_loss`` does).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rnnviz import ModelSpec, init_params
from rnnviz.core.forward import run
from rnnviz.core.losses import sequence_loss, step_losses


def time_in_turns(calls: dict, rounds: int) -> dict:
    """``{name: (wall_ms, cpu_ms)}`` for ``calls`` ``{name: (fn, args)}``: medians over
    ``rounds`` turns after one warm-up call, each call waited for."""
    def call(fn, args):
        jax.block_until_ready(fn(*args))

    for fn_args in calls.values():
        call(*fn_args)
    wall, cpu = ({name: [] for name in calls} for _ in range(2))
    for _ in range(rounds):
        for name, fn_args in calls.items():
            t0, c0 = time.perf_counter(), time.process_time()
            call(*fn_args)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {name: (1e3 * statistics.median(wall[name]), 1e3 * statistics.median(cpu[name]))
            for name in calls}


def trace_fn(spec: ModelSpec, autodiff: bool):
    @jax.jit
    def fn(params, xs, ys, mask):
        def loss_fn(params, eps):
            _, states, outputs = run(spec, params, xs, eps=eps, autodiff=autodiff)
            losses = step_losses(outputs, ys, mask, "mse")
            return sequence_loss(losses, mask), (states, outputs, losses)
        eps = {u: jnp.zeros((len(xs), spec.hidden_size), xs.dtype) for u in spec.units}
        (g_params, g_eps), aux = jax.grad(loss_fn, argnums=(0, 1), has_aux=True)(params, eps)
        return aux, {u: jnp.linalg.norm(g, axis=-1) for u, g in g_eps.items()}, g_params
    return fn


def train_fn(spec: ModelSpec, autodiff: bool, batched: bool):
    tx = optax.adam(0.01)

    def loss(params, xs, ys, mask):
        if batched:
            _, _, out = run(spec, params, jnp.swapaxes(xs, 0, 1), autodiff=autodiff)
            per_step = step_losses(jnp.swapaxes(out, 0, 1), ys, mask, "mse")
            return jnp.mean(jnp.sum(per_step, -1) / jnp.maximum(jnp.sum(mask, -1), 1.0))

        def one(x, y, m):
            _, _, out = run(spec, params, x, autodiff=autodiff)
            return sequence_loss(step_losses(out, y, m, "mse"), m)
        return jnp.mean(jax.vmap(one)(xs, ys, mask))

    @jax.jit
    def update(params, opt_state, xs, ys, mask):
        value, grads = jax.value_and_grad(loss)(params, xs, ys, mask)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value
    return update, tx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"jax {jax.__version__}; median of {args.rounds} turns; ms per call, wall / CPU")

    print("\ntrace + BPTT, batch 1 (autodiff -> custom backward)")
    for cell in ("lstm", "gru"):
        for hidden, steps in ((128, 1000), (256, 1000)):
            spec = ModelSpec(cell, 1, hidden, output_size=1)
            params = init_params(spec, seed=0)
            xs = jnp.asarray(np.sin(np.linspace(0, 40, steps, dtype=np.float32))[:, None])
            ys, mask = jnp.roll(xs, -1, 0), jnp.ones(steps, jnp.float32)
            calls = {name: (trace_fn(spec, autodiff), (params, xs, ys, mask))
                     for name, autodiff in (("autodiff", True), ("custom", False))}
            times = time_in_turns(calls, args.rounds)
            (aw, ac), (cw, cc) = times["autodiff"], times["custom"]
            print(f"  {cell:<5}{hidden:>4}{steps:>6}: autodiff {aw:7.2f} / {ac:7.2f}   "
                  f"custom {cw:7.2f} / {cc:7.2f}   speed-up {aw / cw:4.2f}x wall, "
                  f"{ac / cc:4.2f}x CPU", flush=True)

    print("\none Adam update, hidden 64, 100 steps, batch 32")
    for cell in ("lstm", "gru"):
        spec = ModelSpec(cell, 1, 64, output_size=1)
        params = init_params(spec, seed=0)
        xs = jnp.asarray(rng.normal(size=(32, 100, 1)), jnp.float32)
        ys, mask = jnp.roll(xs, -1, 1), jnp.ones((32, 100), jnp.float32)
        calls = {}
        for name, autodiff, batched in (("vmap autodiff", True, False),
                                        ("vmap custom", False, False),
                                        ("batched autodiff", True, True),
                                        ("batched custom", False, True)):
            update, tx = train_fn(spec, autodiff, batched)
            state = tx.init(params)
            calls[name] = (update, (params, state, xs, ys, mask))
        times = time_in_turns(calls, args.rounds)
        base_w, base_c = times["vmap autodiff"]
        cells = "   ".join(f"{name} {w:5.2f} / {c:5.2f} ({base_c / c:4.2f}x CPU)"
                           for name, (w, c) in times.items())
        print(f"  {cell:<5} {cells}", flush=True)


if __name__ == "__main__":
    main()
