"""Every size rnnviz accepts, in one place: what ``rnnviz check``, the loaders and the engine
refuse before they allocate anything.

Each bound is checked where the value first appears (a preset key, a weight file's keys and
shapes, an ``.npy`` header, a zip member's declared size, a file's size on disk), and every
error names the limit it hit (``... (limit MAX_LENGTH)``), so that a user can find it here.

=========================  ===============  ==================================================
limit                      value            what it bounds
=========================  ===============  ==================================================
``MAX_LENGTH``             100 000          time steps of a sequence: a task's length, an
                                            input or target array, a session's input
``MAX_HIDDEN``             1 024            hidden units of a layer (preset, weights)
``MAX_STATE``              32 768           values of one per-step record of a layer (Mamba's
                                            state, ``d_inner * d_state``; an LRU's ``2N``)
``MAX_LAYERS``             8                stacked layers (preset, weights: the largest
                                            ``_l{k}`` index of a weight key)
``MAX_FEATURES``           4 096            a model's input and output sizes (weights)
``MAX_VOCAB``              256              distinct characters of a text task
``MAX_TOKENS``             2**20            token ids of a model's embedding (its
                                            ``vocab_size``) and entries of a vocabulary file;
                                            ids stay exact in float32 (below 2**24)
``MAX_BATCH``              4 096            ``batch_size`` and ``eval_batch`` of training
``MAX_BATCH_VALUES``       2**28            values of one training or validation batch with
                                            what its backward pass keeps, ``B T (I + O +
                                            G H L D)``, and of a chunk's stacked batches
``MAX_STEPS``              1 000 000        training steps of one run
``MAX_CHUNK_STEPS``        1 000            ``chunk_steps`` of training
``MAX_MATRIX_VALUES``      2**28            values of a trace's ``(T, T)`` gradient-flow and
                                            Jacobian arrays together, and of chosen rows
                                            ``(R, T)`` of them
``MAX_SEED``               2**31 - 1        every seed (model, task, training); seeds are
                                            ``>= 0``; what the window's seed boxes (Qt's
                                            32-bit ``QSpinBox``) can show
``MAX_BATCH_SEED``         2**63 - 1        the seed of one batch of a task (``Task.batch``);
                                            training draws one per step from its seed
``MAX_PRESET_BYTES``       1 MiB            a preset ``.toml``; a session's ``state.json``
                                            and ``preset.toml``
``MAX_DATA_BYTES``         64 MiB           a CSV series, a text corpus, an input or target
                                            ``.csv``
``MAX_WEIGHTS_BYTES``      2 GiB            a weight file or a session's weight member (the
                                            largest model allowed above is ~0.8 GiB)
``MAX_ARRAY_VALUES``       ``10 000 *       values of one ``.npy`` array (input, target,
                           MAX_FEATURES``   mask), read off its header before loading
``MAX_MEMBERS``            256              arrays in a weight file, members of an ``.npz``
                                            or of a session zip
``MAX_NESTING``            16               nesting of tables and lists in TOML and JSON
``MAX_NAME_BYTES``         255              one file or folder name of a path (UTF-8 bytes)
``MAX_PATH_BYTES``         4 096            a whole path (UTF-8 bytes)
=========================  ===============  ==================================================
"""

from __future__ import annotations

from typing import Any

from rnnviz.errors import RnnvizError

MAX_LENGTH = 100_000
MAX_HIDDEN = 1024
MAX_STATE = 32 * MAX_HIDDEN
MAX_LAYERS = 8
MAX_FEATURES = 4096
MAX_VOCAB = 256
MAX_TOKENS = 1 << 20
MAX_BATCH = 4096
MAX_BATCH_VALUES = 2**28
MAX_STEPS = 1_000_000
MAX_CHUNK_STEPS = 1000
MAX_MATRIX_VALUES = 2**28
MAX_SEED = 2**31 - 1
MAX_BATCH_SEED = 2**63 - 1
MAX_PRESET_BYTES = 1 << 20
MAX_DATA_BYTES = 64 << 20
MAX_WEIGHTS_BYTES = 2 << 30
MAX_ARRAY_VALUES = 10_000 * MAX_FEATURES  # 160 MB of float32, what 10,000 steps allowed
MAX_MEMBERS = 256
MAX_NESTING = 16
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def nesting(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep tables (dicts) and lists nest in ``value`` (a scalar is 0, ``{}`` 1), counted
    up to ``limit + 1`` at most, without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        children = (item.values() if isinstance(item, dict) else item
                    if isinstance(item, list) else None)
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            return depth
        todo.extend((child, depth + 1) for child in children)
    return deepest


def check_nesting(value: Any, source: str) -> None:
    """One line when ``value`` (parsed TOML or JSON) nests deeper than ``MAX_NESTING``."""
    if nesting(value) > MAX_NESTING:
        raise RnnvizError(f"{source}: tables and lists nest more than {MAX_NESTING} levels "
                          f"deep (limit MAX_NESTING)")


def too_deep(source: str) -> RnnvizError:
    """The error for text so deeply nested that the parser itself gave up (RecursionError)."""
    return RnnvizError(f"{source}: tables and lists nest more than {MAX_NESTING} levels deep "
                       f"(limit MAX_NESTING)")
