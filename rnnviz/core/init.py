"""Seeded, reproducible initialisation of a model's parameters."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_SEED

RECURRENT_INITS = ("uniform", "orthogonal")


@dataclass(frozen=True)
class InitOptions:
    """How to draw the weights.

    - ``recurrent``: ``"uniform"`` is PyTorch's default, every tensor drawn from
      ``U(-1/sqrt(H), 1/sqrt(H))``; ``"orthogonal"`` draws each gate's ``(H, H)`` block of
      ``weight_hh`` as a random orthogonal matrix (spectral radius 1).
    - ``recurrent_gain``: multiplies every ``weight_hh`` after drawing it.
    - ``spectral_radius``: if set, rescales each gate's ``(H, H)`` block of ``weight_hh`` so the
      largest eigenvalue modulus is exactly this (applied instead of ``recurrent_gain``).
      Above 1 a vanilla RNN's gradients tend to explode, below 1 they vanish.
    - ``forget_bias``: for a cell with a forget gate (the LSTM), sets that gate's ``bias_ih``
      rows to this value and its ``bias_hh`` rows to 0 (Jozefowicz et al. 2015 recommend 1);
      other cells ignore it.

    A cell with parameters of its own (the modern recurrences) draws them by its own rule
    (``CellType.init``: the LRU's ring, Mamba's S4D-real ``A``) and ignores these options.

    As in PyTorch, an embedding (``embedding.weight``) is drawn from ``N(0, 1)`` and an
    LSTM's projection ``weight_hr`` like the other weights.
    """

    recurrent: str = "uniform"
    recurrent_gain: float = 1.0
    spectral_radius: float | None = None
    forget_bias: float | None = None

    def __post_init__(self):
        if self.recurrent not in RECURRENT_INITS:
            raise ValueError(
                f"recurrent init must be one of {', '.join(RECURRENT_INITS)}, "
                f"got {self.recurrent!r}"
            )
        if self.spectral_radius is not None and not self.spectral_radius > 0:
            raise ValueError(f"spectral_radius must be > 0, got {self.spectral_radius!r}")


def init_params(spec: ModelSpec, *, seed: int = 0, options: InitOptions = InitOptions()) -> dict:
    """Draw all parameters of ``spec``; the same ``seed`` (``0..MAX_SEED``) always gives the
    same numbers."""
    if (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)
            or not 0 <= seed <= MAX_SEED):
        raise RnnvizError(f"seed: expected an integer in 0..{MAX_SEED} (limit MAX_SEED), "
                          f"got {seed!r}")
    dtype = jnp.dtype(spec.dtype)
    h = spec.hidden_size
    gates = spec.cell_type.num_gates
    bound = 1.0 / np.sqrt(h)
    shapes = spec.param_shapes()
    keys = jax.random.split(jax.random.key(seed), len(shapes))
    if spec.cell_type.init is not None:
        return _own_init(spec, keys, dtype)
    params = {}
    for key, (name, shape) in zip(keys, shapes.items(), strict=True):
        if name.startswith("readout."):
            fan_in = spec.top_size
            b = 1.0 / np.sqrt(fan_in)
            params[name] = jax.random.uniform(key, shape, dtype, -b, b)
        elif name == "embedding.weight":
            params[name] = jax.random.normal(key, shape, dtype)
        elif name.startswith("weight_hh") and options.recurrent == "orthogonal":
            ortho = jax.nn.initializers.orthogonal()
            blocks = [ortho(k, (h, shape[1]), dtype) for k in jax.random.split(key, gates)]
            params[name] = jnp.concatenate(blocks, axis=0)
        else:
            params[name] = jax.random.uniform(key, shape, dtype, -bound, bound)

    for name in shapes:
        if not name.startswith("weight_hh"):
            continue
        if options.spectral_radius is not None:
            if shapes[name][1] != h:
                raise RnnvizError(f"spectral_radius: expected square (H, H) recurrent blocks, "
                                  f"got {name} {shapes[name]} (a projected LSTM)")
            params[name] = set_spectral_radius(params[name], gates, options.spectral_radius)
        elif options.recurrent_gain != 1.0:
            params[name] = params[name] * options.recurrent_gain

    block = spec.cell_type.forget_block
    if options.forget_bias is not None and block is not None:
        for name in shapes:
            if name.startswith("bias_"):
                value = options.forget_bias if name.startswith("bias_ih") else 0.0
                params[name] = params[name].at[block * h:(block + 1) * h].set(value)
    return params


def _readout(spec: ModelSpec, key, dtype) -> dict:
    """``readout.weight``, ``readout.bias`` drawn as PyTorch's ``nn.Linear`` (fan-in
    ``D*H``)."""
    b = 1.0 / np.sqrt(spec.top_size)
    k1, k2 = jax.random.split(key)
    out = spec.out_size
    return {"readout.weight": jax.random.uniform(k1, (out, spec.top_size), dtype, -b, b),
            "readout.bias": jax.random.uniform(k2, (out,), dtype, -b, b)}


def _own_init(spec: ModelSpec, keys, dtype) -> dict:
    """Each layer and direction drawn by its cell's rule, one key each, the readout and the
    embedding."""
    cell, params = spec.cell_type, {}
    assert cell.init is not None
    for key, unit in zip(keys, spec.units, strict=False):
        layer = int(unit[1:].split("_")[0])
        drawn = cell.init(key, spec.layer_input_size(layer), spec.hidden_size,
                          dict(spec.options), dtype)
        # in the model's dtype even where a rule's numpy constants are float64 (JAX's 64-bit
        # mode would otherwise promote them)
        params.update({f"{name}_{unit}": jnp.asarray(value, dtype)
                       for name, value in drawn.items()})
    if spec.output_size is not None:
        params.update(_readout(spec, keys[-1], dtype))
    if spec.vocab_size is not None:  # N(0, 1) as PyTorch's nn.Embedding, a key of its own
        params["embedding.weight"] = jax.random.normal(
            jax.random.fold_in(keys[0], len(keys)), (spec.vocab_size, spec.input_size), dtype)
    return {name: params[name] for name in spec.param_shapes()}


def set_spectral_radius(weight_hh: jax.Array, num_gates: int, radius: float) -> jax.Array:
    """Rescale each ``(H, H)`` gate block of ``weight_hh (G*H, H)`` to spectral radius
    ``radius``."""
    blocks = np.split(np.asarray(weight_hh, dtype=np.float64), num_gates, axis=0)
    scaled = []
    for block in blocks:
        rho = np.max(np.abs(np.linalg.eigvals(block)))
        scaled.append(block * (radius / rho) if rho > 0 else block)
    return jnp.asarray(np.concatenate(scaled, axis=0), dtype=weight_hh.dtype)


def spectral_radius(weight_hh, num_gates: int) -> list[float]:
    """The spectral radius of each ``(H, H)`` gate block of ``weight_hh``."""
    blocks = np.split(np.asarray(weight_hh, dtype=np.float64), num_gates, axis=0)
    return [float(np.max(np.abs(np.linalg.eigvals(b)))) for b in blocks]
