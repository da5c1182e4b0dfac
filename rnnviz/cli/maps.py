"""The ``(T, T)`` arrays of ``rnnviz trace`` (``grad_flow_u``, ``memory_u``) within a budget.

Before anything is computed, each map's time (``gradient_maps.map_cost`` at the matmul rate
measured in this process times ``EFFICIENCY``) and size are estimated. A map over
``TIME_BUDGET_S`` or ``MEMORY_BUDGET_BYTES`` is left out with one line on stderr saying how
large it would be and how to ask for it (``--full``) or for chosen rows (``--flow-rows``,
written as ``grad_flow_rows_u (R, T)`` with ``flow_rows (R,)``). Work estimated over
``PROGRESS_AFTER_S`` shows a progress line. What no budget lets through (``--full`` maps and
chosen rows over ``MAX_MATRIX_VALUES`` together) is refused by ``check_asked`` before the
trace starts.
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from rnnviz.core import gradient_maps
from rnnviz.core.gradient_maps import MapCost
from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.trace import Trace, check_matrices
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_MATRIX_VALUES

TIME_BUDGET_S = 30.0
MEMORY_BUDGET_BYTES = 512 << 20
EFFICIENCY = 0.25        # of the matmul rate: the maps reach about half of it alone (see
                         # docs/performance.md), and the machine may be shared
PROGRESS_AFTER_S = 2.0
BAR = 24


def parse_rows(text: str, steps: int) -> np.ndarray:
    """``"0,99,500-509"`` as the steps ``[0, 99, 500, ..., 509]``; one line for anything that
    is not a step in ``0..steps-1``."""
    rows: list[int] = []
    most = max(1, MAX_MATRIX_VALUES // max(1, steps))  # rows of one unit's (R, T) array
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            lo = int(first)
            hi = int(last) if last else lo
        except ValueError:
            raise RnnvizError(f"--flow-rows {text!r}: expected steps like 0,99,500-509") \
                from None
        if not 0 <= lo <= hi < steps:
            raise RnnvizError(f"--flow-rows {text!r}: {part.strip()} is not within the "
                              f"steps 0..{steps - 1}")
        if len(rows) + hi - lo + 1 > most:
            raise RnnvizError(f"--flow-rows {text[:60]!r}: more than {most} rows over {steps} "
                              f"steps; at most {MAX_MATRIX_VALUES} values (limit "
                              f"MAX_MATRIX_VALUES)")
        rows.extend(range(lo, hi + 1))
    return np.asarray(rows, np.int32)


def check_asked(spec, steps: int, *, target: bool, flow: bool, memory: bool, full: bool,
                rows: int | None) -> None:
    """One-line ``RnnvizError`` before anything is computed (``add_maps`` relies on it): flow
    rows asked for without a ``target``, or arrays asked for outright, the full maps with
    ``full`` (``flow`` only with a target) and ``rows`` flow rows ``(R, T)``, one of each per
    unit, holding more than ``MAX_MATRIX_VALUES`` values."""
    if rows is not None and not target:
        raise RnnvizError("--flow-rows: expected --target too (the rows are gradients of the "
                          "loss)")
    flow = flow and target
    if full:
        check_matrices(spec, steps, flow=flow, memory=memory)
    units = len(spec.units)
    maps = (int(flow) + int(memory)) * units * steps * steps if full else 0
    values = maps + (rows or 0) * units * steps
    if rows and values > MAX_MATRIX_VALUES:
        also = f" beside the --full maps' {maps}" if maps else ""
        raise RnnvizError(f"--flow-rows: {rows} rows of {steps} steps for each of {units} "
                          f"unit(s) would hold {rows * units * steps} values{also}; at most "
                          f"{MAX_MATRIX_VALUES} (limit MAX_MATRIX_VALUES): ask for fewer rows")


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


class Reporter:
    """A progress line on ``stream`` for work estimated to take long."""

    def __init__(self, what: str, seconds: float, stream: TextIO):
        self.what, self.stream, self.shown = what, stream, seconds > PROGRESS_AFTER_S

    def __call__(self, fraction: float) -> None:
        if self.shown:
            filled = int(round(BAR * fraction))
            self.stream.write(f"\r  {self.what} [{'#' * filled}{'.' * (BAR - filled)}] "
                              f"{100 * fraction:3.0f}%")
            if fraction >= 1:
                self.stream.write("\n")
            self.stream.flush()


def add_maps(model: Model, xs, target: Target | None, trace: Trace, *, flow: bool,
             memory: bool, full: bool, flow_rows: np.ndarray | None,
             stream: TextIO | None = None) -> Trace:
    """``trace`` with the flow map (with a target and ``flow``), the memory maps (with
    ``memory``) and the chosen flow rows added, each full map only within the budget unless
    ``full``; what is left out is said on ``stream`` (default: stderr). What was asked for is
    checked by ``check_asked`` first, before the trace."""
    stream = sys.stderr if stream is None else stream
    spec, steps = model.spec, trace.steps
    arrays = dict(trace.arrays)
    rate = None
    wanted = [kind for kind, on in (("flow", flow and target is not None), ("memory", memory))
              if on]
    if wanted or flow_rows is not None:
        rate = gradient_maps.matmul_rate() * EFFICIENCY
    for kind in wanted:
        cost = gradient_maps.map_cost(spec, steps, kind)
        assert rate is not None
        if not full and (cost.seconds(rate) > TIME_BUDGET_S
                         or cost.out_bytes > MEMORY_BUDGET_BYTES):
            stream.write(_left_out(kind, cost, rate, steps, len(spec.units)) + "\n")
            continue
        check_matrices(spec, steps, flow=kind == "flow", memory=kind == "memory")
        report = Reporter(f"{kind} map", cost.seconds(rate), stream)
        if kind == "flow":
            assert target is not None
            maps = model.flow_map(xs, target, progress=report)
            arrays.update({f"grad_flow_{u}": m for u, m in maps.items()})
        else:
            for unit in spec.units:
                arrays[f"memory_{unit}"] = model.memory_map(xs, unit, progress=report)
    if flow_rows is not None:
        assert target is not None  # check_asked said so before the trace
        cost = gradient_maps.map_cost(spec, steps, "flow", rows=len(flow_rows))
        assert rate is not None
        maps = model.flow_map(xs, target, flow_rows,
                              progress=Reporter("flow rows", cost.seconds(rate), stream))
        arrays.update({f"grad_flow_rows_{u}": m for u, m in maps.items()})
        arrays["flow_rows"] = flow_rows
    return Trace(spec, arrays)


def _left_out(kind: str, cost: MapCost, rate: float, steps: int, units: int) -> str:
    name = "grad_flow_*" if kind == "flow" else "memory_*"
    ask = ("--full computes it, --flow-rows 0,99,500-509 only chosen rows" if kind == "flow"
           else "--full computes it")
    return (f"left out {name}: ({steps}, {steps}) for each of {units} unit(s), "
            f"{_size(cost.out_bytes)} in all, about {cost.seconds(rate):.0f} s here "
            f"(budget {TIME_BUDGET_S:.0f} s, {_size(MEMORY_BUDGET_BYTES)}); {ask}")
