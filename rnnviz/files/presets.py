"""Presets: classroom demonstrations as TOML files.

A preset names a title and a description, a task and its settings, one to three models,
optional training, the starting step, the panel to highlight and, optionally, a lesson (its
``[[lesson]]`` steps, see ``rnnviz.files.lessons``)::

    title = "Sine prediction: RNN vs LSTM vs GRU"
    description = "All three learn to predict the next value; watch the state oscillate."
    start_step = 40
    highlight = "state"                  # sequence | state | cell | gates | gradients

    [task]
    name = "sine"                        # a task of rnnviz.tasks; other keys are its settings
    length = 200
    seed = 0                             # which example sequence is shown

    [[models]]
    cell = "rnn"                         # rnn | rnn_relu | lstm | gru | mingru | minlstm |
                                         # lru | mamba | mamba_signed
    hidden_size = 16
    num_layers = 1
    bidirectional = false
    seed = 0
    weights = "sine-rnn.safetensors"     # optional, relative to the preset file
    init = { recurrent = "orthogonal", recurrent_gain = 1.0, forget_bias = 1.0 }
    options = { d_state = 8 }            # optional: a cell's sizes beyond hidden_size (LRU:
                                         # state_size; Mamba: d_inner, d_state, d_conv, dt_rank)

    training = { clip_norm = 1.0 }       # optional: this model's changes to [training]
    select = { row = "c", unit = 5 }     # optional, one model at most: the unit selected at
                                         # the start (row h, c or a gate letter i f g o r z n;
                                         # layer = "l1" or "l0_reverse" picks another layer or
                                         # direction, shown in the column; default the first)

    [training]                           # optional: how the models are trained
    steps = 300                          # (fields of rnnviz.training.loop.TrainOptions)
    learning_rate = 0.01

Every error names the file, the key (or the TOML line) and what was expected, in one line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from rnnviz.core.cells import CELLS, cell_names, get_cell
from rnnviz.core.init import RECURRENT_INITS, InitOptions
from rnnviz.core.spec import unit_names
from rnnviz.errors import RnnvizError
from rnnviz.files.lessons import Highlight, LessonStep, lesson_to_tables, parse_lesson
from rnnviz.limits import (
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_PRESET_BYTES,
    MAX_SEED,
    check_nesting,
    too_deep,
)
from rnnviz.paths import check_destination, read_limited, write_bytes_atomic

HIGHLIGHTS = ("sequence", "state", "cell", "gates", "gradients")
_HIGHLIGHT_PANELS = {"sequence": ("input", "output"), "state": ("h",), "cell": ("c",),
                     "gates": ("gates", "means"), "gradients": ("grad",)}
MAX_MODELS = 3
DEFAULT_PRESET = "sine"
_PRESET_PACKAGE = "rnnviz.presets"  # the presets/ folder, shipped in the wheel


@dataclass(frozen=True)
class ModelConfig:
    """One column: the model's shape, its initialisation and, optionally, trained weights."""

    cell: str = "lstm"
    hidden_size: int = 16
    num_layers: int = 1
    bidirectional: bool = False
    seed: int = 0
    init: InitOptions = field(default_factory=InitOptions)
    weights: Path | None = None
    label: str | None = None
    training: dict[str, Any] | None = None  # overrides of the preset's [training] table
    # the cell's sizes beyond hidden_size (Mamba's d_state, ...), every default filled in
    options: tuple[tuple[str, int], ...] = ()

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        return get_cell(self.cell).label

    @property
    def units(self) -> list[str]:
        """Its layers and directions as ``ModelSpec.units`` names them."""
        return unit_names(self.num_layers, self.bidirectional)

    def spec(self, input_size: int, output_size: int):
        """The ``ModelSpec`` of this column for a task's input and output sizes."""
        from rnnviz.core.spec import ModelSpec

        return ModelSpec(self.cell, input_size, self.hidden_size, self.num_layers,
                         self.bidirectional, output_size, options=self.options)

    def initial_model(self, input_size: int, output_size: int):
        """The model its seed and ``init`` draw (never its weights file)."""
        from rnnviz.core.init import init_params
        from rnnviz.core.model import Model

        spec = self.spec(input_size, output_size)
        return Model(spec, init_params(spec, seed=self.seed, options=self.init))

    def build(self, input_size: int, output_size: int):
        """The column's model: its weights file if it names one, else its seeded
        initialisation; a weights file for other sizes is a one-line error."""
        if self.weights is None:
            return self.initial_model(input_size, output_size)
        from rnnviz.core.model import Model

        model = Model.load(self.weights, cell=self.cell)
        if (model.spec.in_size, model.spec.out_size) != (input_size, output_size):
            raise RnnvizError(f"{self.weights}: the model reads {model.spec.in_size} and "
                              f"writes {model.spec.out_size} features; the task needs "
                              f"{input_size} and {output_size}")
        return model


@dataclass(frozen=True)
class Preset:
    title: str
    description: str
    task: str
    task_settings: dict[str, Any]
    models: tuple[ModelConfig, ...]
    example_seed: int = 0
    start_step: int = 0
    highlight: str | None = None
    training: dict[str, Any] | None = None
    path: Path | None = None
    # (model index, row, unit, layer) selected at the start, the column showing that layer
    select: tuple[int, str, int, str] | None = None
    lesson: tuple[LessonStep, ...] = ()     # its steps, when the preset is a guided lesson
    # the task itself, where no name and settings make it (a user's data in a session)
    data: Any = None

    @property
    def name(self) -> str:
        return self.path.stem if self.path else self.title

    def with_models(self, models) -> Preset:
        """The preset with other columns; its lesson stays only if every step still fits
        them (a step that frames or selects a column that is gone, or a row its cell lacks,
        would make the preset, or a session saved from it, unreadable)."""
        models = tuple(models)
        lesson = self.lesson
        if lesson:
            try:
                lesson = parse_lesson(lesson_to_tables(lesson, models), source="lesson",
                                      models=models, length=self.make_task().length)
            except RnnvizError:
                lesson = ()
        return replace(self, models=models, lesson=lesson)

    @property
    def highlights(self) -> tuple[Highlight, ...]:
        """The panels its ``highlight`` frames in every column."""
        panels = _HIGHLIGHT_PANELS.get(self.highlight, ()) if self.highlight else ()
        return tuple(Highlight(p) for p in panels)

    def make_task(self):
        """The preset's task with its settings (``rnnviz.tasks.make_task``), or its ``data``."""
        from rnnviz.tasks import make_task

        if self.data is not None:
            return self.data
        return make_task(self.task, **self.task_settings)

    def train_options(self, index: int):
        """The ``TrainOptions`` of model ``index``: the preset's ``[training]`` table updated
        with the model's own ``training`` table; None when neither is given."""
        from rnnviz.training.loop import TrainOptions

        own = self.models[index].training
        if self.training is None and own is None:
            return None
        return TrainOptions(**{**(self.training or {}), **(own or {})})


def weights_name(preset_name: str, k: int, cell: str, suffix: str = ".safetensors") -> str:
    """The name of model ``k``'s weight file beside preset ``preset_name``:
    ``<preset>-<k>-<cell>.safetensors`` (``sine-1-lstm.safetensors``); ``rnnviz train`` and
    Save preset as both write it."""
    return f"{preset_name}-{k}-{cell}{suffix}"


# -- reading -----------------------------------------------------------------------------------
class _Checker:
    """Pulls typed values out of a TOML table, naming the file and key on any error."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, expected: str, got: Any = None, show_got: bool = True,
             limit: str = "") -> NoReturn:
        tail = (f", got {got!r}" if show_got else "") + (f" (limit {limit})" if limit else "")
        raise RnnvizError(f"{self.source}: {key}: expected {expected}{tail}")

    def unknown(self, table: dict, allowed, where: str):
        extra = sorted(set(table) - set(allowed))
        if extra:
            key = f"{where}.{extra[0]}" if where else extra[0]
            raise RnnvizError(f"{self.source}: {key}: unknown key; expected one of "
                              f"{', '.join(sorted(allowed))}")

    def get(self, table: dict, key: str, kind, where: str, default=..., check=None,
            expected: str | None = None, limit: str = ""):
        name = f"{where}.{key}" if where else key
        if key not in table:
            if default is ...:
                self.fail(name, f"a value ({expected or kind.__name__})", show_got=False)
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(name, expected or f"a {kind.__name__}", value, limit=limit)
        if check is not None and not check(value):
            self.fail(name, expected or "a valid value", value, limit=limit)
        return value

    def seed(self, table: dict, where: str) -> int:
        return self.get(table, "seed", int, where, default=0,
                        check=lambda v: 0 <= v <= MAX_SEED,
                        expected=f"an integer in 0..{MAX_SEED}", limit="MAX_SEED")


def parse_preset(text: str, *, source: str = "preset", base: Path | None = None,
                 require_weights: bool = True, task_data=None) -> Preset:
    """Check and read a preset's TOML text; ``base`` resolves relative weight paths.

    ``require_weights=False`` accepts weight files that do not exist yet (``rnnviz train``
    writes them). ``task_data``: the task, read elsewhere (a session's user data, see
    ``rnnviz.files.session``), in place of the ``[task]`` table's."""
    data = parse_toml(text, source)
    c = _Checker(source)
    c.unknown(data, ("title", "description", "start_step", "highlight", "task", "models",
                     "training", "lesson"), "")
    title = c.get(data, "title", str, "", check=bool, expected="a non-empty string")
    description = c.get(data, "description", str, "", default="")
    start = c.get(data, "start_step", int, "", default=0, check=lambda v: v >= 0,
                  expected="an integer >= 0")
    highlight = c.get(data, "highlight", str, "", default=None,
                      check=lambda v: v in HIGHLIGHTS, expected=f"one of {', '.join(HIGHLIGHTS)}")

    given = task_data
    if given is not None:
        task_name, example_seed, settings, length = given.name, 0, {}, given.length
    else:
        task = c.get(data, "task", dict, "", expected="a [task] table")
        task_name = c.get(task, "name", str, "task")
        example_seed = c.seed(task, "task")
        settings = {k: v for k, v in task.items() if k not in ("name", "seed")}
        if isinstance(settings.get("path"), str) and base is not None:  # csv/text: like
            settings["path"] = str(base / settings["path"])  # weights, beside the preset
        length = _check_task(c, task_name, settings).length
    if start >= length:
        c.fail("start_step", f"an integer in 0..{length - 1} (the task has {length} steps)",
               start)

    models_data = c.get(data, "models", list, "", expected="a list of [[models]] tables")
    if not 1 <= len(models_data) <= MAX_MODELS:
        c.fail("models", f"1 to {MAX_MODELS} [[models]] tables", len(models_data))
    models = tuple(_parse_model(c, m, f"models[{i}]", base, require_weights)
                   for i, m in enumerate(models_data))
    selects = [(i, _parse_select(c, m["select"], models[i], f"models[{i}].select"))
               for i, m in enumerate(models_data) if "select" in m]
    if len(selects) > 1:
        c.fail(f"models[{selects[1][0]}].select", "a select table in one model at most",
               show_got=False)
    select = (selects[0][0], *selects[0][1]) if selects else None

    training = None
    if "training" in data:
        training = c.get(data, "training", dict, "", expected="a [training] table")
        _check_training(c, training)
    lesson = (parse_lesson(data["lesson"], source=source, models=models, length=length)
              if "lesson" in data else ())
    return Preset(title, description, task_name, settings, models, example_seed, start,
                  highlight, training, select=select, lesson=lesson, data=given)


def _parse_select(c: _Checker, table, config: ModelConfig,
                  where: str) -> tuple[str, int, str]:
    if not isinstance(table, dict):
        c.fail(where, 'a table like { row = "h", unit = 0 }', table)
    c.unknown(table, ("row", "unit", "layer"), where)
    cell = get_cell(config.cell)
    rows = cell.state_names  # h, c (LSTM) and the cell's gate letters (or other records)
    row = c.get(table, "row", str, where, default="h", check=lambda v: v in rows,
                expected=f"one of {', '.join(rows)} (rows of a {config.title})")
    width = cell.record_widths(config.hidden_size, config.options)[row]
    unit = c.get(table, "unit", int, where, check=lambda v: 0 <= v < width,
                 expected=f"an integer in 0..{width - 1} (the units of row {row})")
    layers = config.units
    layer = c.get(table, "layer", str, where, default=layers[0], check=lambda v: v in layers,
                  expected=f"one of {', '.join(layers)} (the layers of this {config.title})")
    return row, unit, layer


def _parse_model(c: _Checker, m, where: str, base: Path | None,
                 require_weights: bool = True) -> ModelConfig:
    if not isinstance(m, dict):
        c.fail(where, "a table", m)
    c.unknown(m, ("cell", "hidden_size", "num_layers", "bidirectional", "seed", "init",
                  "weights", "label", "training", "select", "options"), where)
    cell = c.get(m, "cell", str, where, default="lstm", expected=f"one of {', '.join(CELLS)}",
                 check=lambda v: v.lower() in cell_names())
    init_table = c.get(m, "init", dict, where, default={}, expected="an init table")
    iw = f"{where}.init"
    c.unknown(init_table, ("recurrent", "recurrent_gain", "spectral_radius", "forget_bias"), iw)
    init = InitOptions(
        recurrent=c.get(init_table, "recurrent", str, iw, default="uniform",
                        check=lambda v: v in RECURRENT_INITS,
                        expected=" or ".join(RECURRENT_INITS)),
        recurrent_gain=c.get(init_table, "recurrent_gain", float, iw, default=1.0,
                             check=lambda v: 0 < v <= 100, expected="a number in (0, 100]"),
        spectral_radius=c.get(init_table, "spectral_radius", float, iw, default=None,
                              check=lambda v: 0 < v <= 100, expected="a number in (0, 100]"),
        forget_bias=c.get(init_table, "forget_bias", float, iw, default=None,
                          check=lambda v: -20 <= v <= 20, expected="a number in [-20, 20]"),
    )
    training = c.get(m, "training", dict, where, default=None, expected="a training table")
    if training is not None:
        _check_training(c, training, f"{where}.training")
    weights = c.get(m, "weights", str, where, default=None)
    if weights is not None:
        weights = (base / weights) if base is not None else Path(weights)
        if require_weights and not _is_file(weights):
            c.fail(f"{where}.weights", "an existing .safetensors or .npz file",
                   str(weights))
    hidden_size = c.get(m, "hidden_size", int, where, default=16,
                        check=lambda v: 1 <= v <= MAX_HIDDEN,
                        expected=f"an integer in 1..{MAX_HIDDEN}", limit="MAX_HIDDEN")
    cell_type = get_cell(cell)
    names = ", ".join(o.name for o in cell_type.options) or "none"
    options = c.get(m, "options", dict, where, default={},
                    expected=f"a table of the cell's sizes ({names})")
    checked = cell_type.check_options(options, hidden_size, f"{c.source}: {where}.options")
    return ModelConfig(
        cell=cell_type.name,
        hidden_size=hidden_size,
        options=checked,
        num_layers=c.get(m, "num_layers", int, where, default=1,
                         check=lambda v: 1 <= v <= MAX_LAYERS,
                         expected=f"an integer in 1..{MAX_LAYERS}", limit="MAX_LAYERS"),
        bidirectional=c.get(m, "bidirectional", bool, where, default=False,
                            expected="true or false"),
        seed=c.seed(m, where),
        init=init,
        weights=weights,
        label=c.get(m, "label", str, where, default=None),
        training=training,
    )


def _check_task(c: _Checker, name: str, settings: dict):
    from rnnviz.tasks import TASKS, make_task

    if name not in TASKS:
        c.fail("task.name", f"one of {', '.join(sorted(TASKS))}", name)
    try:
        return make_task(name, **settings)
    except RnnvizError as exc:  # "<key>: ...", or "<data file>: ..." from reading it
        path = settings.get("path")
        key = "path: " if isinstance(path, str) and str(exc).startswith(path) else ""
        raise RnnvizError(f"{c.source}: task.{key}{exc}") from None


def _check_training(c: _Checker, training: dict, where: str = "training") -> None:
    from rnnviz.training.loop import TrainOptions

    allowed = {f.name for f in fields(TrainOptions)}
    c.unknown(training, allowed, where)
    try:
        TrainOptions(**training)
    except (TypeError, ValueError) as exc:
        raise RnnvizError(f"{c.source}: {where}.{exc}") from None


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False also for names the system refuses (too long, NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def parse_toml(text: str, source: str) -> dict:
    """TOML text as a dict; one line for bad TOML or tables and lists nested deeper than
    ``MAX_NESTING``."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise too_deep(source) from None
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4300 digits
        raise RnnvizError(f"{source}: bad TOML: {exc}") from None
    check_nesting(data, source)
    return data


def load_preset(path_or_name: str | Path, *, require_weights: bool = True) -> Preset:
    """A preset from a file path (at most ``MAX_PRESET_BYTES``), or a shipped preset by name
    (``"sine"``)."""
    path = Path(path_or_name)
    if not path.suffix and not _is_file(path) and not _is_dir(path):
        shipped = dict(shipped_presets())
        if str(path_or_name) not in shipped:
            raise RnnvizError(f"{path_or_name}: no such preset; shipped presets: "
                              f"{', '.join(shipped)}")
        path = shipped[str(path_or_name)]
    data = read_limited(path, MAX_PRESET_BYTES, "MAX_PRESET_BYTES")
    if data.startswith(b"PK\x03\x04"):
        raise RnnvizError(f"{path}: a zip file (a saved session?), not a preset's TOML; a "
                          f"session opens in the window: rnnviz FILE.rnnviz")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RnnvizError(f"{path}: cannot read as UTF-8 text: {exc}") from None
    return replace(parse_preset(text, source=str(path), base=path.parent,
                                require_weights=require_weights), path=path)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def shipped_presets() -> list[tuple[str, Path]]:
    """``(name, path)`` of every preset shipped inside the package, default first."""
    folder = resources.files(_PRESET_PACKAGE)
    paths = sorted(Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml"))
    paths.sort(key=lambda p: (p.stem != DEFAULT_PRESET, p.stem))
    return [(p.stem, p) for p in paths]


# -- writing -----------------------------------------------------------------------------------
def preset_to_dict(preset: Preset, *, relative_to: Path | None = None) -> dict:
    """The TOML table of ``preset`` (what ``save_preset`` writes)."""
    data: dict[str, Any] = {"title": preset.title, "description": preset.description,
                            "start_step": preset.start_step}
    if preset.highlight:
        data["highlight"] = preset.highlight
    data["task"] = {"name": preset.task, "seed": preset.example_seed, **preset.task_settings}
    models: list[dict[str, Any]] = []
    for m in preset.models:
        table: dict[str, Any] = {"cell": m.cell, "hidden_size": m.hidden_size,
                                 "num_layers": m.num_layers, "bidirectional": m.bidirectional,
                                 "seed": m.seed}
        if m.options:
            table["options"] = dict(m.options)
        init = {f.name: getattr(m.init, f.name) for f in fields(InitOptions)}
        table["init"] = {k: v for k, v in init.items() if v is not None}
        if m.weights is not None:
            w = Path(m.weights)
            if relative_to is not None:
                try:
                    w = w.resolve().relative_to(relative_to.resolve())
                except ValueError:
                    w = w.resolve()
            table["weights"] = w.as_posix()
        if m.label:
            table["label"] = m.label
        if m.training:
            table["training"] = dict(m.training)
        if preset.select is not None and preset.select[0] == len(models):
            _, row, unit, layer = preset.select
            table["select"] = {"row": row, "unit": unit}
            if layer != m.units[0]:
                table["select"]["layer"] = layer
        models.append(table)
    data["models"] = models
    if preset.training:
        data["training"] = dict(preset.training)
    if preset.lesson:
        data["lesson"] = lesson_to_tables(preset.lesson, preset.models)
    return data


def save_preset(preset: Preset, path: str | Path) -> None:
    """Write ``preset`` as TOML at exactly ``path``, atomically (one-line ``RnnvizError`` when
    it cannot); weight paths are made relative to its folder."""
    import tomli_w

    check_destination(path)  # before Path(""), which would be "."
    path = Path(path)
    data = preset_to_dict(preset, relative_to=path.parent)
    write_bytes_atomic(path, tomli_w.dumps(data).encode("utf-8"))
