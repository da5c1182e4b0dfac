"""The window's Jacobian-memory row ``||dh_t / dh_k||_F`` (every k) of a hidden-512 column:
the swept row (``Model.memory``, ``gradient_maps.memory_map`` with one row) against the plain
one it replaced (``gradients.memory_row``: ``vmap`` of H backward passes through the whole
sequence), side by side.

    .venv/bin/python benchmarks/bench_memory_row.py            # ~1 min

The sweep sends the H cotangents back from step t together, one ``(H, C H) @ (C H, H)``
product per step (C = 2 for the LSTM, 1 for the GRU) and only over steps t..0; the plain row
runs H backward passes of ``W_hh^T dz`` (4H or 3H rows) over all T steps. Printed per cell:
the median of ``--repeats`` alternated runs at two steps (t = 120 and T - 1), the ratio,
the largest difference between the rows, and the load average.

Then the window's side of it (``--live``, the explorer's state and its worker thread, no Qt):
an LSTM of 512 beside an RNN and a GRU of 32 on the sine task; the cursor rests (every
column's memory row is asked), then steps on while the hidden-512 memory row is being
computed. Printed: seconds from each step to that step's flow and saliency rows in every
column (median and worst of ``--repeats`` steps), with the memory row stopped between two
segments of its sweep (now) and left to finish (as before).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from rnnviz.core import gradients
from rnnviz.core.model import Model
from rnnviz.core.trace import as_input


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--live", action="store_true", help="the window's step to rows")
    parser.add_argument("--no-nice", action="store_true",
                        help="the worker at the UI's priority (the app lowers it to nice +10, "
                             "which on a loaded machine leaves it a small share of a core)")
    parser.add_argument("--cells", nargs="*", default=["lstm", "gru"])
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    steps = args.steps
    for cell in args.cells:
        model = Model.create(cell, 1, args.hidden, output_size=1, seed=0)
        xs = as_input(model.spec, np.sin(np.linspace(0, 20, steps))[:, None])
        rows = {
            "plain": lambda t, m=model, x=xs: np.asarray(
                gradients.memory_row(m.spec, m.params, x, "l0", t)),
            "swept": lambda t, m=model, x=xs: m.memory(x, t, "l0"),
        }
        first = {name: fn(steps - 1) for name, fn in rows.items()}   # compiles too
        diff = np.abs(first["plain"] - first["swept"]).max() / np.abs(first["plain"]).max()
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, fn in rows.items():
                t0 = time.perf_counter()
                fn(min(120, steps - 1))
                fn(steps - 1)
                times[name].append((time.perf_counter() - t0) / 2)
        plain, swept = (statistics.median(times[k]) for k in ("plain", "swept"))
        print(f"{cell} hidden {args.hidden}, T={steps}: plain {plain:.3f} s, swept "
              f"{swept:.3f} s per row ({plain / swept:.1f}x faster); max diff {diff:.1e} of "
              f"the row's largest", flush=True)
    if args.live:
        if args.no_nice:
            from rnnviz.ui.state import jobs

            jobs.lower_thread_priority = lambda *_: None
        live(args.repeats)
    print(f"load average after: {os.getloadavg()}")


def live(repeats: int) -> None:
    for stop_memory in (True, False):
        waits = live_waits(repeats, stop_memory)
        how = "stopped when the cursor moves" if stop_memory else "left to finish"
        print(f"live, memory row {how}: step to its flow and saliency rows, median "
              f"{statistics.median(waits):.3f} s, worst {max(waits):.3f} s ({repeats} steps)",
              flush=True)


def live_waits(repeats: int, stop_memory: bool) -> list[float]:
    import queue

    from rnnviz.ui.state.controller import Explorer
    from rnnviz.ui.state.jobs import JobRunner

    from rnnviz.files.presets import ModelConfig, Preset

    posted: queue.Queue = queue.Queue()
    jobs = JobRunner(posted.put)
    explorer = Explorer(jobs=jobs)
    state = explorer.state
    configs = (ModelConfig(cell="lstm", hidden_size=512, seed=0),
               ModelConfig(cell="rnn", hidden_size=32, seed=0),
               ModelConfig(cell="gru", hidden_size=32, seed=0))
    if not stop_memory:  # as before: the memory job runs on when the cursor moves
        original = jobs.cancel
        jobs.cancel = lambda key: None if key.startswith("memory:") else original(key)

    def pump(until, timeout=600.0):
        end = time.perf_counter() + timeout
        while not until() and time.perf_counter() < end:
            try:
                posted.get(timeout=0.002)()
            except queue.Empty:
                pass

    def rows_of(t):
        return all(c.row("flow", t) is not None and c.row("saliency", t) is not None
                   for c in state.columns)

    explorer.load_preset(Preset("live", "", "sine", {"length": 200}, configs))
    pump(lambda: all(c.ready for c in state.columns) and jobs.is_idle())
    waits = []
    for i in range(repeats + 1):
        explorer.set_cursor(150 + i)
        pump(jobs.is_idle)
        explorer._memory_timer.fire()  # noqa: SLF001 (the cursor rests: memory rows asked)
        time.sleep(0.3)                # the hidden-512 row is on its way
        t0 = time.perf_counter()
        explorer.set_cursor(100 + i)
        t = state.t
        pump(lambda t=t: rows_of(t))
        if i:  # the first step compiles
            waits.append(time.perf_counter() - t0)
        pump(jobs.is_idle)
    jobs.stop()
    return waits


if __name__ == "__main__":
    main()
