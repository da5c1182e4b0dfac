"""Single-shot timers without Qt, for the controller's debouncing.

The controller asks a ``TimerFactory`` for ``make_timer(interval_ms, callback)``; the window
gives it Qt timers (``ui.qt_support.qt_timer``), tests without Qt ``ManualTimer``s, which fire
only when told to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def start(self) -> None:
        """(Re)start: the callback runs once, ``interval_ms`` after the last start."""

    def stop(self) -> None: ...

    def is_active(self) -> bool: ...


TimerFactory = Callable[[int, Callable[[], None]], Timer]


class ManualTimer:
    """A timer for tests: ``start`` arms it, ``fire()`` runs the callback if it is armed."""

    def __init__(self, interval_ms: int, callback: Callable[[], None]):
        self.interval_ms, self.callback = interval_ms, callback
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def is_active(self) -> bool:
        return self.active

    def fire(self) -> bool:
        if not self.active:
            return False
        self.active = False
        self.callback()
        return True
