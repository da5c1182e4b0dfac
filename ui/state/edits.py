"""The undoable changes of the explorer's sequence, and the traces kept for undo.

``InputEdit``: the input at step k goes from one value (with its target and label) to
another; the moves of one mouse drag merge into one command. ``TaskChange``: a new task and
example, with every column's config and model as they were, so undo puts them back.
``TraceCache`` keeps complete traces by (column, weights, inputs and target), so that undo and
redo show the exact arrays from before without recomputing them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnviz.core.losses import Target

if TYPE_CHECKING:
    from .controller import Explorer
    from .explorer import Column

CACHE_BYTES = 256 * 2**20


class InputEdit:
    """The input at step ``k`` goes from ``old`` to ``new``, each ``(x, target, label)``."""

    def __init__(self, explorer: Explorer, k: int, old: tuple, new: tuple, drag: int | None):
        self.text = f"edit input at step {k}"
        self.explorer, self.k, self.old, self.new, self.drag = explorer, k, old, new, drag

    def merge(self, previous) -> bool:
        if (not isinstance(previous, InputEdit) or self.drag is None
                or previous.drag != self.drag or previous.k != self.k):
            return False
        previous.new = self.new
        return True

    def redo(self) -> None:
        self.explorer.apply_input(self.k, *self.new)

    def undo(self) -> None:
        self.explorer.apply_input(self.k, *self.old)


@dataclass
class SequenceState:
    """Everything a task change replaces: the task, its example and the columns' models."""

    task: Any
    seed: int
    inputs: np.ndarray
    target: Target | None
    labels: list[str] | None
    preset: Any
    models: dict[int, tuple]   # column id: (config, model)


class TaskChange:
    def __init__(self, explorer: Explorer, old: SequenceState, new: SequenceState):
        self.text = f"task: {getattr(new.task, 'title', new.task)}"
        self.explorer, self.old, self.new = explorer, old, new
        self._first = True

    def merge(self, previous) -> bool:
        return False

    def redo(self) -> None:
        self.explorer.apply_sequence(self.new, announce=self._first)
        self._first = False

    def undo(self) -> None:
        self.explorer.apply_sequence(self.old, announce=False)


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


def first_change(before: np.ndarray, after: np.ndarray) -> int:
    """The first step whose input differs (the last step when none does)."""
    changed = np.flatnonzero(np.any(before != after, axis=1))
    return int(changed[0]) if changed.size else len(after) - 1


def fits(model, task) -> bool:
    """Whether ``model`` reads and writes as many features as ``task`` has."""
    return (model.spec.in_size, model.spec.out_size) == (task.input_size, task.output_size)
