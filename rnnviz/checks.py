"""Checking one setting's value: the numbers and integers of tasks, training options and
exports, each failure one line naming the key, what was expected and what was given.

>>> integer("length", 0, 1, 10_000, limit="MAX_LENGTH")
Traceback (most recent call last):
rnnviz.errors.RnnvizError: length: expected an integer in 1..10000, got 0 (limit MAX_LENGTH)
"""

from __future__ import annotations

import math
from typing import Any, Literal, overload

import numpy as np

from rnnviz.errors import RnnvizError


@overload
def integer(key: str, value: Any, lo: int, hi: int | None = None, *, limit: str = "",
            none: Literal[False] = False) -> int: ...
@overload
def integer(key: str, value: Any, lo: int, hi: int | None = None, *, limit: str = "",
            none: bool) -> int | None: ...
def integer(key: str, value: Any, lo: int, hi: int | None = None, *, limit: str = "",
            none: bool = False) -> int | None:
    """``value`` as an ``int`` if it is an integer in ``lo..hi`` (no upper bound when ``hi`` is
    None; None itself too, with ``none``); else one line naming ``limit``, the constant of
    ``rnnviz.limits`` that ``hi`` is, if any."""
    if value is None and none:
        return None
    if (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < lo
            or (hi is not None and value > hi)):
        expected = f"an integer >= {lo}" if hi is None else f"an integer in {lo}..{hi}"
        tail = f" (limit {limit})" if limit else ""
        raise RnnvizError(f"{key}: expected {expected}{' or None' if none else ''}, "
                          f"got {value!r}{tail}")
    return int(value)


@overload
def number(key: str, value: Any, lo: float, hi: float = math.inf, *, open_lo: bool = False,
           none: Literal[False] = False) -> float: ...
@overload
def number(key: str, value: Any, lo: float, hi: float = math.inf, *, open_lo: bool = False,
           none: bool) -> float | None: ...
def number(key: str, value: Any, lo: float, hi: float = math.inf, *, open_lo: bool = False,
           none: bool = False) -> float | None:
    """``value`` as a ``float`` if it is a real number in ``[lo, hi]`` (``(lo, hi]`` with
    ``open_lo``; None itself too, with ``none``); else one line, the value as it was given
    (0, not 0.0)."""
    if value is None and none:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok:
        converted = float(value)
        ok = (converted > lo if open_lo else converted >= lo) and converted <= hi
    if not ok:
        if math.isinf(hi):
            expected = f"a number {'>' if open_lo else '>='} {lo:g}"
        else:
            expected = f"a number in {'(' if open_lo else '['}{lo:g}, {hi:g}]"
        raise RnnvizError(f"{key}: expected {expected}{' or None' if none else ''}, "
                          f"got {value!r}")
    return converted
