"""Next-note prediction on the soprano lines of Bach's chorales, on a grid of eighth notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import ClassVar

import numpy as np

from rnnviz.checks import integer
from rnnviz.errors import RnnvizError
from rnnviz.tasks.base import Task, next_value_target, one_hot

LOWEST, HIGHEST = 57, 81  # MIDI A3..A5: the sopranos' range in the shipped file
STEPS_PER_BAR = 8         # eighth notes in a 4/4 bar
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAX_CHORALE_STEPS = 2000  # a chorale's steps in the data file


def note_name(midi: int) -> str:
    """``60 -> "C4"``."""
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


@dataclass(frozen=True)
class Chorales:
    """The shipped soprano lines: per chorale its ``name`` and three ``(T,)`` int arrays,
    ``pitches`` (MIDI, 0 for a rest), ``positions`` in the bar (0..7, eighths) and
    ``onsets`` (1 where a note starts)."""

    names: tuple[str, ...]
    pitches: tuple[np.ndarray, ...]
    positions: tuple[np.ndarray, ...]
    onsets: tuple[np.ndarray, ...]


def parse_chorales(text: str, source: str = "chorales.txt") -> Chorales:
    """Read the file ``scripts/make_chorales.py`` writes (one chorale a line, tab-separated
    name, pitches, positions, onsets); one ``RnnvizError`` line naming the line otherwise."""
    names, pitches, positions, onsets = [], [], [], []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("\t")
        try:
            if len(fields) != 4:
                raise ValueError(f"4 tab-separated fields, got {len(fields)}")
            p, q, o = (np.array([int(v) for v in f.split(",")], np.int64) for f in fields[1:])
            if not (len(p) == len(q) == len(o) <= MAX_CHORALE_STEPS):
                raise ValueError(f"three lists of one length up to {MAX_CHORALE_STEPS}")
            if np.any((p != 0) & ((p < LOWEST) | (p > HIGHEST))):
                raise ValueError(f"pitches 0 or {LOWEST}..{HIGHEST}")
            if np.any((q < 0) | (q >= STEPS_PER_BAR)) or np.any((o != 0) & (o != 1)):
                raise ValueError(f"positions 0..{STEPS_PER_BAR - 1} and onsets 0 or 1")
        except ValueError as exc:
            raise RnnvizError(f"{source}: line {number}: expected {exc}") from None
        names.append(fields[0])
        pitches.append(p)
        positions.append(q)
        onsets.append(o)
    return Chorales(tuple(names), tuple(pitches), tuple(positions), tuple(onsets))


@cache
def shipped_chorales() -> Chorales:
    """``rnnviz/data/chorales.txt``: 359 soprano lines in 4/4 from music21's corpus."""
    text = (resources.files("rnnviz") / "data" / "chorales.txt").read_text(encoding="ascii")
    return parse_chorales(text)


@dataclass(frozen=True)
class MelodyTask(Task):
    """Predict the next eighth note of a Bach chorale's soprano line.

    A sequence is a random window of ``length`` steps (eighth notes) of a random chorale.
    Input ``(T, P + 2)``: one-hot over the ``P = 25`` pitches A3..A5 and a rest (channel
    ``P``), plus an onset channel (``P + 1``: 1 where a note starts, 0 while it is held), so
    that the input drawn as a heatmap is a piano roll, low notes at the bottom. Target: the
    pitch (or rest) sounding at the next step, ``P + 1`` classes; every step is scored. The
    notes change mostly on beats (97% of downbeats start a note, 8-13% of off-beat eighths):
    a model that knows where it is in the bar predicts better. ``bar_positions`` gives each
    step's position in its bar (0..7) for the sequences ``batch`` draws.
    """

    name: ClassVar[str] = "melody"
    title: ClassVar[str] = "Melody: Bach chorales"
    description: ClassVar[str] = ("Predict the next eighth note of the soprano line of a Bach "
                                  "chorale (the input is a piano roll).")
    loss: ClassVar[str] = "xent"

    length: int = 64
    _chorales: Chorales = field(init=False, repr=False, compare=False)
    _long: np.ndarray = field(init=False, repr=False, compare=False)  # chorales that fit

    def __post_init__(self):
        integer("length", self.length, 2, MAX_CHORALE_STEPS - 1, limit="MAX_CHORALE_STEPS")
        chorales = shipped_chorales()
        long = np.array([k for k, p in enumerate(chorales.pitches) if len(p) > self.length])
        if len(long) == 0:
            raise RnnvizError(f"length: expected at most the longest chorale's steps - 1, "
                              f"got {self.length}")
        object.__setattr__(self, "_chorales", chorales)
        object.__setattr__(self, "_long", long)

    @property
    def pitches(self) -> int:
        return HIGHEST - LOWEST + 1

    @property
    def input_size(self) -> int:
        return self.pitches + 2

    @property
    def output_size(self) -> int:
        return self.pitches + 1

    @property
    def classes(self) -> tuple[str, ...]:
        return (*(note_name(m) for m in range(LOWEST, HIGHEST + 1)), "rest")

    @property
    def alphabet(self) -> tuple[str, ...]:
        return (*self.classes, "onset")

    @property
    def channel_ticks(self) -> list[tuple[int, str]]:
        """The piano roll's axis: every C, and the onset channel on top."""
        marks = [(m - LOWEST, note_name(m)) for m in range(LOWEST, HIGHEST + 1) if m % 12 == 0]
        return [*marks, (self.pitches + 1, "onset")]

    def decode(self, inputs) -> list[str] | None:
        """None: the piano roll's axis names the notes (a letter per step would not fit)."""
        return None

    def _windows(self, rng, n):
        """``(n,)`` chorale indices and start steps."""
        which = self._long[rng.integers(0, len(self._long), n)]
        starts = np.array([rng.integers(0, len(self._chorales.pitches[k]) - self.length)
                           for k in which], np.int64)
        return which, starts

    def _codes(self, k: int, start: int, steps: int) -> np.ndarray:
        p = self._chorales.pitches[k][start:start + steps]
        return np.where(p == 0, self.pitches, p - LOWEST)

    def _generate(self, rng, n):
        T = self.length
        which, starts = self._windows(rng, n)
        codes = np.stack([self._codes(k, s, T + 1) for k, s in zip(which, starts,
                                                                    strict=True)])
        onsets = np.stack([self._chorales.onsets[k][s:s + T] for k, s in zip(which, starts,
                                                                            strict=True)])
        xs = np.concatenate([one_hot(codes[:, :T], self.pitches + 1),
                             onsets[..., None].astype(np.float32)], axis=-1)
        return xs, codes[:, 1:], np.ones((n, T))

    def bar_positions(self, n: int, *, seed: int) -> np.ndarray:
        """``(n, T)``: each step's position in its bar (0..7) in ``batch(n, seed=seed)``."""
        which, starts = self._windows(np.random.default_rng(seed), n)
        return np.stack([self._chorales.positions[k][s:s + self.length]
                         for k, s in zip(which, starts, strict=True)])

    def retarget(self, inputs, target, k):
        """The next note follows the input: ``y_{k-1}`` is the pitch (or rest) of ``x_k``."""
        return next_value_target(inputs, target, k, int(np.argmax(inputs[k, :-1])))
