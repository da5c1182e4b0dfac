"""``--threads N`` for the benchmarks: XLA reads its thread count from ``XLA_FLAGS`` when JAX
starts, so this module is imported before JAX and sets it from the command line (Eigen
single-threaded when N is 1). ``THREADS`` is N, or None when not given."""

from __future__ import annotations

import os
import sys


def _threads_from_argv() -> int | None:
    for i, arg in enumerate(sys.argv[:-1]):
        if arg == "--threads":
            return int(sys.argv[i + 1])
    return None


THREADS = _threads_from_argv()
if THREADS is not None:
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen="
                               f"{'false' if THREADS == 1 else 'true'} "
                               f"intra_op_parallelism_threads={THREADS}")
