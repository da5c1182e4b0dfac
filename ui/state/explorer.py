"""What the explorer shows, without Qt: the sequence, the columns, the cursor and the selection.

``ExplorerState`` holds plain data and announces each kind of change through its own event
(``state.events``, psygnal); views subscribe to the events they draw and read the fields, and
only the controller (``ui.state.controller.Explorer``) changes them:

============================  =======================================================
event                         when
============================  =======================================================
``sequence()``                a new task, inputs, target or preset: every column re-traces
``inputs_edited(k)``          the input at step k was edited (the columns follow later)
``columns()``                 a column was added, removed or reconfigured
``column_ready(column_id)``   a column's trace arrived (or failed: ``column.error``)
``rows_ready(column_id, name)`` a gradient row arrived (``"flow"``, ``"memory"``,
                              ``"saliency"``)
``map_progress(column_id, f)``  the whole flow map being computed is a fraction f done
``map_ready(column_id)``      the whole flow map arrived (or failed: ``column.map_error``)
``t(t)``                      the cursor moved (``state.t = ...`` announces it)
``selection(selection)``      the selected unit changed (``state.selection = ...``)
``highlights(highlights)``    the framed panels changed (``state.highlights = ...``)
``message(text, warning)``    one line for the status bar (warnings also in the banner)
``busy(busy)``                background work started or ended
============================  =======================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import Signal, SignalGroup

from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.trace import Trace, TraceTime
from rnnviz.files.lessons import Highlight
from rnnviz.files.presets import ModelConfig, Preset


@dataclass(eq=False)
class Column:
    """One model on screen. ``unit`` is the layer and direction shown (``l0``, ``l1_reverse``);
    ``rows`` the gradient rows computed for one step each, ``name: (t, row (T,))``;
    ``flow_map`` the whole gradient-flow map ``(T, T)`` per unit with the trace it belongs to
    (``Explorer.compute_flow_map``; read it through ``shown_flow_map``); ``trace_time`` how
    long the column's last whole trace took (``rnnviz.core.trace.TraceTime``: a retrace
    spliced in after an input edit computes only the steps from the edit, and keeps it)."""

    id: int
    config: ModelConfig
    model: Model | None = None
    trace: Trace | None = None
    unit: str = "l0"
    rows: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    error: str | None = None
    flow_map: tuple[Trace, dict[str, np.ndarray]] | None = None
    map_error: str | None = None
    trace_time: TraceTime | None = None

    @property
    def ready(self) -> bool:
        return self.trace is not None

    def row(self, name: str, t: int | None = None) -> np.ndarray | None:
        """The row ``name`` ("flow", "memory" or "saliency"), if computed for step ``t`` (any
        step when ``t`` is None)."""
        if name not in self.rows or (t is not None and self.rows[name][0] != t):
            return None
        return self.rows[name][1]

    def shown_flow_map(self) -> np.ndarray | None:
        """The shown unit's ``(T, T)`` flow map, if computed for the trace on screen."""
        if self.flow_map is None or self.flow_map[0] is not self.trace:
            return None
        return self.flow_map[1].get(self.unit)


def trace_time_words(timing: TraceTime | None) -> tuple[str, str]:
    """A column header's measured trace time, ``("trace 1.8 ms, sequential scan", tooltip)``;
    empty words for a column not traced yet."""
    if timing is None:
        return "", ""
    ms = 1000 * timing.seconds
    figure = f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"
    how = ("all steps at once (an associative scan)" if timing.scan == "parallel"
           else "one step after another (a lax.scan of the step)")
    return (f"trace {figure} ms, {timing.scan} scan",
            f"The column's last whole trace: its forward pass (and its gradient, where "
            f"the task has a target) through "
            f"{timing.steps} steps, computed {how}, took {figure} ms of wall time on this "
            f"machine (measured, compilation not counted; it varies with the load).")


@dataclass(frozen=True)
class Selection:
    """A selected hidden unit: its column's id, the row (``"h"``, ``"c"`` or a gate letter)
    and the unit's index."""

    column: int
    name: str
    index: int


class ExplorerEvents(SignalGroup):
    """The state's events (see the module docstring)."""

    sequence = Signal()
    inputs_edited = Signal(int)
    columns = Signal()
    column_ready = Signal(int)
    rows_ready = Signal(int, str)
    map_progress = Signal(int, float)
    map_ready = Signal(int)
    t = Signal(int)
    selection = Signal(object)
    highlights = Signal(object)
    message = Signal(str, bool)
    busy = Signal(bool)


class ExplorerState:
    """The explorer's data (see the module docstring). Setting ``t`` or ``selection``
    announces the change; the controller announces the rest."""

    def __init__(self):
        self.events = ExplorerEvents()
        self.preset: Preset | None = None
        self.task: Any = None
        self.example_seed = 0
        self.inputs = np.zeros((1, 1), np.float32)
        self.target: Target | None = None
        self.labels: list[str] | None = None
        self.columns: list[Column] = []
        self._t = 0
        self._selection: Selection | None = None
        self._highlights: tuple[Highlight, ...] = ()

    @property
    def t(self) -> int:
        """The time cursor, ``0 <= t < steps``."""
        return self._t

    @t.setter
    def t(self, value: int) -> None:
        if value != self._t:
            self._t = value
            self.events.t.emit(value)

    @property
    def selection(self) -> Selection | None:
        return self._selection

    @selection.setter
    def selection(self, value: Selection | None) -> None:
        if value != self._selection:
            self._selection = value
            self.events.selection.emit(value)

    @property
    def highlights(self) -> tuple[Highlight, ...]:
        """The panels framed now (the preset's ``highlight``, or a lesson step's)."""
        return self._highlights

    @highlights.setter
    def highlights(self, value: tuple[Highlight, ...]) -> None:
        if value != self._highlights:
            self._highlights = value
            self.events.highlights.emit(value)

    def highlighted(self, column_id: int) -> set[str]:
        """The panels framed in column ``column_id`` (``gates`` stands for every gate row)."""
        index = self.index_of(column_id) if self.find(column_id) is not None else -1
        return {h.panel for h in self._highlights if h.models is None or index in h.models}

    @property
    def steps(self) -> int:
        return len(self.inputs)

    def find(self, column_id: int) -> Column | None:
        """The column with this id, or None once it is gone."""
        return next((c for c in self.columns if c.id == column_id), None)

    def column(self, column_id: int) -> Column:
        column = self.find(column_id)
        if column is None:
            raise KeyError(f"no column {column_id}")
        return column

    def index_of(self, column_id: int) -> int:
        return [c.id for c in self.columns].index(column_id)

    def announce_all(self) -> None:
        """Tell every view that everything changed: a new preset, session or task."""
        self.events.sequence.emit()
        self.events.columns.emit()
        self.events.t.emit(self._t)
        self.events.selection.emit(self._selection)
        self.events.highlights.emit(self._highlights)
