"""Tasks on numbers: next-value prediction of a sum of sines, and the adding problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnviz.checks import integer, number
from rnnviz.core.losses import Target
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_LENGTH
from rnnviz.tasks.base import Task, next_value_target


# -- regression --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SineTask(Task):
    """Next-value prediction of a sum of sines.

    ``s_t = (1/F) sum_j sin(2 pi f_j t + phi_j) + noise * e_t`` with ``f_j`` in cycles per
    step, a random phase ``phi_j ~ U[0, 2 pi)`` per sequence and ``e_t ~ N(0, 1)``. Input
    ``x_t = s_t``, target ``y_t = s_{t+1}`` (the next observed value); every step is scored.
    With noise, the best possible MSE is ``noise**2``.
    """

    name: ClassVar[str] = "sine"
    title: ClassVar[str] = "Sine prediction"
    description: ClassVar[str] = "Predict the next value of a sum of sines (random phases)."
    loss: ClassVar[str] = "mse"
    input_size: ClassVar[int] = 1
    output_size: ClassVar[int] = 1

    length: int = 100
    frequencies: tuple[float, ...] = (0.03, 0.071)
    noise: float = 0.0

    def __post_init__(self):
        integer("length", self.length, 2, MAX_LENGTH, limit="MAX_LENGTH")
        freqs = self.frequencies
        if isinstance(freqs, (int, float)) and not isinstance(freqs, bool):
            freqs = (freqs,)
        if not isinstance(freqs, (list, tuple)) or not 1 <= len(freqs) <= 16:
            raise RnnvizError(f"frequencies: expected a list of 1 to 16 numbers in (0, 0.5] "
                              f"(cycles per step), got {freqs!r}")
        freqs = tuple(number("frequencies", f, 0.0, 0.5, open_lo=True) for f in freqs)
        object.__setattr__(self, "frequencies", freqs)
        object.__setattr__(self, "noise", number("noise", self.noise, 0.0, 10.0))

    def retarget(self, inputs, target, k):
        """The next value follows the input: ``y_{k-1} = x_k``."""
        return next_value_target(inputs, target, k, inputs[k])

    def _generate(self, rng, n):
        freqs = np.asarray(self.frequencies)
        phases = rng.uniform(0.0, 2 * np.pi, (n, len(freqs)))
        t = np.arange(self.length + 1)
        s = np.sin(2 * np.pi * freqs[None, :, None] * t + phases[..., None]).mean(axis=1)
        if self.noise:
            s = s + self.noise * rng.standard_normal(s.shape)
        return s[:, :-1, None], s[:, 1:, None], np.ones((n, self.length))


@dataclass(frozen=True)
class AddingTask(Task):
    """The adding problem (Hochreiter & Schmidhuber 1997).

    Input channel 0: values ``v_t ~ U[0, 1]``; channel 1: a marker with exactly two 1s, one at a
    random step of the first half ``[0, T//2)`` and one in the second ``[T//2, T)``. Target at
    the last step only: ``v_a + v_b``, the sum of the two marked values. Predicting the mean,
    1, scores MSE = Var(v_a + v_b) = 1/6 ~ 0.167: the "no memory" baseline.
    """

    name: ClassVar[str] = "adding"
    title: ClassVar[str] = "Adding problem"
    description: ClassVar[str] = ("Add the two marked values; answer at the last step. "
                                  "MSE 0.167 means no memory.")
    loss: ClassVar[str] = "mse"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 1

    length: int = 50

    def __post_init__(self):
        integer("length", self.length, 2, MAX_LENGTH, limit="MAX_LENGTH")

    def retarget(self, inputs, target, k):
        """``y_{T-1}`` is the sum of the values whose marker is 1, when there are two."""
        marked = np.flatnonzero(inputs[:, 1] == 1.0)
        if len(marked) != 2:
            return target
        values = target.values.copy()
        values[len(inputs) - 1, 0] = inputs[marked, 0].astype(np.float64).sum()
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        T = self.length
        values = rng.uniform(0.0, 1.0, (n, T))
        rows = np.arange(n)
        first = rng.integers(0, T // 2, n)
        second = rng.integers(T // 2, T, n)
        marker = np.zeros((n, T))
        marker[rows, first] = 1.0
        marker[rows, second] = 1.0
        targets = np.zeros((n, T, 1))
        targets[:, -1, 0] = values[rows, first] + values[rows, second]
        mask = np.zeros((n, T))
        mask[:, -1] = 1.0
        return np.stack([values, marker], axis=-1), targets, mask
