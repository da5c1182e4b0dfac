"""A user's CSV time series: reading one column, and next-value prediction on it."""

from __future__ import annotations

import codecs
import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from rnnviz.checks import integer
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_LENGTH
from rnnviz.paths import existing_file
from rnnviz.tasks.base import Task, next_value_target, read_data_file


# -- a user's CSV time series ------------------------------------------------------------------
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
        first: list[str] = next((r for r in _csv_reader(text) if any(c.strip() for c in r)),
                                [])
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
    data = read_data_file(path, "expected an existing CSV file")
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
    data_file: ClassVar[str] = "CSV file"
    data_suffixes: ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt")

    path: str | None = None
    column: str | int = 0
    length: int = 50
    # read off the file
    mean: float = field(init=False, repr=False, compare=False)
    std: float = field(init=False, repr=False, compare=False)
    label: str = field(init=False, repr=False, compare=False)
    series: np.ndarray = field(init=False, repr=False, compare=False)

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

    @classmethod
    def overview(cls) -> str:
        return "Predict the next value of a column of your CSV file."

    @property
    def description(self) -> str:
        return (f"Predict the next value of column {self.label} of {Path(str(self.path)).name}; "
                f"normalised to zero mean and unit variance (mean {self.mean:.4g}, "
                f"std {self.std:.4g}).")

    def denormalise(self, values):
        """Back to the file's units: ``v = s * std + mean``."""
        return np.asarray(values) * self.std + self.mean

    def retarget(self, inputs, target, k):
        """The next value follows the input: ``y_{k-1} = x_k``."""
        return next_value_target(inputs, target, k, inputs[k])

    def _generate(self, rng, n):
        T = self.length
        starts = rng.integers(0, len(self.series) - T, n)
        windows = self.series[starts[:, None] + np.arange(T + 1)]
        return windows[:, :-1, None], windows[:, 1:, None], np.ones((n, T))
