"""``--threads N`` for the benchmarks: XLA reads ``XLA_FLAGS`` once, when JAX starts, so this
module is imported before JAX and sets it from the command line. XLA has no thread-count flag:
``--threads 1`` makes its Eigen matmuls single-threaded (``--xla_cpu_multi_thread_eigen=false``;
a scan's body runs on one thread anyway), and any other N leaves XLA on every core. ``THREADS``
is N, or None when not given.

Only ``--xla_...`` flags may go in ``XLA_FLAGS``: XLA stops reading at the first word that is
not one and silently ignores the rest (until 2026-11-25 these benchmarks appended a TensorFlow
option, ``intra_op_parallelism_threads=N``, which hid every flag written after it)."""

from __future__ import annotations

import os
import sys


def _threads_from_argv() -> int | None:
    for i, arg in enumerate(sys.argv[:-1]):
        if arg == "--threads":
            return int(sys.argv[i + 1])
    return None


THREADS = _threads_from_argv()
if THREADS == 1:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_cpu_multi_thread_eigen=false").strip()
