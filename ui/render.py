"""``rnnviz render``: draw the window offscreen at one step and save it as PNG.

This is how a developer, or CI, looks at the interface without a screen.
"""

from __future__ import annotations

import os
import time

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError, one_line
from rnnviz.files.presets import Preset, load_preset
from rnnviz.paths import check_destination, write_bytes_atomic

from .export.pictures import png_bytes

TIMEOUT_S = 900.0


def wait_until_ready(app, window, timeout: float = TIMEOUT_S) -> None:
    """Process events until every column has its trace and the worker is idle."""
    explorer = window.explorer
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if explorer.settled():
            app.processEvents()
            return
        time.sleep(0.005)
    raise RnnvizError(f"the window was not ready after {timeout:.0f} s")


def check_step(preset: Preset, step: int | None) -> int:

    length = preset.make_task().length
    step = preset.start_step if step is None else step
    if not 0 <= step < length:
        raise RnnvizError(f"--step {step} is out of range: the sequence of "
                          f"{preset.path or preset.title} has steps 0..{length - 1}")
    return step


def show_tab(window, name: str) -> None:
    """Bring the side tab called ``name`` (any case) to the front."""
    tabs = window.side
    names = [tabs.tabText(i) for i in range(tabs.count())]
    lowered = [n.lower() for n in names]
    if name.lower() not in lowered:
        raise RnnvizError(f"--tab {name!r}: the side tabs are {', '.join(names)}")
    tabs.setCurrentIndex(lowered.index(name.lower()))


def close_window(window) -> None:
    """Close ``window`` and wait for its worker threads to end (closing sends the close event
    that stops them; stopping again is harmless and covers a window never shown), so that no
    running QThread is destroyed, which aborts the process."""
    window.close()
    window.training.shutdown()
    window.explorer.shutdown()


def render_to_file(preset_arg, step: int | None, out, size: tuple[int, int], *,
                   theme: str = "light", presentation: bool = False,
                   tab: str | None = None) -> None:
    """Draw the window on ``preset_arg`` at ``step`` (with the side tab named ``tab``) and
    write it to ``out`` as PNG. The destination is checked before anything is drawn."""
    check_destination(out)
    preset = load_preset(preset_arg)
    step = check_step(preset, step)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    compile_cache.enable()
    from PySide6.QtWidgets import QApplication

    from .window.main_window import MainWindow

    app = QApplication.instance() or QApplication(["rnnviz"])
    window = MainWindow()
    try:
        window.view_modes.set_dark(theme == "dark")
        window.view_modes.set_presentation(presentation, full_screen=False)
        window.resize(*size)
        window.load(preset)
        window.show()
        if tab is not None:
            show_tab(window, tab)
        wait_until_ready(app, window)
        window.explorer.set_cursor(step)
        wait_until_ready(app, window)
        picture = png_bytes(window.grab())
    finally:
        close_window(window)
    write_bytes_atomic(out, picture)


def main(args) -> int:
    size = args.size
    render_to_file(args.preset, args.step, args.out, size, theme=args.theme,
                   presentation=args.presentation, tab=args.tab)
    print(one_line(f"wrote {args.out}"), flush=True)
    return 0
