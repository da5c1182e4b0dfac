"""Saving the window's setup as a new preset, without Qt: the TOML and the weights it names.

Each column with a model gets its current weights (trained in the window, or loaded) written
beside the preset as ``<name>-<k>-<cell>.safetensors`` and named by the model's ``weights``
key, so that opening the preset shows the same networks; the weights are written first (each
atomically), then the TOML (atomically), so the preset never names a missing file. Every
destination is checked first, so that a folder that cannot be written refuses the save with
one line before any file is written.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

from rnnviz.core.model import Model
from rnnviz.errors import RnnvizError
from rnnviz.files.presets import Preset, save_preset, weights_name
from rnnviz.paths import check_destination
from rnnviz.training.loop import TrainOptions


def options_tables(options: list[TrainOptions]) -> tuple[dict, list[dict]]:
    """The ``[training]`` table and each model's ``training`` table that give ``options``:
    the fields all models share go in the first, the others in each model's. None (clipping
    off) is written by leaving the field out, which is its default."""
    names = [f.name for f in fields(TrainOptions) if f.name != "chunk_steps"]
    common = {n: getattr(options[0], n) for n in names
              if all(getattr(o, n) == getattr(options[0], n) for o in options)}
    own = [{n: getattr(o, n) for n in names if n not in common and getattr(o, n) is not None}
           for o in options]
    return {k: v for k, v in common.items() if v is not None}, own


def save_setup(preset: Preset, models: list[Model | None], options: list[TrainOptions],
               path: str | Path) -> Preset:
    """Write ``preset`` (the window's columns as its models) to ``path`` with each model's
    weights beside it and each column's training options; returns the preset as saved.

    ``models[k]`` is column k's model now (None: not built yet, so its config, a seed or a
    weights file, still describes it), ``options[k]`` its training options.
    """
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise RnnvizError(f"{path}: a preset is a .toml file")
    if not (len(models) == len(options) == len(preset.models)):
        raise ValueError("one model and one set of options per column")
    common, own = options_tables(list(options))
    weight_files = {k: path.with_name(weights_name(path.stem, k, model.spec.cell))
                    for k, model in enumerate(models) if model is not None}
    for destination in (*weight_files.values(), path):  # all writable, before writing any
        check_destination(destination)
    configs = []
    for k, (config, model, training) in enumerate(zip(preset.models, models, own,
                                                      strict=True)):
        if model is not None:
            model.save(weight_files[k])
            config = replace(config, weights=weight_files[k])
        configs.append(replace(config, training=training or None))
    saved = replace(preset, models=tuple(configs), training=common or None, path=path)
    save_preset(saved, path)
    return saved
