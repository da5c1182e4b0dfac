"""Starting the app: ``rnnviz [PRESET]`` opens the window on PRESET (default: the last preset
used, or the default one); ``rnnviz FILE.rnnviz`` reopens a saved session; ``rnnviz open
MODEL [--preset PRESET] [--data FILE [--column C ...] [--target FILE_OR_COLUMN] [--vocab V]]``
shows a model file as a column beside the preset's, on its own data when given.

With ``RNNVIZ_SNAPSHOT=FILE.png`` in the environment the window, once every column is traced,
draws itself to that PNG, says its columns in one line and closes: how the tests see a window
that ``rnnviz.show`` started in a process of its own."""

from __future__ import annotations

import os
import sys
import time

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import model_and_data
from rnnviz.files.model_columns import with_model_column
from rnnviz.files.presets import DEFAULT_PRESET, load_preset
from rnnviz.files.session import SUFFIX as SESSION_SUFFIX
from rnnviz.files.session import read_session


def _has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_main(args) -> int:
    """``rnnviz open MODEL [--preset PRESET] [--data FILE ...]``."""
    from .render import own_data_args

    return main([args.preset] if args.preset else [], model=args.model,
                data=own_data_args(args))


def main(argv: list[str] | None = None, *, model: str | None = None,
         data: dict | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    preset_arg = argv[0] if argv else None
    if not _has_display():
        out = "rnnviz-window.png"
        from .render import render_to_file

        try:
            if preset_arg and preset_arg.lower().endswith(SESSION_SUFFIX):
                read_session(preset_arg)  # a damaged one says so first
                raise RnnvizError(f"{preset_arg}: a session opens in the window, and there is "
                                  f"no display here (DISPLAY is not set)")
            render_to_file(preset_arg or DEFAULT_PRESET, None, out, (1600, 1000), model=model,
                           data=data)
        except RnnvizError as exc:  # said alone: one line
            print(f"rnnviz: error: {exc}", file=sys.stderr)
            return 2
        print(f"rnnviz: no display here (DISPLAY is not set): drew the window offscreen to "
              f"{out} instead; on a desktop, `rnnviz` opens it", file=sys.stderr)
        return 0

    try:
        app, window = open_window(preset_arg, model=model, data=data)
    except RnnvizError as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return 2
    snapshot = os.environ.get("RNNVIZ_SNAPSHOT")
    if snapshot:
        return _snapshot(app, window, snapshot)
    return app.exec()


def open_window(preset_arg: str | None, *, model: str | None = None,
                data: dict | None = None):
    """``(app, window)``: the application and the main window on ``preset_arg`` (a preset, a
    session file, or None for the last preset used), shown. The window is painted first,
    empty but for the preset's title; once the event loop has painted it the columns are
    built and their traces asked of the worker, and they fill in as the traces arrive
    (benchmarks/bench_startup.py). Raises ``RnnvizError`` on a bad argument, before anything
    is shown."""
    from PySide6.QtWidgets import QApplication

    from .window.main_window import MainWindow
    from .window.settings import Settings

    session = None
    if preset_arg and preset_arg.lower().endswith(SESSION_SUFFIX):  # rnnviz lesson.rnnviz
        session = read_session(preset_arg)
        preset_arg = None
    compile_cache.enable()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    settings = Settings()
    try:
        preset = load_preset(preset_arg or settings.last_preset() or DEFAULT_PRESET)
    except RnnvizError:
        if preset_arg:
            raise
        preset = load_preset(DEFAULT_PRESET)  # the remembered preset is gone: start afresh
    own = None
    if model is not None and data is not None:
        own = model_and_data(model, **data)  # the model's own data: checked before
    elif model is not None:
        preset = with_model_column(preset, model)
    window = MainWindow(settings=settings)
    window.show_opening((session.preset if session is not None else preset).title)
    if session is None:
        def load() -> None:
            window.load(preset)
            if own is not None:
                from .state.model_files import show_data

                show_data(window.explorer, own[1], (model, own[0]))

        window.show_then(load)
    else:
        window.show_then(lambda: window.explorer.restore(session))
    return app, window


def _snapshot(app, window, out: str) -> int:
    """Draw ``window``, once ready, to the PNG ``out``, say which columns it shows, close it."""
    from rnnviz.paths import write_bytes_atomic

    from .export.pictures import png_bytes
    from .render import close_window, wait_until_ready

    try:
        deadline = time.monotonic() + 60  # the columns are built once the window is painted
        while not window.state.columns and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        wait_until_ready(app, window)
        picture = png_bytes(window.grab())
        columns = ", ".join(c.config.title for c in window.state.columns)
    finally:
        close_window(window)
    write_bytes_atomic(out, picture)
    print(f"rnnviz: drew the window (columns: {columns}) to {out}", file=sys.stderr)
    return 0
