"""How fast is the engine? rnnviz's full trace + BPTT against PyTorch on the CPU.

    .venv/bin/python benchmarks/bench_engine.py            # the whole table (~1-2 min, 2 cores)
    .venv/bin/python benchmarks/bench_engine.py --quick    # smallest size only (smoke test)

For LSTM and GRU at (hidden, steps) in (32, 100), (128, 1000), (256, 1000), batch 1,
``input_size`` 1, ``output_size`` 1, an MSE target, float32, it times (median of N calls after a
warm-up; the three sides take turns in rounds, so a machine busy with other work slows all
three alike):

1. ``rnnviz``: ``gradients.trace_with_bptt`` (every gate, h, c, the output, per-step loss,
   ``||dL/dh_t||`` per step and ``||dL/dW||`` per parameter), with ``jax.block_until_ready``.
2. ``torch loop``: the same work in PyTorch on the CPU: a Python loop over steps with torch ops
   that computes and records every gate, h (``h.retain_grad()``), c, the output and the loss,
   then ``loss.backward()``, the per-step ``h.grad`` norms and the parameter gradient norms.
3. ``torch fused``: ``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` + MSE + ``backward()``: the speed
   reference, which records no gates and no per-step gradients.

``x faster`` columns are ``other_ms / rnnviz_ms`` (above 1: rnnviz is faster). The ``check``
column is the largest relative difference between rnnviz's and the torch loop's ``||dL/dh_t||``
and parameter gradient norms (both run on the same weights, so it should be ~1e-5).

Then: the latency of one ``Stepper.step()`` (hidden 128, 1 layer, including the copy to numpy),
the jit compile time of ``trace_with_bptt`` for LSTM (128, 1000) (first call minus a steady
call), and what JAX's persistent compilation cache saves on a second start (a subprocess run
twice against one cache directory).

``--threads N`` runs PyTorch on N threads (``torch.set_num_threads(N)``) and, when N is 1, XLA's
matmuls single-threaded (``benchmarks/xla_threads.py``). On a machine shared
with other work, ``--threads 1`` is the fairer comparison: PyTorch's OpenMP threads wait on
each other at every operation and, when a core is taken by another process, that waiting
multiplies its times (the default thread count is what a user gets, and is printed).
The load average before and after is printed: a figure taken on a loaded machine is noisy.

``--input-size 8`` runs the table with 8 inputs instead of 1. On the 2-core development
machine it hardly changes the picture: the input projection is one (T, I) @ (I, G*H) matmul
hoisted out of the scan in rnnviz (and in both torch variants), so all timings move by a few
percent at most; the per-step recurrent work (H x G*H matvec + gates) dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import xla_threads  # noqa: F401  (sets XLA_FLAGS from --threads before JAX starts)

# isort: split
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from rnnviz import Model  # noqa: E402
from rnnviz.core.gradients import trace_with_bptt  # noqa: E402

SIZES = ((32, 100), (128, 1000), (256, 1000))
CELLS = ("lstm", "gru")
BUDGET_S = 1.5          # time spent on the timed calls of one engine at one size
MIN_REPEATS, MAX_REPEATS = 3, 200
ROUNDS = 3              # the engines take turns this many times at each size


# -- timing -------------------------------------------------------------------------------
def time_alternating(fns: dict, budget_s: float = BUDGET_S, rounds: int = ROUNDS) -> dict:
    """``{name: (median_ms, repeats, first_call_s)}`` for several functions timed in turns:
    each is called once (compiles) and once more (warm-up), then ``rounds`` times each
    function runs ``budget_s / rounds`` worth of calls, one function after the other."""
    first, per_round, times = {}, {}, {name: [] for name in fns}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        first[name] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fn()
        warm = time.perf_counter() - t0
        total = min(MAX_REPEATS, max(MIN_REPEATS, budget_s / max(warm, 1e-6)))
        per_round[name] = max(1, int(total / rounds))
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(per_round[name]):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: (1e3 * statistics.median(times[name]), len(times[name]), first[name])
            for name in fns}


# -- the problem --------------------------------------------------------------------------
def make_problem(cell: str, hidden: int, steps: int, input_size: int):
    model = Model.create(cell, input_size, hidden, output_size=1, seed=0)
    t = np.linspace(0.0, 4 * np.pi, steps + 1, dtype=np.float32)
    rng = np.random.default_rng(0)
    xs = np.sin(t[:-1, None] + rng.uniform(0, np.pi, (1, input_size))).astype(np.float32)
    ys = np.sin(t[1:, None]).astype(np.float32)
    mask = np.ones(steps, np.float32)
    return model, xs, ys, mask


def rnnviz_fn(model, xs, ys, mask):
    xs, ys, mask = jnp.asarray(xs), jnp.asarray(ys), jnp.asarray(mask)

    def fn():
        return jax.block_until_ready(
            trace_with_bptt(model.spec, model.params, xs, ys, mask, "mse"))
    return fn


def torch_loop_fn(model, xs, ys, mask):
    """Every gate, h (retain_grad), c, output and loss recorded; backward; per-step grad
    norms. The input projection is one matmul before the loop, as in rnnviz."""
    cell = model.spec.cell
    p = {k: torch.tensor(np.asarray(v), requires_grad=True) for k, v in model.params.items()}
    w_ih, w_hh, b_ih, b_hh = (p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"))
    w_out, b_out = p["readout.weight"], p["readout.bias"]
    x, y, m = torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(mask)
    hidden = model.spec.hidden_size

    def fn():
        for t in p.values():
            t.grad = None
        xp = torch.addmm(b_ih, x, w_ih.t())                   # (T, G*H)
        h = torch.zeros(hidden)
        c = torch.zeros(hidden)
        hs, cs, gates = [], [], {k: [] for k in ("ifgo" if cell == "lstm" else "rzn")}
        for t in range(len(x)):
            hp = torch.addmv(b_hh, w_hh, h)
            if cell == "lstm":
                zi, zf, zg, zo = (xp[t] + hp).chunk(4)
                i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), \
                    torch.sigmoid(zo)
                c = f * c + i * g
                h = o * torch.tanh(c)
                cs.append(c)
                for k, v in zip("ifgo", (i, f, g, o), strict=True):
                    gates[k].append(v)
            else:
                xr, xz, xn = xp[t].chunk(3)
                hr, hz, hn = hp.chunk(3)
                r = torch.sigmoid(xr + hr)
                z = torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                h = (1 - z) * n + z * h
                for k, v in zip("rzn", (r, z, n), strict=True):
                    gates[k].append(v)
            h.retain_grad()
            hs.append(h)
        out = torch.addmm(b_out, torch.stack(hs), w_out.t())   # (T, O)
        losses = ((out - y) ** 2).mean(-1) * m
        loss = losses.sum() / m.sum().clamp(min=1.0)
        loss.backward()
        with torch.no_grad():
            rec = {k: torch.stack(v) for k, v in gates.items()}
            rec["h"] = torch.stack(hs)
            if cs:
                rec["c"] = torch.stack(cs)
            grad_h = torch.stack([h.grad for h in hs]).norm(dim=1)
            grad_p = {k: t.grad.norm() for k, t in p.items()}
        return rec, out.detach(), losses.detach(), grad_h, grad_p
    return fn


def torch_fused_fn(model, xs, ys, mask):
    spec = model.spec
    rnn = (torch.nn.LSTM if spec.cell == "lstm" else torch.nn.GRU)(spec.input_size,
                                                                  spec.hidden_size)
    lin = torch.nn.Linear(spec.hidden_size, 1)
    with torch.no_grad():
        for name, t in rnn.named_parameters():
            t.copy_(torch.from_numpy(np.array(model.params[name])))
        lin.weight.copy_(torch.from_numpy(np.array(model.params["readout.weight"])))
        lin.bias.copy_(torch.from_numpy(np.array(model.params["readout.bias"])))
    params = list(rnn.parameters()) + list(lin.parameters())
    x, y = torch.from_numpy(xs)[:, None, :], torch.from_numpy(ys)

    def fn():
        for t in params:
            t.grad = None
        out, _ = rnn(x)
        loss = torch.nn.functional.mse_loss(lin(out[:, 0]), y)
        loss.backward()
        return loss
    return fn


def check(rn_result, loop_result) -> float:
    """Largest relative difference of ||dL/dh_t|| and ||dL/dW|| between rnnviz and the loop."""
    _, _, _, gh_j, gp_j = jax.device_get(rn_result)
    _, _, _, gh_t, gp_t = loop_result
    a = np.concatenate([np.asarray(gh_j["l0"]), np.array([gp_j[k] for k in sorted(gp_j)])])
    b = np.concatenate([gh_t.numpy(), np.array([gp_t[k].item() for k in sorted(gp_t)])])
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


# -- the table ----------------------------------------------------------------------------
def table(sizes, input_size: int) -> dict:
    print(f"\ntrace + BPTT, batch 1, input {input_size}, output 1, MSE, float32; "
          "ms per call (median of N after warm-up)")
    head = (f"{'cell':<5}{'H':>5}{'T':>6} | {'rnnviz':>8} {'N':>4} | {'torch loop':>10} "
            f"{'N':>4} | {'torch fused':>11} {'N':>4} | {'vs loop':>8} {'vs fused':>9} | "
            f"{'check':>7}")
    print(head)
    print("-" * len(head))
    first_calls = {}
    for cell in CELLS:
        for hidden, steps in sizes:
            model, xs, ys, mask = make_problem(cell, hidden, steps, input_size)
            rn, loop, fused = (f(model, xs, ys, mask) for f in
                               (rnnviz_fn, torch_loop_fn, torch_fused_fn))
            timed = time_alternating({"rnnviz": rn, "loop": loop, "fused": fused})
            (rn_ms, rn_n, rn_first), (lp_ms, lp_n, _), (fu_ms, fu_n, _) = timed.values()
            first_calls[(cell, hidden, steps)] = (rn_first, rn_ms)
            err = check(rn(), loop())
            print(f"{cell:<5}{hidden:>5}{steps:>6} | {rn_ms:>8.2f} {rn_n:>4} | {lp_ms:>10.2f} "
                  f"{lp_n:>4} | {fu_ms:>11.2f} {fu_n:>4} | {lp_ms / rn_ms:>7.1f}x "
                  f"{fu_ms / rn_ms:>8.2f}x | {err:>7.1e}", flush=True)
    print("vs loop / vs fused = torch ms / rnnviz ms (above 1: rnnviz faster)")
    return first_calls


# -- the stepper --------------------------------------------------------------------------
def stepper_latency(cell: str, hidden: int = 128, steps: int = 10000, calls: int = 3000):
    model = Model.create(cell, 1, hidden, output_size=1, seed=0)
    xs = np.sin(np.linspace(0, 200, steps, dtype=np.float32))[:, None]
    stepper = model.stepper(xs)
    stepper.step()                       # compiles the step
    times = []
    for _ in range(min(calls, steps - 1)):
        t0 = time.perf_counter()
        stepper.step()
        times.append(time.perf_counter() - t0)
    us = 1e6 * np.asarray(times)
    return float(np.percentile(us, 50)), float(np.percentile(us, 99)), len(us)


# -- compile time and the persistent cache ------------------------------------------------
_CHILD = r"""
import json, sys, time
import jax
jax.config.update("jax_compilation_cache_dir", sys.argv[1])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
import jax.numpy as jnp, numpy as np
from rnnviz import Model
from rnnviz.core.gradients import trace_with_bptt
model = Model.create("lstm", 1, 128, output_size=1, seed=0)
xs = jnp.asarray(np.sin(np.linspace(0, 12, 1000, dtype=np.float32))[:, None])
ys, mask = jnp.roll(xs, -1, 0), jnp.ones(1000, jnp.float32)
def call():
    t0 = time.perf_counter()
    jax.block_until_ready(trace_with_bptt(model.spec, model.params, xs, ys, mask, "mse"))
    return time.perf_counter() - t0
first = call()
steady = sorted(call() for _ in range(5))[2]
print(json.dumps({"first": first, "steady": steady}))
"""


def persistent_cache():
    with tempfile.TemporaryDirectory(prefix="rnnviz-jax-cache-") as cache:
        runs = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _CHILD, cache], check=True,
                                 capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        entries = len(os.listdir(cache))
    return runs, entries


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smallest size only")
    parser.add_argument("--input-size", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for torch and XLA (default: torch on every core)")
    args = parser.parse_args(argv)

    cores = os.cpu_count() or 1
    threads = args.threads or cores
    torch.set_num_threads(threads)
    print(f"jax {jax.__version__} ({jax.default_backend()}), torch {torch.__version__}, "
          f"numpy {np.__version__}; {cores} cores, torch.set_num_threads({threads})"
          + (", XLA single-threaded" if args.threads == 1 else ""))
    print(f"XLA_FLAGS: {os.environ.get('XLA_FLAGS', '')}")
    print("load average (1, 5, 15 min) at start: " + ", ".join(
        f"{x:.1f}" for x in os.getloadavg()))

    sizes = SIZES[:1] if args.quick else SIZES
    first_calls = table(sizes, args.input_size)

    print("\nStepper.step(), hidden 128, 1 layer, one jitted step + copy to numpy "
          "(first call excluded)")
    for cell in CELLS:
        p50, p99, n = stepper_latency(cell, calls=300 if args.quick else 3000)
        print(f"  {cell:<5} p50 {p50:7.1f} us   p99 {p99:7.1f} us   ({n} calls)")

    key = ("lstm", 128, 1000)
    if key in first_calls:
        first, steady_ms = first_calls[key]
        print(f"\njit compile, trace_with_bptt LSTM (128, 1000): first call {first:.2f} s - "
              f"steady {steady_ms:.1f} ms = {first - steady_ms / 1e3:.2f} s")
    if not args.quick:
        runs, entries = persistent_cache()
        cold, warm = (r["first"] - r["steady"] for r in runs)
        print("persistent compilation cache (jax_compilation_cache_dir, min compile time 0), "
              f"LSTM (128, 1000), fresh process:\n  cold start: first call {runs[0]['first']:.2f}"
              f" s (compile ~{cold:.2f} s)\n  warm start: first call {runs[1]['first']:.2f} s "
              f"(compile ~{warm:.2f} s), {entries} cache entries; saves {cold - warm:.2f} s")
    print("load average at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
