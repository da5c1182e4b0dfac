"""Exporting what the window shows: the window or one panel as PNG/SVG, a column's trace as
CSV/NPZ, and the stepping as an animated GIF/MP4. Functions take paths; the dialogs that pick
the paths are in ``ui/share_menu.py``. Every file goes through ``rnnviz.paths``: written at
exactly the path given, atomically, or refused with one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from rnnviz.errors import RnnvizError
from rnnviz.files.animation import animation_writer, check_animation_path
from rnnviz.files.trace_csv import trace_to_csv
from rnnviz.paths import check_destination, write_bytes_atomic

from .pictures import png_bytes

IMAGE_SUFFIXES = (".png", ".svg")
STEP_TIMEOUT_S = 300.0
ASK_MEMORY_AT_ONCE = True  # see ask_memory_now; benchmarks/bench_export.py compares both


class Cancelled(Exception):
    """The user cancelled an export; nothing was written."""


def _suffix(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise RnnvizError(f"{path}: expected a file name ending in {' or '.join(allowed)}")
    return suffix


# -- still pictures ----------------------------------------------------------------------------
def export_widget(widget: QWidget, path) -> None:
    """``widget`` (the whole window, say) as PNG (pixels) or SVG (vector curves and text, the
    heatmaps as embedded images), atomically."""
    path = Path(path)
    if _suffix(path, IMAGE_SUFFIXES) == ".png":
        write_bytes_atomic(path, png_bytes(widget.grab()))
        return
    from .svg import window_svg

    write_bytes_atomic(path, window_svg(widget).encode("utf-8"))


def export_plot(plot, path, scale: float = 4.0) -> None:
    """One panel (a pyqtgraph ``PlotItem``) as PNG (drawn ``scale`` times its size on screen,
    a zoom of what is shown) or SVG."""
    from .svg import plot_png, plot_svg

    path = Path(path)
    if _suffix(path, IMAGE_SUFFIXES) == ".png":
        write_bytes_atomic(path, png_bytes(plot_png(plot, scale)))
        return
    write_bytes_atomic(path, plot_svg(plot).encode("utf-8"))


def export_trace(column, path) -> None:
    """A column's trace as ``.csv`` (one row per step) or ``.npz`` (every array)."""
    path = Path(path)
    suffix = _suffix(path, (".csv", ".npz"))
    if column.trace is None:
        raise RnnvizError(f"{column.config.title}: no trace yet "
                          f"({column.error or 'still computing'})")
    if suffix == ".csv":
        trace_to_csv(column.trace, path)
    else:
        column.trace.save_npz(path)


# -- animation ---------------------------------------------------------------------------------
def step_ready(explorer) -> bool:
    """Every column shows the cursor's step completely: its trace, the gradient flowing back
    from t (when there is a target) and the Jacobian norms (computed once the cursor rests)."""
    if not explorer.settled():
        return False
    s = explorer.state
    for column in s.columns:
        if column.error:
            continue
        if column.row("memory", s.t) is None:
            return False
        if s.target is not None and column.row("flow", s.t) is None:
            return False
    return True


def wait_for_step(explorer, timeout: float = STEP_TIMEOUT_S) -> None:
    """Process events until ``step_ready(explorer)``, as ``ui/render.py`` waits for a trace."""
    app = QApplication.instance()
    deadline = time.monotonic() + timeout
    while not step_ready(explorer):
        if time.monotonic() > deadline:
            raise RnnvizError(f"step {explorer.state.t} was not computed after "
                              f"{timeout:.0f} s")
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()


def grab_rgb(widget: QWidget) -> np.ndarray:
    """The widget's pixels as ``(H, W, 3) uint8``."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    pixels = np.frombuffer(image.constBits(), np.uint8, count=height * stride)
    return pixels.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


def check_range(state, start: int, stop: int) -> None:
    last = state.steps - 1
    if not 0 <= start <= stop <= last:
        raise RnnvizError(f"--from {start} --to {stop}: expected 0 <= from <= to <= {last} "
                          f"(the sequence has steps 0..{last})")


def export_animation(window: QWidget, paths, start: int, stop: int, fps: float = 10.0,
                     progress: Callable[[int, int], bool] | None = None) -> int:
    """Step the cursor from ``start`` to ``stop`` (both included), grab ``window`` at each
    step once its data is there, and write the frames to ``paths`` (one path or several:
    .gif, or .mp4 when ffmpeg is found). ``progress(done, total)`` is called after each frame;
    when it returns False the export stops, nothing is written and ``Cancelled`` is raised.
    Returns the number of frames; the cursor goes back where it was."""
    explorer = window.explorer
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    check_range(explorer.state, start, stop)
    for path in paths:
        check_animation_path(path)
        check_destination(path)  # before stepping through every frame
    total = stop - start + 1
    before = explorer.state.t
    try:
        with ExitStack() as stack:
            writers = [stack.enter_context(animation_writer(path, fps)) for path in paths]
            for done, t in enumerate(range(start, stop + 1), start=1):
                explorer.set_cursor(t)
                if ASK_MEMORY_AT_ONCE:
                    explorer.rows_now()
                wait_for_step(explorer)
                frame = grab_rgb(window)
                for add in writers:
                    add(frame)
                if progress is not None and not progress(done, total):
                    raise Cancelled
    finally:
        explorer.set_cursor(before)
    return total
