"""The memory back-propagation through time holds (``rnnviz.training.memory``): counted by
hand, and checked against XLA's own plan for the compiled gradient."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz import ModelSpec, init_params
from rnnviz.training.bptt import Bptt, value_and_grad
from rnnviz.training.memory import bptt_memory, saved_per_unit


def test_values_kept_per_unit_and_step_by_hand():
    assert saved_per_unit("rnn") == 1    # h
    assert saved_per_unit("gru") == 5    # h, r, z, n and W_hn h + b_hn
    assert saved_per_unit("lstm") == 6   # h, c, i, f, g, o


def test_whole_truncated_and_rematerialised_by_hand():
    spec = ModelSpec("lstm", 2, 4, output_size=3)
    step = 4 * 2 * (6 * 4 + 3)  # float32, batch 2: six records of 4 units and 3 outputs
    state = 4 * 2 * 2 * 4       # h and c of 4 units
    whole = bptt_memory(spec, 10, batch=2)
    assert (whole.stored, whole.steps_held, whole.states_held) == (10 * step, 10, 0)
    assert whole.peak == whole.stored + 3 * 4 * 2 * 10 * 4 * 4  # 3 b B n G H
    window = bptt_memory(spec, 10, batch=2, window=4)
    assert window.stored == 4 * step + state
    assert bptt_memory(spec, 1000, batch=2, window=4).stored == window.stored  # whatever T
    remat = bptt_memory(spec, 10, batch=2, chunk=3)
    assert remat.stored == 3 * step + 4 * state  # ceil(10 / 3) states entering chunks
    both = bptt_memory(spec, 10, batch=2, window=6, chunk=4)
    assert both.stored == 4 * step + (1 + 2) * state
    assert bptt_memory(spec, 20, batch=2).stored == 2 * whole.stored  # linear in T
    assert bptt_memory(spec, 10, batch=2, window=50).stored == whole.stored  # one window


@partial(jax.jit, static_argnames=("spec", "bptt"))
def _gradient(params, xs, ys, mask, spec, bptt):
    return value_and_grad(spec, params, xs, ys, mask, "xent", bptt)[:2]


@pytest.mark.parametrize("window,chunk,tolerance", [(None, None, 0.1), (20, None, 0.3),
                                                    (None, 16, 0.35)])
def test_peak_is_xlas_plan_for_the_compiled_gradient(window, chunk, tolerance):
    """XLA's temporaries for one gradient (``memory_analysis``), against the formula's peak;
    ``benchmarks/bench_bptt_memory.py`` also measures a process's peak resident set."""
    spec = ModelSpec("lstm", 8, 64, output_size=8)
    batch, length = 16, 400
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.standard_normal((batch, length, 8)), jnp.float32)
    ys = jnp.asarray(rng.integers(0, 8, (batch, length)), jnp.int32)
    mask = jnp.ones((batch, length), jnp.float32)
    compiled = _gradient.lower(init_params(spec, seed=0), xs, ys, mask, spec=spec,
                               bptt=Bptt(window, True, chunk)).compile()
    planned = compiled.memory_analysis().temp_size_in_bytes
    cost = bptt_memory(spec, length, batch=batch, window=window, chunk=chunk)
    print(f"XLA plans {planned / 1e6:.2f} MB, the formula {cost.peak / 1e6:.2f} MB")
    assert planned == pytest.approx(cost.peak, rel=tolerance)


@pytest.mark.parametrize("cell", ["lstm_proj", "mingru", "lru", "mamba"])
def test_cells_of_other_shapes_are_counted_from_their_own_records(cell):
    """Any cell gets a cost (the window's header asks for every column): what its step keeps,
    read off its shapes, growing with T and, with windows, not."""
    from rnnviz.core.spec import ModelSpec
    from rnnviz.training.memory import unit_step_values

    spec = ModelSpec(cell, 2, 8, output_size=1)
    saved, carry, projected = unit_step_values(spec)
    assert saved >= spec.h_size and carry >= spec.h_size and projected > 0
    whole, longer = bptt_memory(spec, 100, batch=4), bptt_memory(spec, 200, batch=4)
    assert longer.stored > 1.9 * whole.stored
    windows = bptt_memory(spec, 200, batch=4, window=10)
    assert windows.stored < whole.stored / 5
