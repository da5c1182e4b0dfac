"""Helpers shared by the tests (importable as ``tests_support``: pytest puts tests/ on the path)."""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnviz.ui.state.controller import Explorer


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


def settle(explorer: Explorer) -> None:
    """Run every job and every armed timer until nothing is left."""
    for _ in range(20):
        ran = explorer.jobs.run_pending()
        fired = explorer._memory_timer.fire() | explorer._flush_timer.fire()  # noqa: SLF001
        if not ran and not fired:
            return
    raise AssertionError("the explorer did not settle")


# a small lesson the lesson tests share: two columns, a selection, a frame, a tab, a played
# range with a change and a choice question, and a question answered by a click on a step
TINY_LESSON = """title = "Tiny lesson"
description = "Two small columns on a short sine."
[task]
name = "sine"
length = 40
[[models]]
cell = "rnn"
hidden_size = 4
[[models]]
cell = "lstm"
hidden_size = 3

[[lesson]]
text = "The {h:hidden state}; the LSTM's {c:cell state}."
step = 5
select = { model = 1, row = "c", unit = 2 }
highlight = ["h", { panel = "c", models = [1] }]
tab = "trajectory"

[[lesson]]
text = "Play it."
play = [5, 12]
clear = true
change = { model = 0, spectral_radius = 2.0 }

[lesson.question]
ask = "Which forgets first?"
choices = ["RNN", "LSTM"]
answer = 0
why = "It has no {gates:gates}."

[[lesson]]
text = "Click where it peaks."

[lesson.question]
ask = "Where?"
steps = [10, 14]
"""
