"""Saving what the window shows to a session file and reopening one (see ``rnnviz.session``)."""

from __future__ import annotations

from dataclasses import replace

from rnnviz.errors import RnnvizError
from rnnviz.session import Session, read_session, write_session


def session_of(model) -> Session:
    """The ``ExplorerModel``'s current state as a ``Session``: its models as they are in
    memory (trained in the window or not), the input as shown, cursor and selection."""
    preset = model.preset_now()
    if preset is None:
        raise RnnvizError("nothing to save: no preset is open")
    for column in model.columns:
        if column.model is None:
            raise RnnvizError(f"{column.config.title}: "
                              f"{column.error or 'still computing; save once it is shown'}")
    # the weights travel inside the file, so the models name no weight file of their own
    preset = preset.with_models(replace(c.config, weights=None) for c in model.columns)
    return Session(preset, model.inputs, model.target, [c.model for c in model.columns],
                   model.t, None if preset.select is None else preset.select[:3],
                   [c.unit for c in model.columns])


def save_session(model, path) -> None:
    write_session(path, session_of(model))


def open_session(window, path) -> bool:
    """Show the session in ``path``; on a damaged or foreign file show one line and keep what
    is on screen."""
    try:
        session = read_session(path)
    except RnnvizError as exc:
        window.show_message(str(exc), error=True)
        return False
    window.model.restore(session)
    window.banner.hide()
    window.show_message(f"opened {path}")
    return True
