"""Session files: a round trip keeps every number, and a damaged, foreign, incomplete or newer
file gets one line naming the file and what is wrong."""

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rnnviz import RnnvizError
from rnnviz.core.model import Model
from rnnviz.files.presets import ModelConfig, Preset, load_preset
from rnnviz.files.session import Session, read_session, write_session
from rnnviz.tasks import make_task


def _session(task_name="sine") -> Session:
    """A session unlike any preset: perturbed weights, an edited input, a deep bidirectional
    column shown at its top reverse layer, a cursor and a selection."""
    # other columns than the preset's, so not its lesson (the window saves a lesson only if
    # it fits the columns: Explorer._lesson_for)
    preset = replace(load_preset("sine"), lesson=())
    if task_name != "sine":
        preset = Preset("t", "", task_name, {}, preset.models)
    configs = (ModelConfig("rnn", 5), ModelConfig("lstm", 4, num_layers=2, bidirectional=True,
                                                  seed=3))
    preset = preset.with_models(configs)
    task = preset.make_task()
    inputs, target = task.example(seed=2)
    inputs = inputs.copy()
    inputs[3] += 0.25  # as if edited in the window
    rng = np.random.default_rng(1)
    models = []
    for config in configs:
        model = config.build(task.input_size, task.output_size)
        params = {k: np.asarray(v) + rng.normal(0, 0.1, np.shape(v)).astype(np.float32)
                  for k, v in model.params.items()}  # as if trained in the window
        models.append(Model(model.spec, params))
    return Session(preset, inputs, target, models, t=7, selection=(1, "f", 2),
                   units=["l0", "l1_reverse"])


@pytest.mark.parametrize("task_name", ["sine", "copy"])
def test_round_trip_keeps_every_number(tmp_path, task_name):
    session = _session(task_name)
    path = tmp_path / "s.rnnviz"
    write_session(path, session)
    back = read_session(path)
    np.testing.assert_array_equal(back.inputs, session.inputs)
    assert back.target.kind == session.target.kind
    np.testing.assert_array_equal(back.target.values, session.target.values)
    np.testing.assert_array_equal(back.target.mask, session.target.mask)
    assert (back.t, back.selection, back.units) == (7, (1, "f", 2), ["l0", "l1_reverse"])
    assert back.preset.task == task_name and back.preset.start_step == 7
    assert [m.weights for m in back.preset.models] == [None, None]
    assert [(m.cell, m.hidden_size, m.num_layers, m.bidirectional, m.seed)
            for m in back.preset.models] == [("rnn_tanh", 5, 1, False, 0), ("lstm", 4, 2, True, 3)]
    for saved, loaded in zip(session.models, back.models, strict=True):
        assert loaded.spec == saved.spec
        for name, value in saved.params.items():
            np.testing.assert_array_equal(np.asarray(loaded.params[name]), value)
    a = session.models[1].trace(session.inputs, session.target)
    b = back.models[1].trace(back.inputs, back.target)
    for name in a.arrays:
        np.testing.assert_array_equal(a[name], b[name])


def test_members_are_plain_data(tmp_path):
    path = tmp_path / "s.rnnviz"
    write_session(path, _session())
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["input.npy", "preset.toml", "state.json",
                                         "target.npz", "weights/0.safetensors",
                                         "weights/1.safetensors"]
        state = json.loads(zf.read("state.json"))
        assert 'weights = "weights/1.safetensors"' in zf.read("preset.toml").decode()
    assert state["format"] == "rnnviz-session" and state["version"] == 1


def _rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(name, data) -> data | None`` applied
    (None drops the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)


def _one_line_error(path) -> str:
    with pytest.raises(RnnvizError) as info:
        read_session(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path))
    return text


def test_bad_files_get_one_line(tmp_path):
    good = tmp_path / "good.rnnviz"
    write_session(good, _session())
    data = good.read_bytes()

    truncated = tmp_path / "truncated.rnnviz"
    truncated.write_bytes(data[: len(data) // 2])
    assert "damaged, or not a zip" in _one_line_error(truncated)

    text = tmp_path / "notes.rnnviz"
    text.write_text("hello")
    assert "not a zip" in _one_line_error(text)

    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "a zip from somewhere else")
    assert "not an rnnviz session: no state.json" in _one_line_error(foreign)

    other_json = tmp_path / "other.rnnviz"
    _rewrite(good, other_json, lambda n, d: b'{"name": "x"}' if n == "state.json" else d)
    assert 'no "format": "rnnviz-session"' in _one_line_error(other_json)

    def newer(name, data):
        if name != "state.json":
            return data
        return json.dumps({**json.loads(data), "version": 2}).encode()

    future = tmp_path / "future.rnnviz"
    _rewrite(good, future, newer)
    assert "version 2 is newer than this rnnviz reads (1)" in _one_line_error(future)

    missing = tmp_path / "missing.rnnviz"
    _rewrite(good, missing, lambda n, d: None if n == "weights/1.safetensors" else d)
    assert "missing weights/1.safetensors" in _one_line_error(missing)

    def wide_input(name, data):
        if name != "input.npy":
            return data
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.zeros((10, 3), np.float32))
        return buffer.getvalue()

    wrong = tmp_path / "wrong.rnnviz"
    _rewrite(good, wrong, wide_input)
    assert "input.npy is (10, 3), expected (T, 1) for task sine" in _one_line_error(wrong)

    swapped = tmp_path / "swapped.rnnviz"
    with zipfile.ZipFile(good) as zf:
        first = zf.read("weights/0.safetensors")
    _rewrite(good, swapped, lambda n, d: first if n == "weights/1.safetensors" else d)
    assert "weights/1.safetensors holds a" in _one_line_error(swapped)

    def lesson_step(name, data):
        if name != "state.json":
            return data
        return json.dumps({**json.loads(data), "lesson_step": 4}).encode()

    no_lesson = tmp_path / "no_lesson.rnnviz"
    _rewrite(good, no_lesson, lesson_step)
    assert "lesson_step: expected null (the preset has no lesson), got 4" in \
        _one_line_error(no_lesson)

    corrupt = tmp_path / "corrupt.rnnviz"
    raw = bytearray(data)
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("input.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + 5] ^= 0xFF  # flip a byte inside input.npy's compressed data
    corrupt.write_bytes(bytes(raw))
    assert "input.npy is damaged" in _one_line_error(corrupt)


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "s.rnnviz"
    write_session(path, _session())
    before = path.read_bytes()
    session = _session()
    session.models[0] = object()  # not a model: writing fails half way
    with pytest.raises(AttributeError):
        write_session(path, session)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.rnnviz"]


def test_a_csv_task_travels_with_its_data(tmp_path, monkeypatch):
    """The task's data file goes into the session, so it opens where that file is not."""
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    here = tmp_path / "here"
    here.mkdir()
    series = here / "series.csv"
    series.write_text("v\n" + "\n".join(str(np.sin(k / 3)) for k in range(40)) + "\n")
    config = ModelConfig("gru", 3)
    preset = Preset("csv", "", "csv", {"path": str(series), "length": 20}, (config,))
    task = make_task("csv", path=str(series), length=20)
    inputs, target = task.example(seed=0)
    session = Session(preset, inputs, target, [config.build(1, 1)])
    path = tmp_path / "s.rnnviz"
    write_session(path, session)
    series.unlink()  # "another machine": the original file is not there

    back = read_session(path)
    extracted = Path(back.preset.task_settings["path"])
    assert extracted.is_relative_to(tmp_path / "cache") and extracted.name == "series.csv"
    assert extracted.read_text().startswith("v\n")
    np.testing.assert_array_equal(back.inputs, inputs)
    again = back.preset.make_task()
    np.testing.assert_array_equal(again.example(seed=0)[0], inputs)
    with zipfile.ZipFile(path) as zf:
        assert "data/series.csv" in zf.namelist()
        assert 'path = "data/series.csv"' in zf.read("preset.toml").decode()


def test_a_users_data_travels_as_its_arrays_names_and_sizes(tmp_path):
    """A sequence read from a user's file (``DataTask``) has no task name to save: the
    session keeps its arrays and what the window shows of it, and refuses a damaged table."""
    from rnnviz.core.losses import Target
    from rnnviz.files.data_task import DataTask

    rng = np.random.default_rng(0)
    values = rng.normal(size=(25, 3)).astype(np.float32)
    labels = rng.integers(0, 4, 25).astype(np.int32)
    task = DataTask(source="mine.csv", values=values, target_values=labels, kind="xent",
                    outputs=4, channels=("a", "b", "c"))
    config = ModelConfig("gru", 6, label="mine.keras")
    preset = Preset(task.title, task.description, task.name, {}, (config,), data=task)
    model = config.build(3, 4)
    path = tmp_path / "s.rnnviz"
    write_session(path, Session(preset, values, Target(labels, kind="xent"), [model], t=4))
    back = read_session(path)
    got = back.preset.make_task()
    assert isinstance(got, DataTask) and got == task and back.t == 4
    np.testing.assert_array_equal(got.values, values)
    np.testing.assert_array_equal(got.target_values, labels)
    np.testing.assert_array_equal(back.target.values, labels)
    assert back.preset.models[0].label == "mine.keras"

    for old, new, message in [
            ('kind = "xent"', 'kind = "mae"', 'task.kind: expected "mse" or "xent", got \'mae\''),
            ("outputs = 4", "outputs = 0", "task.outputs: expected an integer in 1..4096"),
            ("outputs = 4", "outputs = 3", "class targets must lie in [0, 3)"),
            ('"c",', '"c", "d",', "task.channels: expected a list of 1 to 3 strings"),
            ('name = "data"', 'name = "data"\ncolour = 1', "task.colour: expected one of")]:
        bad = tmp_path / "bad.rnnviz"
        _rewrite(path, bad, lambda name, data, old=old, new=new: data.replace(
            old.encode(), new.encode()) if name == "preset.toml" else data)
        assert message in _one_line_error(bad), message
