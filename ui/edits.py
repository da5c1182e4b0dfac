"""Editing the explorer's sequence: input edits and task changes, with undo and redo.

Every change goes through a ``QUndoStack`` command, so Undo (Ctrl+Z) and Redo (Ctrl+Shift+Z)
cover all of them. An input edit at step k updates the model's inputs at once (the views
repaint the input strip before the worker answers) and asks the worker, per column, for the
forward from step k only, spliced into the column's trace (``rnnviz.splice``), and for the
gradient arrays over the whole sequence. Traces already computed for an input are kept in a
small cache, so undo and redo put back the exact arrays without the worker.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack

from rnnviz import columns as engine
from rnnviz.losses import Target
from rnnviz.splice import bptt_arrays, retarget, retrace_from, with_arrays

if TYPE_CHECKING:
    from ui.explorer import Column, ExplorerModel

UNDO_LIMIT = 500
DRAG_RECOMPUTE_MS = 100  # while dragging, the columns recompute at most this often
CACHE_BYTES = 256 * 2**20
_INPUT_EDIT_ID = 1001


# -- the commands ------------------------------------------------------------------------------
class InputEdit(QUndoCommand):
    """The input at step ``k`` goes from ``old`` to ``new`` (with its target and label).
    Consecutive edits of one drag merge into one command."""

    def __init__(self, edits: SequenceEdits, k: int, old: tuple, new: tuple, drag: int | None):
        super().__init__(f"edit input at step {k}")
        self.edits, self.k, self.old, self.new, self.drag = edits, k, old, new, drag

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return _INPUT_EDIT_ID

    def mergeWith(self, other) -> bool:  # noqa: N802 (Qt's name)
        if (not isinstance(other, InputEdit) or self.drag is None or other.drag != self.drag
                or other.k != self.k):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.edits.apply_input(self.k, *self.new)

    def undo(self) -> None:
        self.edits.apply_input(self.k, *self.old)


@dataclass
class SequenceState:
    """Everything a task change replaces: the task, its example and the columns' models."""

    task: object
    seed: int
    inputs: np.ndarray
    target: Target | None
    labels: list[str] | None
    preset: object
    models: dict[int, tuple]   # column id: (config, model)


class TaskChange(QUndoCommand):
    def __init__(self, edits: SequenceEdits, old: SequenceState, new: SequenceState):
        super().__init__(f"task: {getattr(new.task, 'title', new.task)}")
        self.edits, self.old, self.new = edits, old, new
        self._first = True

    def redo(self) -> None:
        self.edits.apply_state(self.new, announce=self._first)
        self._first = False

    def undo(self) -> None:
        self.edits.apply_state(self.old, announce=False)


# -- traces already computed -------------------------------------------------------------------
def digest(inputs: np.ndarray, target: Target | None) -> bytes:
    h = hashlib.blake2b(np.ascontiguousarray(inputs).tobytes(), digest_size=16)
    if target is not None:
        h.update(np.ascontiguousarray(target.values).tobytes())
        h.update(np.ascontiguousarray(target.mask).tobytes())
    return h.digest()


class TraceCache:
    """Complete traces by (column, weights, inputs and target), least recently used dropped
    first once they hold more than ``max_bytes``."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def put(self, column: Column, key: bytes) -> None:
        if column.trace is None or column.model is None:
            return
        item = (column.id, id(column.model.params), key)
        if item in self._items:
            self._items.move_to_end(item)
            return
        size = sum(a.nbytes for a in column.trace.arrays.values())
        # the params object is kept so that its id cannot be reused by other weights
        self._items[item] = (column.model.params, column.trace, size)
        self._bytes += size
        while self._bytes > self.max_bytes and len(self._items) > 1:
            _, (_, _, dropped) = self._items.popitem(last=False)
            self._bytes -= dropped

    def get(self, column: Column, key: bytes):
        if column.model is None:
            return None
        item = (column.id, id(column.model.params), key)
        hit = self._items.get(item)
        if hit is None or hit[0] is not column.model.params:
            return None
        self._items.move_to_end(item)
        return hit[1]


# -- the editor --------------------------------------------------------------------------------
class SequenceEdits(QObject):
    """The undo stack and the work behind every edit of an ``ExplorerModel``'s sequence."""

    def __init__(self, model: ExplorerModel):
        super().__init__(model)
        self.model = model
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self.cache = TraceCache()
        self._drags = itertools.count(1)
        self.dragging = False
        # during a drag the input strip follows every move, the columns every 100 ms: each
        # trace that lands refills every view, which would otherwise starve the moves
        self._flush_timer = QTimer(self, singleShot=True, interval=DRAG_RECOMPUTE_MS)
        self._flush_timer.timeout.connect(self.flush)
        # per column: the inputs and target its trace on screen was computed from, and those
        # of the job on its way (generation, inputs, target); columns edited since their job
        self._basis: dict[int, tuple] = {}
        self._in_flight: dict[int, tuple] = {}
        self._waiting: set[int] = set()
        # connected after the model's own handler, which stores the trace first
        model.runner.done.connect(self._on_done)

    def reset(self) -> None:
        """A new sequence: forget what was computed for the old one (and, for a new preset,
        the history)."""
        self.stack.clear()
        self.cache.clear()
        self._forget()

    def _forget(self) -> None:
        self._basis.clear()
        self._in_flight.clear()
        self._waiting.clear()

    def is_current(self, column: Column) -> bool:
        """Whether the column's trace is the one of the sequence shown now."""
        basis = self._basis.get(column.id)
        m = self.model
        return (column.trace is not None and basis is not None and basis[0] is m.inputs
                and basis[1] is m.target)

    def begin_drag(self) -> int:
        """Start a mouse drag; returns the id that merges its edits into one undo step."""
        self.dragging = True
        return next(self._drags)

    def end_drag(self) -> None:
        self.dragging = False
        self.flush()

    # -- input edits -------------------------------------------------------------------------
    def set_input(self, k: int, x, *, drag: int | None = None) -> bool:
        """Set the input at step ``k`` to ``x`` (``(I,)``) as an undoable edit; False (and a
        message) if ``x`` is not a finite vector of the input's size."""
        m = self.model
        k = int(k)
        x = np.asarray(x, np.float32).reshape(-1)
        if not 0 <= k < m.steps:
            m.message.emit(f"step: expected 0..{m.steps - 1}, got {k}")
            return False
        if x.shape != (m.inputs.shape[1],) or not np.all(np.isfinite(x)):
            m.message.emit(f"input at step {k}: expected {m.inputs.shape[1]} finite "
                           f"number(s), got {x.tolist()}")
            return False
        if np.array_equal(x, m.inputs[k]):
            return True
        inputs = m.inputs.copy()
        inputs[k] = x
        target = m.target
        if target is not None:
            target = retarget(m.task, inputs, target, k)
        labels = m.labels
        label = m.task.decode(x[None])[0] if labels is not None else None
        old = (m.inputs[k].copy(), m.target, labels[k] if labels is not None else None)
        self.stack.push(InputEdit(self, k, old, (x, target, label), drag))
        return True

    def apply_input(self, k: int, x: np.ndarray, target: Target | None, label) -> None:
        """Make the input at ``k`` equal ``x`` now, and let every column follow."""
        m = self.model
        key_before = digest(m.inputs, m.target)
        for column in m.columns:
            if self.is_current(column):
                self.cache.put(column, key_before)
        # a new array: jobs already on the worker keep reading the one they were given
        inputs = m.inputs.copy()
        inputs[k] = x
        m.inputs, m.target = inputs, target
        if m.labels is not None:
            m.labels = [*m.labels[:k], label, *m.labels[k + 1:]]
        m.inputs_edited.emit(k)
        for column in m.columns:
            if column.model is None or column.trace is None or column.error:
                m._submit_trace(column)  # noqa: SLF001 (built and traced from scratch)
            else:
                self._waiting.add(column.id)
        if not self.dragging:
            self.flush()
        elif not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Let every edited column follow the inputs now."""
        self._flush_timer.stop()
        if not self._waiting:
            return
        key = digest(self.model.inputs, self.model.target)
        for column in self.model.columns:
            if column.id in self._waiting:
                self._follow(column, key)
        self._waiting.clear()

    def _follow(self, column: Column, key: bytes) -> None:
        m = self.model
        inputs, target = m.inputs, m.target
        cached = self.cache.get(column, key)
        if cached is not None:
            column.generation += 1  # drop whatever is on its way
            column.trace, column.error, column.rows = cached, None, {}
            self._basis[column.id] = (inputs, target)
            m.column_ready.emit(column.id)
            m._submit_rows(column)  # noqa: SLF001
            m._memory_timer.start()  # noqa: SLF001
            return
        basis = self._basis.get(column.id)
        start = 0 if basis is None else _first_change(basis[0], inputs)
        column.generation += 1
        model, base, generation = column.model, column.trace, column.generation
        self._in_flight[column.id] = (generation, inputs, target)

        def job(ctx):
            # only the steps from `start` on: the states before it do not depend on the edit
            trace = retrace_from(model, base, inputs, target, start)
            if target is not None:
                # BPTT of the whole loss: dL/dh_j reaches back through every later step, so
                # the edit changes it at every j (before `start` too), and autodiff needs
                # every step's activations: one full forward and backward pass.
                trace = with_arrays(trace, bptt_arrays(model, inputs, target))
            return generation, model, trace

        m.runner.submit(f"trace:{column.id}", job)

    def _on_done(self, key: str, result) -> None:
        if not key.startswith("trace:"):
            return
        column = self.model._find(key)  # noqa: SLF001
        if column is None or result[0] != column.generation or column.trace is not result[2]:
            return  # the model's handler dropped it
        flight = self._in_flight.pop(column.id, None)
        if flight is not None and flight[0] == result[0]:
            self._basis[column.id] = flight[1:]
        else:
            # a full trace asked for elsewhere: any edit since its request would have asked
            # for a newer one, so it is of the sequence shown now
            self._basis[column.id] = (self.model.inputs, self.model.target)

    # -- task changes ------------------------------------------------------------------------
    def state(self) -> SequenceState:
        m = self.model
        return SequenceState(m.task, m.example_seed, m.inputs, m.target, m.labels, m.preset,
                             {c.id: (c.config, c.model) for c in m.columns})

    def set_task(self, task, seed: int) -> None:
        """Show ``task``'s example ``seed`` as an undoable change."""
        inputs, target = task.example(seed=seed)
        inputs = np.asarray(inputs, np.float32)
        labels = task.decode(inputs)
        old = self.state()
        preset = old.preset
        if preset is not None:
            settings = {f.name: getattr(task, f.name) for f in fields(task) if f.init
                        and getattr(task, f.name) is not None}
            settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
            preset = replace(preset, task=task.name, task_settings=settings,
                             example_seed=int(seed), title=task.title,
                             description=task.description)
        new = SequenceState(task, int(seed), inputs, target, labels, preset, {})
        self.stack.push(TaskChange(self, old, new))

    def apply_state(self, state: SequenceState, *, announce: bool) -> None:
        m = self.model
        before = m.task
        m.task, m.example_seed, m.preset = state.task, state.seed, state.preset
        m.inputs, m.target, m.labels = state.inputs, state.target, state.labels
        m.t = min(m.t, m.steps - 1)
        m.selection = None
        self._forget()
        rebuilt = []
        for column in m.columns:
            if column.id in state.models:
                column.config, column.model = state.models[column.id]
            elif not _still_fits(column, before, state.task):
                # other sizes: fresh seeded weights (a weights file cannot be read any more)
                column.model = None
                column.config = replace(column.config, weights=None)
                rebuilt.append(column.config.title)
            column.trace, column.rows, column.error = None, {}, None
        m.sequence_changed.emit()
        m.columns_changed.emit()
        m.cursor_changed.emit(m.t)
        m.selection_changed.emit()
        for column in m.columns:
            if column.model is None:
                m._submit_trace(column)  # noqa: SLF001 (fresh seeded weights)
            else:
                self._retrace(column)
        if announce:
            task = state.task
            text = f"task: {task.title}, {len(state.inputs)} steps, example {state.seed}"
            if rebuilt:
                text += (f"; new input/output sizes {task.input_size}/{task.output_size}: "
                         f"{', '.join(rebuilt)} rebuilt with fresh seeded weights")
            m.message.emit(text)

    def _retrace(self, column: Column) -> None:
        """Trace a column's own model (weights kept) on the current sequence."""
        m = self.model
        column.generation += 1
        model, generation, inputs, target = column.model, column.generation, m.inputs, m.target

        def job(ctx):
            return generation, model, engine.trace_column(model, inputs, target)

        m.runner.submit(f"trace:{column.id}", job)


def _first_change(before: np.ndarray, after: np.ndarray) -> int:
    """The first step whose input differs (the last step when none does)."""
    changed = np.flatnonzero(np.any(before != after, axis=1))
    return int(changed[0]) if changed.size else len(after) - 1


def _fits(model, task) -> bool:
    return (model.spec.input_size, model.spec.out_size) == (task.input_size, task.output_size)


def _still_fits(column: Column, before, task) -> bool:
    """Whether ``column`` keeps its weights on ``task`` (shown after the task ``before``).

    A built model fits when its sizes are the task's. A column whose model has not arrived
    yet (or failed) is built from its config: seeded weights are drawn for the task and fit
    any; a weights file was opened for the task shown before, so it fits when the new task
    has that task's sizes (its own sizes are read only on the worker)."""
    if column.model is not None:
        return _fits(column.model, task)
    if column.config.weights is None:
        return True
    return before is not None and (before.input_size, before.output_size) == (
        task.input_size, task.output_size)

