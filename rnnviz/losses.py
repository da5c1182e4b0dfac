"""Targets and per-step losses.

A sequence's loss is the mean of the per-step losses over the steps its mask scores:
``L = sum_t m_t l_t / max(1, sum_t m_t)``. Regression targets use the squared error averaged
over output features (``l_t = mean_o (y_to - y*_to)^2``, PyTorch's ``MSELoss``); class targets
use cross-entropy on the logits (``l_t = logsumexp(y_t) - y_t[k*_t]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

LOSS_KINDS = ("mse", "xent")


@dataclass(frozen=True)
class Target:
    """What the model should output, and at which steps it is scored.

    ``values``: ``(T, O)`` floats for ``kind="mse"``, ``(T,)`` class indices for ``"xent"``.
    ``mask``: ``(T,)``, 1 where the step counts (all ones when not given).
    """

    values: np.ndarray
    mask: np.ndarray | None = None
    kind: str = "mse"

    def __post_init__(self):
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"loss kind must be one of {', '.join(LOSS_KINDS)}, got {self.kind!r}")
        values = np.asarray(self.values)
        if self.kind == "mse":
            values = values.astype(np.float32) if values.dtype != np.float64 else values
            if values.ndim == 1:
                values = values[:, None]
            if values.ndim != 2:
                raise ValueError(f"regression target must be (T, O), got shape {values.shape}")
        else:
            if values.ndim != 1:
                raise ValueError(f"class target must be (T,), got shape {values.shape}")
            values = values.astype(np.int32)
        mask = np.ones(len(values), np.float32) if self.mask is None else np.asarray(
            self.mask, np.float32)
        if mask.shape != (len(values),):
            raise ValueError(f"mask must be ({len(values)},), got shape {mask.shape}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "mask", mask)

    def __len__(self) -> int:
        return len(self.values)


def step_losses(outputs: jax.Array, values: jax.Array, mask: jax.Array, kind: str) -> jax.Array:
    """Per-step losses ``(T,)`` (masked steps are 0) from outputs ``(T, O)``; also works on a
    single step (``(O,)`` outputs, scalar mask)."""
    # the loss takes the model's precision whatever the target's (float64 values next to a
    # float32 model would otherwise promote once 64-bit mode is on for another model)
    mask = jnp.asarray(mask, outputs.dtype)
    if kind == "mse":
        per_step = jnp.mean((outputs - jnp.asarray(values, outputs.dtype)) ** 2, axis=-1)
    else:
        logits = outputs
        picked = jnp.take_along_axis(logits, values[..., None], axis=-1)[..., 0]
        per_step = jax.nn.logsumexp(logits, axis=-1) - picked
    return per_step * mask


def sequence_loss(per_step: jax.Array, mask: jax.Array) -> jax.Array:
    """The mean over scored steps, ``sum_t l_t / max(1, sum_t m_t)``."""
    return jnp.sum(per_step) / jnp.maximum(jnp.sum(mask), 1.0)
