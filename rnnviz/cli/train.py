"""Training a preset's models headless: what ``rnnviz train PRESET --out ...`` does.

Each model of the preset starts from its seeded initialisation (``seed`` and ``init`` of its
``[[models]]`` table; a ``weights`` file it names is ignored, so training is always from
scratch) and trains on the preset's task with ``preset.train_options(k)`` (the ``[training]``
table updated by the model's own ``training`` table; ``TrainOptions()`` when neither is
given). The same preset therefore always gives the same losses and the same weights.

Weight files are named after the preset (``weight_paths``):

- ``--out DIR`` (no ``.safetensors``/``.npz`` suffix) writes ``DIR/<preset>-<k>-<cell>.safetensors``
  for model ``k`` (0-based), e.g. ``presets/sine-1-lstm.safetensors``; this is the name the
  shipped presets use in their ``weights`` keys, so ``rnnviz train presets/sine.toml --out
  presets`` rewrites exactly the shipped files;
- ``--out FILE.safetensors`` writes ``FILE`` for a one-model preset, and
  ``FILE-<k>-<cell>.safetensors`` beside it when there are several.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TextIO

from rnnviz.core.model import Model
from rnnviz.errors import RnnvizError
from rnnviz.files.presets import Preset, weights_name
from rnnviz.paths import check_destination
from rnnviz.tasks import Task
from rnnviz.training.loop import Progress, TrainOptions, TrainResult, train

WEIGHT_SUFFIXES = (".safetensors", ".npz")


def initial_model(preset: Preset, index: int, task: Task | None = None) -> Model:
    """Model ``index`` of ``preset`` as its seeded initialisation draws it (never its
    weights file)."""
    task = task or preset.make_task()
    return preset.models[index].initial_model(task.input_size, task.output_size)


def options_for(preset: Preset, index: int, *, steps: int | None = None,
                seed: int | None = None, **changes) -> TrainOptions:
    """Model ``index``'s ``TrainOptions``, with ``steps``/``seed`` and any other
    ``TrainOptions`` field in ``changes`` (``bptt_window``, ``bptt_carry``, ``remat_chunk``)
    overriding if not None. A value out of range is one line naming its flag."""
    options = preset.train_options(index) or TrainOptions()
    changes = {k: v for k, v in (("steps", steps), ("seed", seed), *changes.items())
               if v is not None}
    try:
        return replace(options, **changes)
    except RnnvizError as exc:
        key, _, rest = str(exc).partition(":")
        raise RnnvizError(f"--{key.replace('_', '-')}:{rest}") from None


def weight_paths(preset: Preset, out: str | Path) -> list[Path]:
    """Where ``rnnviz train PRESET --out OUT`` writes each model's weights (module
    docstring)."""
    if not str(out):
        raise RnnvizError("--out: expected a folder or a .safetensors/.npz file, got an empty "
                          "name")
    out = Path(out)
    models = list(enumerate(m.cell for m in preset.models))
    if out.suffix.lower() in WEIGHT_SUFFIXES:
        if len(models) == 1:
            return [out]
        return [out.with_name(weights_name(out.stem, k, cell, out.suffix)) for k, cell in models]
    if out.suffix:
        raise RnnvizError(f"--out {out}: expected a folder or a .safetensors/.npz file")
    return [out / weights_name(preset.name, k, cell) for k, cell in models]


@dataclass
class TrainedModel:
    index: int
    model: Model
    result: TrainResult
    path: Path


def train_preset(preset: Preset, out: str | Path, *, steps: int | None = None,
                 seed: int | None = None, overrides: dict | None = None,
                 callback: Callable[[int, Progress], object] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 announce: Callable[[int, TrainOptions], object] | None = None
                 ) -> list[TrainedModel]:
    """Train every model of ``preset`` and write its weights (``weight_paths``).

    ``steps``, ``seed`` and ``overrides`` (other ``TrainOptions`` fields) replace the
    preset's values for every model. ``announce(k, options)`` runs before model ``k``
    trains, ``callback(k, progress)`` after each chunk; once ``should_stop()`` is true the
    current model keeps what it reached, is written, and the models after it are not
    trained. A diverged run (NaN/Inf) is written as reached, never raised. Every
    destination and every model's batch sizes are checked before the first model trains."""
    from rnnviz.files.preset_check import check_training_sizes

    task = preset.make_task()
    paths = weight_paths(preset, out)
    options = [options_for(preset, k, steps=steps, seed=seed, **(overrides or {}))
               for k in range(len(paths))]
    for path in paths:
        check_destination(path)
    check_training_sizes(preset, task, options)
    done: list[TrainedModel] = []
    for k, path in enumerate(paths):
        if should_stop is not None and should_stop():
            break
        if announce is not None:
            announce(k, options[k])
        model = initial_model(preset, k, task)
        report = None if callback is None else partial(callback, k)
        result = train(model.spec, model.params, task, options[k], callback=report,
                       should_stop=should_stop)
        trained = Model(model.spec, result.params)
        trained.save(path)
        done.append(TrainedModel(k, trained, result, path))
        if result.stopped:
            break
    return done


def bptt_words(options: TrainOptions) -> str:
    """``", BPTT window 20 (state carried), remat chunks of 32"`` or ``""`` for plain BPTT."""
    words = ""
    if options.bptt_window is not None:
        carry = "state carried" if options.bptt_carry else "state restarts"
        words += f", BPTT window {options.bptt_window} ({carry})"
    if options.remat_chunk is not None:
        words += f", remat chunks of {options.remat_chunk}"
    return words


# -- the text progress bar ---------------------------------------------------------------------
def _seconds(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s} s"


def _number(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


class ProgressBar:
    """One line per model on ``stream``: ``[k/n] LSTM  [#####.....]  step s/S  loss l  val v
    (acc a)  t left``. On a terminal the line is redrawn in place; otherwise (a log, a pipe)
    a line is printed at most every tenth of the run, so logs stay short."""

    WIDTH = 24

    def __init__(self, preset: Preset, stream: TextIO | None = None):
        self.preset = preset
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last_tenth = -1
        self.last_draw = 0.0

    def announce(self, k: int, options: TrainOptions) -> None:
        m = self.preset.models[k]
        clip = "off" if options.clip_norm is None else f"{options.clip_norm:g}"
        print(f"[{k + 1}/{len(self.preset.models)}] {m.title} (hidden {m.hidden_size}): "
              f"{options.optimizer}, lr {options.learning_rate:g}, clip {clip}, "
              f"batch {options.batch_size}, {options.steps} steps, seed {options.seed}"
              f"{bptt_words(options)}", file=self.stream, flush=True)
        self.last_tenth = -1

    def line(self, k: int, p: Progress) -> str:
        filled = int(self.WIDTH * p.step / max(1, p.total))
        bar = "#" * filled + "." * (self.WIDTH - filled)
        loss = float(p.losses[-1]) if len(p.losses) else None
        acc = "" if p.val_accuracy is None else f" (acc {p.val_accuracy:.0%})"
        tail = "  DIVERGED (NaN/Inf)" if p.diverged else f"  {_seconds(p.eta)} left"
        return (f"  [{bar}] step {p.step}/{p.total}  loss {_number(loss)}  "
                f"val {_number(p.val_loss)}{acc}{tail}")

    def update(self, k: int, p: Progress) -> None:
        text = self.line(k, p)
        if self.tty:
            now = time.monotonic()
            if now - self.last_draw > 0.1 or p.step == p.total or p.diverged:
                self.stream.write("\r" + text + " " * 4)
                self.last_draw = now
            if p.step == p.total or p.diverged:
                self.stream.write("\n")
            self.stream.flush()
            return
        tenth = 10 * p.step // max(1, p.total)
        if tenth > self.last_tenth or p.diverged:
            self.last_tenth = tenth
            print(text, file=self.stream, flush=True)
