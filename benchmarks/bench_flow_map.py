"""The whole gradient-flow map of an LSTM (hidden 128): rnnviz against its FLOP floor and
against PyTorch doing the same rows, side by side.

    PYTHONPATH=/path/to/torch .venv/bin/python benchmarks/bench_flow_map.py  # ~3 min
    .venv/bin/python benchmarks/bench_flow_map.py --sizes 1000 2000 --repeats 3

The map is ``||d l_t / dh_k||`` for every step t (rows) and k (columns), ``(T, T)``. Each
length T prints, alternating the contenders and repeating (``--repeats``; the medians):

- ``rnnviz``: ``gradient_maps.flow_map`` (the sweep: rows 128 at a time, one
  ``(128, 2H) @ (2H, H)`` product per step, each row only back to step 0 from its own step);
- ``before``: ``gradients.flow_matrix`` (``lax.map`` of one ``vjp`` per row, batched 32,
  every row through all T steps), what ``Model.trace(flow=True)`` ran until 2026-11-30; only
  for ``T <= --before-max``;
- ``floor``: ``4 T^2 H^2`` flops (per row t and step k <= t, the ``(1, 4H) @ (4H, H)`` product
  ``W_hh^T dz`` of the backward pass) at the float32 matmul rate measured in this process
  (``gradient_maps.matmul_rate``, a ``(512, 512)`` product, the best of 50: the rate of an
  idle moment); ``floor run``: the same flops as a chain of ``(512, 512)`` products, timed in
  turn with the contenders, so that it meets the same load (``vs floor run``). rnnviz's sweep
  does half the floor's multiply-adds (it folds the gates: ``(1, 2H) @ (2H, H)`` per step), so
  it can come in under it;
- ``torch``: the same LSTM written step by step in PyTorch (``h_t + eps_t`` so that the
  derivative with respect to ``eps`` is the total one, as in rnnviz), ``torch.func.vmap`` of
  the ``torch.func.vjp`` pull-back over the one-hot cotangents of 128 rows at once, as rnnviz
  batches them. Every row runs back through all T steps, so each chunk of 128 rows costs the
  same: one chunk (``--torch-rows``) is timed and its time multiplied by the number of chunks,
  ``ceil(T / 128)`` (timing fewer rows and scaling would be unfair to PyTorch: at T = 200, 128
  rows took about as long as 32). ``--torch-loop`` uses one ``torch.autograd.grad`` per row
  on a retained graph instead (about as fast here). PyTorch's rows are checked against
  rnnviz's (``max diff``). (Writing ``eps[t]`` in the loop instead of unbinding ``eps`` once
  makes each step's backward allocate a ``(T, H)`` zero gradient: 15x slower at T = 1,000.)

The load average is printed before and after: the CPU is shared, so run it more than once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core import gradient_maps, gradients
from rnnviz.core.model import Model

HIDDEN, ROWS_PER_CHUNK = 128, 128


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def problem(steps: int, seed: int = 0):
    model = Model.create("lstm", 1, HIDDEN, output_size=1, seed=seed)
    t = np.linspace(0, 0.3 * steps, steps + 1)
    xs = np.sin(t[:-1, None]).astype(np.float32)
    ys = np.sin(t[1:, None] + 0.5).astype(np.float32)
    return model, xs, ys, np.ones(steps, np.float32)


def rnnviz_map(model, xs, ys, mask):
    args = (model.spec, model.params, jnp.asarray(xs), jnp.asarray(ys), jnp.asarray(mask),
            "mse")
    return lambda: gradient_maps.flow_map(*args)["l0"]


def before_map(model, xs, ys, mask):
    args = (model.spec, model.params, jnp.asarray(xs), jnp.asarray(ys), jnp.asarray(mask),
            "mse")
    return lambda: jax.block_until_ready(gradients.flow_matrix(*args))["l0"]


def floor_run(flops: float):
    """A function doing ``flops`` as a chain of ``(512, 512) @ (512, 512)`` products."""
    n = max(1, round(flops / (2 * 512**3)))
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.normal(size=(512, 512)).astype(np.float32))
    b = jnp.asarray((rng.normal(size=(512, 512)) / np.sqrt(512)).astype(np.float32))
    chain = jax.jit(lambda a, b: jax.lax.fori_loop(0, n, lambda i, x: x @ b, a))
    return lambda: chain(a, b).block_until_ready()


def torch_map(model, xs, ys, mask, rows: int, batched: bool):
    """A function computing the flow rows ``0..rows-1`` in PyTorch, returning them ``(rows,
    T)``: with ``batched``, ``torch.func.vmap`` of the ``torch.func.vjp`` pull-back over the
    rows' one-hot cotangents at once; without, one ``torch.autograd.grad`` per row on the
    retained graph."""
    import torch
    from torch.func import vjp, vmap

    p = {k: torch.tensor(np.asarray(v)) for k, v in model.params.items()}
    w_ih, w_hh, b_ih, b_hh = (p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"))
    w_out, b_out = p["readout.weight"], p["readout.bias"]
    x, y, m = torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(mask)
    steps = len(xs)

    def losses(eps):
        xp = torch.addmm(b_ih, x, w_ih.t())
        h, c = torch.zeros(HIDDEN), torch.zeros(HIDDEN)
        hs, eps_t = [], eps.unbind(0)   # eps[t] in the loop: a (T, H) zero gradient per step
        for t in range(steps):
            zi, zf, zg, zo = (xp[t] + torch.addmv(b_hh, w_hh, h)).chunk(4)
            c = torch.sigmoid(zf) * c + torch.sigmoid(zi) * torch.tanh(zg)
            h = torch.sigmoid(zo) * torch.tanh(c) + eps_t[t]
            hs.append(h)
        out = torch.addmm(b_out, torch.stack(hs), w_out.t())
        return ((out - y) ** 2).mean(-1) * m

    eye = torch.eye(steps)[:rows]

    def fn():
        if batched:
            _, pull = vjp(losses, torch.zeros(steps, HIDDEN))
            (g,) = vmap(pull)(eye)
            return g.norm(dim=-1).numpy()
        eps = torch.zeros(steps, HIDDEN, requires_grad=True)
        out = losses(eps)
        return torch.stack([torch.autograd.grad(out, eps, row, retain_graph=True)[0]
                            .norm(dim=-1) for row in eye]).numpy()
    return fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--before-max", type=int, default=2000)
    parser.add_argument("--torch-rows", type=int, default=128,
                        help="rows PyTorch computes as one chunk, its time scaled to all T")
    parser.add_argument("--torch-repeats", type=int, default=1,
                        help="PyTorch's runs (it is two orders of magnitude slower)")
    parser.add_argument("--torch-loop", action="store_true",
                        help="PyTorch's rows by a loop of autograd.grad, not vmap over vjp")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}", flush=True)
    rate = gradient_maps.matmul_rate(repeats=50)   # the best of many: the CPU is shared
    print(f"matmul rate: {rate / 1e9:.0f} GFLOP/s (float32 512x512, this process)")
    for steps in args.sizes:
        model, xs, ys, mask = problem(steps)
        floor = 4.0 * steps * steps * HIDDEN * HIDDEN / rate
        ours = rnnviz_map(model, xs, ys, mask)
        reference = ours()                                  # also compiles
        contenders = {"rnnviz": ours, "floor run": floor_run(4.0 * steps**2 * HIDDEN**2)}
        contenders["floor run"]()
        if steps <= args.before_max:
            contenders["before"] = before_map(model, xs, ys, mask)
            contenders["before"]()
        scale = 1.0
        if not args.no_torch:
            torch_fn = torch_map(model, xs, ys, mask, args.torch_rows, not args.torch_loop)
            rows = torch_fn()
            scale = -(-steps // args.torch_rows)
            diff = np.abs(rows - reference[:args.torch_rows]).max()
            print(f"T={steps}: torch rows 0..{args.torch_rows - 1} max diff from rnnviz "
                  f"{diff / np.abs(reference).max():.1e} (relative to the map's largest); "
                  f"torch's time for them times {scale:.0f} chunks for all {steps} rows "
                  f"({'a loop of autograd.grad' if args.torch_loop else 'vmap over vjp'})")
            contenders["torch"] = torch_fn
        times: dict[str, list[float]] = {k: [] for k in contenders}
        for repeat in range(args.repeats):                 # alternate: A B C A B C
            for name, fn in contenders.items():
                if name != "torch" or repeat < args.torch_repeats:
                    times[name].append(timed(fn))
        median = {k: statistics.median(v) * (scale if k == "torch" else 1.0)
                  for k, v in times.items()}
        line = (f"T={steps}: rnnviz {median['rnnviz']:.2f} s, floor {floor:.2f} s "
                f"({median['rnnviz'] / floor:.2f}x the floor), floor run "
                f"{median['floor run']:.2f} s ({median['rnnviz'] / median['floor run']:.2f}x "
                f"it)")
        if "before" in median:
            line += (f", before {median['before']:.2f} s "
                     f"({median['before'] / median['rnnviz']:.1f}x rnnviz's time)")
        if "torch" in median:
            line += (f", torch {median['torch']:.2f} s "
                     f"({median['torch'] / median['rnnviz']:.1f}x rnnviz's time)")
        print(line, flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
