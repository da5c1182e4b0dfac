"""``Model``: a spec and its parameters, with the things a notebook does with them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from rnnviz.core import gradient_maps, gradients, saliency
from rnnviz.core.init import InitOptions, init_params
from rnnviz.core.losses import Target
from rnnviz.core.programs import PROGRAMS
from rnnviz.core.spec import ModelSpec
from rnnviz.core.stepper import Stepper
from rnnviz.core.trace import Trace, as_input, compute_trace, to_host


@dataclass
class Model:
    """A recurrent model: ``spec`` (shape) and ``params`` (PyTorch-named arrays).

    >>> model = Model.create("lstm", input_size=1, hidden_size=8, output_size=1, seed=0)
    >>> trace = model.trace(np.sin(np.linspace(0, 6, 50))[:, None])
    >>> trace["gate_f_l0"].shape
    (50, 8)
    """

    spec: ModelSpec
    params: dict

    @classmethod
    def create(cls, cell: str, input_size: int, hidden_size: int, *, num_layers: int = 1,
               bidirectional: bool = False, output_size: int | None = None,
               dtype: str = "float32", seed: int = 0, init: InitOptions = InitOptions(),
               options: dict[str, int] | None = None) -> Model:
        """A freshly initialised model (see ``ModelSpec`` and ``InitOptions``; ``options``:
        a cell's sizes beyond ``hidden_size``, such as Mamba's ``d_state``)."""
        spec = ModelSpec(cell, input_size, hidden_size, num_layers, bidirectional,
                         output_size, dtype, tuple((options or {}).items()))
        return cls(spec, init_params(spec, seed=seed, options=init))

    @classmethod
    def load(cls, path: str | os.PathLike, *, cell: str | None = None) -> Model:
        """Read a model from any format rnnviz opens (see ``rnnviz.files.models``): a PyTorch
        state_dict in ``.safetensors``, ``.npz``, ``.pt`` or ``.pth``; ``cell`` picks the
        cell where the weights fit several (``"rnn_relu"`` for a ReLU RNN saved by PyTorch,
        which does not record it; ``"gru_cho"``)."""
        from rnnviz.files.models import load_model

        spec, params = load_model(path, cell=cell)
        return cls(spec, params)

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights under PyTorch's names, atomically, as ``.safetensors``/``.npz``."""
        from rnnviz.files.weights import save_weights

        save_weights(path, self.spec, self.params)

    def numpy_params(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v) for k, v in self.params.items()}

    # -- running ---------------------------------------------------------------------------
    def trace(self, inputs, target: Target | None = None, *, flow: bool = False,
              memory: bool = False) -> Trace:
        """One scan over ``inputs (T, input_size)``: every state, gate and gradient."""
        return compute_trace(self.spec, self.params, inputs, target, flow=flow, memory=memory)

    def stepper(self, inputs, target: Target | None = None) -> Stepper:
        """A cursor over ``inputs`` that computes one step at a time."""
        return Stepper(self.spec, self.params, inputs, target)

    def gradient_flow(self, inputs, target: Target, t: int) -> dict[str, np.ndarray]:
        """``||d loss_t / dh_k||`` for every k, a ``(T,)`` array per unit."""
        xs = as_input(self.spec, inputs)
        PROGRAMS.use(self.spec, len(xs))
        return to_host(gradients.flow_row(self.spec, self.params, xs, target.values,
                                          target.mask, target.kind, t))

    def saliency(self, inputs, t: int) -> np.ndarray:
        """``||d output_t / d x_k||_F`` for every k, ``(T,)``: how much the prediction at t
        still depends on each input (``O`` backward passes, batched;
        ``rnnviz.core.saliency``)."""
        xs = as_input(self.spec, inputs)
        PROGRAMS.use(self.spec, len(xs))
        return np.asarray(saliency.saliency_row(self.spec, self.params, xs, t))

    def memory(self, inputs, t: int, unit: str | None = None) -> np.ndarray:
        """``||dh_t / dh_k||_F`` for every k within ``unit`` (default: top forward layer):
        the ``H`` backward passes swept together from step t (``gradient_maps.memory_map``;
        ``gradients.memory_row`` is the plain reference)."""
        return self.memory_map(inputs, unit, [t])[0]

    def flow_map(self, inputs, target: Target, rows=None, *,
                 progress: gradient_maps.Progress | None = None,
                 should_stop: gradient_maps.ShouldStop | None = None) -> dict[str, np.ndarray]:
        """``||d loss_t / dh_k||`` for the steps ``rows`` (default: every t) and every k, a
        ``(len(rows), T)`` array per unit, many rows at a time (``rnnviz.core.gradient_maps``:
        ``progress(fraction)`` after each chunk, ``should_stop()`` before each)."""
        xs = as_input(self.spec, inputs)
        PROGRAMS.use(self.spec, len(xs))
        return gradient_maps.flow_map(self.spec, self.params, xs, jnp.asarray(target.values),
                                      jnp.asarray(target.mask), target.kind, rows,
                                      progress=progress, should_stop=should_stop)

    def memory_map(self, inputs, unit: str | None = None, rows=None, *,
                   progress: gradient_maps.Progress | None = None,
                   should_stop: gradient_maps.ShouldStop | None = None) -> np.ndarray:
        """``||dh_t / dh_k||_F`` within ``unit`` (default: top forward layer) for the steps
        ``rows`` (default: every t) and every k, ``(len(rows), T)``; as ``flow_map``."""
        xs = as_input(self.spec, inputs)
        PROGRAMS.use(self.spec, len(xs))
        return gradient_maps.memory_map(self.spec, self.params, xs,
                                        unit or self.spec.top_units[0], rows,
                                        progress=progress, should_stop=should_stop)
