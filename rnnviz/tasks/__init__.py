"""Tasks: seeded generators of input sequences, targets and masks.

Every task draws from ``numpy.random.default_rng(seed)``, so the same seed always gives the same
batch. A batch of ``n`` sequences of ``T = task.length`` steps is three arrays:

- inputs ``(n, T, I)`` float32, ``I = task.input_size``;
- targets ``(n, T, O)`` float32 for ``loss="mse"``, or ``(n, T)`` int32 class indices for
  ``loss="xent"`` (``O = task.output_size`` classes);
- mask ``(n, T)`` float32, 1 where the step is scored (see ``rnnviz.core.losses``).

Symbol tasks feed one-hot vectors; ``task.alphabet`` names the input channels (``decode`` turns a
one-hot sequence back into them) and ``task.classes`` the output classes.

``make_task(name, **settings)`` builds a task from the registry ``TASKS``; a bad setting raises
``RnnvizError("<key>: expected ..., got ...")``.
"""

from __future__ import annotations

from dataclasses import fields

from rnnviz.errors import RnnvizError
from rnnviz.tasks.base import Batch, Task
from rnnviz.tasks.music import MelodyTask
from rnnviz.tasks.numbers import AddingTask, SineTask
from rnnviz.tasks.series import CsvTask, csv_header, read_csv_column
from rnnviz.tasks.symbols import (
    AnBnTask,
    CopyTask,
    DelayTask,
    LookaheadTask,
    ParityTask,
    SelectiveCopyTask,
    TemporalOrderTask,
)
from rnnviz.tasks.text import TextTask, sample_text, shipped_corpus

# -- the registry ------------------------------------------------------------------------------
TASKS: dict[str, type[Task]] = {t.name: t for t in (
    SineTask, AddingTask, CopyTask, TemporalOrderTask, AnBnTask, TextTask, CsvTask,
    LookaheadTask, DelayTask, MelodyTask, SelectiveCopyTask, ParityTask)}

def task_settings(name: str) -> list[str]:
    """The setting keys task ``name`` accepts (its dataclass fields)."""
    return [f.name for f in fields(TASKS[name]) if f.init]


def make_task(name: str, **settings) -> Task:
    """The task called ``name`` with ``settings`` (the task's dataclass fields)."""
    if name not in TASKS:
        raise RnnvizError(f"name: expected one of {', '.join(sorted(TASKS))}, got {name!r}")
    accepted = task_settings(name)
    for key in settings:
        if key not in accepted:
            raise RnnvizError(f"{key}: unknown setting of task {name}; expected one of "
                              f"{', '.join(accepted) or '(none)'}")
    return TASKS[name](**settings)


__all__ = ["TASKS", "AddingTask", "AnBnTask", "Batch", "CopyTask", "CsvTask", "DelayTask",
           "LookaheadTask", "MelodyTask", "ParityTask", "SelectiveCopyTask",
           "SineTask", "Task", "TemporalOrderTask", "TextTask", "csv_header", "make_task",
           "read_csv_column", "sample_text", "shipped_corpus", "task_settings"]
