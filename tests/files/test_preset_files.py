"""Saving a preset (what the window's "save as preset" calls) and reading it back."""

import shutil
from dataclasses import replace

import pytest

from rnnviz.files.presets import (
    load_preset,
    parse_preset,
    preset_to_dict,
    save_preset,
    shipped_presets,
)


@pytest.mark.parametrize("name", [name for name, _ in shipped_presets()])
def test_every_shipped_preset_survives_a_save_and_load(tmp_path, name):
    shipped = load_preset(name)
    folder = tmp_path / "lessons"
    folder.mkdir()
    shutil.copy(shipped.path, folder)
    for m in shipped.models:
        if m.weights is not None:
            shutil.copy(m.weights, folder)
    preset = load_preset(folder / shipped.path.name)
    beside, elsewhere = folder / "copy.toml", tmp_path / "other" / "copy.toml"
    save_preset(preset, beside)
    save_preset(preset, elsewhere)
    for path in (beside, elsewhere):
        again = load_preset(path)
        assert replace(again, path=None) == replace(preset, path=None)
    # weights beside the copy are written relative to it, others as absolute paths
    names = [f'weights = "{m.weights.name}"' for m in preset.models if m.weights]
    assert all(n in beside.read_text() for n in names)
    assert all(f'weights = "{(folder / n[11:-1]).as_posix()}"' in elsewhere.read_text()
               for n in names)
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".toml") == sorted(
        ["copy.toml", shipped.path.name])  # and no temporary file left behind


def test_saving_over_a_preset_is_atomic(tmp_path, monkeypatch):
    import tomli_w

    preset = load_preset("vanishing")
    path = tmp_path / "mine.toml"
    save_preset(preset, path)
    before = path.read_bytes()

    def broken(data):
        raise OSError("disk full")

    monkeypatch.setattr(tomli_w, "dumps", broken)
    with pytest.raises(OSError):
        save_preset(replace(preset, title="changed"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["mine.toml"]


def test_the_selected_unit_is_read_and_written_back(tmp_path):
    anbn = load_preset("anbn")
    assert anbn.select == (0, "c", 5, "l0")  # the counting unit the lesson is about
    assert load_preset("sine").select is None
    text = (tmp_path / "a.toml")
    save_preset(replace(anbn, select=(0, "f", 2, "l0")), text)
    assert load_preset(text).select == (0, "f", 2, "l0")
    assert "layer = " not in text.read_text()  # the first layer goes without saying
    assert preset_to_dict(replace(anbn, select=None))["models"][0].get("select") is None
    two = parse_preset('''title = "two"
[task]
name = "sine"
length = 10
[[models]]
cell = "rnn"
[[models]]
cell = "gru"
hidden_size = 4
select = { unit = 3 }
''')
    assert two.select == (1, "h", 3, "l0")  # the row defaults to h, the layer to the first


def test_a_selected_unit_in_another_layer_round_trips(tmp_path):
    deep = parse_preset('''title = "deep"
[task]
name = "sine"
length = 10
[[models]]
cell = "lstm"
hidden_size = 4
num_layers = 2
bidirectional = true
select = { row = "f", unit = 1, layer = "l1_reverse" }
''')
    assert deep.models[0].units == ["l0", "l0_reverse", "l1", "l1_reverse"]
    assert deep.select == (0, "f", 1, "l1_reverse")
    path = tmp_path / "deep.toml"
    save_preset(deep, path)
    assert 'layer = "l1_reverse"' in path.read_text()
    assert load_preset(path).select == (0, "f", 1, "l1_reverse")
