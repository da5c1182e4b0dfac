"""A user's own data, fitted to a model, as the task the window shows: ``DataTask``.

``fit_data(spec, path, ...)`` reads the model's inputs from a data file (``.npy``, chosen CSV
columns, or text through a vocabulary: ``rnnviz.files.model_data``) and an optional target
(a ``.npy``, CSV columns of another file, or a column of the same CSV), checks them against
the model and returns a ``DataTask`` holding the one sequence:

- inputs ``(T, I)`` float32, ``I = spec.in_size`` (one token id per step for a model with an
  embedding, exact in float32 below ``MAX_TOKENS``);
- a target ``(T, O)`` of values (loss ``mse``), or ``(T,)`` class ids in ``0..O-1`` (loss
  ``xent``, for a model writing ``O > 1`` scores), ``O = spec.out_size``; every step scored.

Every mismatch is one ``RnnvizError`` line naming the file, the line or step, and what was
expected. ``CsvChoice`` is the (Qt-free) choice of a CSV's columns for the model's inputs and
target that the window's dialog shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from rnnviz.core.losses import Target
from rnnviz.core.spec import ModelSpec
from rnnviz.core.trace import check_token_ids
from rnnviz.errors import RnnvizError
from rnnviz.files.model_data import read_inputs, read_target, read_vocabulary
from rnnviz.limits import MAX_FEATURES, MAX_LENGTH, MAX_TOKENS
from rnnviz.paths import existing_file
from rnnviz.tasks import csv_header
from rnnviz.tasks.base import Batch, Task

DATA_SUFFIXES = (".npy", ".csv", ".txt")
DATA_FILTER = "Data (*.npy *.csv *.txt)"
TARGET_NAMES = ("target", "y", "label")  # a CSV column of one of these names: the target
_SHOWN = {"\n": "⏎", " ": "␣", "\t": "⇥"}  # whitespace tokens as the input row shows them


@dataclass(frozen=True)
class DataTask(Task):
    """One sequence read from a user's file, for the model it was fitted to.

    ``inputs (T, I)`` float32; ``target`` None, ``(T, O)`` values or ``(T,)`` class ids;
    ``tokens[id]`` the symbol shown for each id of a model with an embedding (its vocabulary,
    else the ids); ``channels`` the input columns' names. Training on it repeats the one
    sequence in every batch row."""

    name: ClassVar[str] = "data"
    title: ClassVar[str] = "your data"
    source: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros((1, 1), np.float32),
                               compare=False, repr=False)
    target_values: np.ndarray | None = field(default=None, compare=False, repr=False)
    kind: str = "mse"
    outputs: int = 1
    tokens: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None

    @property  # Task.loss is a ClassVar: here the target's kind decides
    def loss(self) -> str:  # type: ignore[override]
        return self.kind

    @property
    def description(self) -> str:
        steps = f"{len(self.values)} steps of {self.source}"
        if self.channels:
            steps += f" (columns {', '.join(self.channels)})"
        return steps + ("" if self.target_values is not None
                        else "; no target, so no loss or gradient of the loss")

    @property
    def input_size(self) -> int:
        return int(self.values.shape[1])

    @property
    def output_size(self) -> int:
        return self.outputs

    @property
    def length(self) -> int:
        return len(self.values)

    @property
    def channel_ticks(self) -> list[tuple[int, str]] | None:
        return list(enumerate(self.channels)) if self.channels else None

    def decode(self, inputs) -> list[str] | None:
        """The token of each step's id (a model with an embedding), else None."""
        if self.tokens is None:
            return None
        ids = np.asarray(inputs)[:, 0]
        return [self.tokens[int(i)] if 0 <= i < len(self.tokens) and i == int(i) else f"{i:g}"
                for i in ids]

    def _generate(self, rng: np.random.Generator, n: int) -> Batch:
        if self.target_values is None:
            raise RnnvizError(f"{self.source}: no target to train on; open the data with a "
                              f"target (a .npy, or a CSV column)")
        xs = np.broadcast_to(self.values, (n, *self.values.shape))
        ys = np.broadcast_to(self.target_values, (n, *self.target_values.shape))
        return xs, ys, np.ones((n, len(self.values)), np.float32)

    def example(self, *, seed: int) -> tuple[np.ndarray, Target | None]:  # type: ignore[override]
        """The one sequence and its target (None when the data has none)."""
        if self.target_values is None:
            return self.values, None
        return self.values, Target(self.target_values, np.ones(len(self.values), np.float32),
                                   self.kind)


def data_settings(task: DataTask) -> dict:
    """What a session file keeps of ``task`` beside its arrays (the ``[task]`` table of its
    ``preset.toml``, read back by ``data_from_settings``)."""
    settings: dict = {"name": task.name, "source": task.source, "kind": task.kind,
                      "outputs": task.outputs}
    if task.tokens is not None:
        settings["tokens"] = list(task.tokens)
    if task.channels is not None:
        settings["channels"] = list(task.channels)
    return settings


def data_from_settings(settings: dict, inputs: np.ndarray, target: np.ndarray | None,
                       where: str) -> DataTask:
    """The ``DataTask`` of a session's ``[task]`` table ``settings`` (``data_settings``) and
    its arrays; one line naming ``where`` and the key for anything else."""
    def fail(key: str, expected: str) -> RnnvizError:
        return RnnvizError(f"{where}: task.{key}: expected {expected}, got "
                           f"{settings.get(key)!r:.60}")

    allowed = {"name", "source", "kind", "outputs", "tokens", "channels"}
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise RnnvizError(f"{where}: task.{unknown[0]}: expected one of "
                          f"{', '.join(sorted(allowed))}")
    source = settings.get("source")
    if not isinstance(source, str) or len(source) > 255:
        raise fail("source", "the data file's name")
    kind = settings.get("kind")
    if kind not in ("mse", "xent"):
        raise fail("kind", '"mse" or "xent"')
    outputs = settings.get("outputs")
    if not isinstance(outputs, int) or isinstance(outputs, bool) \
            or not 1 <= outputs <= MAX_FEATURES:
        raise fail("outputs", f"an integer in 1..{MAX_FEATURES}")
    names: dict[str, tuple[str, ...] | None] = {}
    for key, most in (("tokens", MAX_TOKENS), ("channels", inputs.shape[1])):
        value = settings.get(key)
        if value is not None and (not isinstance(value, list) or not 1 <= len(value) <= most
                                  or not all(isinstance(v, str) for v in value)):
            raise fail(key, f"a list of 1 to {most} strings")
        names[key] = None if value is None else tuple(value)
    return DataTask(source=source, values=inputs, target_values=target, kind=kind,
                    outputs=outputs, tokens=names["tokens"], channels=names["channels"])


def _token_names(vocab: dict[str, int], vocab_size: int) -> tuple[str, ...]:
    names = [str(i) for i in range(vocab_size)]
    for token, i in vocab.items():
        names[i] = _SHOWN.get(token, token)
    return tuple(names)


def _check_finite(values: np.ndarray, source: str, what: str) -> None:
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(values.astype(np.float32))
    if np.any(bad):
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise RnnvizError(f"{source}: {what} at step {at[0]}"
                          + (f", column {at[1]}" if len(at) > 1 else "")
                          + f" is {values[at].item()!r}; expected finite numbers (float32)")


def fit_target(y: np.ndarray, spec: ModelSpec, steps: int, source: str
               ) -> tuple[np.ndarray, str]:
    """``(values, kind)``: ``(T, O)`` float32 values (``mse``) or ``(T,)`` int32 class ids in
    ``0..O-1`` (``xent``, for ``O > 1``) from a target array ``(T,)``, ``(T, 1)`` or
    ``(T, O)``."""
    out = spec.out_size
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise RnnvizError(f"{source}: holds {y.dtype} values; expected numbers")
    if y.ndim == 2 and y.shape[1] == 1 and out > 1:
        y = y[:, 0]
    expected = (f"(T, {out}) values" + (f" or (T,) class ids in 0..{out - 1}" if out > 1
                                        else " or (T,)"))
    if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != out):
        raise RnnvizError(f"{source}: holds {y.shape}; the model writes {out} value(s) per "
                          f"step: expected {expected}")
    if len(y) != steps:
        raise RnnvizError(f"{source}: has {len(y)} steps; the data has {steps}: expected "
                          f"one target per step")
    _check_finite(y, source, "the target")
    if y.ndim == 2 or out == 1:
        return y.reshape(steps, out).astype(np.float32), "mse"
    bad = ~((y == np.round(y)) & (y >= 0) & (y < out))
    if np.any(bad):
        t = int(np.flatnonzero(bad)[0])
        raise RnnvizError(f"{source}: the target at step {t} is {y[t]:g}; expected {expected}")
    return y.astype(np.int32), "xent"


def fit_data(spec: ModelSpec, path: str | os.PathLike, *,
             columns: list[str | int] | None = None,
             target: str | os.PathLike | None = None,
             target_columns: list[str | int] | None = None,
             vocab: str | os.PathLike | None = None) -> DataTask:
    """The sequence of the data file ``path`` for the model ``spec`` (see the module
    docstring): ``columns`` the CSV columns of its inputs, in order; ``target`` a file (``.npy``
    or ``.csv``, whose ``target_columns``, default all, are read), or None with
    ``target_columns`` naming columns of ``path`` itself; ``vocab`` a vocabulary for text and
    for the tokens shown."""
    path = existing_file(path, "the data")
    source = str(path)
    xs = np.asarray(read_inputs(path, spec, columns=columns, vocab=vocab))
    steps = len(xs)
    if steps == 0:
        raise RnnvizError(f"{source}: holds no steps")
    if steps > MAX_LENGTH:
        raise RnnvizError(f"{source}: has {steps} steps; at most {MAX_LENGTH} (limit "
                          f"MAX_LENGTH)")
    if xs.dtype.kind not in "biuf":
        raise RnnvizError(f"{source}: holds {xs.dtype} values; expected numbers")
    tokens = None
    if spec.vocab_size is not None:
        check_token_ids(xs, spec.vocab_size, source)
        xs = xs.reshape(steps, 1)
        names = (read_vocabulary(vocab, spec.vocab_size) if vocab is not None else {})
        tokens = _token_names(names, spec.vocab_size)
    else:
        _check_finite(xs, source, "the input")
    if target is not None:
        y = read_target(target, columns=target_columns)
        target_source = str(target)
    elif target_columns:
        y = read_target(path, columns=target_columns)
        target_source = f"{source}: column {target_columns[0]!r}"
    else:
        y, target_source = None, ""
    target_values, kind = (None, "mse") if y is None else fit_target(y, spec, steps,
                                                                      target_source)
    channels = None
    if columns is not None and path.suffix.lower() == ".csv" and spec.vocab_size is None:
        header = csv_header(path)
        channels = tuple(c if isinstance(c, str) else header[c] if c < len(header) else str(c)
                         for c in columns)
    return DataTask(source=path.name, values=xs.astype(np.float32),
                    target_values=target_values, kind=kind, outputs=spec.out_size,
                    tokens=tokens, channels=channels)


@dataclass
class CsvChoice:
    """Which CSV column feeds each model input, and which (if any) is the target: what the
    window's column dialog shows and edits. ``inputs[k]`` and ``target`` are indices into
    ``header``."""

    path: Path
    header: list[str]
    labels: list[str]          # one per model input: "input 1", ... ("token id")
    inputs: list[int]
    target: int | None = None

    @classmethod
    def for_model(cls, path: str | os.PathLike, spec: ModelSpec) -> CsvChoice:
        """The columns of ``path`` with a first guess: a column named ``target``, ``y`` or
        ``label`` is the target, the first of the others feed the inputs in order; one line
        when the file has fewer columns than the model has inputs."""
        path = existing_file(path, "the data")
        header = csv_header(path)
        width = spec.in_size
        if not header:
            raise RnnvizError(f"{path}: no columns to read (expected a CSV file with a header "
                              f"row or numbers)")
        if len(header) < width:
            raise RnnvizError(f"{path}: has {len(header)} column(s) ({', '.join(header)}); "
                              f"the model reads {width} input(s): expected at least {width} "
                              f"column(s)")
        target = next((k for k, name in enumerate(header) if name.lower() in TARGET_NAMES),
                      None)
        rest = [k for k in range(len(header)) if k != target]
        if len(rest) < width:
            rest, target = list(range(len(header))), None
        labels = (["token id"] if spec.vocab_size is not None
                  else [f"input {k + 1}" for k in range(width)])
        return cls(path, header, labels, rest[:width], target)

    def columns(self) -> list[str | int]:
        """The inputs' columns, as names (numbers for a file without a header row)."""
        return [self._name(k) for k in self.inputs]

    def target_columns(self) -> list[str | int] | None:
        return None if self.target is None else [self._name(self.target)]

    def _name(self, k: int) -> str | int:
        return k if self.header == [str(i) for i in range(len(self.header))] else self.header[k]

    def fit(self, spec: ModelSpec, vocab=None) -> DataTask:
        """The data task of the chosen columns (``fit_data``)."""
        return fit_data(spec, self.path, columns=self.columns(),
                        target_columns=self.target_columns(), vocab=vocab)


def _column_ref(name: str) -> str | int:
    return int(name) if name.isdigit() else name


def model_and_data(model: str | os.PathLike, data: str | os.PathLike, *,
                   columns: list[str] | None = None, target: str | None = None,
                   vocab: str | os.PathLike | None = None) -> tuple[ModelSpec, DataTask]:
    """The model in ``model`` and its data (``rnnviz open MODEL --data FILE``): ``columns``
    the CSV columns of the inputs (default: the first guess of ``CsvChoice``); ``target`` a
    ``.npy``/``.csv`` file or a column of the data CSV; ``vocab`` default: one beside the
    model."""
    from rnnviz.files.model_data import vocabulary_beside
    from rnnviz.files.models import read_model

    spec, _ = read_model(model)
    if vocab is None and spec.vocab_size is not None:
        vocab = vocabulary_beside(model)
    chosen: list[str | int] | None = [_column_ref(c) for c in columns] if columns else None
    if chosen is None and Path(data).suffix.lower() == ".csv":
        chosen = CsvChoice.for_model(data, spec).columns()
    target_file, target_columns = None, None
    if target is not None:
        if Path(target).suffix.lower() in DATA_SUFFIXES:
            target_file = target
        else:
            target_columns = [_column_ref(target)]
    return spec, fit_data(spec, data, columns=chosen, target=target_file,
                          target_columns=target_columns, vocab=vocab)
