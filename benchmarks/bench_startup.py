"""How soon the app is on screen: seconds from starting the process to the first painted
window, and to every column filled (its trace shown, the worker idle), warm (the persistent
compile cache filled by an earlier start) and cold (an empty compile cache), each start in a
fresh process, offscreen, as ``rnnviz PRESET`` builds the window (``rnnviz.ui.app``).

    python benchmarks/bench_startup.py                   # sine, 3 starts each, medians
    python benchmarks/bench_startup.py --preset lstm_memory --runs 5
    # side by side with other code: an exported tree (its ui/ linked as rnnviz/ui)
    git archive REV | tar -x -C /tmp/before && ln -s ../ui /tmp/before/rnnviz/ui
    python benchmarks/bench_startup.py --before /tmp/before

The clock starts in this (parent) process just before the child is spawned, so the
interpreter's own start and every import count. Quote the load average printed beside. On
the code before ``rnnviz.ui.app.open_window`` the child builds the window as ``rnnviz``
did then (columns built, then shown), for side-by-side runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import os, sys, time, json
from PySide6.QtCore import QEvent, QObject
start = float(os.environ["BENCH_T0"])
marks = {}

def mark(name):
    marks.setdefault(name, time.time() - start)

from PySide6.QtWidgets import QApplication, QMainWindow
try:
    from rnnviz.ui.app import open_window
except ImportError:  # the code before (commit 0436870): the window built, loaded, then shown
    from rnnviz import compile_cache
    from rnnviz.files.presets import load_preset
    from rnnviz.ui.window.main_window import MainWindow
    from rnnviz.ui.window.settings import Settings

    def open_window(name):
        compile_cache.enable()
        window = MainWindow(settings=Settings())
        window.load(load_preset(name))
        window.show()
        return QApplication.instance(), window
mark("imported")

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
            mark("painted")
        return False

app = QApplication(sys.argv[:1])
probe = FirstPaint()
app.installEventFilter(probe)
app, window = open_window(sys.argv[1])
window.state.events.columns.connect(lambda: mark("built"))
if window.state.columns:  # the code before: built before it was shown
    mark("built")
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    app.processEvents()
    if "painted" in marks and window.state.columns and window.explorer.settled():
        app.processEvents()
        mark("filled")
        break
    time.sleep(0.002)
print("MARKS " + json.dumps(marks), flush=True)
os._exit(0)
"""


def one_start(preset: str, cache_dir: str, tree: str | None = None) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNNVIZ_CACHE_DIR=cache_dir,
               BENCH_T0=repr(time.time()))
    if tree is not None:
        env["PYTHONPATH"] = tree
    out = subprocess.run([sys.executable, "-c", CHILD, preset], env=env, capture_output=True,
                         text=True, timeout=900)
    for line in out.stdout.splitlines():
        if line.startswith("MARKS "):
            return json.loads(line[6:])
    raise RuntimeError(f"the start failed:\n{out.stdout}\n{out.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="sine")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", help="a source tree to start alternately with this one")
    args = parser.parse_args()
    trees = {"": None} if args.before is None else {"": None, " before": args.before}
    results: dict[str, list[dict[str, float]]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as warm_root:
        for name, tree in trees.items():  # fills each one's warm cache
            os.makedirs(os.path.join(warm_root, name or "now"))
            one_start(args.preset, os.path.join(warm_root, name or "now"), tree)
        for _ in range(args.runs):  # alternately, so that all meet the same load
            for name, tree in trees.items():
                with tempfile.TemporaryDirectory() as cold_dir:
                    results.setdefault("cold" + name, []).append(
                        one_start(args.preset, cold_dir, tree))
                results.setdefault("warm" + name, []).append(
                    one_start(args.preset, os.path.join(warm_root, name or "now"), tree))
    print(f"preset {args.preset}, {args.runs} starts each, load average {load_before:.1f} "
          f"before, {os.getloadavg()[0]:.1f} after")
    print(f"{'cache':12} {'imported s':>11} {'columns built s':>16} {'first paint s':>14} "
          f"{'columns filled s':>17}")
    for kind, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        spread = {k: (min(r[k] for r in runs), max(r[k] for r in runs)) for k in runs[0]}
        print(f"{kind:12} {med['imported']:11.2f} {med['built']:16.2f} {med['painted']:14.2f} "
              f"{med['filled']:17.2f}   (first paint {spread['painted'][0]:.2f}-"
              f"{spread['painted'][1]:.2f}, filled {spread['filled'][0]:.2f}-"
              f"{spread['filled'][1]:.2f})")


if __name__ == "__main__":
    main()
