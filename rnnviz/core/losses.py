"""Targets and per-step losses.

A sequence's loss is the mean of the per-step losses over the steps its mask scores:
``L = sum_t m_t l_t / max(1, sum_t m_t)``. Regression targets use the squared error averaged
over output features (``l_t = mean_o (y_to - y*_to)^2``, PyTorch's ``MSELoss``); class targets
use cross-entropy on the logits (``l_t = logsumexp(y_t) - y_t[k*_t]``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.arrays import finite_as, real_array
from rnnviz.errors import RnnvizError

LOSS_KINDS = ("mse", "xent")


class Target:
    """What the model should output, and at which steps it is scored.

    ``values``: ``(T, O)`` floats for ``kind="mse"``, ``(T,)`` class indices for ``"xent"``.
    ``mask``: ``(T,)``, 1 where the step counts (all ones when not given). Both are checked
    and cast when the target is made (``target_values``, ``target_mask``), and not changed
    after.
    """

    __slots__ = ("kind", "mask", "values")

    def __init__(self, values, mask=None, kind: str = "mse"):
        if kind not in LOSS_KINDS:
            raise ValueError(f"loss kind must be one of {', '.join(LOSS_KINDS)}, got {kind!r}")
        self.values: np.ndarray = target_values(values, kind)
        self.mask: np.ndarray = (np.ones(len(self.values), np.float32) if mask is None
                                 else target_mask(mask, len(self.values)))
        self.kind = kind

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Target({self.kind}, {len(self)} steps, {int(self.mask.sum())} scored)"


def target_values(values, kind: str) -> np.ndarray:
    """Check and cast a target's values: finite real ``(T, O)`` (or ``(T,)``, one output)
    floats for ``"mse"`` (float32 unless given float64), whole class indices ``(T,)`` in
    ``0..2**31-1`` for ``"xent"`` (int32). One-line ``RnnvizError`` otherwise (the caller
    adds the file)."""
    values = real_array(values, "target")
    if kind == "mse":
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise RnnvizError(f"regression target must be (T, O), got shape {values.shape}")
        return finite_as(values, np.float64 if values.dtype == np.float64 else np.float32,
                         "target")
    if values.ndim != 1:
        raise RnnvizError(f"class target must be (T,), got shape {values.shape}")
    if values.dtype.kind == "f":
        values = finite_as(values, np.float64, "target")
        fractional = np.flatnonzero(values != np.round(values))
        if len(fractional):
            t = int(fractional[0])
            raise RnnvizError(f"class targets must be whole numbers, got {values[t]:g} at "
                              f"step {t}")
    low = np.flatnonzero((values < 0) | (values > np.iinfo(np.int32).max))
    if len(low):
        t = int(low[0])
        raise RnnvizError(f"class targets must lie in 0..{np.iinfo(np.int32).max}, got "
                          f"{values[t]:g} at step {t}")
    return values.astype(np.int32)


def target_mask(mask, steps: int) -> np.ndarray:
    """Check and cast a mask: ``(steps,)`` finite weights ``>= 0`` as float32."""
    mask = real_array(mask, "mask")
    if mask.shape != (steps,):
        raise RnnvizError(f"mask must be ({steps},), got shape {mask.shape}")
    mask = finite_as(mask, np.float32, "mask")
    negative = np.flatnonzero(mask < 0)
    if len(negative):
        raise RnnvizError(f"mask: weights must be >= 0, got {mask[negative[0]]:g} at step "
                          f"{int(negative[0])}")
    return mask


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
