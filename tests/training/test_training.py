"""Training: the loss falls, runs are deterministic, clipping, stopping, divergence, errors."""

import numpy as np
import optax
import pytest

from rnnviz import InitOptions, ModelSpec, RnnvizError, init_params
from rnnviz.tasks import make_task
from rnnviz.training.loop import TrainOptions, batch_loss, evaluate, step_seed, train

SINE = make_task("sine", length=30)
SPEC = ModelSpec("gru", 1, 8, output_size=1)


def quick(**changes) -> TrainOptions:
    base = dict(steps=40, batch_size=8, learning_rate=0.02, eval_every=20, eval_batch=16,
                chunk_steps=20)
    return TrainOptions(**{**base, **changes})


def test_loss_falls_on_sine():
    params = init_params(SPEC, seed=0)
    before = evaluate(SPEC, params, SINE, seed=99, n=64)["loss"]
    result = train(SPEC, params, SINE, quick(steps=120))
    after = evaluate(SPEC, result.params, SINE, seed=99, n=64)["loss"]
    assert after < before / 5
    assert result.steps == 120 and len(result.losses) == 120 and len(result.grad_norms) == 120
    assert list(result.eval_steps) == [0, 20, 40, 60, 80, 100, 120]
    assert result.val_losses[-1] < result.val_losses[0] / 5
    assert result.val_accuracies is None and not result.stopped and not result.diverged
    assert set(result.param_grad_norms) == set(SPEC.param_shapes())


def test_same_seed_same_losses_whatever_the_chunk_size():
    params = init_params(SPEC, seed=1)
    a = train(SPEC, params, SINE, quick(seed=3))
    b = train(SPEC, params, SINE, quick(seed=3))
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.val_losses, b.val_losses)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    c = train(SPEC, params, SINE, quick(seed=3, chunk_steps=7))  # another chunking
    np.testing.assert_allclose(c.losses, a.losses, rtol=1e-5)
    d = train(SPEC, params, SINE, quick(seed=4))
    assert not np.allclose(d.losses, a.losses)


def test_first_loss_and_gradient_norm_match_an_independent_computation():
    import jax

    params = init_params(SPEC, seed=2)
    options = quick(steps=1)
    result = train(SPEC, params, SINE, options)
    xs, ys, mask = SINE.batch(options.batch_size, seed=step_seed(options.seed, 0))
    loss, grads = jax.jit(jax.value_and_grad(
        lambda p: batch_loss(SPEC, p, xs, ys, mask, "mse")[0]))(params)
    assert result.losses[0] == pytest.approx(float(loss), rel=1e-5)
    assert result.grad_norms[0] == pytest.approx(float(optax.tree.norm(grads)), rel=1e-4)
    # and the loss is the masked mean of squared errors, by hand
    outputs = np.asarray(batch_loss(SPEC, params, xs, ys, mask, "mse")[1])
    assert float(loss) == pytest.approx(float(np.mean((outputs - ys) ** 2)), rel=1e-5)
    assert step_seed(0, 0) != 1 and step_seed(0, 0) != step_seed(0, 1)


def test_clipping_limits_the_update():
    """Plain SGD without momentum: the first update is -lr * g, clipped to norm clip_norm."""
    spec = ModelSpec("rnn", 1, 8, output_size=1)
    params = init_params(spec, seed=0, options=InitOptions(recurrent="orthogonal",
                                                           spectral_radius=1.8))
    opts = dict(optimizer="sgd", momentum=0.0, learning_rate=0.1, steps=1)
    free = train(spec, params, SINE, quick(**opts))
    clipped = train(spec, params, SINE, quick(**opts, clip_norm=0.01))
    assert free.grad_norms[0] == clipped.grad_norms[0] > 0.01  # recorded before clipping

    def step_norm(result):
        return np.sqrt(sum(np.sum((np.asarray(result.params[k]) - np.asarray(params[k])) ** 2)
                           for k in params))

    assert step_norm(free) == pytest.approx(0.1 * free.grad_norms[0], rel=1e-3)
    assert step_norm(clipped) == pytest.approx(0.1 * 0.01, rel=1e-3)


def test_each_optimizer_learns():
    params = init_params(SPEC, seed=0)
    before = evaluate(SPEC, params, SINE, seed=99, n=64)["loss"]
    for optimizer, lr in (("adam", 0.02), ("sgd", 0.05), ("rmsprop", 0.005)):
        result = train(SPEC, params, SINE, quick(optimizer=optimizer, learning_rate=lr,
                                                 steps=80))
        after = evaluate(SPEC, result.params, SINE, seed=99, n=64)["loss"]
        assert after < before / 2, optimizer


def test_stop_keeps_the_weights_reached():
    params = init_params(SPEC, seed=0)
    seen = []
    result = train(SPEC, params, SINE, quick(steps=100), callback=seen.append,
                   should_stop=lambda: len(seen) >= 2)
    assert result.stopped and result.steps == 40 and len(result.losses) == 40
    assert [p.step for p in seen] == [20, 40] and seen[-1].total == 100
    reference = train(SPEC, params, SINE, quick(steps=40))
    for name in params:
        np.testing.assert_array_equal(result.params[name], reference.params[name])
        np.testing.assert_array_equal(seen[-1].params[name], reference.params[name])


def test_divergence_is_reported_not_raised():
    spec = ModelSpec("rnn_relu", 1, 16, output_size=1)
    params = init_params(spec, seed=0, options=InitOptions(recurrent="orthogonal",
                                                           spectral_radius=1.6))
    task = make_task("sine", length=100)  # h grows like 1.6**t: the loss overflows
    seen = []
    result = train(spec, params, task, quick(optimizer="sgd", learning_rate=0.05, steps=60),
                   callback=seen.append)
    assert result.diverged and seen[-1].diverged
    assert result.steps < 60  # stopped after the chunk where it happened
    assert not np.all(np.isfinite(result.losses)) or not np.all(np.isfinite(result.grad_norms))
    assert not np.isfinite(result.val_losses[-1])


def test_zero_steps_validates_once():
    params = init_params(SPEC, seed=0)
    result = train(SPEC, params, SINE, quick(steps=0))
    assert result.steps == 0 and len(result.losses) == 0 and list(result.eval_steps) == [0]
    for name in params:
        np.testing.assert_array_equal(result.params[name], params[name])


def test_class_task_reports_accuracy():
    task = make_task("bidirectional_demo", length=8, symbols=3, shift=1)
    spec = ModelSpec("lstm", 3, 8, bidirectional=True, output_size=3)
    result = train(spec, init_params(spec, seed=0), task, quick(steps=150, learning_rate=0.03,
                                                                eval_every=150))
    assert result.val_accuracies[0] < 0.6 and result.val_accuracies[-1] > 0.9


@pytest.mark.parametrize(("changes", "message"), [
    ({"optimizer": "adamw"}, "optimizer: expected one of adam, sgd, rmsprop, got 'adamw'"),
    ({"learning_rate": 0}, "learning_rate: expected a number in (0, 1000], got 0"),
    ({"learning_rate": "fast"},
     "learning_rate: expected a number in (0, 1000], got 'fast'"),
    ({"momentum": 1.0}, "momentum: expected a number in [0, 0.999], got 1.0"),
    ({"clip_norm": -1}, "clip_norm: expected a number > 0 or None, got -1"),
    ({"batch_size": 0}, "batch_size: expected an integer in 1..4096, got 0 (limit MAX_BATCH)"),
    ({"eval_batch": 10**9},
     "eval_batch: expected an integer in 1..4096, got 1000000000 (limit MAX_BATCH)"),
    ({"steps": 2.5}, "steps: expected an integer in 0..1000000, got 2.5 (limit MAX_STEPS)"),
    ({"seed": True},
     "seed: expected an integer in 0..2147483647, got True (limit MAX_SEED)"),
    ({"seed": 2**31},
     "seed: expected an integer in 0..2147483647, got 2147483648 (limit MAX_SEED)"),
    ({"chunk_steps": 0},
     "chunk_steps: expected an integer in 1..1000 or None, got 0 (limit MAX_CHUNK_STEPS)"),
    ({"eval_every": 0}, "eval_every: expected an integer >= 1, got 0"),
])
def test_bad_options_are_one_line_errors(changes, message):
    with pytest.raises(RnnvizError) as info:
        TrainOptions(**changes)
    assert str(info.value) == message


def test_model_that_does_not_fit_the_task():
    spec = ModelSpec("lstm", 2, 4, output_size=1)
    with pytest.raises(RnnvizError, match="input_size: expected 1 for task sine, got 2"):
        train(spec, init_params(spec), SINE, quick())
    spec = ModelSpec("lstm", 1, 4, output_size=3)
    with pytest.raises(RnnvizError, match="output_size: expected 1 for task sine, got 3"):
        evaluate(spec, init_params(spec), SINE, seed=0, n=4)
    params = dict(init_params(SPEC))
    del params["bias_hh_l0"]
    with pytest.raises(RnnvizError, match="got none for bias_hh_l0"):
        train(SPEC, params, SINE, quick())


def test_truncated_training_takes_the_windowed_gradient():
    import jax

    from rnnviz.training.bptt import Bptt, value_and_grad

    params = init_params(SPEC, seed=2)
    options = quick(steps=1, bptt_window=7, bptt_carry=False)
    result = train(SPEC, params, SINE, options)
    xs, ys, mask = SINE.batch(options.batch_size, seed=step_seed(options.seed, 0))
    loss, grads, _ = jax.jit(lambda p: value_and_grad(SPEC, p, xs, ys, mask, "mse",
                                                      Bptt(7, False)))(params)
    assert result.losses[0] == pytest.approx(float(loss), rel=1e-5)
    assert result.grad_norms[0] == pytest.approx(float(optax.tree.norm(grads)), rel=1e-4)
    whole = train(SPEC, params, SINE, quick(steps=1))
    assert abs(whole.grad_norms[0] - result.grad_norms[0]) > 1e-3 * whole.grad_norms[0]
