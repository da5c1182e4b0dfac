"""What ``rnnviz.show`` opens, checked before any window (no Qt here): the model as the last
column over the given data, and bad input as one line."""

import sys

import numpy as np
import pytest

import rnnviz
from rnnviz.cli.show import qt_application_running, show_session


def _model(inputs=1):
    return rnnviz.Model.create("gru", input_size=inputs, hidden_size=3, output_size=1, seed=0)


def test_the_model_joins_the_preset_over_the_data(monkeypatch):
    x = np.arange(9, dtype=np.float32)
    session = show_session(_model(), x, np.ones(9), preset="sine")
    assert session.preset.models[-1].label == "GRU (notebook)"
    assert session.preset.models[-1].weights is None  # the weights travel in memory
    assert session.models[-1] is not None and session.models[0] is None
    assert session.inputs.shape == (9, 1) and session.target.values.shape == (9, 1)
    example = show_session(preset="adding")  # no model, no data: the preset as it is
    assert example.models == [None] * len(example.preset.models)
    monkeypatch.delitem(sys.modules, "PySide6.QtWidgets", raising=False)  # as before any GUI
    assert not qt_application_running() and "PySide6.QtWidgets" not in sys.modules  # not loaded


@pytest.mark.parametrize("args, kwargs, message", [
    ((_model(), np.zeros((5, 2))), {}, r"x: expected \(T, 1\) values for task sine, got "
                                       r"shape \(5, 2\)"),
    ((_model(), np.zeros(5), np.zeros((4, 1))), {}, r"target: expected \(5, 1\)"),
    ((_model(), None, np.zeros(5)), {}, "target: given without x"),
    ((_model(3),), {}, "the model reads 3 and writes 1 features; the task gives 1"),
    ((None, "data.csv"), {}, "reading one needs the model"),
    ((_model(), np.array([0.0, np.nan])), {}, "x: expected finite numbers"),
    ((object(),), {}, "model: expected a file path"),
])
def test_bad_input_is_one_line(args, kwargs, message):
    with pytest.raises(rnnviz.RnnvizError, match=message) as err:
        show_session(*args, preset="sine", **kwargs)
    assert "\n" not in str(err.value)
