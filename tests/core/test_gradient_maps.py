"""``rnnviz.core.gradient_maps`` (many rows at a time) against ``rnnviz.core.gradients``'
row-by-row ``flow_matrix`` and ``memory_matrix`` (one autodiff backward pass per row, or per
row and unit), to 1e-5 of the map's largest value.

Every cell takes each of the three ways: the sweep (one layer), blocks (two layers) and the
whole sequence (bidirectional). ``T = 37`` crosses a block boundary (blocks of 32 steps at
this size), and the chunk sizes are lowered so that the rows run in several chunks.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

from rnnviz.core import gradient_maps, gradients
from rnnviz.core.cells import CELLS
from rnnviz.core.init import init_params
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError

T, INPUT, HIDDEN, OUTPUT = 37, 2, 5, 3
SHAPES = {"sweep": (1, False), "blocks": (2, False), "whole": (1, True)}


def _case(cell: str, method: str):
    layers, bidirectional = SHAPES[method]
    spec = ModelSpec(cell, INPUT, HIDDEN, layers, bidirectional, output_size=OUTPUT)
    rng = np.random.default_rng(sum(map(ord, cell + method)))
    xs = rng.normal(size=(T, INPUT)).astype(np.float32)
    values = rng.normal(size=(T, OUTPUT)).astype(np.float32)
    mask = (rng.random(T) > 0.2).astype(np.float32)
    return spec, init_params(spec, seed=3), xs, values, mask


def _close(got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(gradient_maps, "FLOW_ROWS_PER_CHUNK", 8)
    monkeypatch.setattr(gradient_maps, "MEMORY_BATCH", 8 * HIDDEN)
    monkeypatch.setattr(gradient_maps, "SEGMENT_FLOPS", 1.0)  # a call per block of steps


@pytest.mark.parametrize("method", sorted(SHAPES))
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_flow_map_equals_row_by_row(cell, method, small_chunks):
    spec, params, xs, values, mask = _case(cell, method)
    # a cell without a linear step (the modern ones, Cho's GRU, the projected LSTM) takes the
    # blocks where the others sweep
    swept = method != "sweep" or spec.cell_type.linear_step is not None
    assert gradient_maps.flow_method(spec) == (method if swept else "blocks")
    expected = jax.device_get(gradients.flow_matrix(spec, params, xs, values, mask, "mse"))
    got = gradient_maps.flow_map(spec, params, xs, values, mask, "mse")
    assert sorted(got) == sorted(spec.units)
    for unit in spec.units:
        _close(got[unit], expected[unit])
    rows = [30, 0, 36, 30, 7]          # any order, repeats kept
    chosen = gradient_maps.flow_map(spec, params, xs, values, mask, "mse", rows=rows)
    for unit in spec.units:
        _close(chosen[unit], expected[unit][rows])


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_memory_map_equals_row_by_row(cell, small_chunks):
    spec, params, xs, _, _ = _case(cell, "whole")    # a forward and a reverse unit
    for unit in spec.units:
        expected = np.asarray(gradients.memory_matrix(spec, params, xs, unit))
        _close(gradient_maps.memory_map(spec, params, xs, unit), expected)
        _close(gradient_maps.memory_map(spec, params, xs, unit, rows=[36, 2]),
               expected[[36, 2]])


def test_class_targets_flow():
    spec = ModelSpec("gru", INPUT, HIDDEN, output_size=OUTPUT)
    params = init_params(spec, seed=1)
    rng = np.random.default_rng(5)
    xs = rng.normal(size=(T, INPUT)).astype(np.float32)
    classes = rng.integers(0, OUTPUT, T).astype(np.int32)
    mask = np.ones(T, np.float32)
    expected = jax.device_get(gradients.flow_matrix(spec, params, xs, classes, mask, "xent"))
    got = gradient_maps.flow_map(spec, params, xs, classes, mask, "xent")
    _close(got["l0"], expected["l0"])


def test_progress_rises_to_one_and_stop_cancels(small_chunks):
    spec, params, xs, values, mask = _case("lstm", "sweep")
    seen: list[float] = []
    gradient_maps.flow_map(spec, params, xs, values, mask, "mse", progress=seen.append)
    assert len(seen) == 5 and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    asked: list[int] = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(gradient_maps.Cancelled):
        gradient_maps.flow_map(spec, params, xs, values, mask, "mse",
                               should_stop=stop_after_two)
    assert len(asked) == 3


def test_rows_out_of_range_refused():
    spec, params, xs, values, mask = _case("rnn_tanh", "sweep")
    with pytest.raises(RnnvizError, match="0..36"):
        gradient_maps.flow_map(spec, params, xs, values, mask, "mse", rows=[37])


def test_cost_counts_the_issue_floor():
    spec = ModelSpec("lstm", 1, 128, output_size=1)
    cost = gradient_maps.map_cost(spec, 1000, "flow")
    assert cost.method == "sweep"
    assert cost.flops == pytest.approx(2 * 4 * 128 * 128 * 1000 * 1001 / 2)
    assert cost.out_bytes == 1000 * 1000 * 4
    assert gradient_maps.map_cost(spec, 1000, "flow", rows=3).out_bytes == 3 * 1000 * 4


def test_a_memory_row_stops_between_segments(small_chunks):
    """One row is one chunk: the window's worker can still stop it part way back (the
    cursor moved on), between two segments of its sweep."""
    spec, params, xs, _, _ = _case("lstm", "sweep")
    asked: list[int] = []
    with pytest.raises(gradient_maps.Cancelled):
        gradient_maps.memory_map(spec, params, xs, "l0", rows=[36],
                                 should_stop=lambda: bool(asked.append(1)) or len(asked) > 1)
    assert len(asked) == 2  # before the chunk, then between its two blocks


def test_the_windows_memory_row_is_the_swept_one(small_chunks):
    from rnnviz.core.model import Model

    spec, params, xs, _, _ = _case("lstm", "blocks")
    model = Model(spec, params)
    for unit, t in (("l1", 36), ("l0", 20)):
        expected = np.asarray(gradients.memory_row(spec, params, xs, unit, t))
        _close(model.memory(xs, t, unit), expected)


def test_maps_over_the_limit_are_refused_before_allocating():
    """A (20000, 20000) map (4e8 values > MAX_MATRIX_VALUES) is refused at once, not computed
    nor allocated (NumPy would ask for 1.6 GB)."""
    spec = ModelSpec("rnn_tanh", 1, 2, output_size=1)
    params: dict = {}  # never reached
    xs = np.zeros((20_000, 1), np.float32)
    with pytest.raises(RnnvizError, match="20000 rows over 20000 steps.*MAX_MATRIX_VALUES"):
        gradient_maps.flow_map(spec, params, xs, xs, np.ones(20_000, np.float32), "mse")
    with pytest.raises(RnnvizError, match="13500 rows .*MAX_MATRIX_VALUES"):
        gradient_maps.memory_map(spec, params, xs, "l0", rows=range(13_500))
