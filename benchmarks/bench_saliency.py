"""What one saliency row costs: ``rnnviz.core.saliency.saliency_row`` against PyTorch on the CPU.

    .venv/bin/python benchmarks/bench_saliency.py           # the table (~1 min on 2 cores)
    .venv/bin/python benchmarks/bench_saliency.py --quick   # the smallest size only

The window asks for one saliency row per time step (``||d output_t / d x_k||_F`` for every k),
next to one gradient-flow row (``gradients.flow_row``). For RNN, LSTM and GRU at
(hidden, steps) in (16, 200) (the sine preset) and (128, 1000), input 1, output 1, float32,
batch 1, it times (median over alternating rounds, each call at a different t, all after a
warm-up that compiles):

1. ``rnnviz saliency``: ``saliency_row`` (one forward scan, one vjp), ``block_until_ready``;
2. ``rnnviz flow``: ``flow_row`` (the per-step gradient row the window already computes);
3. ``torch``: ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` with the same weights, forward,
   ``output[t].backward()`` and ``x.grad.norm(dim=1)``: the same row by PyTorch autograd.

``ratio`` = torch_ms / rnnviz_saliency_ms (above 1: rnnviz is faster); ``check`` is the largest
difference between the two saliency rows relative to the row's maximum (same weights, so
~1e-6). Other work on the machine makes absolute timings noisy; the rounds alternate the
engines so both see the same load.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch

from rnnviz import Model, Target
from rnnviz.core.gradients import flow_row
from rnnviz.core.saliency import saliency_row

SIZES = ((16, 200), (128, 1000))
CELLS = ("rnn_tanh", "lstm", "gru")
ROUNDS, CALLS = 5, 5


def torch_model(model: Model):
    spec = model.spec
    kind = {"rnn_tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[spec.cell]
    rnn = kind(spec.input_size, spec.hidden_size)
    head = torch.nn.Linear(spec.hidden_size, spec.out_size)
    params = {k: torch.tensor(np.asarray(v)) for k, v in model.params.items()}
    rnn.load_state_dict({k: v for k, v in params.items() if not k.startswith("readout.")})
    head.load_state_dict({"weight": params["readout.weight"], "bias": params["readout.bias"]})
    return rnn, head


def torch_row(rnn, head, xs: np.ndarray, t: int) -> np.ndarray:
    x = torch.tensor(xs[:, None, :], requires_grad=True)     # (T, batch 1, I)
    out = head(rnn(x)[0])[:, 0, :]                           # (T, O), O = 1
    out[t].sum().backward()
    return x.grad[:, 0, :].norm(dim=1).numpy()


def bench(cell: str, hidden: int, steps: int) -> dict:
    model = Model.create(cell, 1, hidden, output_size=1, seed=0)
    xs = np.sin(np.linspace(0, 8 * np.pi, steps, dtype=np.float32))[:, None]
    target = Target(np.roll(xs, -1, axis=0))
    jxs, values, mask = jnp.asarray(xs), jnp.asarray(target.values), jnp.asarray(target.mask)
    rnn, head = torch_model(model)
    ts = np.linspace(steps // 4, steps - 1, CALLS).astype(int)

    def run_saliency(t):
        return jax.block_until_ready(saliency_row(model.spec, model.params, jxs, int(t)))

    def run_flow(t):
        return jax.block_until_ready(flow_row(model.spec, model.params, jxs, values, mask,
                                              "mse", int(t)))

    engines = {"saliency": run_saliency, "flow": run_flow,
               "torch": lambda t: torch_row(rnn, head, xs, int(t))}
    for fn in engines.values():     # compile / warm up
        fn(ts[0])
    times = {name: [] for name in engines}
    for _ in range(ROUNDS):
        for name, fn in engines.items():
            for t in ts:
                t0 = time.perf_counter()
                fn(t)
                times[name].append(time.perf_counter() - t0)
    t = int(ts[-1])
    ours, theirs = np.asarray(run_saliency(t)), torch_row(rnn, head, xs, t)
    check = float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))
    med = {name: 1e3 * statistics.median(v) for name, v in times.items()}
    return {**med, "check": check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smallest size only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = SIZES[:1] if args.quick else SIZES
    print(f"jax {jax.__version__}, torch {torch.__version__}, CPU, float32, batch 1, "
          f"median of {ROUNDS * CALLS} calls")
    print(f"{'cell':9}{'hidden':>7}{'steps':>7}{'saliency ms':>13}{'flow ms':>9}"
          f"{'torch ms':>10}{'ratio':>7}{'check':>10}")
    for hidden, steps in sizes:
        for cell in CELLS:
            r = bench(cell, hidden, steps)
            print(f"{cell:9}{hidden:>7}{steps:>7}{r['saliency']:>13.2f}{r['flow']:>9.2f}"
                  f"{r['torch']:>10.2f}{r['torch'] / r['saliency']:>7.2f}{r['check']:>10.1e}",
                  flush=True)


if __name__ == "__main__":
    main()
