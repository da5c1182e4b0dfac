"""The training panel's Qt-free parts: merging progress reports, histories across runs, and
the training tables of a saved preset."""

import numpy as np
import pytest

from rnnviz.files.preset_saving import options_tables
from rnnviz.training.history import COMPILING, DIVERGED, RUNNING, History, ProgressMerger
from rnnviz.training.loop import Progress, TrainOptions, TrainResult


def _progress(first, step, total=100, val_step=0, val_loss=1.0, diverged=False, loss=None):
    n = step - first
    losses = np.full(n, 0.5 if loss is None else loss)
    return Progress(step=step, total=total, first_step=first, losses=losses,
                    grad_norms=np.arange(first, step, dtype=float) + 1,
                    param_grad_norms={"w": float(step), "b": 2.0 * step}, val_loss=val_loss,
                    val_accuracy=None, val_step=val_step, elapsed=0.0, eta=1.0,
                    params={"w": np.full(2, step)}, diverged=diverged)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_merger_sends_the_first_report_then_at_most_one_per_interval():
    clock = Clock()
    merger = ProgressMerger(0.1, clock=clock)
    first = merger.add(_progress(0, 10))
    assert first is not None and first.step == 10 and list(first.val_steps) == [0]
    clock.now = 0.03
    assert merger.add(_progress(10, 20, val_step=0)) is None
    clock.now = 0.06
    assert merger.add(_progress(20, 30, val_step=25, val_loss=0.4)) is None
    clock.now = 0.11
    merged = merger.add(_progress(30, 40, val_step=25, val_loss=0.4))
    assert (merged.first_step, merged.step) == (10, 40)
    np.testing.assert_array_equal(merged.grad_norms, np.arange(11, 41))
    np.testing.assert_array_equal(merged.param_steps, [20, 30, 40])
    np.testing.assert_array_equal(merged.param_norms["b"], [40.0, 60.0, 80.0])
    assert list(merged.val_steps) == [25] and list(merged.val_losses) == [0.4]
    assert merged.params["w"][0] == 40
    assert merger.flush() is None


def test_merger_never_holds_back_the_last_step_or_a_divergence():
    clock = Clock()
    merger = ProgressMerger(10.0, clock=clock)
    merger.add(_progress(0, 10))
    assert merger.add(_progress(10, 20, diverged=True, loss=np.nan)).diverged
    assert merger.add(_progress(20, 100)).step == 100
    assert merger.add(_progress(20, 30, total=50)) is None
    assert merger.flush().step == 30


def test_history_counts_steps_across_runs_and_finds_the_first_bad_step():
    history = History()
    history.start_run(20)
    assert history.state == COMPILING
    merger = ProgressMerger(0.0)
    history.add(merger.add(_progress(0, 10, total=20)))
    assert history.state == RUNNING
    history.add(merger.add(_progress(10, 20, total=20, val_step=20)))
    np.testing.assert_array_equal(history.steps, np.arange(1, 21))
    result = TrainResult(params={}, losses=np.zeros(20), grad_norms=np.zeros(20),
                         param_grad_norms={"w": np.arange(20.0), "b": np.ones(20)},
                         eval_steps=np.array([0, 10, 20]),
                         val_losses=np.array([1.0, 0.5, 0.25]), val_accuracies=None,
                         steps=20, options=TrainOptions())
    history.finish_run(result)  # every validation and every step's parameter norms
    np.testing.assert_array_equal(history.val_steps, [0, 10, 20])
    np.testing.assert_array_equal(history.param_steps, np.arange(1, 21))
    np.testing.assert_array_equal(history.param_norms()["w"], np.arange(20.0))

    history.start_run(10)  # a second run goes on from step 20
    merger = ProgressMerger(0.0)
    losses = np.array([0.1, 0.2, np.inf, np.nan])
    update = merger.add(_progress(0, 4, total=10, diverged=True))
    update.losses = losses
    history.add(update)
    history.state = DIVERGED
    np.testing.assert_array_equal(history.steps[-4:], [21, 22, 23, 24])
    assert history.diverged_at == 23
    np.testing.assert_array_equal(history.val_steps, [0, 10, 20, 20])
    assert len(history.param_steps) == len(history.param_norms()["w"]) == 21


@pytest.mark.parametrize("options, common, own", [
    ([TrainOptions(steps=10)], {**{k: v for k, v in vars(TrainOptions(steps=10)).items()
                                   if v is not None and k != "chunk_steps"}}, [{}]),
    ([TrainOptions(clip_norm=1.0), TrainOptions(seed=3)], None,
     [{"clip_norm": 1.0, "seed": 0}, {"seed": 3}]),
    ([TrainOptions(bptt_window=4, bptt_carry=False), TrainOptions(remat_chunk=8)], None,
     [{"bptt_window": 4, "bptt_carry": False}, {"bptt_carry": True, "remat_chunk": 8}]),
])
def test_options_tables_give_back_each_models_options(options, common, own):
    got_common, got_own = options_tables(options)
    if common is not None:
        assert got_common == common
    assert got_own == own
    for k, o in enumerate(options):  # what Preset.train_options reads back
        assert TrainOptions(**{**got_common, **got_own[k]}) == o
