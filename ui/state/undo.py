"""An undo stack without Qt: commands with ``redo``/``undo``, merged while one drag goes on.

``push(command)`` runs ``command.redo()`` and records it, dropping whatever could have been
redone; a command whose ``merge(previous)`` returns True is folded into the previous one
instead (the moves of one mouse drag become one undo step). At most ``limit`` commands are
kept. ``events.changed`` fires after every change, for the Undo/Redo actions' state and text.
"""

from __future__ import annotations

from typing import Protocol

from psygnal import Signal, SignalGroup

UNDO_LIMIT = 500


class Command(Protocol):
    text: str

    def redo(self) -> None: ...

    def undo(self) -> None: ...

    def merge(self, previous: Command) -> bool:
        """Fold this command into ``previous`` (which then does both); False to keep both."""
        ...


class UndoEvents(SignalGroup):
    changed = Signal()


class UndoStack:
    def __init__(self, limit: int = UNDO_LIMIT):
        self.limit = limit
        self.events = UndoEvents()
        self._done: list[Command] = []
        self._undone: list[Command] = []

    def push(self, command: Command) -> None:
        command.redo()
        self._undone.clear()
        if not (self._done and command.merge(self._done[-1])):
            self._done.append(command)
            del self._done[: -self.limit]
        self.events.changed.emit()

    def undo(self) -> bool:
        if not self._done:
            return False
        command = self._done.pop()
        command.undo()
        self._undone.append(command)
        self.events.changed.emit()
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        command = self._undone.pop()
        command.redo()
        self._done.append(command)
        self.events.changed.emit()
        return True

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self.events.changed.emit()

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def __len__(self) -> int:
        """How many steps can be undone."""
        return len(self._done)
