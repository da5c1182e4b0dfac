"""A user's model file as a column: which ``ModelConfig`` shows it beside the others (Qt-free).

The window's columns share one task's sequence, so a model opens in the window when it reads
the task's inputs and writes its outputs; anything else is one line saying what the model and
the task have, and pointing to ``rnnviz trace`` / ``rnnviz.trace`` for the model's own data.
"""

from __future__ import annotations

from pathlib import Path

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.models import read_model
from rnnviz.files.presets import ModelConfig


def column_config(spec: ModelSpec, path: Path, input_size: int, output_size: int
                  ) -> ModelConfig:
    """The column of the model ``spec`` read from ``path``, for a task of ``input_size``
    inputs and ``output_size`` outputs; one-line ``RnnvizError`` when it does not fit."""
    elsewhere = "; open it with rnnviz trace or rnnviz.trace on your own data"
    if spec.vocab_size is not None:
        raise RnnvizError(f"{path}: the model reads token ids through an embedding of "
                          f"{spec.vocab_size} rows; the window's tasks give values{elsewhere}")
    if spec.proj_size is not None:
        raise RnnvizError(f"{path}: an LSTM with a projection (proj_size {spec.proj_size}) is "
                          f"not shown in the window yet{elsewhere}")
    if (spec.input_size, spec.out_size) != (input_size, output_size):
        raise RnnvizError(f"{path}: the model reads {spec.input_size} and writes "
                          f"{spec.out_size} features; the task gives {input_size} and needs "
                          f"{output_size}: choose a task of those sizes (Task…){elsewhere}")
    return ModelConfig(cell=spec.cell, hidden_size=spec.hidden_size,
                       num_layers=spec.num_layers, bidirectional=spec.bidirectional,
                       weights=Path(path).resolve(), label=Path(path).name)


def open_model_column(explorer, path: str | Path) -> bool:
    """Show the model in ``path`` as a new column (or, with three columns, in place of the
    selected one, else the last); a bad or unfitting file is one message, nothing changes."""
    state = explorer.state
    try:
        spec, _ = read_model(path)
        config = column_config(spec, Path(path), state.task.input_size,
                               state.task.output_size)
    except RnnvizError as exc:
        state.events.message.emit(str(exc), True)
        return False
    from rnnviz.files.presets import MAX_MODELS

    if len(state.columns) < MAX_MODELS:
        explorer.add_column(config)
    else:
        chosen = state.selection.column if state.selection is not None else None
        explorer.configure_column(chosen if chosen is not None else state.columns[-1].id,
                                  config)
    state.events.message.emit(f"opened {Path(path).name}: {spec.describe()}", False)
    return True
