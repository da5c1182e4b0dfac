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
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    steps = args.steps
    for cell in ("lstm", "gru"):
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
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
