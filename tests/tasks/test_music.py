"""The melody task: the shipped chorales file, its reader's one-line errors, the piano-roll
input, next-note targets and bar positions."""

import numpy as np
import pytest

from rnnviz import RnnvizError
from rnnviz.core.losses import Target
from rnnviz.tasks import make_task
from rnnviz.tasks.music import LOWEST, note_name, parse_chorales, shipped_chorales


def test_the_shipped_chorales():
    data = shipped_chorales()
    assert len(data.names) == 359 and data.names[0].startswith("bwv")
    for p, q, o in zip(data.pitches, data.positions, data.onsets, strict=True):
        assert len(p) == len(q) == len(o) >= 48
        assert np.all((p == 0) | ((p >= 57) & (p <= 81)))
        assert np.all(o[p == 0] == 0)  # a rest starts no note
    steps = np.concatenate(data.positions)
    advance = np.concatenate([(np.diff(q) % 8) for q in data.positions])
    assert np.mean(advance == 1) > 0.99  # one eighth a step, bar after bar
    assert set(np.unique(steps)) == set(range(8))
    assert note_name(60) == "C4" and note_name(LOWEST) == "A3"


@pytest.mark.parametrize("line,message", [
    ("bwv1\t60,61\t0,1", "line 1: expected 4 tab-separated fields, got 3"),
    ("bwv1\t60,61\t0\t1,0", "line 1: expected three lists of one length"),
    ("bwv1\t60,40\t0,1\t1,1", "line 1: expected pitches 0 or 57..81"),
    ("bwv1\t60,61\t0,9\t1,1", "line 1: expected positions 0..7 and onsets 0 or 1"),
    ("bwv1\t60,x\t0,1\t1,1", "line 1: expected invalid literal"),
])
def test_a_bad_line_is_one_error_naming_it(line, message):
    with pytest.raises(RnnvizError, match=message):
        parse_chorales(line, "c.txt")


def test_piano_roll_input_and_next_note_targets():
    task = make_task("melody", length=24)
    xs, ys, mask = task.batch(16, seed=3)
    assert xs.shape == (16, 24, 27) and ys.shape == (16, 24) and np.all(mask == 1)
    codes = np.argmax(xs[..., :-1], axis=-1)
    assert np.all(xs[..., :-1].sum(axis=-1) == 1)  # one pitch (or the rest) a step
    np.testing.assert_array_equal(ys[:, :-1], codes[:, 1:])  # the next step's note
    positions = task.bar_positions(16, seed=3)
    assert positions.shape == (16, 24)
    assert np.mean(np.diff(positions, axis=1) % 8 == 1) > 0.97
    onsets = xs[..., -1]
    assert onsets[positions % 2 == 0].mean() > 3 * onsets[positions % 2 == 1].mean()
    assert task.channel_ticks[-1] == (26, "onset") and (3, "C4") in task.channel_ticks
    assert task.classes[-1] == "rest" and task.decode(xs[0]) is None
    edited = xs[0].copy()
    edited[5, :-1] = 0
    edited[5, 12] = 1
    target = task.retarget(edited, Target(ys[0], mask[0], "xent"), 5)
    assert target.values[4] == 12


def test_a_length_no_chorale_has_is_one_line():
    with pytest.raises(RnnvizError, match="length: expected at most the longest"):
        make_task("melody", length=1999)
