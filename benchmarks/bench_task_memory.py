"""The window's resident memory over many task changes, offscreen.

The sine preset's three columns (RNN, LSTM, GRU); each change shows the sine task at another
length (``--distinct`` lengths, cycled) and waits until every column, its gradient rows and its
saliency row are computed. Every length compiles new programs (``rnnviz.core.programs``): prints the
resident set size (RSS) at the start and every ``--every`` changes, the seconds taken and how
often the compiled programs were dropped. ``--unbounded`` keeps every program (the window
before the bound), to compare.

    python benchmarks/bench_task_memory.py                    # 100 changes, 100 lengths
    python benchmarks/bench_task_memory.py --unbounded --changes 24
    python benchmarks/bench_task_memory.py --distinct 3       # back and forth: no drops

JAX's persistent compilation cache is on, as in the app, in a fresh temporary folder (or
``--cache-dir``), so a length seen before recompiles from it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import qInstallMessageHandler  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from rnnviz.ui.render import wait_until_ready  # noqa: E402
from rnnviz.ui.window.main_window import MainWindow  # noqa: E402

from rnnviz import compile_cache  # noqa: E402
from rnnviz.core import programs  # noqa: E402
from rnnviz.files.presets import load_preset  # noqa: E402
from rnnviz.tasks import make_task  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def quiet_offscreen(kind, context, message) -> None:
    """Print Qt's messages but the offscreen platform's note on every window resize."""
    if "propagateSizeHints" not in message:
        print(message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--distinct", type=int, default=100, help="task lengths, cycled")
    parser.add_argument("--every", type=int, default=10, help="print RSS every N changes")
    parser.add_argument("--unbounded", action="store_true",
                        help="keep every compiled program (the window before the bound)")
    parser.add_argument("--cache-dir", help="persistent compilation cache (default: fresh)")
    args = parser.parse_args()
    if args.unbounded:
        programs.PROGRAMS.max_live = 10**9
    with tempfile.TemporaryDirectory() as fresh:
        compile_cache.enable(args.cache_dir or fresh)
        qInstallMessageHandler(quiet_offscreen)
        app = QApplication([])
        window = MainWindow()
        window.resize(1400, 900)
        window.load(load_preset("sine"))
        window.show()
        wait_until_ready(app, window)
        start, t0 = rss_mb(), time.perf_counter()
        print(f"budget: {programs.PROGRAMS.max_live} (spec, length) pairs"
              f"{' (unbounded)' if args.unbounded else ''}")
        print(f"{'changes':>7} {'length':>6} {'RSS MB':>7} {'growth':>7} {'seconds':>8} "
              f"{'drops':>5}")
        print(f"{0:>7} {window.state.steps:>6} {start:>7.0f} {0:>+7.0f} {0:>8.1f} {0:>5}")
        for i in range(args.changes):
            length = 40 + 4 * (i % args.distinct)
            window.explorer.set_task(make_task("sine", length=length), i)
            wait_until_ready(app, window)
            if (i + 1) % args.every == 0 or i + 1 == args.changes:
                now = rss_mb()
                print(f"{i + 1:>7} {length:>6} {now:>7.0f} {now - start:>+7.0f} "
                      f"{time.perf_counter() - t0:>8.1f} {programs.PROGRAMS.drops:>5}",
                      flush=True)
        window.close()


if __name__ == "__main__":
    main()
