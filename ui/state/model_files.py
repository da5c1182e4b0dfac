"""Opening a user's model file as a column of the explorer (Qt-free)."""

from __future__ import annotations

from pathlib import Path

from rnnviz.errors import RnnvizError
from rnnviz.files.model_columns import model_column
from rnnviz.files.presets import MAX_MODELS


def open_model_column(explorer, path: str | Path) -> bool:
    """Show the model in ``path`` as a new column (or, with three columns, in place of the
    selected one, else the last); a bad or unfitting file is one message, nothing changes."""
    state = explorer.state
    try:
        spec, config = model_column(path, state.task)
    except RnnvizError as exc:
        state.events.message.emit(str(exc), True)
        return False
    if len(state.columns) < MAX_MODELS:
        explorer.add_column(config)
    else:
        chosen = state.selection.column if state.selection is not None else None
        explorer.configure_column(chosen if chosen is not None else state.columns[-1].id,
                                  config)
    state.events.message.emit(f"opened {Path(path).name}: {spec.describe()}", False)
    return True
