"""Tasks on symbols, fed one-hot: copy memory, temporal order, a^n b^n counting, look-ahead
and delayed recall."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from rnnviz.checks import integer
from rnnviz.core.losses import Target
from rnnviz.limits import MAX_LENGTH
from rnnviz.tasks.base import Batch, Task, one_hot, round_half_up


# -- symbol tasks ------------------------------------------------------------------------------
class SymbolsBlankMarker(Task):
    """A task whose input is one-hot over ``symbols`` letters, a blank and a marker, and whose
    output is one of the letters (the copy tasks). The subclass holds ``symbols``."""

    symbols: int

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


@dataclass(frozen=True)
class CopyTask(SymbolsBlankMarker):
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
        return one_hot(codes, S + 2), targets, mask


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
        lo1 = max(1, round_half_up(0.1 * T))
        hi1 = max(lo1, round_half_up(0.2 * T))
        lo2 = max(hi1 + 1, round_half_up(0.5 * T))
        hi2 = min(T - 2, max(lo2, round_half_up(0.6 * T)))
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
        return one_hot(codes, 8), targets, mask


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
        return one_hot(codes[:, :T], 4), targets, mask

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


class SymbolAtOffset(Task):
    """Output at step t the symbol of step ``t + offset``: the future for ``offset > 0``
    (``LookaheadTask``), the past for ``offset < 0`` (``DelayTask``). Symbols are drawn
    independently and uniformly at every step; steps whose symbol lies outside the sequence
    are not scored. Subclasses set the fields ``symbols`` and ``length`` and the offset."""

    symbols: int
    length: int

    @property
    def offset(self) -> int:
        raise NotImplementedError

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

    def _spans(self, steps: int) -> tuple[slice, slice]:
        """``(scored, source)``: the steps scored and the steps their symbols come from."""
        k = self.offset
        if k >= 0:
            return slice(0, steps - k), slice(k, steps)
        return slice(-k, steps), slice(0, steps + k)

    def retarget(self, inputs, target, k):
        """``y_t`` is the symbol of step ``t + offset``."""
        values = target.values.copy()
        scored, source = self._spans(len(inputs))
        values[scored] = np.argmax(inputs[source], axis=-1)
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        T = self.length
        scored, source = self._spans(T)
        codes = rng.integers(0, self.symbols, (n, T))
        targets = np.zeros((n, T), np.int32)
        targets[:, scored] = codes[:, source]
        mask = np.zeros((n, T))
        mask[:, scored] = 1.0
        return one_hot(codes, self.symbols), targets, mask


@dataclass(frozen=True)
class LookaheadTask(SymbolAtOffset):
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
    def offset(self) -> int:
        return self.shift


@dataclass(frozen=True)
class DelayTask(SymbolAtOffset):
    """Delayed recall: output at step t the symbol of step ``t - delay``.

    Symbols are drawn independently and uniformly from ``symbols`` classes at every step, so
    every scored step depends on exactly one input, ``delay`` steps back, and on nothing
    nearer: the dependency spans a known number of steps. The first ``delay`` steps have no
    past symbol and are not scored. Without memory of that step a model is at chance
    (accuracy ``1/symbols``, loss ``ln(symbols)``). Trained with back-propagation truncated
    to windows of ``W`` steps (``rnnviz.training.bptt``), a loss at step t reaches back only
    to the start of its window, so a window of ``W <= delay`` steps never links a target to
    its input; a longer window links the steps ``delay..W-1`` of each window.
    """

    name: ClassVar[str] = "delay"
    title: ClassVar[str] = "Delayed recall"
    description: ClassVar[str] = ("Output the symbol shown `delay` steps earlier: a "
                                  "dependency of a known span.")
    loss: ClassVar[str] = "xent"

    length: int = 40
    symbols: int = 4
    delay: int = 5

    def __post_init__(self):
        integer("length", self.length, 2, MAX_LENGTH, limit="MAX_LENGTH")
        integer("symbols", self.symbols, 2, 26)
        integer("delay", self.delay, 1, self.length - 1)

    @property
    def offset(self) -> int:
        return -self.delay


@dataclass(frozen=True)
class SelectiveCopyTask(SymbolsBlankMarker):
    """Selective copying (Gu & Dao 2023, arXiv 2312.00752, section 3.1 and Fig. 2).

    ``memory`` data symbols (of ``symbols`` classes) stand at random steps, in order, among
    blank (noise) steps in the first ``span`` steps; then ``memory`` marker steps ``>`` during
    which the model must output the data symbols in the order they came: ``T = span +
    memory``. Unlike the copy task, where the symbols to remember always stand at the same
    steps, which steps to keep changes from sequence to sequence, so a model must decide from
    each input whether to keep it. Input: one-hot over the symbols, blank, marker
    (``symbols + 2`` channels); output: ``symbols`` classes, scored on the ``memory`` marker
    steps only. Guessing scores ``1/symbols``.
    """

    name: ClassVar[str] = "selective_copy"
    title: ClassVar[str] = "Selective copying"
    description: ClassVar[str] = ("Output, after the markers, the few symbols scattered among "
                                  "blanks, in order.")
    loss: ClassVar[str] = "xent"

    symbols: int = 4
    memory: int = 4
    span: int = 20

    def __post_init__(self):
        integer("symbols", self.symbols, 2, 26)
        integer("memory", self.memory, 1, 1000)
        integer("span", self.span, self.memory, MAX_LENGTH - self.memory, limit="MAX_LENGTH")

    @property
    def length(self) -> int:
        return self.span + self.memory

    def data_steps(self, inputs) -> np.ndarray:
        """The steps of one sequence ``(T, I)`` before the markers that show a data symbol."""
        codes = np.argmax(np.asarray(inputs)[: self.span], axis=-1)
        return np.nonzero(codes < self.symbols)[0]

    def retarget(self, inputs, target, k):
        """The marker steps output the data symbols among the first ``span`` steps, in
        order, as far as there are some."""
        values = target.values.copy()
        codes = np.argmax(inputs[: self.span], axis=-1)
        kept = codes[codes < self.symbols][: self.memory]
        values[self.span: self.span + len(kept)] = kept
        return Target(values, target.mask, target.kind)

    def _generate(self, rng, n):
        S, M, L = self.symbols, self.memory, self.span
        rows = np.arange(n)[:, None]
        steps = np.sort(np.argsort(rng.random((n, L)), axis=1)[:, :M], axis=1)
        data = rng.integers(0, S, (n, M))
        codes = np.full((n, L + M), S)  # blank
        codes[rows, steps] = data
        codes[:, L:] = S + 1  # markers
        targets = np.zeros((n, L + M), np.int32)
        targets[:, L:] = data
        mask = np.zeros((n, L + M))
        mask[:, L:] = 1.0
        return one_hot(codes, S + 2), targets, mask


@dataclass(frozen=True)
class ParityTask(Task):
    """Running parity of a bit stream (the state-tracking task of Grazzi et al. 2024, arXiv
    2411.12537).

    Each step shows a bit, 0 or 1, drawn independently and uniformly; the target at step t is
    the parity of the bits so far, ``y_t = (x_0 + ... + x_t) mod 2``, scored at every step.
    Input: one-hot over ``0 1`` (2 channels); output: classes ``even, odd``. A reading of the
    last few bits scores about 50% once t exceeds what it sees: only a state that flips with
    each 1 and keeps still with each 0, for as long as the sequence lasts, gets it right.
    """

    name: ClassVar[str] = "parity"
    title: ClassVar[str] = "Parity"
    description: ClassVar[str] = ("Is the number of 1s so far even or odd? Output the running "
                                  "parity of a bit stream.")
    loss: ClassVar[str] = "xent"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 2

    length: int = 20

    def __post_init__(self):
        integer("length", self.length, 1, MAX_LENGTH, limit="MAX_LENGTH")

    @property
    def alphabet(self) -> tuple[str, ...]:
        return ("0", "1")

    @property
    def classes(self) -> tuple[str, ...]:
        return ("even", "odd")

    def retarget(self, inputs, target, k):
        """The parity of the bits up to each step."""
        bits = np.argmax(inputs, axis=-1)
        return Target(np.cumsum(bits) % 2, target.mask, target.kind)

    def _generate(self, rng, n):
        bits = rng.integers(0, 2, (n, self.length))
        return one_hot(bits, 2), np.cumsum(bits, axis=1) % 2, np.ones((n, self.length))
