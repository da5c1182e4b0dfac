"""How fast the explorer window follows the time cursor, offscreen.

Three columns (RNN, LSTM, GRU), hidden 128, on the sine task. Prints, for each sequence
length: the latency from a step request to the repainted window (p50, p99 over --n steps),
the frames per second of play mode, and the resident memory; the latency also as CPU time of the UI
thread, which stays meaningful when other processes share the cores; with --soak N, N steps of play
and the memory growth over them.

    python benchmarks/bench_window.py                  # 1000, 10000 and 100000 steps
    python benchmarks/bench_window.py --soak 100000    # the long play
    python benchmarks/bench_window.py --presentation --size 1920x1080
    python benchmarks/bench_window.py --start 0.5     # steps from the middle of the sequence
    python benchmarks/bench_window.py --lengths 100000 --n 300 --visit 5   # memory over steps
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from rnnviz.ui.render import wait_until_ready  # noqa: E402
from rnnviz.ui.window.main_window import MainWindow  # noqa: E402

from rnnviz.files.presets import ModelConfig, Preset  # noqa: E402


class PaintCounter(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def build(app, steps: int, hidden: int, size, presentation: bool = False) -> MainWindow:
    models = tuple(ModelConfig(cell=c, hidden_size=hidden, seed=0) for c in ("rnn", "lstm", "gru"))
    preset = Preset("bench", "", "sine", {"length": steps}, models)
    window = MainWindow()
    window.view_modes.set_presentation(presentation, full_screen=False)
    window.resize(*size)
    window.load(preset)
    window.show()
    wait_until_ready(app, window)
    return window


def step_latency(app, window, n: int, start: int = 10) -> tuple[np.ndarray, np.ndarray, float]:
    """Seconds from ``set_cursor`` until the event loop has repainted what changed, for n
    consecutive steps, in wall-clock time and in CPU time of the UI thread (which other
    processes on a shared machine do not inflate); and the paints per step of each column (to
    check none was skipped)."""
    explorer = window.explorer
    counters = []
    for view in window.views.values():
        counters.append(PaintCounter())
        view.canvas.viewport().installEventFilter(counters[-1])
    times, cpu = [], []
    for i in range(n):
        t0, c0 = time.perf_counter(), time.thread_time()
        explorer.set_cursor(start + i)
        # two passes: the scene posts its update requests in the first, paints in the second
        app.processEvents()
        app.processEvents()
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    paints = min(c.count for c in counters) / n
    for view, counter in zip(window.views.values(), counters, strict=True):
        view.canvas.viewport().removeEventFilter(counter)
    return np.asarray(times), np.asarray(cpu), paints


def play_fps(app, window, seconds: float) -> tuple[float, float]:
    """Paints per second of the first column and steps per second while playing at 500/s."""
    counter = PaintCounter()
    viewport = next(iter(window.views.values())).canvas.viewport()
    viewport.installEventFilter(counter)
    controls = window.time_controls
    controls.speed.setValue(500)
    window.explorer.set_cursor(0)
    t_start = window.state.t
    controls.play()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and controls.playing:
        app.processEvents()
    elapsed = seconds - max(end - time.perf_counter(), 0)
    controls.pause()
    viewport.removeEventFilter(counter)
    return counter.count / elapsed, (window.state.t - t_start) / elapsed


def soak(app, window, steps: int) -> None:
    state = window.state
    controls = window.time_controls
    controls.speed.setValue(500)
    before = rss_mb()
    done, last_report = 0, time.perf_counter()
    t_prev = state.t
    controls.play()
    while done < steps:
        app.processEvents()
        if state.t != t_prev:
            done += (state.t - t_prev) % state.steps or 1
            t_prev = state.t
        if not controls.playing:
            controls.play()  # wraps to the start at the end
        if time.perf_counter() - last_report > 30:
            print(f"  soak: {done} steps, rss {rss_mb():.0f} MB", flush=True)
            last_report = time.perf_counter()
    controls.pause()
    print(f"soak: {done} steps played, rss {before:.0f} MB -> {rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lengths", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--n", type=int, default=500, help="steps timed per length")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--soak", type=int, default=0, help="steps of play for the soak")
    parser.add_argument("--start", type=float, default=0.0,
                        help="where the timed steps begin, as a fraction of the sequence (0: at "
                             "step 10; 0.5: the middle, away from the plots' edges)")
    parser.add_argument("--visit", type=int, default=0,
                        help="then this many more rounds of --n steps further on, printing the "
                             "resident memory after each (it must not grow with the steps seen)")
    parser.add_argument("--presentation", action="store_true",
                        help="in presentation mode (large fonts, 3 px lines)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    app = QApplication.instance() or QApplication(["bench"])
    print(f"three columns (RNN, LSTM, GRU), hidden {args.hidden}, window {args.size}, "
          f"{'presentation mode, ' if args.presentation else ''}offscreen, {os.cpu_count()} cores")
    print(f"load average {os.getloadavg()[0]:.1f} (other processes share the cores)")
    print(f"{'steps':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p99':>8} "
          f"{'play fps':>9} {'steps/s':>8} {'rss MB':>7} {'rss +MB over the steps':>22}")
    window = None
    for steps in args.lengths:
        window = build(app, steps, args.hidden, size, args.presentation)
        n = min(args.n, steps - 20)
        start = max(10, min(int(args.start * steps), steps - n - 10))
        rss_before = rss_mb()
        latency, cpu, paints = step_latency(app, window, n, start)
        latency, cpu = latency * 1000, cpu * 1000
        fps, sps = play_fps(app, window, 5.0)
        print(f"{steps:>6} {np.percentile(latency, 50):8.2f} {np.percentile(latency, 99):8.2f} "
              f"{latency.max():8.2f} {np.percentile(cpu, 50):8.2f} {np.percentile(cpu, 99):8.2f} "
              f"{fps:9.1f} {sps:8.1f} {rss_mb():7.0f} {rss_mb() - rss_before:22.0f} "
              f"(paints per step and column: {paints:.2f})", flush=True)
        for k in range(args.visit):
            begin = min(start + n * (k + 1), steps - n - 10)
            _, cpu_k, _ = step_latency(app, window, n, begin)
            print(f"  {n * (k + 2)} steps visited: rss {rss_mb():.0f} MB, UI CPU p99 "
                  f"{np.percentile(cpu_k, 99) * 1000:.1f} ms", flush=True)
        if args.soak and steps == args.lengths[-1]:
            soak(app, window, args.soak)
        window.close()


if __name__ == "__main__":
    main()
