"""Levers outside the engine's code: XLA's CPU flags, the second core, and thread placement.

    .venv/bin/python benchmarks/bench_cpu_levers.py            # ~3 min on 2 cores
    .venv/bin/python benchmarks/bench_cpu_levers.py --quick    # fewer flag sets

Each variant runs in a fresh process (XLA reads its flags once, when JAX starts) and times, as
median milliseconds per call after a warm-up, the two workloads of ``bench_levers.py``: the
LSTM trace + BPTT at batch 1, (hidden, steps) = (128, 1000) and (256, 1000), and one LSTM
training update (hidden 64, 100 steps, batch 32, Adam). Variants:

- ``flags``: single-threaded XLA plus one extra flag each (the older runtime, XNNPACK or
  oneDNN for the dots, fast math, the concurrency-optimised scheduler),
  and, the other way round, XLA's own 1 KiB small-loop threshold instead of the one rnnviz
  sets when imported (``rnnviz.xla_options``: every batch-1 scan compiled as one kernel), so
  that row shows what that option gains (below 1x: the default is slower);
- ``pinned``: the same process pinned to one core (``taskset``-like, before JAX starts), which
  keeps XLA's threads from migrating between the cores' caches;
- ``two threads``: one update split in two half batches whose gradients two Python threads
  compute at once (XLA runs a computation on the thread that calls it), then summed and
  applied by one jitted Adam step, against the whole batch on one thread (same loop).

Process-to-process spread on the 2-core machine is about ±10 % (more on the update, whose
time is bimodal between processes: 3.0 or 4.4 ms, see the README), so only larger effects
count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

SINGLE = "--xla_cpu_multi_thread_eigen=false"
FLAGS = {
    "single-threaded XLA (baseline)": "",
    "older runtime (no thunks)": "--xla_cpu_use_thunk_runtime=false",
    "XNNPACK dots": "--xla_cpu_experimental_xnn_fusion_type=dot",
    "oneDNN dots": "--xla_cpu_use_onednn=true --xla_cpu_experimental_onednn_fusion_type=dot",
    "fast math": "--xla_cpu_enable_fast_math=true",
    "concurrency-optimised scheduler": "--xla_cpu_enable_concurrency_optimized_scheduler=true",
    "XLA's small-loop threshold (1 KiB)":
        "--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=1024",
}
QUICK = ("single-threaded XLA (baseline)", "XNNPACK dots", "XLA's small-loop threshold (1 KiB)")


def child(two_threads: bool) -> dict:
    """Runs in the subprocess: the timings as a dict of milliseconds."""
    import statistics
    import time
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from bench_levers import trace_fn

    from rnnviz import ModelSpec, init_params
    from rnnviz.training.loop import batch_loss

    def median_ms(fn, n=21):
        jax.block_until_ready(fn())
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            jax.block_until_ready(fn())
            times.append(time.perf_counter() - t0)
        return 1e3 * statistics.median(times)

    out = {}
    for hidden in (128, 256):
        spec = ModelSpec("lstm", 1, hidden, output_size=1)
        params = init_params(spec, seed=0)
        xs = jnp.asarray(np.sin(np.linspace(0, 40, 1000, dtype=np.float32))[:, None])
        ys, mask = jnp.roll(xs, -1, 0), jnp.ones(1000, jnp.float32)
        fn = trace_fn(spec, autodiff=False)
        args = (params, xs, ys, mask)
        out[f"trace {hidden}"] = median_ms(lambda fn=fn, args=args: fn(*args))

    spec = ModelSpec("lstm", 1, 64, output_size=1)
    params = init_params(spec, seed=0)
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(32, 100, 1)).astype(np.float32)
    ys, mask = np.roll(xs, -1, 1), np.ones((32, 100), np.float32)
    tx = optax.adam(0.01)

    @partial(jax.jit, static_argnames=("spec",))
    def shard_grads(spec, params, xs, ys, mask):
        def total(params):
            return batch_loss(spec, params, xs, ys, mask, "mse")[0] * xs.shape[0]
        return jax.value_and_grad(total)(params)

    @jax.jit
    def apply(params, state, grads):
        grads = jax.tree.map(lambda *g: sum(g) / 32, *grads)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    pool = ThreadPoolExecutor(1)

    def update_threads(params, state):
        other = pool.submit(lambda: jax.block_until_ready(
            shard_grads(spec, params, xs[16:], ys[16:], mask[16:])))
        first = jax.block_until_ready(shard_grads(spec, params, xs[:16], ys[:16], mask[:16]))
        return apply(params, state, (first[1], other.result()[1]))

    def update_one(params, state):
        return apply(params, state, (shard_grads(spec, params, xs, ys, mask)[1],))

    variants = {"update": update_one}
    if two_threads:
        variants["update, two threads"] = update_threads
    for name, update in variants.items():
        state = tx.init(params)
        out[name] = median_ms(lambda update=update, state=state: update(params, state), n=60)
    return out


def run_variant(flags: str, pin: bool = False, two_threads: bool = False) -> dict:
    env = {**os.environ, "XLA_FLAGS": f"{SINGLE} {flags}".strip()}
    code = ("import json, os, sys; sys.path.insert(0, 'benchmarks')\n"
            + ("os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})\n" if pin else "")
            + f"from bench_cpu_levers import child; print(json.dumps(child({two_threads})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(name: str, result: dict, base: dict | None) -> None:
    if "error" in result:
        print(f"  {name:<34} failed: {result['error'][:80]}", flush=True)
        return
    cells = []
    for key, ms in result.items():
        # the two-thread update is compared with the one-thread update of the same process
        ref = result["update"] if key == "update, two threads" else (base or {}).get(key)
        ratio = f" ({ref / ms:4.2f}x)" if ref else ""
        cells.append(f"{key} {ms:6.2f}{ratio}")
    print(f"  {name:<34} " + "   ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two flag sets only")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; ms per call (x = baseline / variant, above 1: "
          "the variant is faster)")
    print("\nXLA flags, each on top of single-threaded XLA, each in its own process")
    base = None
    for name, flags in FLAGS.items():
        if args.quick and name not in QUICK:
            continue
        result = run_variant(flags)
        base = base or result
        show(name, result, base)
    print("\nthread placement and the second core (single-threaded XLA)")
    show("not pinned", run_variant("", two_threads=True), base)
    show("pinned to one core", run_variant("", pin=True), base)
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
