"""``rnnviz check`` (one summary line, or one error line and status 2) and ``rnnviz train``."""

import os
import signal

import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.cli.train import ProgressBar, weight_paths
from rnnviz.core.model import Model
from rnnviz.files.presets import load_preset

GOOD = """\
title = "Tiny"
description = "A tiny preset for tests."
start_step = 3

[task]
name = "sine"
length = 12

[[models]]
cell = "gru"
hidden_size = 4
{extra_model}
[training]
steps = 30
batch_size = 4
eval_every = 10
eval_batch = 8
{extra_training}
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def tiny(tmp_path, *, extra_model="", extra_training="", name="p.toml"):
    return write(tmp_path, GOOD.format(extra_model=extra_model, extra_training=extra_training),
                 name)


def check_error(path, capsys) -> str:
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnviz: error: ") and not captured.out
    return lines[0]


def test_check_a_good_preset(tmp_path, capsys):
    path = tiny(tmp_path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == (f"{path}: ok: 'Tiny': task sine (12 steps), 1 model(s): GRU 4; "
                   f"start step 3; training steps 30")
    path = tiny(tmp_path, extra_model='select = { row = "z", unit = 2 }', name="sel.toml")
    assert main(["check", str(path)]) == 0
    assert "; start step 3; selects unit 2 of GRU in row z; training steps 30" in \
        capsys.readouterr().out
    path = tiny(tmp_path, extra_model='num_layers = 2\nselect = { unit = 0, layer = "l1" }',
                name="deep.toml")
    assert main(["check", str(path)]) == 0
    assert "; selects unit 0 of GRU in row h of layer l1;" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "message"), [
    # unknown keys, at every level
    (GOOD.replace('title = "Tiny"', 'title = "Tiny"\ncolour = "red"'),
     "colour: unknown key; expected one of description, highlight, lesson, models, start_step, "
     "task, title, training"),
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nhiden = 3"),
     "models[0].hiden: unknown key; expected one of"),
    (GOOD.replace("length = 12", "length = 12\nlenght = 5"),
     "task.lenght: unknown setting of task sine; expected one of length, frequencies, noise"),
    (GOOD.replace("steps = 30", "steps = 30\nlr = 0.1"), "training.lr: unknown key"),
    # wrong types
    (GOOD.replace("hidden_size = 4", 'hidden_size = "four"'),
     "models[0].hidden_size: expected an integer in 1..1024, got 'four'"),
    (GOOD.replace("start_step = 3", "start_step = 2.5"),
     "start_step: expected an integer >= 0, got 2.5"),
    (GOOD.replace("steps = 30", 'steps = "many"'),
     "training.steps: expected an integer in 0..1000000, got 'many' (limit MAX_STEPS)"),
    # out of range
    (GOOD.replace("hidden_size = 4", "hidden_size = 0"),
     "models[0].hidden_size: expected an integer in 1..1024, got 0"),
    (GOOD.replace("start_step = 3", "start_step = 12"),
     "start_step: expected an integer in 0..11 (the task has 12 steps), got 12"),
    (GOOD.replace("length = 12", "length = 1"),
     "task.length: expected an integer in 2..100000, got 1"),
    (GOOD.replace("steps = 30", "steps = 30\nlearning_rate = -1"),
     "training.learning_rate: expected a number in (0, 1000], got -1"),
    (GOOD.replace('name = "sine"', 'name = "sinus"'), "task.name: expected one of"),
    # seeds: what the window's seed boxes (32-bit) can show, no more
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nseed = 2147483648"),
     "models[0].seed: expected an integer in 0..2147483647, got 2147483648 (limit MAX_SEED)"),
    (GOOD.replace("steps = 30", "steps = 30\nseed = 9223372036854775807"),
     "training.seed: expected an integer in 0..2147483647, got 9223372036854775807 "
     "(limit MAX_SEED)"),
    (GOOD.replace('cell = "gru"', 'cell = "transformer"'),
     "models[0].cell: expected one of rnn_tanh, rnn_relu, lstm, gru, lstm_proj, gru_cho, "
     "mingru, minlstm, lru, mamba, mamba_signed, got 'transformer'"),
    # the selected unit
    (GOOD.replace("hidden_size = 4", 'hidden_size = 4\nselect = {{ row = "c", unit = 1 }}'),
     "models[0].select.row: expected one of h, r, z, n (rows of a GRU), got 'c'"),
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nselect = {{ unit = 4 }}"),
     "models[0].select.unit: expected an integer in 0..3 (the units of row h), got 4"),
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nselect = 2"),
     'models[0].select: expected a table like { row = "h", unit = 0 }, got 2'),
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nselect = {{ unit = 1, colour = 2 }}"),
     "models[0].select.colour: unknown key; expected one of layer, row, unit"),
    (GOOD.replace("hidden_size = 4", 'hidden_size = 4\nselect = {{ unit = 1, layer = "l1" }}'),
     "models[0].select.layer: expected one of l0 (the layers of this GRU), got 'l1'"),
    (GOOD.replace("hidden_size = 4", "hidden_size = 4\nselect = {{ unit = 1 }}")
     + '[[models]]\ncell = "lstm"\nselect = {{ unit = 0 }}\n',
     "models[1].select: expected a select table in one model at most"),
    # missing things
    (GOOD.replace('title = "Tiny"', ""), "title: expected a value (a non-empty string)"),
    (GOOD.replace('hidden_size = 4', 'hidden_size = 4\nweights = "nope.safetensors"'),
     "models[0].weights: expected an existing .safetensors or .npz file"),
])
def test_check_errors_name_the_file_and_key(tmp_path, capsys, text, message):
    path = write(tmp_path, text.format(extra_model="", extra_training=""))
    line = check_error(path, capsys)
    assert line.startswith(f"rnnviz: error: {path}: ")
    assert message in line, line


def test_check_bad_toml_names_the_line(tmp_path, capsys):
    text = GOOD.format(extra_model="", extra_training="").replace("start_step = 3",
                                                                   "start_step = = 3")
    path = write(tmp_path, text)
    line = check_error(path, capsys)
    assert line.startswith(f"rnnviz: error: {path}: bad TOML: ") and "line 3" in line, line


def test_check_missing_file_and_weights_that_do_not_fit(tmp_path, capsys):
    assert "no such file" in check_error(tmp_path / "none.toml", capsys)
    other = Model.create("lstm", 1, 4, output_size=1)
    other.save(tmp_path / "w.safetensors")
    path = tiny(tmp_path, extra_model='weights = "w.safetensors"')
    line = check_error(path, capsys)
    assert ("models[0].weights: expected gru, hidden 4, 1 layer(s), unidirectional, 1 in, 1 out "
            "(the table and task sine), got lstm, hidden 4") in line


def test_train_one_model_to_a_file_deterministically(tmp_path, capsys):
    path = tiny(tmp_path)
    out = tmp_path / "w.safetensors"
    assert main(["train", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "[1/1] GRU (hidden 4): adam, lr 0.01, clip off, batch 4, 30 steps, seed 0" in err
    assert "step 30/30" in err and "val " in err and f"wrote {out}: done after 30 steps" in err
    first = Model.load(out).numpy_params()
    assert main(["train", str(path), "--out", str(out)]) == 0
    again = Model.load(out).numpy_params()
    for name, value in first.items():
        np.testing.assert_array_equal(value, again[name])
    assert main(["train", str(path), "--out", str(out), "--seed", "1"]) == 0
    other = Model.load(out).numpy_params()
    assert not np.array_equal(other["weight_hh_l0"], first["weight_hh_l0"])


def test_train_several_models_names_and_preset_copy(tmp_path, capsys):
    extra = ('\n[[models]]\ncell = "rnn"\nhidden_size = 3\ntraining = { clip_norm = 0.5, '
             'steps = 0 }\n')
    path = tiny(tmp_path, extra_model=extra, name="two.toml")
    preset = load_preset(path, require_weights=False)
    assert [p.name for p in weight_paths(preset, tmp_path / "out")] == [
        "two-0-gru.safetensors", "two-1-rnn_tanh.safetensors"]
    assert [p.name for p in weight_paths(preset, tmp_path / "w.npz")] == [
        "w-0-gru.npz", "w-1-rnn_tanh.npz"]
    copy = tmp_path / "copy" / "trained.toml"
    assert main(["train", str(path), "--out", str(tmp_path / "out"), "--preset-out",
                 str(copy)]) == 0
    err = capsys.readouterr().err
    assert "clip 0.5" in err and "0 steps" in err and f"wrote {copy}" in err
    trained = load_preset(copy)
    assert [m.weights for m in trained.models] == [
        (tmp_path / "out" / "two-0-gru.safetensors").resolve(),
        (tmp_path / "out" / "two-1-rnn_tanh.safetensors").resolve()]
    assert trained.models[1].training == {"clip_norm": 0.5, "steps": 0}
    assert main(["check", str(copy)]) == 0
    # steps = 0: the written weights are the seeded initialisation
    from rnnviz.cli.train import initial_model

    start = initial_model(preset, 1)
    written = Model.load(trained.models[1].weights)
    for name, value in start.numpy_params().items():
        np.testing.assert_array_equal(written.numpy_params()[name], value)


def test_train_errors(tmp_path, capsys):
    path = tiny(tmp_path)
    assert main(["train", str(path), "--out", str(tmp_path / "w.txt")]) == 2
    assert "--out " in capsys.readouterr().err
    assert main(["train", str(path), "--out", str(tmp_path), "--steps", "-3"]) == 2
    assert ("--steps: expected an integer in 0..1000000, got -3 (limit MAX_STEPS)"
            in capsys.readouterr().err)
    assert main(["train", str(path), "--out", str(tmp_path), "--bptt-window", "0"]) == 2
    assert ("--bptt-window: expected an integer in 1..100000" in capsys.readouterr().err)


def test_train_with_truncated_bptt(tmp_path, capsys):
    path = tiny(tmp_path, extra_training="bptt_window = 4\nbptt_carry = false")
    out = tmp_path / "w.safetensors"
    assert main(["train", str(path), "--out", str(out), "--steps", "3"]) == 0
    assert "BPTT window 4 (state restarts)" in capsys.readouterr().err
    truncated = Model.load(out).numpy_params()
    assert main(["train", str(path), "--out", str(out), "--steps", "3", "--bptt-window",
                 "100", "--bptt-carry", "--remat-chunk", "5"]) == 0
    assert ("BPTT window 100 (state carried), remat chunks of 5"
            in capsys.readouterr().err)
    whole = Model.load(out).numpy_params()  # a window longer than the sequence: plain BPTT
    assert not np.allclose(whole["weight_hh_l0"], truncated["weight_hh_l0"])


def test_ctrl_c_keeps_what_was_reached(tmp_path, capsys, monkeypatch):
    path = tiny(tmp_path, extra_training="chunk_steps = 10")

    def interrupt(self, k, progress):
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ProgressBar, "update", interrupt)
    out = tmp_path / "w.safetensors"
    before = signal.getsignal(signal.SIGINT)  # (a pytest-xdist worker ignores Ctrl-C)
    assert main(["train", str(path), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert f"wrote {out}: stopped by Ctrl-C after 10 steps" in err and "interrupted" in err
    assert Model.load(out).spec.hidden_size == 4
    assert signal.getsignal(signal.SIGINT) is before  # the command's handler is gone again


def test_progress_bar_line():
    import io

    from rnnviz.training.loop import Progress

    preset = load_preset("sine")
    bar = ProgressBar(preset, io.StringIO())
    progress = Progress(step=50, total=200, first_step=0, losses=np.array([0.5, 0.25]),
                        grad_norms=np.ones(2), param_grad_norms={}, val_loss=0.3,
                        val_accuracy=0.875, val_step=50, elapsed=2.0, eta=75.0, params={},
                        diverged=False)
    assert bar.line(0, progress) == ("  [######..................] step 50/200  loss 0.25  "
                                     "val 0.3 (acc 88%)  1:15 left")
    bar.update(0, progress)
    assert bar.stream.getvalue().endswith("1:15 left\n")
