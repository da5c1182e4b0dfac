"""``rnnviz check FILE``: validate a preset completely, the way the window will load it.

Beyond what ``load_preset`` checks (TOML syntax, known keys, types, ranges and the limits
of ``rnnviz.limits``, the task's settings, existing weight files, a start step inside the
sequence), every weight file is read and compared with its ``[[models]]`` table: same cell,
hidden size, layers and direction, and the task's input and output sizes; and each model's
training batches are sized against ``MAX_BATCH_VALUES`` (``training.check_sizes``), so that
a preset that passes also trains.
"""

from __future__ import annotations

from pathlib import Path

from rnnviz.errors import RnnvizError
from rnnviz.files.models import read_model
from rnnviz.files.presets import Preset, load_preset


def check_weights(preset: Preset) -> None:
    """Raise a one-line ``RnnvizError`` if a model's weights do not fit its table."""
    task = preset.make_task()
    source = preset.path or preset.title
    for k, m in enumerate(preset.models):
        if m.weights is None:
            continue
        spec, _ = read_model(m.weights, cell=m.cell)
        want = (m.cell, m.hidden_size, m.num_layers, m.bidirectional, task.input_size,
                task.output_size)
        got = (spec.cell, spec.hidden_size, spec.num_layers, spec.bidirectional,
               spec.input_size, spec.out_size)
        if want == got and spec.options != m.spec(task.input_size, task.output_size).options:
            raise RnnvizError(f"{source}: models[{k}].weights: expected options "
                              f"{dict(m.options)} (the table), got {dict(spec.options)} in "
                              f"{Path(m.weights).name}")
        if want != got:
            def describe(cell, hidden, layers, bi, i, o):
                return (f"{cell}, hidden {hidden}, {layers} layer(s), "
                        f"{'bi' if bi else 'uni'}directional, {i} in, {o} out")
            raise RnnvizError(f"{source}: models[{k}].weights: expected {describe(*want)} "
                              f"(the table and task {task.name}), got {describe(*got)} in "
                              f"{Path(m.weights).name}")


def check_training_sizes(preset: Preset, task=None, options=None) -> None:
    """Raise a one-line ``RnnvizError`` (naming the file and the model) if a model's training
    batches would exceed ``MAX_BATCH_VALUES``; ``options[k]`` overrides model k's options."""
    from rnnviz.training.loop import TrainOptions, check_sizes

    task = task or preset.make_task()
    for k, m in enumerate(preset.models):
        own = options[k] if options is not None else (preset.train_options(k)
                                                      or TrainOptions())
        try:
            check_sizes(m.spec(task.input_size, task.output_size), task, own)
        except RnnvizError as exc:
            raise RnnvizError(f"{preset.path or preset.title}: models[{k}] training: {exc}"
                              ) from None


def check_preset(path_or_name: str | Path) -> str:
    """Validate the preset; return a one-line summary, or raise a one-line error."""
    preset = load_preset(path_or_name)
    check_weights(preset)
    task = preset.make_task()
    check_training_sizes(preset, task)
    models = ", ".join(f"{m.title} {m.hidden_size}" + (" (weights file)" if m.weights else "")
                       for m in preset.models)
    options = [preset.train_options(k) for k in range(len(preset.models))]
    trains = "" if all(o is None for o in options) else "; training steps " + "/".join(
        "-" if o is None else str(o.steps) for o in options)
    selects = ""
    if preset.select is not None:
        k, row, unit, layer = preset.select
        where = "" if layer == preset.models[k].units[0] else f" of layer {layer}"
        selects = f"; selects unit {unit} of {preset.models[k].title} in row {row}{where}"
    lesson = ""
    if preset.lesson:
        asked = sum(step.question is not None for step in preset.lesson)
        lesson = f"; a lesson of {len(preset.lesson)} steps, {asked} question(s)"
    return (f"{preset.path}: ok: {preset.title!r}: task {task.name} ({task.length} steps), "
            f"{len(preset.models)} model(s): {models}; start step {preset.start_step}"
            f"{selects}{trains}{lesson}")
