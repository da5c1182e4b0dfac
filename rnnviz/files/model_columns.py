"""A user's model file as a column of the window: the ``ModelConfig`` that shows it beside a
preset's models.

The window's columns share one task's sequence, so a model opens there when it reads the
task's inputs and writes its outputs; anything else is one line saying what the model and the
task have, pointing to ``rnnviz trace`` / ``rnnviz.trace`` for the model on its own data.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.models import read_model
from rnnviz.files.presets import MAX_MODELS, ModelConfig, Preset


def column_config(spec: ModelSpec, path: str | os.PathLike, input_size: int,
                  output_size: int) -> ModelConfig:
    """The column of the model ``spec`` read from ``path``, for a task of ``input_size``
    inputs and ``output_size`` outputs; one-line ``RnnvizError`` when it does not fit."""
    elsewhere = "; trace it on your own data with rnnviz trace or rnnviz.trace"
    if spec.vocab_size is not None:
        raise RnnvizError(f"{path}: the model reads token ids through an embedding of "
                          f"{spec.vocab_size} rows; the window's tasks give values{elsewhere}")
    if spec.options:  # a column (ModelConfig) keeps no cell options yet: proj_size, d_state
        sizes = ", ".join(f"{k} {v}" for k, v in spec.options)
        raise RnnvizError(f"{path}: a {spec.cell_type.label} model ({sizes}) is not shown in "
                          f"the window yet{elsewhere}")
    if (spec.input_size, spec.out_size) != (input_size, output_size):
        raise RnnvizError(f"{path}: the model reads {spec.input_size} and writes "
                          f"{spec.out_size} features; the task gives {input_size} and needs "
                          f"{output_size}: choose a task of those sizes (Task…){elsewhere}")
    return ModelConfig(cell=spec.cell, hidden_size=spec.hidden_size,
                       num_layers=spec.num_layers, bidirectional=spec.bidirectional,
                       weights=Path(path).resolve(), label=Path(path).name)


def model_column(path: str | os.PathLike, task) -> tuple[ModelSpec, ModelConfig]:
    """The model in ``path`` (read, checked) and its column for ``task``."""
    spec, _ = read_model(path)
    return spec, column_config(spec, path, task.input_size, task.output_size)


def with_model_column(preset: Preset, path: str | os.PathLike) -> Preset:
    """``preset`` with the model in ``path`` as a column: added, or in place of the last
    model when the preset has ``MAX_MODELS``."""
    _, config = model_column(path, preset.make_task())
    kept = preset.models[: MAX_MODELS - 1]
    return preset.with_models([*kept, config])
