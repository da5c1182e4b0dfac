"""``Model``: a spec and its parameters, with the things a notebook does with them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz import gradients
from rnnviz.init import InitOptions, init_params
from rnnviz.losses import Target
from rnnviz.programs import PROGRAMS
from rnnviz.spec import ModelSpec
from rnnviz.stepper import Stepper
from rnnviz.trace import Trace, as_input, compute_trace


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
               dtype: str = "float32", seed: int = 0, init: InitOptions = InitOptions()
               ) -> Model:
        """A freshly initialised model (see ``ModelSpec`` and ``InitOptions``)."""
        spec = ModelSpec(cell, input_size, hidden_size, num_layers, bidirectional,
                         output_size, dtype)
        return cls(spec, init_params(spec, seed=seed, options=init))

    @classmethod
    def load(cls, path: str | os.PathLike, *, nonlinearity: str | None = None) -> Model:
        """Read weights from ``.safetensors`` or ``.npz`` (see ``rnnviz.weights``)."""
        from rnnviz.weights import load_weights

        spec, params = load_weights(path, nonlinearity=nonlinearity)
        return cls(spec, params)

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights under PyTorch's names, atomically, as ``.safetensors``/``.npz``."""
        from rnnviz.weights import save_weights

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
        row = gradients.flow_row(self.spec, self.params, xs, jnp.asarray(target.values),
                                 jnp.asarray(target.mask), target.kind, t)
        return jax.device_get(row)

    def memory(self, inputs, t: int, unit: str | None = None) -> np.ndarray:
        """``||dh_t / dh_k||_F`` for every k within ``unit`` (default: top forward layer)."""
        unit = unit or self.spec.top_units[0]
        xs = as_input(self.spec, inputs)
        PROGRAMS.use(self.spec, len(xs))
        return np.asarray(gradients.memory_row(self.spec, self.params, xs, unit, t))
