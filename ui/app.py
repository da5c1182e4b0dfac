"""Starting the app: ``rnnviz [PRESET]`` opens the window on PRESET (default: the last preset
used, or the default one); ``rnnviz FILE.rnnviz`` reopens a saved session; ``rnnviz open
MODEL [--preset PRESET] [--data FILE [--column C ...] [--target FILE_OR_COLUMN] [--vocab V]]``
shows a model file as a column beside the preset's, on its own data when given."""

from __future__ import annotations

import os
import sys

from rnnviz import compile_cache
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import model_and_data
from rnnviz.files.model_columns import with_model_column
from rnnviz.files.presets import DEFAULT_PRESET, load_preset
from rnnviz.files.session import SUFFIX as SESSION_SUFFIX
from rnnviz.files.session import read_session

from .state.model_files import show_data


def _has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_main(args) -> int:
    """``rnnviz open MODEL [--preset PRESET]``."""
    from .render import own_data_args

    return main([args.preset] if args.preset else [], model=args.model,
                data=own_data_args(args))


def main(argv: list[str] | None = None, *, model: str | None = None,
         data: dict | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    preset_arg = argv[0] if argv else None
    if not _has_display():
        out = "rnnviz-window.png"
        print(f"rnnviz: no display here (DISPLAY is not set): drawing the window offscreen to "
              f"{out} instead; on a desktop, `rnnviz` opens it", file=sys.stderr)
        from .render import render_to_file

        try:
            render_to_file(preset_arg or DEFAULT_PRESET, None, out, (1600, 1000), model=model,
                           data=data)
        except RnnvizError as exc:
            print(f"rnnviz: error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {out}", file=sys.stderr)
        return 0

    from PySide6.QtWidgets import QApplication

    from .window.main_window import MainWindow
    from .window.settings import Settings

    session = None
    if preset_arg and preset_arg.lower().endswith(SESSION_SUFFIX):  # rnnviz lesson.rnnviz
        try:
            session = read_session(preset_arg)
        except RnnvizError as exc:
            print(f"rnnviz: error: {exc}", file=sys.stderr)
            return 2
        preset_arg = None
    compile_cache.enable()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("rnnviz")
    settings = Settings()
    try:
        preset = load_preset(preset_arg or settings.last_preset() or DEFAULT_PRESET)
    except RnnvizError as exc:
        if preset_arg:
            print(f"rnnviz: error: {exc}", file=sys.stderr)
            return 2
        preset = load_preset(DEFAULT_PRESET)  # the remembered preset is gone: start afresh
    own = None
    try:
        if model is not None and data is not None:
            own = model_and_data(model, **data)  # the model's own data: checked before
        elif model is not None:
            preset = with_model_column(preset, model)
    except RnnvizError as exc:
        print(f"rnnviz: error: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(settings=settings)
    if session is None:
        window.load(preset)
        if own is not None:
            show_data(window.explorer, own[1], (model, own[0]))
    else:
        window.explorer.restore(session)
    window.show()
    return app.exec()
