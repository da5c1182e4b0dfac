"""``rnnviz export``: step a preset's window offscreen through a range of steps and write the
frames as an animated GIF and/or an MP4, without a screen."""

from __future__ import annotations

import os
import sys

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError, one_line
from rnnviz.files.animation import check_animation_path
from rnnviz.files.presets import load_preset
from rnnviz.paths import check_destination


def export_to_files(preset_arg, gif, mp4, start: int, stop: int | None, fps: float,
                    size: tuple[int, int]) -> int:
    """Check everything (the destinations too: can they be written?), then draw and write;
    returns the number of frames."""

    paths = [p for p in (gif, mp4) if p]
    if not paths:
        raise RnnvizError("nothing to write: give --gif OUT.gif and/or --mp4 OUT.mp4")
    if gif and not str(gif).lower().endswith(".gif"):
        raise RnnvizError(f"--gif {gif}: expected a file name ending in .gif")
    if mp4 and not str(mp4).lower().endswith(".mp4"):
        raise RnnvizError(f"--mp4 {mp4}: expected a file name ending in .mp4")
    for path in paths:
        check_animation_path(path)
        check_destination(path)
    if not 0 < fps <= 60:
        raise RnnvizError(f"--fps {fps:g}: expected a number in (0, 60]")
    preset = load_preset(preset_arg)
    last = preset.make_task().length - 1
    stop = last if stop is None else stop
    if not 0 <= start <= stop <= last:
        raise RnnvizError(f"--from {start} --to {stop}: expected 0 <= from <= to <= {last} "
                          f"(the sequence of {preset.path or preset.title} has steps "
                          f"0..{last})")

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    compile_cache.enable()
    from PySide6.QtWidgets import QApplication

    from .export.writers import export_animation
    from .qt_messages import platform_notes_dropped
    from .render import close_window, wait_until_ready
    from .window.main_window import MainWindow

    app = QApplication.instance() or QApplication(["rnnviz"])
    with platform_notes_dropped():  # the offscreen platform's note per window
        window = MainWindow()
        try:
            window.resize(*size)
            window.load(preset)
            window.show()
            wait_until_ready(app, window)

            def progress(done: int, total: int) -> bool:
                if done == total or done % 10 == 0:
                    print(f"frame {done}/{total}", file=sys.stderr, flush=True)
                return True

            return export_animation(window, paths, start, stop, fps, progress)
        finally:
            close_window(window)


def main(args) -> int:
    frames = export_to_files(args.preset, args.gif, args.mp4, args.start, args.stop, args.fps,
                             args.size)
    for path in (args.gif, args.mp4):
        if path:
            print(one_line(f"wrote {path}: {frames} frames"), flush=True)
    return 0
