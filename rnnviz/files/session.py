"""Session files: everything on screen in one zip, to reopen on another machine.

A session file (``.rnnviz``, a zip) holds::

    state.json                  {"format": "rnnviz-session", "version": 1, "t": 37,
                                 "selection": {"column": 1, "name": "h", "index": 3} | null,
                                 "columns": [{"unit": "l0"}, ...], "target": "mse" | ...,
                                 "lesson_step": 2 | null (optional: the lesson step shown,
                                 from 0, of the preset's [[lesson]])}
    preset.toml                 the preset as configured now; models[k].weights names
                                "weights/<k>.safetensors" inside the zip
    weights/<k>.safetensors     column k's weights as they are in memory (trained ones
                                included), under PyTorch's names
    input.npy                   the input sequence (T, I) as shown (edited or not)
    target.npz                  "values" (T, O) or (T,) and "mask" (T,), when there is a target
    data/<name>                 the task's data file (a CSV series, a text corpus), when its
                                settings name one; task.path then names it inside the zip

A user's own data (``rnnviz.files.data_task``) has no task of its own: preset.toml's
``[task]`` is then ``{name = "data", source, kind, outputs, tokens?, channels?}`` and the
sequence is input.npy and target.npz.

Opened elsewhere, such a data file is copied out to the user's cache folder
(``RNNVIZ_CACHE_DIR`` or platformdirs), under the hash of its bytes, for the task to read.

It is written atomically, and read without unpickling: every member is checked (shapes against
the preset's task and models) and any problem raises one ``RnnvizError`` line naming the file
and the member.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import numpy as np

from rnnviz.arrays import READ_ERRORS, finite_as, first_line, npy_from_bytes, read_npz
from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import DataTask, data_from_settings, data_settings
from rnnviz.files.presets import Preset, parse_preset, parse_toml, preset_to_dict
from rnnviz.limits import (
    MAX_ARRAY_VALUES,
    MAX_DATA_BYTES,
    MAX_LENGTH,
    MAX_MEMBERS,
    MAX_PRESET_BYTES,
    MAX_WEIGHTS_BYTES,
    check_nesting,
    too_deep,
)
from rnnviz.paths import atomic_file, existing_file

FORMAT = "rnnviz-session"
VERSION = 1
SUFFIX = ".rnnviz"
STATE, PRESET, INPUT, TARGET = "state.json", "preset.toml", "input.npy", "target.npz"


def weights_member(k: int) -> str:
    return f"weights/{k}.safetensors"


def data_member(path: Path) -> str:
    return f"data/{path.name}"


def _task_data_file(preset: Preset) -> Path | None:
    """The file a task reads its data from (``path`` of the csv and text tasks), if any."""
    setting = preset.task_settings.get("path")
    if setting is None:
        return None
    try:
        return existing_file(setting)
    except RnnvizError:
        raise RnnvizError(f"{setting}: the task's data file is gone, so the session cannot "
                          f"hold it") from None


def _cache_folder() -> Path:
    import platformdirs

    return Path(os.environ.get("RNNVIZ_CACHE_DIR")
                or platformdirs.user_cache_dir("rnnviz")) / "sessions"


@dataclass
class Session:
    """What the window shows: the preset (models without weight files: ``models`` holds each
    column's weights), the input ``(T, I)``, the target, the cursor, the selection as
    ``(column index, name, unit index)``, the layer shown in each column and the step of the
    preset's lesson shown (None: no lesson running)."""

    preset: Preset
    inputs: np.ndarray
    target: Target | None
    models: list[Model]
    t: int = 0
    selection: tuple[int, str, int] | None = None
    units: list[str] | None = None
    lesson_step: int | None = None

    def __post_init__(self):
        if len(self.models) != len(self.preset.models):
            raise ValueError(f"{len(self.models)} models for {len(self.preset.models)} columns")
        if self.units is None:
            self.units = [m.spec.units[0] for m in self.models]


# -- writing -----------------------------------------------------------------------------------
def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def write_session(path: str | os.PathLike, session: Session) -> None:
    """Write ``session`` to exactly ``path`` (a zip), atomically; one-line ``RnnvizError``
    when it cannot be written."""
    import tomli_w
    from safetensors.numpy import save

    data = preset_to_dict(replace(session.preset, start_step=session.t))
    for k, table in enumerate(data["models"]):
        table["weights"] = weights_member(k)
    selection = None
    if session.selection is not None:
        column, name, index = session.selection
        selection = {"column": int(column), "name": str(name), "index": int(index)}
    state = {"format": FORMAT, "version": VERSION, "t": int(session.t), "selection": selection,
             "columns": [{"unit": unit} for unit in session.units or ()],
             "target": None if session.target is None else session.target.kind,
             "lesson_step": session.lesson_step}
    data_file = _task_data_file(session.preset)
    if data_file is not None:
        data["task"]["path"] = data_member(data_file)
    if isinstance(session.preset.data, DataTask):  # a user's data: its arrays are the input
        data["task"] = data_settings(session.preset.data)  # and target below
    with atomic_file(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(STATE, json.dumps(state, indent=2))
        if data_file is not None:
            zf.writestr(data_member(data_file), data_file.read_bytes())
        zf.writestr(PRESET, tomli_w.dumps(data))
        for k, model in enumerate(session.models):
            arrays = {name: np.ascontiguousarray(np.asarray(model.params[name]))
                      for name in model.spec.param_shapes()}
            zf.writestr(weights_member(k), save(arrays, metadata={"cell": model.spec.cell}))
        zf.writestr(INPUT, _npy_bytes(np.asarray(session.inputs, np.float32)))
        if session.target is not None:
            zf.writestr(TARGET, _npz_bytes(values=session.target.values,
                                           mask=session.target.mask))


# -- reading -----------------------------------------------------------------------------------
# each member's largest size (uncompressed, as the zip declares it; reading stops there)
_MEMBER_LIMITS = {STATE: (MAX_PRESET_BYTES, "MAX_PRESET_BYTES"),
                  PRESET: (MAX_PRESET_BYTES, "MAX_PRESET_BYTES"),
                  "weights/": (MAX_WEIGHTS_BYTES, "MAX_WEIGHTS_BYTES"),
                  "data/": (MAX_DATA_BYTES, "MAX_DATA_BYTES")}
_ARRAY_BYTES = 8 * MAX_ARRAY_VALUES + 4096  # input.npy, target.npz: float64 and headers


class _Reader:
    """Members of an open zip, each failure one line naming the file and the member."""

    def __init__(self, path: Path, zf: zipfile.ZipFile):
        self.path, self.zf = path, zf
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail(f"holds {len(infos)} members; at most {MAX_MEMBERS} (limit MAX_MEMBERS)")
        self.infos = {info.filename: info for info in infos}
        self.names = set(self.infos)
        self._read: dict[str, bytes] = {}  # a member asked for twice is read once

    def fail(self, why: str) -> NoReturn:
        raise RnnvizError(f"{self.path}: {why}")

    def bytes(self, member: str) -> bytes:
        if member not in self.names:
            self.fail(f"missing {member}: the session file is incomplete")
        info = self.infos[member]
        if info.flag_bits & 0x1:
            self.fail(f"{member} is encrypted; a session file never is")
        limit, name = next((v for k, v in _MEMBER_LIMITS.items() if member.startswith(k)),
                           (_ARRAY_BYTES, "MAX_ARRAY_VALUES"))
        if info.file_size > limit:
            self.fail(f"{member} is {info.file_size} bytes; at most {limit} (limit {name})")
        if member not in self._read:
            try:
                self._read[member] = self.zf.read(info)
            except READ_ERRORS as exc:  # bad CRC, bad deflate data, odd compression
                self.fail(f"{member} is damaged ({first_line(exc)})")
        return self._read[member]

    def array(self, member: str) -> np.ndarray:
        return npy_from_bytes(self.bytes(member), f"{self.path}:{member}")

    def arrays(self, member: str) -> dict[str, np.ndarray]:
        return read_npz(io.BytesIO(self.bytes(member)), f"{self.path}:{member}")

    def text(self, member: str) -> str:
        try:
            return self.bytes(member).decode("utf-8")
        except UnicodeDecodeError as exc:
            self.fail(f"{member} is not UTF-8 text ({first_line(exc)})")


def read_session(path: str | os.PathLike) -> Session:
    """Read and check a session file; raise one ``RnnvizError`` line on any problem. Every
    member is bounded (``MAX_MEMBERS``, and each member's declared size) before it is read."""
    path = existing_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except READ_ERRORS as exc:
        raise RnnvizError(f"{path}: not an rnnviz session (damaged, or not a zip: "
                          f"{first_line(exc)})") from None
    with zf:
        return _read(_Reader(path, zf))


def _read(r: _Reader) -> Session:
    if STATE not in r.names:
        r.fail(f"not an rnnviz session: no {STATE} (it holds "
               f"{', '.join(sorted(r.names)[:5]) or 'nothing'})")
    try:
        state = json.loads(r.text(STATE))
    except RecursionError:
        raise too_deep(f"{r.path}:{STATE}") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4300 digits
        if isinstance(exc, RnnvizError):
            raise
        r.fail(f"{STATE} is not valid JSON ({first_line(exc)})")
    check_nesting(state, f"{r.path}:{STATE}")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        r.fail(f"not an rnnviz session: {STATE} has no \"format\": \"{FORMAT}\"")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        r.fail(f"{STATE}: version: expected an integer >= 1, got {version!r}")
    if version > VERSION:
        r.fail(f"session format version {version} is newer than this rnnviz reads "
               f"({VERSION}); update rnnviz to open it")

    preset = _read_preset(r, state)

    task = preset.make_task()
    inputs = _read_inputs(r, task)
    target = _read_target(r, state, task, len(inputs))
    models = [_read_model(r, k, config, task) for k, config in enumerate(preset.models)]
    t = state.get("t")
    if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < len(inputs):
        r.fail(f"{STATE}: t: expected an integer in 0..{len(inputs) - 1}, got {t!r}")
    units = _read_units(r, state, models)
    selection = _read_selection(r, state, models)
    lesson_step = state.get("lesson_step")
    if lesson_step is not None and (not isinstance(lesson_step, int)
                                    or isinstance(lesson_step, bool)
                                    or not 0 <= lesson_step < len(preset.lesson)):
        wanted = (f"null or an integer in 0..{len(preset.lesson) - 1} (a step of the "
                  f"preset's lesson)" if preset.lesson else "null (the preset has no lesson)")
        r.fail(f"{STATE}: lesson_step: expected {wanted}, got {lesson_step!r}")
    return Session(replace(preset, start_step=t), inputs, target, models, t, selection, units,
                   lesson_step)


def _read_preset(r: _Reader, state: dict) -> Preset:
    source = f"{r.path}:{PRESET}"
    data = parse_toml(r.text(PRESET), source)
    task = data.get("task")
    given = None
    if isinstance(task, dict) and task.get("name") == DataTask.name:
        given = _read_data_task(r, state, task)
    models = data.get("models")
    if not isinstance(models, list):
        r.fail(f"{PRESET}: models: expected a list of [[models]] tables")
    for k, table in enumerate(models):
        if not isinstance(table, dict) or table.pop("weights", None) != weights_member(k):
            r.fail(f"{PRESET}: models[{k}].weights: expected \"{weights_member(k)}\"")
    task = data.get("task")
    if isinstance(task, dict) and isinstance(task.get("path"), str):
        task["path"] = str(_extract_data(r, task["path"]))
    import tomli_w

    # the weights come from the zip, so the preset is checked without weight files
    return parse_preset(tomli_w.dumps(data), source=source, task_data=given)


def _read_data_task(r: _Reader, state: dict, settings: dict) -> DataTask:
    """A user's data (``rnnviz.files.data_task``): the ``[task]`` table's names and sizes,
    the input and the target the session holds."""
    inputs = _read_inputs(r, None)  # its width is the task's
    task = data_from_settings(settings, inputs, None, f"{r.path}:{PRESET}")
    target = _read_target(r, state, task, len(inputs))
    if target is None:
        return task
    if target.kind != task.kind:
        r.fail(f"{STATE}: target: expected {task.kind!r} as {PRESET}'s task.kind says, got "
               f"{target.kind!r}")
    return replace(task, target_values=target.values)


def _extract_data(r: _Reader, member: str) -> Path:
    """Copy the task's data file out of the zip (once per content) and return its path."""
    import hashlib

    name = member.removeprefix("data/")
    if (member != f"data/{name}" or not name or "/" in name or "\\" in name
            or name in (".", "..")):
        r.fail(f"{PRESET}: task.path: expected \"data/<file name>\" inside the session, "
               f"got {member!r}")
    content = r.bytes(member)
    target = _cache_folder() / hashlib.sha256(content).hexdigest()[:16] / name
    try:
        there = target.is_file() and target.read_bytes() == content
    except (OSError, ValueError):  # a name the system refuses: writing says why
        there = False
    if not there:
        from rnnviz.paths import write_bytes_atomic

        write_bytes_atomic(target, content)
    return target


def _read_inputs(r: _Reader, task) -> np.ndarray:
    """``input.npy`` as float32 ``(T, I)``: ``I`` the ``task``'s input size (any, without
    one)."""
    inputs = r.array(INPUT)
    if inputs.ndim != 2 or 0 in inputs.shape or (task is not None
                                                 and inputs.shape[1] != task.input_size):
        r.fail(f"{INPUT} is {inputs.shape}, expected "
               + ("(T, I)" if task is None
                  else f"(T, {task.input_size}) for task {task.name}"))
    if len(inputs) > MAX_LENGTH:
        r.fail(f"{INPUT} has {len(inputs)} steps; at most {MAX_LENGTH} (limit MAX_LENGTH)")
    if not np.issubdtype(inputs.dtype, np.floating):
        r.fail(f"{INPUT}: expected floats, got {inputs.dtype}")
    return finite_as(inputs, np.float32, f"{r.path}:{INPUT}")


def _read_target(r: _Reader, state: dict, task, steps: int) -> Target | None:
    kind = state.get("target")
    if kind is None:
        return None
    if kind not in ("mse", "xent"):
        r.fail(f"{STATE}: target: expected \"mse\", \"xent\" or null, got {kind!r}")
    arrays = r.arrays(TARGET)
    if set(arrays) != {"values", "mask"}:
        r.fail(f"{TARGET}: expected arrays values and mask, got {', '.join(sorted(arrays))}")
    values, mask = arrays["values"], arrays["mask"]
    expected = (steps, task.output_size) if kind == "mse" else (steps,)
    if values.shape != expected or mask.shape != (steps,):
        r.fail(f"{TARGET}: values {values.shape} and mask {mask.shape}, expected {expected} "
               f"and ({steps},) for the {steps} steps of {INPUT}")
    try:
        target = Target(values, mask, kind)
    except RnnvizError as exc:
        r.fail(f"{TARGET}: {exc}")
    if kind == "xent" and (target.values.min() < 0
                           or target.values.max() >= task.output_size):
        r.fail(f"{TARGET}: class targets must lie in [0, {task.output_size})")
    return target


def _read_model(r: _Reader, k: int, config, task) -> Model:
    from safetensors.numpy import load

    from rnnviz.files.weights import infer_spec

    member = weights_member(k)
    data = r.bytes(member)
    try:
        arrays = load(data)
    except Exception as exc:  # SafetensorError and the like: the bytes are not safetensors
        r.fail(f"{member}: not a safetensors file ({first_line(exc)})")
    if len(arrays) > MAX_MEMBERS:
        r.fail(f"{member} holds {len(arrays)} arrays; at most {MAX_MEMBERS} "
               f"(limit MAX_MEMBERS)")
    spec, params = infer_spec(arrays, cell_hints=(config.cell,), source=f"{r.path}:{member}")
    wanted = config.spec(task.input_size, task.output_size)
    if spec != wanted:
        r.fail(f"{member} holds a {spec.describe()} model, but {PRESET} models[{k}] asks for "
               f"{wanted.describe()}")
    import jax.numpy as jnp

    return Model(spec, {name: jnp.asarray(v) for name, v in params.items()})


def _read_units(r: _Reader, state: dict, models: list[Model]) -> list[str]:
    columns = state.get("columns")
    if not isinstance(columns, list) or len(columns) != len(models):
        r.fail(f"{STATE}: columns: expected a list of {len(models)} entries")
    units: list[str] = []
    for k, (entry, model) in enumerate(zip(columns, models, strict=True)):
        unit = entry.get("unit") if isinstance(entry, dict) else None
        if unit not in model.spec.units:
            r.fail(f"{STATE}: columns[{k}].unit: expected one of "
                   f"{', '.join(model.spec.units)}, got {unit!r}")
        units.append(unit)
    return units


def _read_selection(r: _Reader, state: dict, models: list[Model]) -> tuple[int, str, int] | None:
    selection = state.get("selection")
    if selection is None:
        return None
    try:
        column, name, index = (selection[k] for k in ("column", "name", "index"))
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (column, index)):
            raise TypeError
        if not 0 <= column < len(models):
            raise IndexError
        model = models[column]
        cell = model.spec.cell_type
        if name not in cell.state_names:
            raise ValueError
        if not 0 <= index < cell.record_widths(model.spec.hidden_size, model.spec.options)[name]:
            raise ValueError
    except (TypeError, KeyError, IndexError, ValueError):
        r.fail(f"{STATE}: selection: expected column, name and index of a unit on screen, "
               f"got {selection!r}")
    return int(column), str(name), int(index)
