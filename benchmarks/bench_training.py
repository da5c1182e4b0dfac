"""Training throughput: ``rnnviz.training.loop.train`` against PyTorch on the CPU.

    .venv/bin/python benchmarks/bench_training.py                # ~1-2 min on 2 cores
    .venv/bin/python benchmarks/bench_training.py --steps 50 --rounds 1   # smoke test

Both sides train a 1-layer LSTM and GRU (input 1, hidden 64, a linear readout to 1) on the
``sine`` task (100 steps per sequence), batch 32, Adam (lr 0.01), MSE, float32, on the very same
batches (``task.batch(32, seed=step_seed(0, s))`` for step s):

- ``rnnviz``: ``train(...)`` end to end (batch generation, the jitted chunks of update steps,
  per-step loss and gradient norms, the progress callback, a validation at the start and
  end), after a warm-up run that compiles the chunk;
- ``torch``: ``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` + ``torch.optim.Adam``, a Python loop over
  steps (batch generation, forward, ``backward()``, ``step()``, ``loss.item()``), after 5
  warm-up steps.

Each round times both sides back to back, alternating, so a busy machine slows both alike; the
table shows the median over rounds of steps per second, and ``ratio`` = rnnviz / torch (above
1: rnnviz trains faster); ``max gap`` is the longest time between two progress callbacks
(two updates of the window's live loss curve) over all rounds.

``--threads N`` runs torch on N threads (``torch.set_num_threads``), and XLA single-threaded
when N is 1 (``benchmarks/xla_threads.py``);
on a machine shared with other work ``--threads 1`` is the fairer comparison (see
bench_engine.py). The load average before and after is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import xla_threads  # noqa: F401  (sets XLA_FLAGS from --threads before JAX starts)

# isort: split
import jax  # noqa: E402
import torch  # noqa: E402

from rnnviz import ModelSpec, init_params  # noqa: E402
from rnnviz.tasks import make_task  # noqa: E402
from rnnviz.training.loop import TrainOptions, chunk_size, step_seed, train  # noqa: E402

HIDDEN, LENGTH, BATCH, LR = 64, 100, 32, 0.01


def rnnviz_steps_per_second(cell: str, steps: int) -> tuple[float, int, float]:
    """``(steps per second, chunk size, longest gap in seconds between two progress
    callbacks, i.e. between two updates of the live loss curve)``."""
    task = make_task("sine", length=LENGTH)
    spec = ModelSpec(cell, 1, HIDDEN, output_size=1)
    params = init_params(spec, seed=0)
    k = chunk_size(spec, task, BATCH)
    warm = TrainOptions(learning_rate=LR, batch_size=BATCH, steps=k, eval_every=k,
                        eval_batch=BATCH)
    train(spec, params, task, warm)  # compiles the chunk and the validation
    options = TrainOptions(learning_rate=LR, batch_size=BATCH, steps=steps, eval_every=steps,
                           eval_batch=BATCH)
    stamps = [time.perf_counter()]
    result = train(spec, params, task, options,
                   callback=lambda progress: stamps.append(time.perf_counter()))
    gap = max(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    return steps / result.elapsed, k, gap


def torch_steps_per_second(cell: str, steps: int) -> float:
    task = make_task("sine", length=LENGTH)
    torch.manual_seed(0)
    rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](1, HIDDEN, batch_first=True)
    readout = torch.nn.Linear(HIDDEN, 1)
    opt = torch.optim.Adam([*rnn.parameters(), *readout.parameters()], lr=LR)

    def update(s: int) -> float:
        xs, ys, _ = task.batch(BATCH, seed=step_seed(0, s))
        out, _ = rnn(torch.from_numpy(xs))
        loss = torch.mean((readout(out) - torch.from_numpy(ys)) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for s in range(5):
        update(s)
    start = time.perf_counter()
    for s in range(steps):
        update(s)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="update steps per timing")
    parser.add_argument("--rounds", type=int, default=3, help="timings per side, alternating")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for torch and XLA (default: torch's own default)")
    parser.add_argument("--cells", default="lstm,gru", help="comma-separated cells")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    print("load average (1, 5, 15 min) at start: " + ", ".join(
        f"{x:.1f}" for x in os.getloadavg()))
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); hidden {HIDDEN}, length {LENGTH}, "
          f"batch {BATCH}, Adam, {args.steps} steps x {args.rounds} rounds")
    print(f"{'cell':<6}{'rnnviz steps/s':>16}{'torch steps/s':>15}{'ratio':>8}"
          f"{'chunk':>7}{'max gap':>9}  rounds (rnnviz/torch)")
    for cell in args.cells.split(","):
        ours, theirs = [], []
        k, gaps = 0, []
        for _ in range(args.rounds):
            rate, k, gap = rnnviz_steps_per_second(cell, args.steps)
            ours.append(rate)
            gaps.append(gap)
            theirs.append(torch_steps_per_second(cell, args.steps))
        a, b = statistics.median(ours), statistics.median(theirs)
        rounds = " ".join(f"{x:.0f}/{y:.0f}" for x, y in zip(ours, theirs, strict=True))
        print(f"{cell:<6}{a:>16.1f}{b:>15.1f}{a / b:>8.2f}{k:>7}{max(gaps):>8.2f}s  {rounds}",
              flush=True)
    print("load average at end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
