"""The one XLA option rnnviz sets: compile each batch-1 scan as one kernel.

XLA's CPU runtime runs a ``lax.scan`` (a while loop) as a sequence of separately dispatched
kernels per step: the recurrent matvec, each elementwise fusion, each record's write. At batch
1 those kernels are a few microseconds each and the dispatch between them is a good part of a
step. XLA can instead compile a whole while loop into one kernel ("small while-loop hoisting"),
but only for loops whose buffers total less than ``xla_cpu_small_while_loop_byte_threshold``
bytes, 1 KiB by default, which no trace reaches. rnnviz raises it so that every loop qualifies.

What XLA then hoists: the batch-1 scans of traces and gradient rows (an LSTM trace 1.16x to
1.27x faster in ``benchmarks/bench_cpu_levers.py``; more figures in the README). What it leaves
alone: a loop whose matmul runs in YNNPACK, as training's batch-32 scans do, which it never
hoists.

XLA reads ``XLA_FLAGS`` once, when JAX starts its CPU backend, so ``configure`` runs when
rnnviz is imported, before any computation. A process that has already run JAX code, or whose
``XLA_FLAGS`` already sets ``--xla_backend_extra_options``, keeps what it has.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

SMALL_LOOP_OPTION = "xla_cpu_small_while_loop_byte_threshold"
SMALL_LOOP_BYTES = 1 << 40      # any loop: the threshold is a size, not a cost


def configure(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Add the small-loop threshold to ``environ["XLA_FLAGS"]`` unless extra backend options
    are already set there. Returns whether it was added."""
    flags = environ.get("XLA_FLAGS", "")
    if "xla_backend_extra_options" in flags:
        return False
    option = f"--xla_backend_extra_options={SMALL_LOOP_OPTION}={SMALL_LOOP_BYTES}"
    # first: XLA ignores every flag after a word that is not one
    environ["XLA_FLAGS"] = f"{option} {flags}".strip()
    return True
