"""``rnnviz render``: draw the window offscreen at one step and save it as PNG.

This is how a developer, or CI, looks at the interface without a screen.
"""

from __future__ import annotations

import os
import time

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError, one_line
from rnnviz.files.data_task import model_and_data
from rnnviz.files.model_columns import with_model_column
from rnnviz.files.presets import Preset, load_preset
from rnnviz.paths import check_destination, write_bytes_atomic

from .export.pictures import png_bytes
from .panels.side_tabs import TAB_NAMES
from .qt_messages import platform_notes_dropped
from .state.model_files import show_data

TIMEOUT_S = 900.0


def wait_until_ready(app, window, timeout: float = TIMEOUT_S) -> None:
    """Process events until every column has its trace, the worker is idle and no column
    trains."""
    explorer = window.explorer
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if explorer.settled() and not window.training.model.running:
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


def check_lesson_step(preset: Preset, lesson_step: int | None) -> None:
    if lesson_step is None:
        return
    name = preset.path or preset.title
    if not preset.lesson:
        raise RnnvizError(f"--lesson-step {lesson_step}: {name} has no lesson")
    if not 1 <= lesson_step <= len(preset.lesson):
        raise RnnvizError(f"--lesson-step {lesson_step} is out of range: the lesson of {name} "
                          f"has steps 1..{len(preset.lesson)}")


def show_lesson_step(app, window, lesson_step: int) -> None:
    """Walk the lesson to step ``lesson_step`` (from 1), each step's changes and training done
    in turn, a played range shown at its end; the last step's question stays unanswered."""
    lesson = window.explorer.lesson
    for index in range(lesson_step):
        lesson.go(index)
        window.time_controls.pause()  # a played range is drawn where it ends
        cursor = lesson.steps[index].cursor
        if cursor is not None:
            window.explorer.set_cursor(cursor)
        wait_until_ready(app, window)


def check_tab(name: str | None) -> None:
    """One line unless ``name`` (any case) is a side tab's name: checked before any window."""
    if name is not None and name.lower() not in [n.lower() for n in TAB_NAMES]:
        raise RnnvizError(f"--tab {name!r}: the side tabs are {', '.join(TAB_NAMES)}")


def show_tab(window, name: str) -> None:
    """Bring the side tab called ``name`` (any case) to the front."""
    check_tab(name)
    tabs = window.side
    lowered = [tabs.tabText(i).lower() for i in range(tabs.count())]
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
                   lesson_step: int | None = None, model: str | None = None,
                   tab: str | None = None, data: dict | None = None) -> None:
    """Draw the window on ``preset_arg`` at ``step`` (or at step ``lesson_step`` of its
    lesson, from 1; with the side tab named ``tab``) and write it to ``out`` as PNG;
    ``model`` (a model file) is shown as a column, in place of the last one if there are
    three; with ``data`` (``data=``, and ``columns``, ``target``, ``vocab``, as
    ``rnnviz.files.data_task.model_and_data`` takes them) the model's own data is the
    sequence. The destination is checked before anything is drawn."""
    check_destination(out)
    preset = load_preset(preset_arg)
    own = None
    if model is None and data is not None:
        raise RnnvizError(f"--data {data['data']}: expected --model too (the data is fitted "
                          f"to a model)")
    if model is not None and data is not None and data.get("data") is not None:
        own = model_and_data(model, **data)
        step = own[1].length - 1 if step is None else step
        if not 0 <= step < own[1].length:
            raise RnnvizError(f"--step {step} is out of range: {data['data']} has steps "
                              f"0..{own[1].length - 1}")
    elif model is not None:
        preset = with_model_column(preset, model)
    if own is None:
        step = check_step(preset, step)
    check_lesson_step(preset, lesson_step)
    check_tab(tab)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    compile_cache.enable()
    from PySide6.QtWidgets import QApplication

    from .window.main_window import MainWindow

    app = QApplication.instance() or QApplication(["rnnviz"])
    with platform_notes_dropped():  # the offscreen platform's note per window
        window = MainWindow()
        try:
            window.view_modes.set_dark(theme == "dark")
            window.view_modes.set_presentation(presentation, full_screen=False)
            window.resize(*size)
            window.load(preset)
            if own is not None:
                show_data(window.explorer, own[1], (model, own[0]))
            window.show()
            if tab is not None:
                show_tab(window, tab)
            wait_until_ready(app, window)
            if lesson_step is None:
                window.explorer.set_cursor(step)
                wait_until_ready(app, window)
            else:
                show_lesson_step(app, window, lesson_step)
            picture = png_bytes(window.grab())
        finally:
            close_window(window)
    write_bytes_atomic(out, picture)


def main(args) -> int:
    size = args.size
    render_to_file(args.preset, args.step, args.out, size, theme=args.theme,
                   presentation=args.presentation, lesson_step=args.lesson_step,
                   model=args.model, tab=args.tab, data=own_data_args(args))
    print(one_line(f"wrote {args.out}"), flush=True)
    return 0


def own_data_args(args) -> dict | None:
    """``--data``, ``--column``, ``--target`` and ``--vocab`` for ``model_and_data``."""
    if getattr(args, "data", None) is None:
        return None
    return {"data": args.data, "columns": args.column, "target": args.target,
            "vocab": args.vocab}
