"""What the Qt-free state needs from Qt: a way to run callbacks on the UI thread, and timers.

``QtPost()`` is the ``post`` of a ``ui.state.jobs.JobRunner``: called on the worker thread with a
function, it runs that function on the thread that made it (the UI thread), through a queued
signal. ``qt_timer`` is the controller's ``TimerFactory``: a single-shot ``QTimer``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from .state.controller import Explorer
from .state.jobs import JobRunner, default_workers


class _Relay(QObject):
    call = Signal(object)


class QtPost:
    """Run callbacks on the thread that made this object, whichever thread posts them."""

    def __init__(self):
        self._relay = _Relay()
        self._relay.call.connect(lambda fn: fn(), Qt.ConnectionType.QueuedConnection)

    def __call__(self, fn: Callable[[], None]) -> None:
        self._relay.call.emit(fn)


class _QtTimer:
    def __init__(self, interval_ms: int, callback: Callable[[], None]):
        self._timer = QTimer(singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(callback)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def is_active(self) -> bool:
        return self._timer.isActive()


def qt_timer(interval_ms: int, callback: Callable[[], None]) -> _QtTimer:
    return _QtTimer(interval_ms, callback)


def qt_runner(name: str = "rnnviz-jobs", workers: int | None = None) -> JobRunner:
    """A job runner whose callbacks arrive on the UI thread, with ``workers`` threads
    (default: one per core, so that the columns' jobs run side by side)."""
    return JobRunner(QtPost(), name=name,
                     workers=default_workers() if workers is None else workers)


def qt_explorer() -> Explorer:
    """The explorer's controller as the window uses it: a worker thread, Qt timers."""
    return Explorer(jobs=qt_runner(), timers=qt_timer)
