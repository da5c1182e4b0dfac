"""Every shipped preset makes one point; these tests check that the point is true.

Each ``claim_<name>(preset)`` builds the preset's models exactly as the window does
(``ModelConfig.build``: the shipped weights) and checks what its description says,
with numbers from ``rnnviz.training.loop.evaluate`` and traces. The slow tests retrain presets from
scratch through ``rnnviz train`` (the command ``scripts/train_presets.py`` runs) and check the
same claims on the fresh weights, so the lessons stay true as the code changes.
"""


import numpy as np
import pytest

from rnnviz.cli import main
from rnnviz.cli.train import weight_paths
from rnnviz.files.presets import Preset, load_preset, shipped_presets
from rnnviz.training.loop import evaluate

EVAL_SEED, EVAL_N = 12345, 512  # never a training batch (those use step_seed)


def models_of(preset: Preset):
    task = preset.make_task()
    return task, [m.build(task.input_size, task.output_size) for m in preset.models]


def scores(preset: Preset, n: int = EVAL_N) -> list[dict]:
    task, models = models_of(preset)
    return [evaluate(m.spec, m.params, task, seed=EVAL_SEED, n=n) for m in models]


def by_cell(preset: Preset, values) -> dict:
    return {m.cell: v for m, v in zip(preset.models, values, strict=True)}


# -- the claims --------------------------------------------------------------------------------
def claim_sine(preset):
    """All three learn it: MSE far below the signal's variance (0.25 for two unit sines)."""
    task = preset.make_task()
    variance = float(np.var(task.batch(EVAL_N, seed=EVAL_SEED)[1]))
    assert variance == pytest.approx(0.25, rel=0.1)
    losses = by_cell(preset, [s["loss"] for s in scores(preset)])
    assert set(losses) == {"rnn_tanh", "lstm", "gru"}
    for cell, loss in losses.items():
        assert loss < variance / 50, (cell, loss)


def claim_vanishing(preset):
    """Untrained; from the last step, ||d loss_T / dh_k|| falls by > 12 orders of magnitude
    over the sequence for the RNN, < 3 for the LSTM (the "about 100-fold"), the GRU between."""
    assert all(m.weights is None for m in preset.models)
    task, models = models_of(preset)
    x, target = task.example(seed=preset.example_seed)
    T = task.length
    assert preset.start_step == T - 1 and preset.highlight == "gradients"
    falls = {}
    for config, model in zip(preset.models, models, strict=True):
        row = model.gradient_flow(x, target, T - 1)["l0"]
        assert np.all(np.isfinite(row)) and row[0] > 0
        falls[config.cell] = np.log10(row[T - 1] / row[0])
    assert falls["rnn_tanh"] > 12, falls
    assert 1 < falls["lstm"] < 3, falls  # "only about 100-fold"
    assert falls["lstm"] + 3 < falls["gru"] < falls["rnn_tanh"] - 3, falls
    # "about 17 orders of magnitude"
    assert 15 < falls["rnn_tanh"] < 19, falls


def claim_exploding(preset):
    """Untrained: the gradient grows going back; unclipped training: saturated and no better
    than the mean; clipped: follows the sine."""
    task, models = models_of(preset)
    assert [m.cell for m in preset.models] == ["rnn_tanh"] * 3
    assert [preset.train_options(k).clip_norm for k in range(3)] == [None, None, 1.0]
    x, target = task.example(seed=preset.example_seed)
    T = task.length
    row = models[0].gradient_flow(x, target, T - 1)["l0"]
    assert 1e3 < row[0] / row[T - 1] < 3e4  # "about 5000-fold going back 100 steps"
    variance = float(np.var(task.batch(EVAL_N, seed=EVAL_SEED)[1]))
    untrained, unclipped, clipped = scores(preset)
    assert unclipped["loss"] > 0.6 * variance, unclipped
    assert clipped["loss"] < variance / 20, clipped
    h = models[1].trace(x)["h_l0"]
    assert np.mean(np.abs(h) > 0.99) > 0.95  # "every unit is stuck at +1 or -1"
    assert np.ptp(models[1].trace(x)["output"]) < 0.1  # "the output is flat"


def claim_temporal_order(preset):
    """LSTM and GRU nearly always right; the RNN near chance (25%)."""
    accuracy = by_cell(preset, [s["accuracy"] for s in scores(preset)])
    assert accuracy["lstm"] > 0.95 and accuracy["gru"] > 0.95, accuracy
    assert accuracy["rnn_tanh"] < 0.35, accuracy


def claim_adding(preset):
    """LSTM and GRU close to 0; the RNN at the no-memory baseline 0.167."""
    loss = by_cell(preset, [s["loss"] for s in scores(preset)])
    assert loss["lstm"] < 0.01 and loss["gru"] < 0.01, loss
    assert 0.14 < loss["rnn_tanh"] < 0.2, loss
    # the LSTM's input gate opens at the markers: higher there than elsewhere
    task, models = models_of(preset)
    x, _ = task.example(seed=preset.example_seed)
    gate_i = models[1].trace(x)["gate_i_l0"].mean(axis=1)
    marked = x[:, 1] == 1
    assert gate_i[marked].min() > gate_i[~marked].max()


def claim_anbn(preset):
    """Right on every n of the training range and at n = 13; the unit the description names
    rises ~0.75 per a and falls as much per b (correlation with the count > 0.97)."""
    _, row, unit, _ = preset.select  # the unit the window opens on, which the description names
    assert row == "c" and f"Cell unit {unit} is selected" in preset.description
    assert preset.highlight == "cell"
    task, (model,) = models_of(preset)
    for n in (*range(task.n_min, task.n_max + 1), 13):
        x, target = task.example(n=n)
        trace = model.trace(x, target)
        assert task.accuracy(trace["output"], target.values, target.mask) == 1.0, n
        count = np.concatenate([[0], np.arange(1, n + 1), n - np.arange(1, n + 1)])
        c = trace["c_l0"][: 2 * n + 1, unit]
        if n >= 3:  # (a correlation over 3 or 5 points says little)
            assert np.corrcoef(c, count)[0, 1] > 0.97, (n, unit)
            rise, fall = np.diff(c[1: n + 1]).mean(), np.diff(c[n: 2 * n + 1]).mean()
            assert 0.5 < rise < 1.0 and -1.0 < fall < -0.5, (n, rise, fall)


def claim_text(preset):
    """Far below the unigram baseline; the named unit's forget gate shuts at spaces; the right
    character is less likely at a word's start."""
    task, (model,) = models_of(preset)
    ids = task._ids
    p = np.bincount(ids) / len(ids)
    unigram = float(-(p[p > 0] * np.log(p[p > 0])).sum())
    (score,) = scores(preset, n=128)
    assert score["loss"] < unigram - 1.5, (score, unigram)
    _, row, unit, _ = preset.select
    assert row == "f" and f"Unit {unit}, selected, marks word boundaries" in preset.description
    xs, ys, _ = task.batch(32, seed=EVAL_SEED)
    forget, space, right = [], [], []
    for x, y in zip(xs, ys, strict=True):
        trace = model.trace(x)
        forget.append(trace["gate_f_l0"][:, unit])
        space.append(np.array([c == " " for c in task.decode(x)]))
        out = trace["output"]
        prob = np.exp(out - out.max(axis=1, keepdims=True))
        right.append((prob / prob.sum(axis=1, keepdims=True))[np.arange(len(y)), y])
    forget, space, right = map(np.concatenate, (forget, space, right))
    assert forget[space].max() < 0.5 and forget[space].mean() < 0.1
    assert forget[~space].mean() > 0.3
    assert right[space].mean() < right[~space].mean() - 0.1


def claim_bidirectional(preset):
    """The bidirectional LSTM is right almost always; left to right stays at chance (25%)."""
    left, bi = scores(preset)
    assert [m.bidirectional for m in preset.models] == [False, True]
    assert bi["accuracy"] > 0.95, bi
    assert left["accuracy"] < 0.3, left


CLAIMS = {name[len("claim_"):]: f for name, f in globals().items() if name.startswith("claim_")}


def test_every_shipped_preset_has_a_claim():
    names = [name for name, _ in shipped_presets()]
    assert names[0] == "sine"  # the default comes first
    assert sorted(names) == sorted(CLAIMS)
    assert len(names) >= 8


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_shipped_preset_claim(name):
    CLAIMS[name](load_preset(name))


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_shipped_preset_passes_check_and_names_its_weights_as_train_writes_them(name, capsys):
    assert main(["check", name]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and f"{name}.toml: ok: " in out
    preset = load_preset(name)
    expected = weight_paths(preset, preset.path.parent)
    for k, (config, path) in enumerate(zip(preset.models, expected, strict=True)):
        if config.weights is not None:
            assert config.weights == path, k
            assert preset.train_options(k) is not None  # reproducible by `rnnviz train`


# -- retraining from scratch -------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["bidirectional", "exploding"])
def test_retraining_from_scratch_reproduces_the_lesson(name, tmp_path):
    copy = tmp_path / f"{name}.toml"
    assert main(["train", name, "--out", str(tmp_path), "--preset-out", str(copy)]) == 0
    fresh = load_preset(copy)
    shipped = load_preset(name)
    for f, s in zip(fresh.models, shipped.models, strict=True):
        assert f.weights.parent == tmp_path and f.weights.name == s.weights.name
    CLAIMS[name](fresh)
    for new, old in zip(scores(fresh), scores(shipped), strict=True):
        assert new["loss"] == pytest.approx(old["loss"], rel=0.5, abs=0.01)
