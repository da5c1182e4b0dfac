"""Three columns side by side: their training runs and their traces on one worker against one
worker per core (issue 16, item 5).

    .venv/bin/python benchmarks/bench_concurrency.py              # ~2 min on 2 cores
    .venv/bin/python benchmarks/bench_concurrency.py --threads 1  # XLA's matmuls on 1 thread

The window's job runner (``rnnviz.ui.state.jobs.JobRunner``, Qt-free; its callbacks collected
on this thread as the UI thread's event loop would run them) is given the three columns' jobs
at once, as "All columns" training and a new preset do, with ``workers=1`` (one after another,
as before) and with ``workers=N``, N the cores this process may use. Timed: from the first
submit to the last result delivered.

- training: RNN, LSTM and GRU of hidden 32 on the sine task (length 100), batch 32, Adam,
  ``--train-steps`` update steps each (``rnnviz.training.loop.train``, as the training panel
  runs it);
- traces: RNN, LSTM and GRU of hidden 128 over 1,000 steps with a target
  (``Model.trace``, every gate and gradient norm, as a column's trace job).

Every program is compiled first (one warm-up of each); then the two runners take turns,
``--rounds`` times each, and the medians are printed with the speed-up (one worker's time /
N workers') and the speed-up per core used (speed-up / min(3, N)): 1.0 per core is perfect
scaling, which three jobs on N cores cannot exceed. The load average is printed before and
after: on a machine shared with other work the figures move with it.

``--threads 1`` sets ``--xla_cpu_multi_thread_eigen=false`` (``benchmarks/xla_threads.py``):
each computation's matmuls on the calling thread only, so N workers use exactly N threads;
without it the computations share XLA's one intra-op pool (the default, what the app runs).
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import time

import xla_threads  # noqa: F401  (sets XLA_FLAGS from --threads before JAX starts)

# isort: split
import numpy as np  # noqa: E402
from rnnviz.ui.state.jobs import JobRunner, default_workers  # noqa: E402

from rnnviz import Model  # noqa: E402
from rnnviz.core.losses import Target  # noqa: E402
from rnnviz.tasks import make_task  # noqa: E402
from rnnviz.training.loop import TrainOptions, train  # noqa: E402

CELLS = ("rnn", "lstm", "gru")


def training_jobs(steps: int) -> list:
    task = make_task("sine", length=100)
    options = TrainOptions(steps=steps, batch_size=32, eval_every=steps, chunk_steps=steps)
    models = [Model.create(cell, task.input_size, 32, output_size=task.output_size, seed=k)
              for k, cell in enumerate(CELLS)]
    return [lambda ctx, m=m: train(m.spec, m.params, task, options).params for m in models]


def trace_jobs(hidden: int, steps: int) -> list:
    grid = np.linspace(0.0, 40 * np.pi, steps + 1, dtype=np.float32)
    xs, target = np.sin(grid[:-1, None]), Target(np.sin(grid[1:, None]))
    models = [Model.create(cell, 1, hidden, output_size=1, seed=k)
              for k, cell in enumerate(CELLS)]
    return [lambda ctx, m=m: m.trace(xs, target) for m in models]


def run_all(jobs: list, workers: int) -> float:
    """Seconds from submitting every job to the last result delivered, on a fresh runner."""
    calls: queue.Queue = queue.Queue()
    runner = JobRunner(calls.put, name="bench", workers=workers)
    done = []
    errors = []
    start = time.perf_counter()
    for k, job in enumerate(jobs):
        runner.submit(f"column:{k}", job, on_done=done.append, on_error=errors.append)
    while len(done) + len(errors) < len(jobs):
        calls.get(timeout=600)()
    elapsed = time.perf_counter() - start
    runner.stop()
    if errors:
        raise RuntimeError(errors[0])
    return elapsed


def compare(name: str, jobs: list, cores: int, rounds: int) -> None:
    for job in jobs:  # compile every program (and warm up) first
        job(None)
    times: dict[int, list[float]] = {1: [], cores: []}
    for _ in range(rounds):
        for workers in times:
            times[workers].append(run_all(jobs, workers))
    one, many = statistics.median(times[1]), statistics.median(times[cores])
    speedup = one / many
    print(f"{name:<9} one worker {one:7.2f} s ({', '.join(f'{t:.2f}' for t in times[1])}); "
          f"{cores} workers {many:7.2f} s ({', '.join(f'{t:.2f}' for t in times[cores])}); "
          f"speed-up {speedup:.2f}x, {speedup / min(len(jobs), cores):.2f} per core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=500)
    parser.add_argument("--trace-hidden", type=int, default=128)
    parser.add_argument("--trace-steps", type=int, default=1000)
    parser.add_argument("--traces-per-job", type=int, default=20,
                        help="traces each column's job makes (long enough to time)")
    parser.add_argument("--threads", type=int, default=None, help="1: XLA's matmuls on 1 thread")
    parser.add_argument("--workers", type=int, default=None, help="default: the cores")
    args = parser.parse_args()
    cores = args.workers or default_workers()
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{cores} workers; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    compare("training", training_jobs(args.train_steps), cores, args.rounds)
    traces = trace_jobs(args.trace_hidden, args.trace_steps)
    repeated = [lambda ctx, job=job: [job(ctx) for _ in range(args.traces_per_job)]
                for job in traces]
    compare("traces", repeated, cores, args.rounds)
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
