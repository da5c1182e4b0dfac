import numpy as np
import pytest

from rnnviz import Model, Target, enable_float64

CELLS = ["rnn", "rnn_relu", "lstm", "gru"]


def _data(steps=40, inputs=2, outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(steps, inputs)), Target(rng.normal(size=(steps, outputs)))


@pytest.mark.parametrize("cell", CELLS)
def test_stepping_equals_one_scan(cell):
    xs, target = _data()
    model = Model.create(cell, 2, 6, num_layers=2, output_size=3, seed=3)
    trace = model.trace(xs, target)
    stepper = model.stepper(xs, target)
    while stepper.step():
        pass
    assert stepper.t == len(xs) - 1
    for name in ["h_l0", "h_l1", "output", "loss"] + [k for k in trace.arrays if "gate" in k]:
        np.testing.assert_allclose(stepper.history(name).reshape(trace[name].shape),
                                   trace[name], atol=1e-6, rtol=0, err_msg=name)


def test_back_and_seek_do_not_recompute():
    xs, target = _data()
    stepper = Model.create("lstm", 2, 4, output_size=3).stepper(xs, target)
    stepper.seek(20)
    assert stepper.computed == 40  # a jump computes the rest in one scan
    before = stepper.record(10)["h_l0"].copy()
    cache = stepper._cache  # noqa: SLF001 (checking the cache is not rebuilt)
    stepper.back()
    stepper.seek(10)
    assert stepper.t == 10
    assert stepper._cache is cache and stepper.computed == 40  # noqa: SLF001
    np.testing.assert_array_equal(stepper.record()["h_l0"], before)
    stepper.reset()
    assert stepper.t == -1 and not stepper.back()


def test_single_steps_compute_one_at_a_time():
    xs, _ = _data()
    stepper = Model.create("gru", 2, 4).stepper(xs)
    for expected in range(1, 6):
        assert stepper.step()
        assert stepper.computed == expected


def test_edit_invalidates_only_what_follows():
    xs, target = _data()
    model = Model.create("gru", 2, 5, output_size=3, seed=1)
    stepper = model.stepper(xs, target)
    stepper.run_to_end()
    early = stepper.record(9)["h_l0"].copy()
    stepper.set_input(10, [5.0, -5.0])
    assert stepper.computed == 10
    np.testing.assert_array_equal(stepper.record(9)["h_l0"], early)
    stepper.seek(39)
    edited = xs.copy()
    edited[10] = [5.0, -5.0]
    np.testing.assert_allclose(stepper.history("h_l0"), model.trace(edited)["h_l0"], atol=1e-6)


def test_new_weights_invalidate_everything():
    xs, _ = _data()
    stepper = Model.create("lstm", 2, 4, seed=0).stepper(xs)
    stepper.seek(39)
    other = Model.create("lstm", 2, 4, seed=1)
    stepper.params = other.params
    assert stepper.computed == 0 and stepper.t == 39
    stepper.seek(39)
    np.testing.assert_allclose(stepper.history("h_l0"), other.trace(xs)["h_l0"], atol=1e-6)


def test_bidirectional_stepper_reveals_the_scan():
    xs, _ = _data()
    model = Model.create("lstm", 2, 4, num_layers=2, bidirectional=True, seed=0)
    stepper = model.stepper(xs)
    assert stepper.step() and stepper.t == 0
    trace = model.trace(xs)
    np.testing.assert_allclose(stepper.record()["h"], trace["h"][0], atol=1e-6)
    stepper.set_input(30, [0.0, 0.0])
    assert stepper.computed == 0  # the reverse direction carries step 30 back to step 0


def test_bad_input_is_refused():
    model = Model.create("rnn", 2, 3)
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        model.stepper(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.stepper(np.full((5, 2), np.nan))
    stepper = model.stepper(np.zeros((5, 2)))
    with pytest.raises(IndexError):
        stepper.seek(5)
    with pytest.raises(ValueError, match="NaN"):
        stepper.set_input(2, [np.inf, 0])


def test_a_float64_target_fits_a_float32_model_after_64_bit_mode_is_on():
    """With JAX's 64-bit mode on for the process (another model in float64), a float32
    model's loss and gradients must still come out in float32, not fail on the mix."""
    enable_float64()
    Model.create("gru", 1, 4, output_size=1, dtype="float64", seed=0)
    model = Model.create("lstm", 1, 4, output_size=1, seed=0)
    x = np.sin(np.linspace(0, 6, 30))[:, None]
    trace = model.trace(x, Target(np.roll(x, -1, 0).astype(np.float64)), flow=True)
    assert trace["loss"].dtype == np.float32
    assert trace["grad_flow_l0"].dtype == np.float32
    assert np.all(np.isfinite(trace["grad_flow_l0"]))
