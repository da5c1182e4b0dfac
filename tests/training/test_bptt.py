"""Truncated and rematerialised back-propagation through time (``rnnviz.training.bptt``),
checked against gradients taken by hand: plain ``jax.grad`` of each window's loss from the
state the previous window ended with."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rnnviz import ModelSpec, RnnvizError, init_params
from rnnviz.core.forward import run, zero_carries
from rnnviz.core.losses import step_losses
from rnnviz.training.bptt import Bptt, step_weights, value_and_grad
from rnnviz.training.loop import TrainOptions, batch_loss

SPEC = ModelSpec("lstm", 3, 5, output_size=2)
B, T = 4, 11


@partial(jax.jit, static_argnames=("spec", "bptt"))
def gradient(params, xs, ys, mask, bptt, spec=SPEC):
    return value_and_grad(spec, params, xs, ys, mask, "mse", bptt)


def batch(seed=0):
    rng = np.random.default_rng(seed)
    xs = jnp.asarray(rng.standard_normal((B, T, 3)), jnp.float32)
    ys = jnp.asarray(rng.standard_normal((B, T, 2)), jnp.float32)
    mask = jnp.asarray(rng.random((B, T)) < 0.8, jnp.float32)
    return xs, ys, mask


@jax.jit
def whole_gradient(params, xs, ys, mask):
    return jax.value_and_grad(lambda p: batch_loss(SPEC, p, xs, ys, mask, "mse")[0])(params)


@partial(jax.jit, static_argnames=("window", "carry"))
def by_hand(params, xs, ys, mask, window, carry):
    """Sum over windows of d(window's loss)/dparams, each from the detached state the
    previous window ended with (or zero), with plain autodiff."""
    x_t, y_t = jnp.swapaxes(xs, 0, 1), jnp.swapaxes(ys, 0, 1)
    w_t = jnp.swapaxes(step_weights(mask), 0, 1)
    state = zero_carries(SPEC, (B,))
    total, grads = 0.0, jax.tree.map(jnp.zeros_like, params)
    for start in range(0, T, window):
        sl = slice(start, start + window)

        def loss(p, s, sl=sl):
            final, _, out = run(SPEC, p, x_t[sl], s, autodiff=True)
            return jnp.sum(step_losses(out, y_t[sl], w_t[sl], "mse")), final

        begin = state if carry else zero_carries(SPEC, (B,))
        (value, state), g = jax.value_and_grad(loss, has_aux=True)(params, begin)
        total += value
        grads = jax.tree.map(jnp.add, grads, g)
    return total, grads


def assert_close(a: dict, b: dict, atol=2e-6):
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=atol, rtol=1e-4, err_msg=name)


def test_whole_and_rematerialised_gradients_are_the_plain_one():
    params = init_params(SPEC, seed=0)
    xs, ys, mask = batch()
    loss, grads = whole_gradient(params, xs, ys, mask)
    for bptt in (Bptt(chunk=3), Bptt(window=50)):
        got, g, _ = gradient(params, xs, ys, mask, bptt)
        assert float(got) == pytest.approx(float(loss), rel=1e-6)
        assert_close(g, grads)


@pytest.mark.parametrize("window,carry,chunk", [(4, True, None), (5, False, 2)])
def test_truncated_gradient_is_the_sum_of_each_windows_own(window, carry, chunk):
    params = init_params(SPEC, seed=1)
    xs, ys, mask = batch(1)
    loss, grads = by_hand(params, xs, ys, mask, window, carry)
    got, g, _ = gradient(params, xs, ys, mask, Bptt(window, carry, chunk))
    assert float(got) == pytest.approx(float(loss), rel=1e-5)
    assert_close(g, grads)
    whole = whole_gradient(params, xs, ys, mask)[1]
    assert max(float(jnp.max(jnp.abs(g[k] - whole[k]))) for k in g) > 1e-4  # it does cut


def test_carried_state_keeps_the_whole_forward_pass_and_restarting_does_not():
    params = init_params(SPEC, seed=2)
    xs, ys, mask = batch(2)
    whole = float(whole_gradient(params, xs, ys, mask)[0])
    carried = float(gradient(params, xs, ys, mask, Bptt(4, True))[0])
    restarted = float(gradient(params, xs, ys, mask, Bptt(4, False))[0])
    assert carried == pytest.approx(whole, rel=1e-6)
    assert abs(restarted - whole) > 1e-4


def test_a_loss_reaches_back_only_to_the_start_of_its_window():
    params = init_params(SPEC, seed=3)
    xs, ys, _ = batch(3)
    mask = jnp.zeros((B, T)).at[:, T - 1].set(1.0)  # only the last step is scored
    _, _, g_x = gradient(params, xs, ys, mask, Bptt(window=4))
    reach = np.abs(np.asarray(g_x)).sum(axis=(0, 2))
    start = 4 * ((T - 1) // 4)
    assert np.all(reach[:start] == 0.0)
    assert np.all(reach[start:] > 0.0)
    _, _, g_whole = gradient(params, xs, ys, mask, Bptt())
    assert np.all(np.abs(np.asarray(g_whole)).sum(axis=(0, 2)) > 0.0)


def test_options_are_checked_with_one_line():
    with pytest.raises(RnnvizError, match="bptt_window"):
        TrainOptions(bptt_window=0)
    with pytest.raises(RnnvizError, match="bptt_carry: expected true or false"):
        TrainOptions(bptt_carry="yes")
    with pytest.raises(RnnvizError, match="remat_chunk"):
        TrainOptions(remat_chunk=-2)
    bi = ModelSpec("gru", 3, 4, bidirectional=True, output_size=2)
    xs, ys, mask = batch()
    with pytest.raises(RnnvizError, match="bptt_window: a bidirectional model"):
        gradient(init_params(bi, seed=0), xs, ys, mask, Bptt(window=3), spec=bi)
