"""JAX's persistent compilation cache, so that a second start of the app skips most of the
compiling (measured in benchmarks/bench_engine.py)."""

from __future__ import annotations

import os
from pathlib import Path

import jax


def enable(folder: str | os.PathLike | None = None) -> Path:
    """Cache compiled programs in ``folder`` (default: the user's cache folder, or
    ``RNNVIZ_CACHE_DIR``)."""
    if folder is None:
        import platformdirs

        folder = os.environ.get("RNNVIZ_CACHE_DIR") or Path(
            platformdirs.user_cache_dir("rnnviz")) / "jax"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    return folder
