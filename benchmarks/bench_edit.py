"""How fast the explorer follows an edit of one input step, offscreen.

Three columns (RNN, LSTM, GRU), hidden 128, a 1000-step sine. For --n edits at random steps
it prints the latency from ``set_input`` to

- the repainted window with the edited input strip (the immediate feedback, before the
  worker answers): p50 / p99 / max;
- the repainted window with every column recomputed (forward from the edited step spliced
  into the trace, and the BPTT gradient arrays of the whole loss): p50 / p99 / max;

then the same immediate feedback while dragging (every move an edit, the worker busy with
the previous ones), and on the engine alone, for edits at step k = 0, T/2 and 0.9 T, the
forward from k against the full forward, measured alternately (the machine is shared: absolute
times are noisy, the ratios less so).

    python benchmarks/bench_edit.py
    python benchmarks/bench_edit.py --steps 1000 --hidden 128 --n 100
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

# the same window and repaint counter as the step benchmark (run from benchmarks/)
from bench_window import PaintCounter, build  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnnviz.core.model import Model  # noqa: E402
from rnnviz.core.splice import retrace_from  # noqa: E402
from rnnviz.tasks import make_task  # noqa: E402


def all_recomputed(window) -> bool:
    explorer, state = window.explorer, window.state
    return all(explorer.is_current(c) for c in state.columns)


def settle(app, window) -> None:
    """Until the worker is idle and the cursor's gradient rows (flow, and the Jacobian norms
    asked for once the cursor rests) are in: a user edits a window at rest."""
    explorer, state = window.explorer, window.state
    while True:
        app.processEvents()
        if (explorer.jobs.is_idle() and not explorer._memory_timer.is_active()  # noqa: SLF001
                and all(c.row("flow", state.t) is not None and c.row("memory", state.t)
                        is not None for c in state.columns)):
            return
        time.sleep(0.001)


def edit_latency(app, window, n: int, rng, steps=None):
    """Seconds from an edit to the repainted input strips, and to the repainted recomputed
    columns; the UI thread's CPU seconds for the first; and the paints per edit of the columns
    (to check none was skipped). Edits at random steps, or at ``steps``."""
    explorer, state = window.explorer, window.state
    if steps is not None:
        n = len(steps)
    counters = []
    for view in window.views.values():
        counters.append(PaintCounter())
        view.canvas.viewport().installEventFilter(counters[-1])
    immediate, full, cpu = [], [], []
    for _ in range(n):
        k = int(rng.integers(1, state.steps)) if steps is None else int(steps[_])
        value = float(rng.uniform(-1.5, 1.5))
        before = [c.count for c in counters]
        t0, c0 = time.perf_counter(), time.thread_time()
        explorer.set_input(k, [value])  # the input strips are painted before it returns
        immediate.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
        if any(c.count == b for c, b in zip(counters, before, strict=True)):
            raise RuntimeError("an edit did not repaint every column")
        while not all_recomputed(window):
            app.processEvents()
            time.sleep(0.0002)
        app.processEvents()
        app.processEvents()
        full.append(time.perf_counter() - t0)
        settle(app, window)
    paints = min(c.count for c in counters) / n
    for view, counter in zip(window.views.values(), counters, strict=True):
        view.canvas.viewport().removeEventFilter(counter)
    return np.asarray(immediate), np.asarray(full), np.asarray(cpu), paints


def drag_latency(app, window, moves: int) -> np.ndarray:
    """Seconds from each move of a drag (an edit) to the repainted input strips, with the
    worker still busy with the moves before."""
    explorer, state = window.explorer, window.state
    k = state.steps // 2
    drag = explorer.begin_drag()
    times = []
    for i in range(moves):
        t0 = time.perf_counter()
        explorer.set_input(k, [np.sin(i / 10)], drag=drag)
        times.append(time.perf_counter() - t0)
        # what else the UI thread does between moves (traces landing) delays the next move:
        # a hand moves the mouse every ~16 ms
        end = time.perf_counter() + 0.016
        while time.perf_counter() < end:
            app.processEvents()
    explorer.end_drag()
    settle(app, window)
    return np.asarray(times)


def engine_ratios(steps: int, hidden: int, repeats: int) -> None:
    task = make_task("sine", length=steps)
    xs, target = task.example(seed=0)
    print(f"engine, forward from step k vs full forward (LSTM, hidden {hidden}, {steps} "
          f"steps, median of {repeats}, alternating):")
    model = Model.create("lstm", 1, hidden, output_size=1, seed=0)
    base = model.trace(xs, target)
    for k in (0, steps // 2, int(0.9 * steps)):
        edited = xs.copy()
        edited[k] = 0.5
        retrace_from(model, base, edited, target, k)  # compile
        model.trace(edited)
        spliced, fresh = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            retrace_from(model, base, edited, target, k)
            spliced.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            model.trace(edited)
            fresh.append(time.perf_counter() - t0)
        s, f = np.median(spliced) * 1000, np.median(fresh) * 1000
        print(f"  k = {k:>5}: from k {s:7.2f} ms, full {f:7.2f} ms, ratio {f / s:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--n", type=int, default=100, help="edits timed")
    parser.add_argument("--moves", type=int, default=200, help="moves of the timed drag")
    parser.add_argument("--size", default="1600x1000")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    app = QApplication.instance() or QApplication(["bench"])
    rng = np.random.default_rng(0)
    print(f"three columns (RNN, LSTM, GRU), hidden {args.hidden}, {args.steps} steps, window "
          f"{args.size}, offscreen, {os.cpu_count()} cores")
    window = build(app, args.steps, args.hidden, size)
    # compile the spliced scan of every length bucket (16, 32, ... steps) first
    T = args.steps
    edit_latency(app, window, 0, rng, steps=sorted({max(1, T - (1 << j) + 1)
                                                     for j in range(3, T.bit_length() + 1)}))
    immediate, full, cpu, paints = edit_latency(app, window, args.n, rng)
    for name, values in (("edit -> input strip repainted", immediate),
                         ("  (UI thread CPU time of it)", cpu),
                         ("edit -> columns recomputed and repainted", full)):
        ms = values * 1000
        print(f"{name:<42} p50 {np.percentile(ms, 50):8.2f} ms  p99 "
              f"{np.percentile(ms, 99):8.2f} ms  max {ms.max():8.2f} ms  (n = {len(ms)})")
    print(f"  (paints per edit and column: {paints:.2f})")
    drag = drag_latency(app, window, args.moves) * 1000
    print(f"{'drag move -> input strip repainted':<42} p50 {np.percentile(drag, 50):8.2f} ms  "
          f"p99 {np.percentile(drag, 99):8.2f} ms  max {drag.max():8.2f} ms  (n = {len(drag)}, "
          f"worker busy)")
    window.close()
    engine_ratios(args.steps, args.hidden, repeats=30)


if __name__ == "__main__":
    main()
