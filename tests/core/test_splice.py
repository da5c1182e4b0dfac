"""Editing one input step: the spliced trace equals a fresh trace of the edited input, the
steps before the edit are untouched, and targets follow the input where the task says so."""

import numpy as np
import pytest

from rnnviz.core.model import Model
from rnnviz.core.splice import bptt_arrays, retrace_from, with_arrays
from rnnviz.tasks import make_task

GRAD_KEYS = ("grad_loss_h_", "grad_param_")


@pytest.mark.parametrize("cell,layers,bidirectional", [
    ("lstm", 1, False), ("gru", 2, False), ("rnn", 1, False), ("lstm", 1, True)])
@pytest.mark.parametrize("k", [0, 17, 39])
def test_spliced_trace_equals_a_fresh_trace(cell, layers, bidirectional, k):
    task = make_task("adding", length=40)
    xs, target = task.example(seed=3)
    model = Model.create(cell, 2, 8, num_layers=layers, bidirectional=bidirectional,
                         output_size=1, seed=1)
    before = model.trace(xs, target)
    edited = xs.copy()
    edited[k] = [0.9, 1.0 - edited[k, 1]]
    new_target = task.retarget(edited, target, k)
    spliced = retrace_from(model, before, edited, new_target, k)
    spliced = with_arrays(spliced, bptt_arrays(model, edited, new_target))
    fresh = model.trace(edited, new_target)
    assert set(spliced.arrays) == set(fresh.arrays)
    for name, value in fresh.arrays.items():
        np.testing.assert_allclose(spliced[name], value, rtol=2e-5, atol=2e-6, err_msg=name)
    if not bidirectional:
        for name in spliced.arrays:
            if not name.startswith(GRAD_KEYS) and name != "loss":
                np.testing.assert_array_equal(spliced[name][:k], before[name][:k])


def test_the_old_trace_is_not_modified():
    task = make_task("sine", length=30)
    xs, target = task.example(seed=0)
    model = Model.create("gru", 1, 4, output_size=1, seed=0)
    before = model.trace(xs, target)
    copies = {k: v.copy() for k, v in before.arrays.items()}
    edited = xs.copy()
    edited[10] = 3.0
    retrace_from(model, before, edited, task.retarget(edited, target, 10), 10)
    for name, value in copies.items():
        np.testing.assert_array_equal(before[name], value)


def test_next_value_targets_follow_the_input():
    sine = make_task("sine", length=20)
    xs, target = sine.example(seed=0)
    xs[5] = 0.5
    new = sine.retarget(xs, target, 5)
    assert new.values[4, 0] == np.float32(0.5)
    np.testing.assert_array_equal(np.delete(new.values, 4), np.delete(target.values, 4))

    text = make_task("text", length=10, text="abcdefghijklmnop")
    xs, target = text.example(seed=0)
    xs[3] = text.encode("z" if "z" in text.vocab else "a")[0]
    assert text.retarget(xs, target, 3).values[2] == text.vocab.index("a")


def test_adding_target_is_the_sum_of_the_marked_values():
    task = make_task("adding", length=12)
    xs, target = task.example(seed=2)
    marked = np.flatnonzero(xs[:, 1] == 1)
    xs[marked[0], 0] = 0.25
    new = task.retarget(xs, target, int(marked[0]))
    assert new.values[-1, 0] == pytest.approx(0.25 + xs[marked[1], 0])


def test_copy_and_lookahead_targets_follow_the_symbols():
    copy = make_task("copy", symbols=4, memory=3, delay=2)
    xs, target = copy.example(seed=0)
    xs[1] = 0
    xs[1, 2] = 1  # symbol C
    assert copy.retarget(xs, target, 1).values[3 + 2 + 1 + 1] == 2
    look = make_task("bidirectional_demo", length=10, symbols=4, shift=3)
    xs, target = look.example(seed=0)
    xs[5] = 0
    xs[5, 3] = 1
    assert look.retarget(xs, target, 5).values[2] == 3


def test_temporal_order_class_follows_the_markers():
    task = make_task("temporal_order", length=40)
    xs, target = task.example(seed=1)
    x, y = task.alphabet.index("X"), task.alphabet.index("Y")
    symbols = np.argmax(xs, axis=-1)
    first, second = np.flatnonzero((symbols == x) | (symbols == y))
    for a, b, cls in ((x, x, 0), (x, y, 1), (y, x, 2), (y, y, 3)):
        xs[first], xs[second] = np.eye(8)[a], np.eye(8)[b]
        assert task.retarget(xs, target, int(first)).values[-1] == cls
    xs[first] = np.eye(8)[0]  # one marker left: the class is not defined, the target stays
    assert task.retarget(xs, target, int(first)).values[-1] == target.values[-1]
