"""The interface every task has (``Task``) and what the tasks share."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnviz.checks import integer
from rnnviz.core.losses import Target
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_BATCH_SEED, MAX_DATA_BYTES
from rnnviz.paths import read_limited


# -- shared by the tasks -----------------------------------------------------------------------
def one_hot(codes: np.ndarray, size: int) -> np.ndarray:
    """``(..., )`` integer codes to ``(..., size)`` float32; negative codes give all zeros."""
    out = np.zeros((*codes.shape, size), np.float32)
    idx = np.nonzero(codes >= 0)
    out[(*idx, codes[idx])] = 1.0
    return out


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def read_data_file(path, expected: str) -> bytes:
    """A task's data file (a CSV series, a text corpus), at most ``MAX_DATA_BYTES``; a path
    that names no file is ``path: <expected>, got '<path>'``."""
    try:
        return read_limited(path, MAX_DATA_BYTES, "MAX_DATA_BYTES")
    except RnnvizError as exc:
        if "no such file" in str(exc) or "expected a file" in str(exc):
            raise RnnvizError(f"path: {expected}, got {str(path)!r}") from None
        raise



# -- the common interface ----------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """Base of every task: ``batch``, ``example``, ``accuracy`` and ``decode``.

    Subclasses set ``name``, ``title``, ``description`` and ``loss`` and provide
    ``input_size``, ``output_size``, ``length`` and ``_generate(rng, n) -> (inputs, targets,
    mask)``; their dataclass fields are the settings ``make_task`` accepts.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    loss: ClassVar[str] = "mse"
    # a task with a ``path`` setting: what that file is (a caption) and the suffixes a file
    # dialog offers for it
    data_file: ClassVar[str] = "Data file"
    data_suffixes: ClassVar[tuple[str, ...]] = ()

    @property
    def description(self) -> str:
        """One or two sentences for people: what the model must do."""
        return ""

    @classmethod
    def overview(cls) -> str:
        """What the task asks before its settings are known (the Task dialog's line): the
        ``description``, where the task has one without its settings."""
        return cls.description if isinstance(cls.description, str) else ""

    @property
    def input_size(self) -> int:
        """``I``, the features of one input step."""
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        """``O``, the outputs (or classes) of one step."""
        raise NotImplementedError

    @property
    def length(self) -> int:
        """``T``, the steps of one sequence."""
        raise NotImplementedError

    @property
    def channel_ticks(self) -> list[tuple[int, str]] | None:
        """Input channels to name on the input heatmap's axis, ``(channel, name)`` (a piano
        roll's notes), or None."""
        return None

    @property
    def alphabet(self) -> tuple[str, ...] | None:
        """Names of the one-hot input channels, or None for numeric inputs."""
        return None

    @property
    def classes(self) -> tuple[str, ...] | None:
        """Names of the output classes (``loss="xent"``), or None for regression."""
        return None

    def _generate(self, rng: np.random.Generator, n: int) -> Batch:
        raise NotImplementedError

    def batch(self, n: int, *, seed: int) -> Batch:
        """``n`` sequences: inputs ``(n, T, I)``, targets ``(n, T, O)``/``(n, T)``, mask
        ``(n, T)``. The same ``seed`` always gives the same arrays."""
        n = integer("n", n, 1)
        seed = integer("seed", seed, 0, MAX_BATCH_SEED, limit="MAX_BATCH_SEED")
        xs, ys, mask = self._generate(np.random.default_rng(seed), n)
        ys = ys.astype(np.int32 if self.loss == "xent" else np.float32)
        return xs.astype(np.float32), ys, mask.astype(np.float32)

    def example(self, *, seed: int) -> tuple[np.ndarray, Target]:
        """One sequence ``(T, I)`` and its ``Target``, for display; equal to the first row of
        ``batch(1, seed=seed)``."""
        xs, ys, mask = self.batch(1, seed=seed)
        return xs[0], Target(ys[0], mask[0], self.loss)

    def accuracy(self, outputs, targets, mask) -> float | None:
        """Fraction of scored steps whose ``argmax`` output is the target class:
        ``sum_t m_t [argmax y_t = k*_t] / sum_t m_t`` over ``(..., T, O)`` outputs,
        ``(..., T)`` targets and mask. None for regression, or when no step is scored."""
        if self.loss != "xent":
            return None
        mask = np.asarray(mask, np.float64)
        total = mask.sum()
        if total == 0:
            return None
        right = np.argmax(np.asarray(outputs), axis=-1) == np.asarray(targets)
        return float(np.sum(right * mask) / total)

    def decode(self, inputs) -> list[str] | None:
        """The symbol shown at each step of one sequence ``(T, I)`` (``""`` for an all-zero
        padding step), or None for a task with numeric inputs."""
        alphabet = self.alphabet
        if alphabet is None:
            return None
        inputs = np.asarray(inputs)
        codes = np.argmax(inputs, axis=-1)
        return [alphabet[k] if row.max() > 0 else "" for k, row in zip(codes, inputs,
                                                                     strict=True)]

    def retarget(self, inputs: np.ndarray, target: Target, k: int) -> Target:
        """The target of ``inputs`` once the input at step ``k`` was edited. Tasks whose
        target is a function of the input recompute it (next-value tasks, the adding
        problem, ...); the others keep it (the default)."""
        return target



def next_value_target(inputs: np.ndarray, target: Target, k: int, value) -> Target:
    """``target`` with ``y_{k-1} = value``: what follows step ``k - 1`` is now step k's input."""
    if k < 1:
        return target
    values = target.values.copy()
    values[k - 1] = value
    return Target(values, target.mask, target.kind)
