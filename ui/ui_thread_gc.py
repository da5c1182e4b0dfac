"""Python's cyclic garbage collector, run only on the UI thread while a window is open.

The collector runs on whichever thread happens to allocate when a generation fills up. The job
threads allocate a lot (JAX tracing), so without this a collection would often run there, and
the cycles it frees can hold Qt objects (a closed column's widgets, a timer): destroying those
off the UI thread is undefined in Qt and, rarely, deadlocks the process. pyqtgraph's
``GarbageCollector`` is the known remedy (automatic collection off, a timer that collects on
the UI thread); ``hold()`` and ``release()`` count the open windows, so automatic collection
comes back, after one collection on the UI thread, once the last window has closed (a
notebook's kernel, or the tests that run after a window's).
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 0.5  # how often the UI thread looks at the generations' counts

_collector: GarbageCollector | None = None
_holders = 0


def hold() -> None:
    """A window opens (call on the UI thread)."""
    global _collector, _holders
    if _holders == 0 and gc.isenabled():
        _collector = GarbageCollector(interval=INTERVAL_S)  # disables automatic collection
    _holders += 1


def release() -> None:
    """A window has closed and its job threads have ended (call on the UI thread)."""
    global _collector, _holders
    _holders = max(_holders - 1, 0)
    if _holders == 0 and _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.collect()
        gc.enable()
