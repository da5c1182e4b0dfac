"""How long an animation export takes per frame, offscreen, on the sine preset (three columns).

Each frame moves the cursor, waits until every column has the gradient rows of that step
(including the Jacobian norms, which the window computes only once the cursor rests), grabs
the window and adds it to the GIF. Prints ms per frame with the Jacobian norms asked for at
once (what ``export_animation`` does) and after the window's 150 ms rest timer, alternating
the two to share the machine's noise, and the time of the grab and of the GIF's quantisation.

    python benchmarks/bench_export.py [--frames 30] [--size 1200x750] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402
from rnnviz.ui.export import writers as export  # noqa: E402
from rnnviz.ui.window.main_window import MainWindow  # noqa: E402

from rnnviz.files.animation import animation_writer  # noqa: E402
from rnnviz.files.presets import load_preset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--size", default="1200x750")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(width, height)
    window.load(load_preset("sine"))
    window.show()
    export.wait_for_step(window.explorer)
    folder = Path(tempfile.mkdtemp())
    export.export_animation(window, folder / "warm.gif", 0, 3, 10)  # compile first
    start, stop = 10, 10 + args.frames - 1
    for _ in range(args.repeats):
        for at_once in (False, True):
            export.ASK_MEMORY_AT_ONCE = at_once
            t0 = time.perf_counter()
            export.export_animation(window, folder / "a.gif", start, stop, 10)
            ms = (time.perf_counter() - t0) / args.frames * 1000
            print(f"Jacobian norms {'at once      ' if at_once else 'after 150 ms '}: "
                  f"{ms:6.0f} ms/frame ({args.frames} frames, {width}x{height})", flush=True)

    t0 = time.perf_counter()
    frames = [export.grab_rgb(window) for _ in range(10)]
    grab = (time.perf_counter() - t0) / 10 * 1000
    t0 = time.perf_counter()
    with animation_writer(folder / "q.gif", 10) as add:
        for frame in frames:
            add(frame)
    gif = (time.perf_counter() - t0) / 10 * 1000
    print(f"grab {grab:.0f} ms/frame, GIF quantise and write {gif:.0f} ms/frame")
    window.close()
    app.processEvents()


if __name__ == "__main__":
    main()
