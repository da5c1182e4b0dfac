"""The modern cells train with every optimiser: the loss falls on the sine task."""

import pytest

from rnnviz import ModelSpec, init_params
from rnnviz.tasks import make_task
from rnnviz.training.loop import TrainOptions, evaluate, train

SINE = make_task("sine", length=30)
SPECS = {"mingru": ModelSpec("mingru", 1, 8, output_size=1),
         "minlstm": ModelSpec("minlstm", 1, 8, output_size=1),
         "lru": ModelSpec("lru", 1, 8, output_size=1),
         "mamba": ModelSpec("mamba", 1, 4, output_size=1, options=(("d_state", 4),))}


@pytest.mark.parametrize("cell", SPECS)
def test_each_optimizer_lowers_the_loss(cell):
    spec = SPECS[cell]
    params = init_params(spec, seed=0)
    before = evaluate(spec, params, SINE, seed=99, n=64)["loss"]
    for optimizer, lr in (("adam", 0.02), ("sgd", 0.05), ("rmsprop", 0.005)):
        result = train(spec, params, SINE, TrainOptions(
            steps=60, batch_size=8, learning_rate=lr, optimizer=optimizer, eval_every=60,
            eval_batch=16, chunk_steps=30))
        after = evaluate(spec, result.params, SINE, seed=99, n=64)["loss"]
        assert after < before / 2, (optimizer, before, after)
