"""Training the explorer's columns without Qt: the runs on their own worker thread, their
histories, and what a new preset does to a run."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from rnnviz.ui.state.controller import Explorer
from rnnviz.ui.state.jobs import InlineJobRunner, JobRunner
from rnnviz.ui.state.training import Training
from tests_support import Mailbox

from rnnviz.files.presets import load_preset
from rnnviz.training.history import DONE, STOPPED

TINY = """title = "Tiny sine"
description = "A tiny RNN on a short sine, for tests."
start_step = 10

[task]
name = "sine"
length = 40

[[models]]
cell = "rnn"
hidden_size = 4
seed = 0
{extra}
[training]
steps = {steps}
batch_size = 8
learning_rate = 0.05
eval_every = 10
eval_batch = 16
"""


@pytest.fixture
def tiny(tmp_path):
    def write(steps=30, extra=""):
        path = tmp_path / f"tiny-{steps}.toml"
        path.write_text(TINY.format(steps=steps, extra=extra))
        return load_preset(path)

    return write


def test_a_run_trains_from_the_presets_options_and_shows_the_weights_reached(tiny):
    explorer = Explorer(jobs=InlineJobRunner())
    training = Training(explorer, InlineJobRunner())
    explorer.load_preset(tiny())
    explorer.jobs.run_pending()
    column = explorer.state.columns[0]
    before = column.model
    assert training.options[column.id].steps == 30
    progress = []
    training.events.progress.connect(progress.append)
    assert training.train()
    training.runner.run_pending()
    explorer.jobs.run_pending()
    history = training.histories[column.id]
    assert history.state == DONE and len(history.losses) == 30 and progress
    assert training.trained(column.id) and training.weights_shown(column.id)
    assert column.model is not before
    np.testing.assert_array_equal(column.model.params["weight_hh_l0"],
                                  training.current_model(column.id).params["weight_hh_l0"])
    training.reset(column.id)
    explorer.jobs.run_pending()
    assert not training.trained(column.id) and len(training.histories[column.id].losses) == 0


def test_a_new_preset_mid_run_stops_training_and_starts_the_curves_over(tiny):
    mail = Mailbox()
    explorer = Explorer(jobs=JobRunner(mail))
    training = Training(explorer, JobRunner(mail, name="training"))
    try:
        explorer.load_preset(tiny(steps=1_000_000))
        first = explorer.state.columns[0].id
        assert training.train()
        assert not training.train()  # one run at a time
        mail.run_until(lambda: training.histories[first].step > 0, timeout=120)
        explorer.load_preset(tiny(steps=30))
        assert not training.running
        assert list(training.histories) == [c.id for c in explorer.state.columns]
        assert all(len(h.losses) == 0 for h in training.histories.values())
        assert training.options[explorer.state.columns[0].id].steps == 30  # the new preset's
        mail.run_until(training.runner.is_idle, timeout=120)
    finally:
        training.shutdown()
        explorer.shutdown()


def test_stop_keeps_the_weights_reached(tiny):
    mail = Mailbox()
    explorer = Explorer(jobs=JobRunner(mail))
    training = Training(explorer, JobRunner(mail, name="training"))
    try:
        explorer.load_preset(tiny(steps=1_000_000))
        column = explorer.state.columns[0]
        training.train()
        mail.run_until(lambda: training.histories[column.id].step > 0, timeout=120)
        training.stop()
        mail.run_until(lambda: not training.running, timeout=120)
        history = training.histories[column.id]
        assert history.state == STOPPED and 0 < len(history.losses) < 1_000_000
        assert training.trained(column.id)
    finally:
        training.shutdown()
        explorer.shutdown()


def test_each_column_says_what_back_propagation_through_its_sequence_holds(tiny):
    from rnnviz.training.memory import bptt_memory

    explorer = Explorer(jobs=InlineJobRunner())
    training = Training(explorer, InlineJobRunner())
    explorer.load_preset(tiny())
    explorer.jobs.run_pending()
    column = explorer.state.columns[0]
    spec = column.model.spec
    whole = bptt_memory(spec, 40, batch=8)
    assert training.memory(column.id) == whole
    text, tip = training.memory_words(column.id)
    assert text == f"BPTT {whole.stored / 1e6:.3g} MB"
    assert "through the whole sequence" in tip and "8 sequences of 40 steps" in tip
    assert training.set_option([column.id], "bptt_window", 10)
    assert training.memory(column.id) == bptt_memory(spec, 40, batch=8, window=10)
    assert "windows of 10 steps" in training.memory_words(column.id)[1]
    assert training.set_option([column.id], "remat_chunk", 4)
    assert training.memory(column.id).stored < bptt_memory(spec, 40, batch=8, window=10).stored
    assert "recomputing chunks of 4 steps" in training.memory_words(column.id)[1]
    assert training.memory_words(12345) == ("", "")  # no such column


def test_the_memory_lesson_doubles_the_units_and_the_header_doubles():
    """The last step of the shipped ``memory_cost`` lesson: 128 units instead of 64 hold
    about twice the activations (its question's answer)."""
    from tests_support import settle

    explorer = Explorer(jobs=InlineJobRunner())
    training = Training(explorer, InlineJobRunner())
    try:
        explorer.load_preset(load_preset("memory_cost"))
        settle(explorer)
        first = explorer.state.columns[0].id
        before = training.memory(first).stored
        lesson = explorer.lesson
        assert lesson.start()
        while lesson.index < lesson.count - 1:
            if lesson.step.question is not None:
                lesson.answer(lesson.step.question.answer)
            assert lesson.next()
        settle(explorer)
        assert lesson.step.question.choices[lesson.step.question.answer] == "It doubles"
        column = explorer.state.find(first) or explorer.state.columns[0]
        assert column.model.spec.hidden_size == 128
        after = training.memory(column.id).stored
        assert 1.95 < after / before < 2.05
        assert training.memory_words(column.id)[0] == f"BPTT {after / 1e6:.3g} MB"
    finally:
        training.shutdown()
        explorer.shutdown()


THREE = TINY.replace('''[[models]]
cell = "rnn"
hidden_size = 4
seed = 0
{extra}''', '''[[models]]
cell = "rnn"
hidden_size = 4
seed = 0

[[models]]
cell = "rnn"
hidden_size = 4
seed = 1

[[models]]
cell = "gru"
hidden_size = 4
seed = 2
''')


def test_all_columns_train_at_once_to_the_weights_one_by_one_training_reaches(tmp_path,
                                                                            monkeypatch):
    """Three columns on three workers, each run waiting at a barrier until all three have
    started (so they ran at the same time), reach bitwise the weights of training them one
    after another: each run is its own seeded batches through the same compiled programs,
    and XLA's CPU results do not depend on which thread runs them or what runs beside."""
    import rnnviz.ui.state.training as training_module

    path = tmp_path / "three.toml"
    path.write_text(THREE.format(steps=10))
    preset = load_preset(path)

    def weights(runner, post_runs=None):
        explorer = Explorer(jobs=InlineJobRunner())
        training = Training(explorer, runner)
        try:
            explorer.load_preset(preset)
            explorer.jobs.run_pending()
            assert training.train()
            if post_runs is None:
                training.runner.run_pending()
            else:
                post_runs.run_until(lambda: not training.running, timeout=300)
            assert all(h.state == DONE for h in training.histories.values())
            return [training.current_model(c.id).numpy_params()
                    for c in explorer.state.columns]
        finally:
            training.shutdown()
            explorer.shutdown()

    alone = weights(InlineJobRunner())
    barrier = threading.Barrier(3, timeout=120)
    real_train = training_module.train

    def together(*args, **kwargs):
        barrier.wait()
        return real_train(*args, **kwargs)

    monkeypatch.setattr(training_module, "train", together)
    mail = Mailbox()
    side_by_side = weights(JobRunner(mail, name="training", workers=3), mail)
    assert len(alone) == len(side_by_side) == 3
    for one, other in zip(alone, side_by_side, strict=True):
        assert one.keys() == other.keys()
        for name in one:
            np.testing.assert_array_equal(one[name], other[name])


def test_a_model_opened_from_a_file_trains_on_its_data_as_a_built_in_one_does(tiny, tmp_path):
    """PyTorch's embedding, two bidirectional layers of a projected LSTM and a linear head,
    read from its state_dict, fitted to a token sequence and its target, trained in place."""
    from rnnviz.ui.state.model_files import show_data

    from rnnviz.files.data_task import model_and_data

    reference = Path(__file__).parents[2] / "files" / "reference" / "torch_models.npz"
    with np.load(reference) as z:
        ref = {k.split("/", 1)[1]: z[k] for k in z.files if k.startswith("emb_lstm_proj_2bi/")}
    np.savez(tmp_path / "model.npz", **{k: v for k, v in ref.items()
                                        if k.split(".")[0] in ("embed", "rnn", "head")})
    np.save(tmp_path / "ids.npy", ref["x"])
    np.save(tmp_path / "target.npy", ref["target"])
    spec, task = model_and_data(tmp_path / "model.npz", tmp_path / "ids.npy",
                                target=str(tmp_path / "target.npy"))
    explorer = Explorer(jobs=InlineJobRunner())
    training = Training(explorer, InlineJobRunner())
    explorer.load_preset(tiny(steps=12))
    explorer.jobs.run_pending()
    column = explorer.state.columns[0]
    assert show_data(explorer, task, (tmp_path / "model.npz", spec), column_id=column.id)
    explorer.jobs.run_pending()
    opened = column.model
    assert opened.spec == spec and column.ready
    np.testing.assert_allclose(column.trace["output"], ref["output"], atol=1e-5, rtol=0)
    assert training.train([column.id])
    training.runner.run_pending()
    explorer.jobs.run_pending()
    history = training.histories[column.id]
    assert history.state == DONE and len(history.losses) == 12
    assert np.all(np.isfinite(history.losses))
    assert column.model.spec == spec  # the same model, trained: embedding, projection, head
    for name, value in opened.params.items():
        assert not np.array_equal(column.model.params[name], value), name
