"""One worker thread for all JAX work, with "latest wins" jobs.

``submit(key, fn)`` queues ``fn`` to run on the worker; a job still waiting under the same key
is replaced, so asking for the gradient row of step 12, then 13, then 14 while the worker is
busy computes only 14. Results come back on the UI thread through the queued ``done`` signal;
an exception comes back as one line through ``failed``. A job that wants to report partial
results (training) gets a ``report`` callable and may check ``cancelled()`` between chunks.
On Linux the worker runs at a lower priority (nice +10) than the UI thread, so that on a
machine with few cores a repaint is not kept waiting behind background JAX work.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from rnnviz.errors import RnnvizError


def one_line(exc: BaseException) -> str:
    """An exception as one line: a user error as it is, anything else with its type."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, RnnvizError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class JobCancelled(Exception):
    """Raised inside a job that noticed it was cancelled."""


class JobContext:
    """What a running job may use: ``report(value)`` for partial results and ``cancelled()``."""

    def __init__(self, runner: JobRunner, key: str):
        self._runner, self.key = runner, key

    def report(self, value: Any) -> None:
        self._runner.progress.emit(self.key, value)

    def cancelled(self) -> bool:
        return self._runner._is_cancelled(self.key)  # noqa: SLF001


def lower_thread_priority(niceness: int = 10) -> None:
    """Make the calling thread yield a contended core to the UI thread (Linux: nice +10 for
    this thread only). Threads it starts later inherit it: in the app JAX first runs on the
    worker, so XLA's thread pools, which do the computing, start there and are niced too
    (had JAX run on the UI thread first, they would keep its priority). Elsewhere nothing
    changes."""
    if sys.platform != "linux":  # setpriority(PRIO_PROCESS, tid) means a thread only on Linux
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + niceness,
                                                 19))
    except OSError:
        pass


class JobRunner(QThread):
    done = Signal(object, object)       # key, result
    failed = Signal(object, str)        # key, one-line message
    progress = Signal(object, object)   # key, partial result
    idle_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: dict[str, Callable] = {}
        self._running: str | None = None
        self._cancel: set[str] = set()
        self._stopping = False

    def submit(self, key: str, fn: Callable[[JobContext], Any]) -> None:
        """Run ``fn(context)`` on the worker; replaces a waiting job with the same key. A
        running job with the key that was cancelled stays cancelled: this one is another."""
        with self._cond:
            self._pending.pop(key, None)
            self._pending[key] = fn
            self._cond.notify()
        if not self.isRunning() and not self._stopping:
            self.start()
        self.idle_changed.emit(False)

    def cancel(self, key: str) -> None:
        """Drop a waiting job, and ask a running one to stop at its next check."""
        with self._cond:
            self._pending.pop(key, None)
            if self._running == key:
                self._cancel.add(key)

    def is_idle(self) -> bool:
        with self._cond:
            return not self._pending and self._running is None

    def stop(self) -> None:
        """Finish the running job's current chunk, drop the rest, end the thread."""
        with self._cond:
            self._stopping = True
            self._pending.clear()
            if self._running is not None:
                self._cancel.add(self._running)
            self._cond.notify()
        self.wait()

    def _is_cancelled(self, key: str) -> bool:
        with self._cond:
            return key in self._cancel or self._stopping

    def run(self) -> None:
        lower_thread_priority()
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                key = next(iter(self._pending))
                fn = self._pending.pop(key)
                self._running = key
            try:
                result = fn(JobContext(self, key))
            except JobCancelled:
                result = None
                self.failed.emit(key, "cancelled")
            except Exception as exc:  # shown in the window; the app keeps running
                self.failed.emit(key, one_line(exc))
            else:
                self.done.emit(key, result)
            with self._cond:
                self._running = None
                self._cancel.discard(key)
                idle = not self._pending
            if idle:
                self.idle_changed.emit(True)
