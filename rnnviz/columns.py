"""What one column of the explorer shows: a model built for a task, traced on one sequence.

Qt-free so that it is tested on its own; the window calls these on its worker thread.
"""

from __future__ import annotations

import numpy as np

from rnnviz import gradients, saliency
from rnnviz.errors import RnnvizError
from rnnviz.init import init_params
from rnnviz.losses import Target
from rnnviz.model import Model
from rnnviz.presets import ModelConfig
from rnnviz.programs import PROGRAMS
from rnnviz.spec import ModelSpec
from rnnviz.trace import Trace, as_input


def spec_for(config: ModelConfig, input_size: int, output_size: int) -> ModelSpec:
    return ModelSpec(config.cell, input_size, config.hidden_size, config.num_layers,
                     config.bidirectional, output_size)


def build_model(config: ModelConfig, input_size: int, output_size: int) -> Model:
    """The column's model: its weights file if it names one, else a seeded initialisation."""
    spec = spec_for(config, input_size, output_size)
    if config.weights is None:
        return Model(spec, init_params(spec, seed=config.seed, options=config.init))
    model = Model.load(config.weights, nonlinearity="relu" if config.cell == "rnn_relu" else None)
    if (model.spec.input_size, model.spec.out_size) != (input_size, output_size):
        raise RnnvizError(f"{config.weights}: the model reads {model.spec.input_size} and "
                          f"writes {model.spec.out_size} features; the task needs "
                          f"{input_size} and {output_size}")
    return model


def trace_column(model: Model, inputs: np.ndarray, target: Target | None) -> Trace:
    """Every state, gate, the per-step loss and the BPTT gradient norms (one scan and one
    backward pass)."""
    return model.trace(inputs, target)


def flow_row(model: Model, inputs: np.ndarray, target: Target, unit: str, t: int) -> np.ndarray:
    """``||d loss_t / dh_k||`` for every k within ``unit``, ``(T,)``: one backward pass."""
    xs = as_input(model.spec, inputs)
    PROGRAMS.use(model.spec, len(xs))
    rows = gradients.flow_row(model.spec, model.params, xs, target.values, target.mask,
                              target.kind, t)
    return np.asarray(rows[unit])


def memory_row(model: Model, inputs: np.ndarray, unit: str, t: int) -> np.ndarray:
    """``||dh_t / dh_k||_F`` for every k within ``unit``, ``(T,)``: H backward passes, so
    the window asks for it only once the cursor rests."""
    xs = as_input(model.spec, inputs)
    PROGRAMS.use(model.spec, len(xs))
    return np.asarray(gradients.memory_row(model.spec, model.params, xs, unit, t))


def saliency_row(model: Model, inputs: np.ndarray, t: int) -> np.ndarray:
    """``||d output_t / d x_k||_F`` for every k, ``(T,)``: how much the prediction at t still
    depends on each input (``O`` backward passes, batched)."""
    xs = as_input(model.spec, inputs)
    PROGRAMS.use(model.spec, len(xs))
    return np.asarray(saliency.saliency_row(model.spec, model.params, xs, t))
