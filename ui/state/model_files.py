"""Opening a user's model file as a column of the explorer, and its own data as the sequence
(Qt-free). Every bad or unfitting file is one message and nothing changes."""

from __future__ import annotations

from pathlib import Path

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import DataTask
from rnnviz.files.model_columns import column_config
from rnnviz.files.models import read_model
from rnnviz.files.presets import MAX_MODELS

from .explorer import Column


def read_spec(explorer, path: str | Path) -> ModelSpec | None:
    """The model in ``path`` (read and checked), or None after one message."""
    try:
        return read_model(path)[0]
    except RnnvizError as exc:
        explorer.state.events.message.emit(str(exc), True)
        return None


def fits_task(spec: ModelSpec, task) -> bool:
    """Whether the model reads the task's inputs and writes its outputs."""
    return task is not None and (spec.in_size, spec.out_size) == (task.input_size,
                                                                  task.output_size)


def target_column(state, name: str, column_id: int | None, add: bool
                   ) -> tuple[bool, int | None]:
    """``(ok, column id or None to add one)``: with three columns and none chosen, the
    selected one (else the last), or, with ``add``, one message and not ok."""
    if column_id is not None or len(state.columns) < MAX_MODELS:
        return True, column_id
    if add:
        state.events.message.emit(f"{name}: at most {MAX_MODELS} columns; drop the model on "
                                  f"a column to replace it", True)
        return False, None
    chosen = state.selection.column if state.selection is not None else None
    return True, chosen if chosen is not None else state.columns[-1].id


def show_model(explorer, path: str | Path, spec: ModelSpec, *, column_id: int | None = None,
               add: bool = False) -> bool:
    """Show the model ``spec`` of ``path`` in column ``column_id``, else as a new column; with
    three columns already, in place of the selected one (else the last) unless ``add`` (a file
    dropped beside the columns), which is then one message."""
    state = explorer.state
    try:
        config = column_config(spec, path, state.task.input_size, state.task.output_size)
    except RnnvizError as exc:
        state.events.message.emit(str(exc), True)
        return False
    ok, column_id = target_column(state, Path(path).name, column_id, add)
    if not ok:
        return False
    if column_id is None:
        explorer.add_column(config)
    else:
        explorer.configure_column(column_id, config)
    state.events.message.emit(f"opened {Path(path).name}: {spec.describe()}", False)
    return True


def open_model_column(explorer, path: str | Path, **where) -> bool:
    """Show the model in ``path`` (``show_model``) when it fits the task shown; else one
    message naming both, nothing changes."""
    spec = read_spec(explorer, path)
    return spec is not None and show_model(explorer, path, spec, **where)


def show_data(explorer, task: DataTask, model: tuple[str | Path, ModelSpec] | None = None,
              *, column_id: int | None = None, add: bool = False) -> bool:
    """Show the data ``task`` as the sequence (undoable, as a task change) and, when given,
    the model ``(path, spec)`` it was fitted to: in column ``column_id`` (in the same undoable
    step), else added (three columns: in place of the selected one, else the last, unless
    ``add``, which is then one message and nothing changes)."""
    state = explorer.state
    if model is None:
        explorer.set_data(task)
    else:
        try:
            config = column_config(model[1], model[0], task.input_size, task.output_size)
        except RnnvizError as exc:
            state.events.message.emit(str(exc), True)
            return False
        ok, column_id = target_column(state, Path(model[0]).name, column_id, add)
        if not ok:
            return False
        if column_id is None:
            explorer.set_data(task)
            explorer.add_column(config)
        else:
            explorer.set_data(task, {column_id: config})
    opened = f"opened {Path(model[0]).name}: {model[1].describe()}; " if model else ""
    state.events.message.emit(f"{opened}data: {task.description}", False)
    return True


def data_column(state, column_id: int | None = None) -> Column | None:
    """The column whose model the data is for: ``column_id``, else the selected column, else
    the last column opened from a model file, else the last column; None while it has no
    model."""
    column = state.find(column_id) if column_id is not None else None
    if column is None and state.selection is not None:
        column = state.find(state.selection.column)
    if column is None:
        opened = [c for c in state.columns if c.config.weights is not None]
        column = (opened or state.columns or [None])[-1]
    return column if column is not None and column.model is not None else None
