"""Tasks: seeded generators of input sequences, targets and masks.

Every task draws from ``numpy.random.default_rng(seed)``, so the same seed always gives the same
batch. A batch of ``n`` sequences of ``T = task.length`` steps is three arrays:

- inputs ``(n, T, I)`` float32, ``I = task.input_size``;
- targets ``(n, T, O)`` float32 for ``loss="mse"``, or ``(n, T)`` int32 class indices for
  ``loss="xent"`` (``O = task.output_size`` classes);
- mask ``(n, T)`` float32, 1 where the step is scored (see ``rnnviz.losses``).

Symbol tasks feed one-hot vectors; ``task.alphabet`` names the input channels (``decode`` turns a
one-hot sequence back into them) and ``task.classes`` the output classes.

``make_task(name, **settings)`` builds a task from the registry ``TASKS``; a bad setting raises
``RnnvizError("<key>: expected ..., got ...")``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import string
from dataclasses import dataclass, field, fields
from functools import partial
from importlib import resources
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.checks import integer, number
from rnnviz.errors import RnnvizError
from rnnviz.files import existing_file, read_limited
from rnnviz.forward import run, step
from rnnviz.limits import MAX_DATA_BYTES, MAX_LENGTH, MAX_SEED, MAX_VOCAB
from rnnviz.losses import Target
from rnnviz.spec import ModelSpec

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


# -- checking settings -------------------------------------------------------------------------
def _one_hot(codes: np.ndarray, size: int) -> np.ndarray:
    """``(..., )`` integer codes to ``(..., size)`` float32; negative codes give all zeros."""
    out = np.zeros((*codes.shape, size), np.float32)
    idx = np.nonzero(codes >= 0)
    out[(*idx, codes[idx])] = 1.0
    return out


def _round(x: float) -> int:
    return math.floor(x + 0.5)


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
    description: ClassVar[str] = ""
    loss: ClassVar[str] = "mse"

    input_size: ClassVar[int]
    output_size: ClassVar[int]
    length: ClassVar[int]

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
        seed = integer("seed", seed, 0, MAX_SEED, limit="MAX_SEED")
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



def _next_value(inputs: np.ndarray, target: Target, k: int, value) -> Target:
    """``target`` with ``y_{k-1} = value``: what follows step ``k - 1`` is now step k's input."""
    if k < 1:
        return target
    values = target.values.copy()
    values[k - 1] = value
    return Target(values, target.mask, target.kind)


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
        return _next_value(inputs, target, k, inputs[k])

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


# -- symbol tasks ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CopyTask(Task):
    """Copy memory: remember ``memory`` symbols over ``delay`` blank steps.

    Steps ``0..M-1`` show random symbols (of ``symbols`` classes), then ``delay`` blanks, then
    one marker step, then ``M`` blank steps during which the model must output the ``M``
    symbols in order: ``T = 2M + delay + 1``. Input: one-hot over the symbols, blank, marker
    (``symbols + 2`` channels); output: ``symbols`` classes, scored on the ``M`` recall steps
    only. Guessing scores ``ln(symbols)`` per recall step.
    """

    name: ClassVar[str] = "copy"
    title: ClassVar[str] = "Copy memory"
    description: ClassVar[str] = ("Reproduce the symbols shown at the start after a delay "
                                  "and a marker.")
    loss: ClassVar[str] = "xent"

    symbols: int = 8
    memory: int = 5
    delay: int = 10

    def __post_init__(self):
        integer("memory", self.memory, 1, 1000)
        # T = 2 memory + delay + 1 <= MAX_LENGTH
        integer("delay", self.delay, 0, MAX_LENGTH - 2 * self.memory - 1,
                limit="MAX_LENGTH")
        integer("symbols", self.symbols, 2, 26)

    @property
    def length(self) -> int:
        return 2 * self.memory + self.delay + 1

    @property
    def input_size(self) -> int:
        return self.symbols + 2

    @property
    def output_size(self) -> int:
        return self.symbols

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(string.ascii_uppercase[: self.symbols])

    @property
    def alphabet(self) -> tuple[str, ...]:
        return (*self.classes, "_", ">")

    def retarget(self, inputs, target, k):
        """The recall steps repeat the symbols of the first ``memory`` steps."""
        values = target.values.copy()
        m, d = self.memory, self.delay
        values[m + d + 1:] = np.argmax(inputs[:m, : self.symbols], axis=-1)
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        S, M, D = self.symbols, self.memory, self.delay
        seq = rng.integers(0, S, (n, M))
        codes = np.full((n, self.length), S)  # blank
        codes[:, :M] = seq
        codes[:, M + D] = S + 1  # marker
        targets = np.zeros((n, self.length), np.int32)
        targets[:, M + D + 1:] = seq
        mask = np.zeros((n, self.length))
        mask[:, M + D + 1:] = 1.0
        return _one_hot(codes, S + 2), targets, mask


@dataclass(frozen=True)
class TemporalOrderTask(Task):
    """Temporal order (Hochreiter & Schmidhuber 1997, experiment 6a).

    A sequence starts with ``B`` and ends with ``E``; between them are noise symbols
    ``a b c d`` and two markers, each ``X`` or ``Y``: the first at a random step in about
    [10%, 20%] of the length, the second in about [50%, 60%] (the paper's 10..20 and 50..60
    of ~100; see ``marker_ranges`` for short sequences). At the last step the model classifies
    the order: ``XX, XY, YX, YY`` (classes 0..3, ``2*[first is Y] + [second is Y]``).
    Guessing scores 25%.
    """

    name: ClassVar[str] = "temporal_order"
    title: ClassVar[str] = "Temporal order"
    description: ClassVar[str] = ("Which came first, X or Y? Classify the order of two markers "
                                  "among noise at the last step.")
    loss: ClassVar[str] = "xent"
    input_size: ClassVar[int] = 8
    output_size: ClassVar[int] = 4

    length: int = 100

    def __post_init__(self):
        integer("length", self.length, 4, MAX_LENGTH, limit="MAX_LENGTH")

    @property
    def alphabet(self) -> tuple[str, ...]:
        return ("a", "b", "c", "d", "X", "Y", "B", "E")

    @property
    def classes(self) -> tuple[str, ...]:
        return ("XX", "XY", "YX", "YY")

    def marker_ranges(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Inclusive step ranges of the two markers: ``round(0.1 T)..round(0.2 T)`` and
        ``round(0.5 T)..round(0.6 T)``, kept after ``B`` (step 0), apart, and before ``E``
        (step T-1). Length 100: 10..20 and 50..60; length 8: 1..2 and 4..5."""
        T = self.length
        lo1 = max(1, _round(0.1 * T))
        hi1 = max(lo1, _round(0.2 * T))
        lo2 = max(hi1 + 1, _round(0.5 * T))
        hi2 = min(T - 2, max(lo2, _round(0.6 * T)))
        if lo2 > hi2:  # very short: squeeze the first range so the second fits
            lo2 = hi2 = T - 2
            hi1 = min(hi1, lo2 - 1)
            lo1 = min(lo1, hi1)
        return (lo1, hi1), (lo2, hi2)

    def retarget(self, inputs, target, k):
        """The class at the last step is the order of the markers, ``2*[first is Y] +
        [second is Y]``, when there are exactly two."""
        x, y = self.alphabet.index("X"), self.alphabet.index("Y")
        symbols = np.argmax(inputs, axis=-1)
        is_y = symbols[(symbols == x) | (symbols == y)] == y
        if len(is_y) != 2:
            return target
        values = target.values.copy()
        values[len(inputs) - 1] = 2 * int(is_y[0]) + int(is_y[1])
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        T = self.length
        (lo1, hi1), (lo2, hi2) = self.marker_ranges()
        rows = np.arange(n)
        codes = rng.integers(0, 4, (n, T))
        codes[:, 0], codes[:, -1] = 6, 7
        first = rng.integers(lo1, hi1 + 1, n)
        second = rng.integers(lo2, hi2 + 1, n)
        which = rng.integers(0, 2, (n, 2))  # 0 = X, 1 = Y
        codes[rows, first] = 4 + which[:, 0]
        codes[rows, second] = 4 + which[:, 1]
        targets = np.zeros((n, T), np.int32)
        targets[:, -1] = 2 * which[:, 0] + which[:, 1]
        mask = np.zeros((n, T))
        mask[:, -1] = 1.0
        return _one_hot(codes, 8), targets, mask


@dataclass(frozen=True)
class AnBnTask(Task):
    """Counting: next-symbol prediction on ``S a^n b^n E``, ``n ~ U{n_min..n_max}``.

    Step t reads symbol ``s_t`` of ``S a..a b..b E`` (``2n + 2`` steps) and predicts
    ``s_{t+1}``; steps after ``E`` are padding (all-zero input, not scored) so that every
    sequence has ``T = 2 n_max + 2`` steps. Scored (mask 1): the steps that read a ``b``,
    whose next symbol (another ``b``, or ``E`` after the n-th) is determined by counting the
    ``a``s. Not scored: the step reading ``S`` (always followed by ``a``: trivial), the
    steps reading an ``a`` (the first ``b`` cannot be predicted), ``E`` and padding.
    Unscored steps still carry the true next symbol as their target, for display.
    """

    name: ClassVar[str] = "anbn"
    title: ClassVar[str] = "Counting: a^n b^n"
    description: ClassVar[str] = ("Predict the next symbol of a^n b^n: knowing when the b's "
                                  "end takes counting the a's.")
    loss: ClassVar[str] = "xent"
    input_size: ClassVar[int] = 4
    output_size: ClassVar[int] = 4

    n_min: int = 1
    n_max: int = 10

    def __post_init__(self):
        integer("n_min", self.n_min, 1, 1000)
        integer("n_max", self.n_max, self.n_min, 1000)

    @property
    def length(self) -> int:
        return 2 * self.n_max + 2

    @property
    def alphabet(self) -> tuple[str, ...]:
        return ("S", "a", "b", "E")

    @property
    def classes(self) -> tuple[str, ...]:
        return self.alphabet

    @staticmethod
    def _arrays(ns: np.ndarray, T: int) -> Batch:
        t = np.arange(T + 1)[None, :]
        ns = ns[:, None]
        codes = np.select([t == 0, t <= ns, t <= 2 * ns, t == 2 * ns + 1], [0, 1, 2, 3], -1)
        targets = np.maximum(codes[:, 1:], 0)  # padding: class 0, masked
        t = t[:, :T]
        mask = ((t > ns) & (t <= 2 * ns)).astype(np.float32)
        return _one_hot(codes[:, :T], 4), targets, mask

    def _generate(self, rng, n):
        return self._arrays(rng.integers(self.n_min, self.n_max + 1, n), self.length)

    def example(self, *, seed: int = 0, n: int | None = None) -> tuple[np.ndarray, Target]:
        """One sequence and its ``Target``; ``n`` fixes the count (``seed`` is then unused),
        and may exceed ``n_max`` to test generalisation: the sequence is then ``2n + 2``
        steps long."""
        if n is None:
            return super().example(seed=seed)
        n = integer("n", n, 1, MAX_LENGTH // 2 - 1, limit="MAX_LENGTH")
        xs, ys, mask = self._arrays(np.array([n]), max(self.length, 2 * n + 2))
        return xs[0], Target(ys[0], mask[0], self.loss)


@dataclass(frozen=True)
class LookaheadTask(Task):
    """A task only a bidirectional model can solve: output at step t the symbol of step
    ``t + shift``.

    Symbols are drawn independently and uniformly from ``symbols`` classes, so the inputs up
    to step t carry no information about ``x_{t+shift}``: a unidirectional model cannot beat
    chance (accuracy ``1/symbols``, loss ``ln(symbols)``) whatever its weights. The reverse
    direction of a bidirectional model has read ``x_{t+shift}`` by step t and can reach 100%.
    The last ``shift`` steps have no future symbol and are not scored.
    """

    name: ClassVar[str] = "bidirectional_demo"
    title: ClassVar[str] = "Look ahead (needs a bidirectional model)"
    description: ClassVar[str] = ("Output the symbol that comes `shift` steps later: "
                                  "impossible without seeing the future.")
    loss: ClassVar[str] = "xent"

    length: int = 20
    symbols: int = 4
    shift: int = 3

    def __post_init__(self):
        integer("length", self.length, 2, MAX_LENGTH, limit="MAX_LENGTH")
        integer("symbols", self.symbols, 2, 26)
        integer("shift", self.shift, 1, self.length - 1)

    @property
    def input_size(self) -> int:
        return self.symbols

    @property
    def output_size(self) -> int:
        return self.symbols

    @property
    def alphabet(self) -> tuple[str, ...]:
        return tuple(string.ascii_uppercase[: self.symbols])

    @property
    def classes(self) -> tuple[str, ...]:
        return self.alphabet

    def retarget(self, inputs, target, k):
        """``y_t`` is the symbol of step ``t + shift``."""
        values = target.values.copy()
        values[: len(inputs) - self.shift] = np.argmax(inputs[self.shift:], axis=-1)
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        T, k = self.length, self.shift
        codes = rng.integers(0, self.symbols, (n, T))
        targets = np.zeros((n, T), np.int32)
        targets[:, : T - k] = codes[:, k:]
        mask = np.zeros((n, T))
        mask[:, : T - k] = 1.0
        return _one_hot(codes, self.symbols), targets, mask


# -- text --------------------------------------------------------------------------------------

def shipped_corpus() -> str:
    """The short story shipped as ``rnnviz/data/corpus.txt`` (self-written, free to use)."""
    return (resources.files("rnnviz") / "data" / "corpus.txt").read_text(encoding="utf-8")


@dataclass(frozen=True)
class TextTask(Task):
    """Next-character language modelling on random windows of a corpus.

    The corpus is ``text``, or the UTF-8 file at ``path``, or the shipped short story. Its
    sorted distinct characters are the vocabulary ``V`` (``task.vocab``); a window of
    ``length + 1`` characters ``c_0..c_T`` gives one-hot inputs ``c_0..c_{T-1}`` ``(T, V)`` and
    targets ``c_1..c_T``; every step is scored. ``decode`` returns the raw characters
    (newlines included: a view should escape them).
    """

    name: ClassVar[str] = "text"
    title: ClassVar[str] = "Character language model"
    description: ClassVar[str] = ("Predict the next character of a text; look for cells that "
                                  "track quotes, brackets and line length.")
    loss: ClassVar[str] = "xent"

    length: int = 64
    text: str | None = field(default=None, repr=False)
    path: str | None = None

    def __post_init__(self):
        integer("length", self.length, 1, MAX_LENGTH, limit="MAX_LENGTH")
        if self.text is not None and self.path is not None:
            raise RnnvizError(f"text: expected either text or path, got both (path "
                              f"{self.path!r})")
        if self.text is not None:
            if not isinstance(self.text, str):
                raise RnnvizError(f"text: expected a string, got {type(self.text).__name__}")
            corpus, source = self.text, "text"
        elif self.path is not None:
            corpus, source = self._read(self.path), str(self.path)
        else:
            corpus, source = shipped_corpus(), "the shipped corpus"
        if len(corpus) < self.length + 1:
            raise RnnvizError(f"{'text' if self.text is not None else 'path'}: expected at "
                              f"least {self.length + 1} characters for length {self.length}, "
                              f"got {len(corpus)} in {source}")
        vocab = tuple(sorted(set(corpus)))
        if len(vocab) > MAX_VOCAB:
            raise RnnvizError(f"text: expected at most {MAX_VOCAB} distinct characters, got "
                              f"{len(vocab)} in {source} (limit MAX_VOCAB)")
        index = {c: i for i, c in enumerate(vocab)}
        object.__setattr__(self, "vocab", vocab)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_ids", np.array([index[c] for c in corpus], np.int32))

    @staticmethod
    def _read(path) -> str:
        if not isinstance(path, (str, Path)):
            raise RnnvizError(f"path: expected a file path, got {path!r}")
        data = _read_data_file(path, "expected an existing text file")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RnnvizError(f"{path}: cannot read as UTF-8 text: {exc}") from None

    @property
    def corpus(self) -> str:
        return "".join(self.vocab[i] for i in self._ids)

    @property
    def input_size(self) -> int:
        return len(self.vocab)

    @property
    def output_size(self) -> int:
        return len(self.vocab)

    @property
    def alphabet(self) -> tuple[str, ...]:
        return self.vocab

    @property
    def classes(self) -> tuple[str, ...]:
        return self.vocab

    def encode(self, text: str) -> np.ndarray:
        """One-hot ``(len(text), V)`` float32; a character outside the vocabulary raises."""
        missing = sorted(set(text) - set(self._index))
        if missing:
            raise RnnvizError(f"text: expected characters of the vocabulary, got "
                              f"{missing[0]!r} (not in the corpus)")
        return _one_hot(np.array([self._index[c] for c in text], np.int64), len(self.vocab))

    def retarget(self, inputs, target, k):
        """The next character follows the input: ``y_{k-1}`` is the class of ``x_k``."""
        return _next_value(inputs, target, k, int(np.argmax(inputs[k])))

    def _generate(self, rng, n):
        T = self.length
        starts = rng.integers(0, len(self._ids) - T, n)
        windows = self._ids[starts[:, None] + np.arange(T + 1)]
        return _one_hot(windows[:, :-1], len(self.vocab)), windows[:, 1:], np.ones((n, T))


def sample_text(spec: ModelSpec, params: dict, task: TextTask, prime: str, n: int,
                temperature: float = 1.0, seed: int = 0) -> str:
    """Generate ``n`` characters after ``prime`` (returned without the prime).

    The model reads ``prime``, then repeatedly draws ``c ~ softmax(y_t / temperature)`` from
    its output logits ``y_t`` and feeds ``c`` back one-hot. Low temperatures approach the
    argmax, high ones the uniform distribution. Needs a unidirectional model whose input and
    output sizes are the vocabulary's.
    """
    if not isinstance(task, TextTask):
        raise RnnvizError(f"task: expected a text task, got {getattr(task, 'name', task)!r}")
    if spec.bidirectional:
        raise RnnvizError("bidirectional: expected a unidirectional model to generate text, "
                          "got a bidirectional one")
    V = len(task.vocab)
    if spec.input_size != V or spec.out_size != V:
        raise RnnvizError(f"model: expected input and output size {V} (the vocabulary), got "
                          f"{spec.input_size} and {spec.out_size}")
    if not isinstance(prime, str) or not prime:
        raise RnnvizError(f"prime: expected at least one character, got {prime!r}")
    n = integer("n", n, 1, 100_000)
    temperature = number("temperature", temperature, 0.0, 1e6, open_lo=True)
    seed = integer("seed", seed, 0, MAX_SEED, limit="MAX_SEED")
    xs = jnp.asarray(task.encode(prime), spec.dtype)
    ids = _sample_ids(spec, params, xs, jax.random.key(seed),
                      jnp.asarray(temperature, spec.dtype), n=n)
    return "".join(task.vocab[i] for i in np.asarray(ids))


@partial(jax.jit, static_argnames=("spec", "n"))
def _sample_ids(spec: ModelSpec, params: dict, xs, key, temperature, *, n: int):
    carries, _, outputs = run(spec, params, xs)

    def body(state, k):
        carries, logits = state
        idx = jax.random.categorical(k, logits / temperature)
        carries, _, out = step(spec, params, carries, jax.nn.one_hot(idx, spec.input_size,
                                                                     dtype=xs.dtype))
        return (carries, out), idx

    _, ids = lax.scan(body, (carries, outputs[-1]), jax.random.split(key, n))
    return ids


# -- a user's CSV time series ------------------------------------------------------------------
def _read_data_file(path, expected: str) -> bytes:
    """A task's data file (a CSV series, a text corpus), at most ``MAX_DATA_BYTES``; a path
    that names no file is ``path: <expected>, got '<path>'``."""
    try:
        return read_limited(path, MAX_DATA_BYTES, "MAX_DATA_BYTES")
    except RnnvizError as exc:
        if "no such file" in str(exc) or "expected a file" in str(exc):
            raise RnnvizError(f"path: {expected}, got {str(path)!r}") from None
        raise


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _csv_reader(text: str):
    """A CSV reader over ``text`` whose delimiter (``,``, ``;`` or tab) is sniffed."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text), dialect)


def _header(first_row: list[str]) -> list[str] | None:
    """The column names when the first row holds any non-numeric cell, else None."""
    if any(c.strip() and not _is_number(c) for c in first_row):
        return [c.strip() for c in first_row]
    return None


def csv_header(path) -> list[str]:
    """The column names of a CSV file (its header row, or ``"0", "1", ...`` when the first
    row is all numbers), for a column picker; empty when the file cannot be read."""
    try:
        with open(existing_file(path), "rb") as f:  # a regular file: a pipe would block
            head = f.read(65536)  # the decoder keeps a character cut at the end for later
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        first = next((r for r in _csv_reader(text) if any(c.strip() for c in r)), [])
    except (OSError, ValueError, csv.Error):  # RnnvizError and UnicodeDecodeError included
        return []
    return _header(first) or [str(i) for i in range(len(first))]


def read_csv_column(path, column: str | int) -> tuple[np.ndarray, str]:
    """The finite numbers of one column of a CSV file, and the column's label for messages.

    The delimiter (``,``, ``;`` or tab) is sniffed; a first row holding any non-numeric cell is
    a header. Blank lines are skipped. Errors name the file and, for a bad cell, the line.
    """
    if not isinstance(path, (str, Path)):
        raise RnnvizError(f"path: expected an existing CSV file, got {path!r}")
    data = _read_data_file(path, "expected an existing CSV file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RnnvizError(f"{path}: cannot read as UTF-8 text: {exc}") from None
    reader = _csv_reader(text)
    try:
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise RnnvizError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    if not rows:
        raise RnnvizError(f"{path}: expected a column of numbers, got an empty file")
    header = _header(rows[0][1])
    if header is not None:
        rows = rows[1:]

    if isinstance(column, str):
        if header is None:
            raise RnnvizError(f"{path}: column: expected a column number (the file has no "
                              f"header row), got {column!r}")
        if column not in header:
            names = ", ".join(repr(h) for h in header)
            raise RnnvizError(f"{path}: column: expected one of {names}, got {column!r}")
        index, label = header.index(column), repr(column)
    elif isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        width = len(header) if header is not None else max(len(r) for _, r in rows)
        if not 0 <= column < width:
            raise RnnvizError(f"{path}: column: expected a column number in 0..{width - 1}, "
                              f"got {column!r}")
        index = int(column)
        label = repr(header[index]) if header is not None and header[index] else str(index)
    else:
        raise RnnvizError(f"column: expected a column name or number, got {column!r}")

    values = np.empty(len(rows))
    for i, (line, row) in enumerate(rows):
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            raise RnnvizError(f"{path}:{line}: column {label}: expected a number, got a "
                              f"missing value")
        try:
            value = float(cell)
        except ValueError:
            raise RnnvizError(f"{path}:{line}: column {label}: expected a number, got "
                              f"{cell!r}") from None
        if not math.isfinite(value):
            raise RnnvizError(f"{path}:{line}: column {label}: expected a finite number, got "
                              f"{cell!r}")
        values[i] = value
    return values, label


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation (1 for a constant series) of finite ``values``, without
    overflow: values near the float limit (1.5e308) are first scaled by a power of two, which
    changes no bit of the result, since the sum of squares would overflow."""
    top = float(np.max(np.abs(values)))
    exponent = math.frexp(top)[1] if top > 1e150 else 0
    scaled = np.ldexp(values, -exponent)
    mean = math.ldexp(float(scaled.mean()), exponent)
    std = math.ldexp(float(scaled.std()), exponent)
    return mean, std if std > 0 else 1.0


@dataclass(frozen=True)
class CsvTask(Task):
    """Next-value prediction on a user's CSV time series.

    The series ``v`` (one column, in file order) is z-scored, ``s = (v - mean) / std``
    (``std`` taken as 1 for a constant series); ``task.mean`` and ``task.std`` undo it.
    A random window of ``length + 1`` values gives inputs ``s_t`` ``(T, 1)`` and targets
    ``s_{t+1}``; every step is scored.
    """

    name: ClassVar[str] = "csv"
    title: ClassVar[str] = "CSV time series"
    loss: ClassVar[str] = "mse"
    input_size: ClassVar[int] = 1
    output_size: ClassVar[int] = 1

    path: str | None = None
    column: str | int = 0
    length: int = 50

    def __post_init__(self):
        integer("length", self.length, 1, MAX_LENGTH, limit="MAX_LENGTH")
        if self.path is None:
            raise RnnvizError("path: expected the path of a CSV file, got None")
        values, label = read_csv_column(self.path, self.column)
        if len(values) < self.length + 1:
            raise RnnvizError(f"{self.path}: column {label}: expected at least "
                              f"{self.length + 1} values for length {self.length}, "
                              f"got {len(values)}")
        mean, std = _mean_std(values)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "series", ((values - mean) / std).astype(np.float32))

    @property
    def description(self) -> str:
        return (f"Predict the next value of column {self.label} of {Path(self.path).name}; "
                f"normalised to zero mean and unit variance (mean {self.mean:.4g}, "
                f"std {self.std:.4g}).")

    def denormalise(self, values):
        """Back to the file's units: ``v = s * std + mean``."""
        return np.asarray(values) * self.std + self.mean

    def retarget(self, inputs, target, k):
        """The next value follows the input: ``y_{k-1} = x_k``."""
        return _next_value(inputs, target, k, inputs[k])

    def _generate(self, rng, n):
        T = self.length
        starts = rng.integers(0, len(self.series) - T, n)
        windows = self.series[starts[:, None] + np.arange(T + 1)]
        return windows[:, :-1, None], windows[:, 1:, None], np.ones((n, T))


# -- the registry ------------------------------------------------------------------------------
TASKS: dict[str, type[Task]] = {t.name: t for t in (
    SineTask, AddingTask, CopyTask, TemporalOrderTask, AnBnTask, TextTask, CsvTask,
    LookaheadTask)}

def task_settings(name: str) -> list[str]:
    """The setting keys task ``name`` accepts (its dataclass fields)."""
    return [f.name for f in fields(TASKS[name]) if f.init]


def make_task(name: str, **settings) -> Task:
    """The task called ``name`` with ``settings`` (the task's dataclass fields)."""
    if name not in TASKS:
        raise RnnvizError(f"name: expected one of {', '.join(sorted(TASKS))}, got {name!r}")
    accepted = task_settings(name)
    for key in settings:
        if key not in accepted:
            raise RnnvizError(f"{key}: unknown setting of task {name}; expected one of "
                              f"{', '.join(accepted) or '(none)'}")
    return TASKS[name](**settings)
