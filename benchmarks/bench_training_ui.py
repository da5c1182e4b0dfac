"""How often the training panel's live curve moves while a preset trains in the window.

    .venv/bin/python benchmarks/bench_training_ui.py                 # the sine preset
    .venv/bin/python benchmarks/bench_training_ui.py PRESET --steps 500 --hidden 64

Opens the window offscreen on PRESET, presses Train (all columns, one after another, each with
the preset's options and ``--steps``) and records, on the UI thread, when each update of the
live curves arrives. Per column it prints: the time from pressing Train (or from the previous
column's end) to the first point on the curve (this includes compiling the update step, during
which the bar says "compiling…"); the number of updates and updates per second after it; the
median and largest gap between updates after the first (the issue asks for at most 0.5 s, and
at most ~10 updates a second); and the training loss at the start and end (mean of the first
and last 10% of steps). ``--hidden`` overrides every model's hidden size (a bigger model: slower
steps). Timings are wall-clock on a shared machine: noisy, compare runs side by side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="sine")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=None)
    parser.add_argument("--live", type=float, default=None,
                        help="seconds between re-traces of a training column (default: the "
                             "window's; 0 for never while it runs)")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication
    from rnnviz.ui.render import wait_until_ready
    from rnnviz.ui.window.main_window import MainWindow

    from rnnviz.files.presets import load_preset

    preset = load_preset(args.preset)
    if args.hidden:
        preset = preset.with_models(replace(m, hidden_size=args.hidden, weights=None)
                                    for m in preset.models)
    app = QApplication.instance() or QApplication(["bench"])
    window = MainWindow()
    window.resize(1600, 1000)
    window.load(preset)
    window.show()
    wait_until_ready(app, window)
    training = window.training.model
    if args.live is not None:
        training.live_weights_interval = args.live or float("inf")
    arrivals: dict[int, list[float]] = {c.id: [] for c in window.state.columns}
    ends: dict[int, float] = {}
    training.progress.connect(lambda cid: arrivals[cid].append(time.perf_counter()))

    def on_state() -> None:
        for cid, history in training.histories.items():
            if cid not in ends and history.state in ("done", "stopped", "diverged", "failed"):
                ends[cid] = time.perf_counter()

    training.state_changed.connect(on_state)
    ids = [c.id for c in window.state.columns]
    for cid in ids:
        training.set_option([cid], "steps", args.steps)
    start = time.perf_counter()
    training.train()
    while training.running or not training.runner.is_idle():
        app.processEvents()
        time.sleep(0.002)
    total = time.perf_counter() - start

    print(f"preset {preset.name}, {args.steps} steps per column, hidden "
          f"{args.hidden or 'as in the preset'}, re-trace every "
          f"{training.live_weights_interval:g} s; total {total:.1f} s")
    print(f"{'column':<12}{'first point':>12}{'updates':>9}{'per s':>7}{'median gap':>12}"
          f"{'max gap':>9}{'loss start':>12}{'loss end':>10}  state")
    begin = start
    for cid in ids:
        column = window.state.column(cid)
        history = training.histories[cid]
        times = arrivals[cid][:-1] if len(arrivals[cid]) > 1 else arrivals[cid]  # last: done
        first = times[0] - begin if times else float("nan")
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        span = times[-1] - times[0] if len(times) > 1 else float("nan")
        losses = history.losses
        tenth = max(1, len(losses) // 10)
        print(f"{column.config.title:<12}{first:>11.2f}s{len(times):>9}"
              f"{(len(times) - 1) / span if gaps else float('nan'):>7.1f}"
              f"{statistics.median(gaps) if gaps else float('nan'):>11.3f}s"
              f"{max(gaps) if gaps else float('nan'):>8.3f}s"
              f"{losses[:tenth].mean():>12.4g}{losses[-tenth:].mean():>10.4g}  {history.state}")
        begin = ends.get(cid, begin)
    window.close()


if __name__ == "__main__":
    main()
