"""``rnnviz render``: draw the window offscreen at one step and save it as PNG.

This is how a developer, or CI, looks at the interface without a screen.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError
from rnnviz.files import atomic_path
from rnnviz.presets import Preset, load_preset

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
    from rnnviz.tasks import make_task

    length = make_task(preset.task, **preset.task_settings).length
    step = preset.start_step if step is None else step
    if not 0 <= step < length:
        raise RnnvizError(f"--step {step} is out of range: the sequence of "
                          f"{preset.path or preset.title} has steps 0..{length - 1}")
    return step


def render_to_file(preset_arg, step: int | None, out, size: tuple[int, int], *,
                   theme: str = "light", presentation: bool = False) -> None:
    preset = load_preset(preset_arg)
    step = check_step(preset, step)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    compile_cache.enable()
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["rnnviz"])
    window = MainWindow()
    window.view_modes.set_dark(theme == "dark")
    window.view_modes.set_presentation(presentation, full_screen=False)
    window.resize(*size)
    window.load(preset)
    window.show()
    wait_until_ready(app, window)
    window.explorer.set_cursor(step)
    wait_until_ready(app, window)
    image = window.grab()
    out = Path(out)
    with atomic_path(out) as tmp:
        if not image.save(str(tmp), "PNG"):
            raise RnnvizError(f"{out}: could not write the PNG")
    window.close()


def main(args) -> int:
    size = args.size
    render_to_file(args.preset, args.step, args.out, size, theme=args.theme,
                   presentation=args.presentation)
    print(f"wrote {args.out}", flush=True)
    return 0
