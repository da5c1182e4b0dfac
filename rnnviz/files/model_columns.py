"""A user's model file as a column of the window: the ``ModelConfig`` that shows it beside a
preset's models.

The window's columns share one task's sequence, so a model opens there when it reads the
task's inputs (``spec.in_size``: one token id per step for a model with an embedding) and
writes its outputs; anything else is one line saying what the model and the task have, and
that the model's own data (``rnnviz.files.data_task``) makes a sequence it reads. A cell's
own sizes (an LSTM's ``proj_size``) travel in the config's ``options``.
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
    if (spec.in_size, spec.out_size) != (input_size, output_size):
        reads = (f"token ids (an embedding of {spec.vocab_size} rows)"
                 if spec.vocab_size is not None else str(spec.input_size))
        raise RnnvizError(f"{path}: the model reads {reads} and writes {spec.out_size} "
                          f"features; "
                          f"the task gives {input_size} and needs {output_size}: open data "
                          f"for it (rnnviz open MODEL --data FILE, or its data file when the "
                          f"window asks) or choose a task of those sizes (Task…)")
    return ModelConfig(cell=spec.cell, hidden_size=spec.hidden_size,
                       num_layers=spec.num_layers, bidirectional=spec.bidirectional,
                       weights=Path(path).resolve(), label=Path(path).name,
                       options=spec.options)


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
