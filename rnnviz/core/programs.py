"""A bound on the compiled programs a process keeps.

XLA specialises a jitted function on its arguments' shapes, so the engine compiles programs
for each model spec and sequence length ``T`` it runs, and JAX keeps every program for the
life of the process. The window meets many (spec, ``T``) pairs over a lesson (each task
change, each column edited) and the explorer's programs for one pair take about 13 MB (the
trace with BPTT, the gradient-flow, memory and saliency rows; benchmarks/bench_task_memory.py):
without a bound the window only grows, by about 40 MB for each new task length of three
columns.

``PROGRAMS.use(spec, T, ...)`` is called before the engine runs a (spec, ``T``) pair (the
trace, the gradient rows, an input edit's splice, a training run with its batch settings).
When a pair beyond ``MAX_LIVE`` comes, ``jax.clear_caches()`` drops every compiled program
and staged function first, and the pairs still in use compile again at their next call (read
back from JAX's persistent compilation cache when the app enabled it, see
``rnnviz.compile_cache``). Results do not change: the same programs are compiled again.

Why every program and not the least recently used pair's: JAX can drop a jitted function's
whole cache (``clear_cache``) or everything, not one entry; and a function's own
``clear_cache`` leaves the staging caches and the programs of eager operations (drawing
weights for a new shape, say) behind, which still grew the window by about 3 MB per task
length, where ``jax.clear_caches()`` keeps it flat. ``jax.clear_caches`` holds the GIL and
is safe while another thread runs a compiled program: a training run on its own thread only
compiles its next chunk again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import jax

MAX_LIVE = 16   # pairs: e.g. three columns at five task lengths, and a training run


class ProgramBudget:
    """Counts the (spec, length, ...) keys run since the last ``clear`` and calls ``clear``
    when one more than ``max_live`` comes."""

    def __init__(self, max_live: int = MAX_LIVE, clear: Callable[[], None] = jax.clear_caches):
        self.max_live = max_live
        self._clear = clear
        self._live: OrderedDict[tuple, None] = OrderedDict()
        self._lock = threading.Lock()
        self.drops = 0  # how many times the programs were dropped (tests, benchmarks)

    def use(self, spec: Hashable, steps: int, *more: Hashable) -> None:
        """The engine is about to run ``spec`` on ``steps`` steps (``more``: anything else its
        programs depend on, a batch size, say); beyond the budget every program compiled so
        far is dropped first."""
        key = (spec, int(steps), *more)
        with self._lock:
            if key in self._live:
                self._live.move_to_end(key)
                return
            if len(self._live) >= self.max_live:
                self._drop()
            self._live[key] = None

    def live(self) -> list[tuple]:
        """The keys run since the last drop, oldest first."""
        with self._lock:
            return list(self._live)

    def clear(self) -> None:
        """Drop every compiled program now."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        self._clear()
        self._live.clear()
        self.drops += 1


PROGRAMS = ProgramBudget()
