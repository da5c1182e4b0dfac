"""Scales shared by every column: the colour scale of each state and the gradient plot's log
range."""

from __future__ import annotations

import numpy as np
from rnnviz.ui.state.explorer import Column, ExplorerState
from rnnviz.ui.state.scales import SharedScales

from rnnviz.files.presets import ModelConfig


class FakeModel:
    def __init__(self, cell: str):
        from rnnviz.core.spec import ModelSpec

        self.spec = ModelSpec(cell, 1, 2)


class FakeTrace:
    def __init__(self, arrays):
        self.arrays = arrays


def column(cid: int, cell: str, **arrays) -> Column:
    return Column(cid, ModelConfig(cell=cell), model=FakeModel(cell), trace=FakeTrace(arrays))


def test_bounded_states_keep_the_tanh_scale_and_others_share_the_largest_value():
    state = ExplorerState()
    scales = SharedScales(state)
    state.columns = [column(0, "lstm", h_l0=np.zeros((3, 2)), c_l0=np.full((3, 2), -2.5)),
                     column(1, "gru", h_l0=np.zeros((3, 2)))]
    assert scales.levels("h") == (-1.0, 1.0)
    assert scales.levels("c") == (-2.5, 2.5)
    state.columns.append(column(2, "rnn_relu", h_l0=np.array([[0.0, 4.0], [np.inf, 1.0]])))
    assert scales.levels("h") == (-4.0, 4.0)  # a ReLU's h is unbounded; Inf is left out


def test_the_gradient_range_is_the_union_and_grows_in_decades():
    state = ExplorerState()
    state.columns = [column(0, "lstm"), column(1, "gru")]
    scales = SharedScales(state)
    seen = []
    scales.events.grad_range.connect(lambda lo, hi: seen.append((lo, hi)))
    scales.need_grad_range(0, np.array([1e-2, 5.0, 0.0, np.nan]), np.float32)
    assert seen == [(-3.0, 1.0)]
    scales.need_grad_range(1, np.array([1e-1, 2.0]), np.float32)
    assert len(seen) == 1  # inside: no change, no redraw
    scales.need_grad_range(1, np.array([1e-5]), np.float32)
    assert seen[-1] == (-9.0, 1.0)  # moving down: three decades of room more
    scales.need_grad_range(0, np.array([1e-60]), np.float32)
    assert seen[-1][0] == 3 * np.floor(np.log10(np.finfo(np.float32).smallest_subnormal) / 3)
