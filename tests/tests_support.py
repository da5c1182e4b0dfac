"""Helpers shared by the tests (importable as ``tests_support``: pytest puts tests/ on the path)."""

from __future__ import annotations

import queue


class Mailbox:
    """A ``post`` for a threaded ``JobRunner``: callbacks wait here until the test runs them,
    as the UI thread's event loop would."""

    def __init__(self):
        self.calls: queue.Queue = queue.Queue()

    def __call__(self, fn) -> None:
        self.calls.put(fn)

    def run_until(self, condition, timeout: float = 10.0) -> None:
        """Run posted callbacks until ``condition()`` holds (each wait at most ``timeout``)."""
        while not condition():
            self.calls.get(timeout=timeout)()
