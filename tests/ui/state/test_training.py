"""Training the explorer's columns without Qt: the runs on their own worker thread, their
histories, and what a new preset does to a run."""

from __future__ import annotations

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
