"""Pieces the modern recurrences share: Feng et al.'s ``g``, one linear map's layout,
initialisation and sizes, and PyTorch's default initialisation of a linear layer."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.cells.base import SIGMOID, CellType, Options, sigmoid

__all__ = ["SIGMOID", "g", "g_numpy", "linear_init", "linear_layout", "linear_sizes", "log_g",
           "torch_uniform"]


def g(v: jax.Array) -> jax.Array:
    """Feng et al.'s ``g(v) = v + 1/2`` for ``v >= 0``, ``sigma(v)`` below: continuous,
    increasing and always positive."""
    return jnp.where(v >= 0, jax.nn.relu(v) + 0.5, jax.nn.sigmoid(v))


def log_g(v: jax.Array) -> jax.Array:
    """``log g(v)``, computed without forming ``g`` (``-softplus(-v)`` below 0): the relu
    inside keeps the branch not taken finite, so its gradient is too."""
    return jnp.where(v >= 0, jnp.log(jax.nn.relu(v) + 0.5), -jax.nn.softplus(-v))


def g_numpy(v: float) -> float:
    return v + 0.5 if v >= 0 else sigmoid(v)


def torch_uniform(key, shape, fan_in: int, dtype) -> jax.Array:
    """PyTorch's default draw for a linear (or convolution) layer's weight and bias:
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    bound = 1.0 / np.sqrt(fan_in)
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def linear_layout(weight: str, bias: str, blocks: int):
    """The layout of a cell made of one linear map of ``blocks`` row blocks:
    ``weight (blocks*H, I)``, ``bias (blocks*H,)``."""
    def layout(cell: CellType, input_size: int, hidden_size: int, options: Options):
        return {weight: (blocks * hidden_size, input_size), bias: (blocks * hidden_size,)}
    return layout


def linear_init(weight: str, bias: str, blocks: int):
    """That linear map drawn as PyTorch's ``nn.Linear`` draws it (fan-in ``I``)."""
    def init(key, input_size: int, hidden_size: int, options: Options, dtype):
        k1, k2 = jax.random.split(key)
        rows = blocks * hidden_size
        return {weight: torch_uniform(k1, (rows, input_size), input_size, dtype),
                bias: torch_uniform(k2, (rows,), input_size, dtype)}
    return init


def linear_sizes(arrays: dict[str, np.ndarray], weight: str, blocks: int):
    """``(input_size, hidden_size, {}, arrays)`` of a linear map ``weight (blocks*H, I)``;
    None where it is missing or not of that shape."""
    w = arrays.get(weight)
    if w is None or w.ndim != 2 or w.shape[0] % blocks or w.shape[0] == 0:
        return None
    return int(w.shape[1]), int(w.shape[0] // blocks), {}, arrays
