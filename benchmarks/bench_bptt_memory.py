"""Peak memory of one training gradient: whole BPTT, truncated, rematerialised, at several T.

For each configuration a fresh process builds the model, compiles the gradient of a batch's
loss (``rnnviz.training.bptt.value_and_grad``, what a training step differentiates), then
resets the kernel's peak resident set (``/proc/self/clear_refs``), computes the gradient once
and reads the peak (``VmHWM``) minus the resident set before the call: what computing the
gradient added. It prints that beside XLA's own plan for the compiled program
(``memory_analysis().temp_size_in_bytes``, the temporaries it allocates) and the two figures
``rnnviz.training.memory.bptt_memory`` predicts: the activations stored for the backward
pass, and the peak with the backward pass's temporaries.

    .venv/bin/python benchmarks/bench_bptt_memory.py            # LSTM 256, batch 32, ~2 min
    .venv/bin/python benchmarks/bench_bptt_memory.py --lengths 500 1000 --cells gru rnn

Linux only (``/proc``). Memory does not depend on the load, but the load average is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def measure(cell: str, hidden: int, layers: int, batch: int, length: int,
            window: int | None, chunk: int | None) -> dict:
    """In this process: XLA's planned temporaries and the measured peak, in bytes."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from rnnviz.core.init import init_params
    from rnnviz.core.spec import ModelSpec
    from rnnviz.training.bptt import Bptt, value_and_grad

    features = 8
    spec = ModelSpec(cell, features, hidden, layers, False, features)
    params = init_params(spec, seed=0)
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.standard_normal((batch, length, features)), jnp.float32)
    ys = jnp.asarray(rng.integers(0, features, (batch, length)), jnp.int32)
    mask = jnp.ones((batch, length), jnp.float32)
    bptt = Bptt(window, True, chunk)
    grad = jax.jit(lambda p, x, y, m: value_and_grad(spec, p, x, y, m, "xent", bptt)[:2])
    compiled = grad.lower(params, xs, ys, mask).compile()
    planned = compiled.memory_analysis().temp_size_in_bytes
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident set
    jax.block_until_ready(compiled(params, xs, ys, mask))
    return {"planned": planned, "measured": _status("VmHWM") - before}


def predicted(cell: str, hidden: int, layers: int, batch: int, length: int,
              window: int | None, chunk: int | None):
    from rnnviz.core.spec import ModelSpec
    from rnnviz.training.memory import bptt_memory

    spec = ModelSpec(cell, 8, hidden, layers, False, 8)
    return bptt_memory(spec, length, batch=batch, window=window, chunk=chunk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["lstm"])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lengths", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=32)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(**json.loads(args.child))))
        return

    print(f"load average {os.getloadavg()[0]:.2f}; batch {args.batch}, hidden {args.hidden}, "
          f"{args.layers} layer(s), float32; MB = 1e6 bytes")
    head = (f"{'cell':5} {'T':>5}  {'gradient':22} {'stored':>8} {'peak':>8} "
            f"{'XLA plan':>9} {'measured':>9}  {'meas/peak':>9}")
    print(head)
    print("-" * len(head))
    for cell in args.cells:
        for length in args.lengths:
            for name, window, chunk in (("whole", None, None),
                                        (f"window {args.window}", args.window, None),
                                        (f"remat chunks of {args.chunk}", None, args.chunk)):
                config = {"cell": cell, "hidden": args.hidden, "layers": args.layers,
                          "batch": args.batch, "length": length, "window": window,
                          "chunk": chunk}
                done = subprocess.run([sys.executable, __file__, "--child", json.dumps(config)],
                                      capture_output=True, text=True, check=True)
                got = json.loads(done.stdout.strip().splitlines()[-1])
                cost = predicted(**config)
                print(f"{cell:5} {length:5}  {name:22} {cost.stored_mb:8.1f} {cost.peak_mb:8.1f} "
                      f"{got['planned'] / 1e6:9.1f} {got['measured'] / 1e6:9.1f}  "
                      f"{got['measured'] / cost.peak:9.2f}", flush=True)


if __name__ == "__main__":
    main()
