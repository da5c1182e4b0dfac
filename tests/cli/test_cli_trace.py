import subprocess
import sys

import numpy as np
import pytest

from rnnviz import Model
from rnnviz.cli import main


@pytest.fixture
def files(tmp_path):
    model = Model.create("lstm", 2, 3, num_layers=2, output_size=1, seed=0)
    model.save(tmp_path / "w.safetensors")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(12, 2)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.normal(size=(12, 1)).astype(np.float32))
    return tmp_path, model


def test_trace_writes_every_state_and_gradient(files):
    path, model = files
    code = main(["trace", "--weights", str(path / "w.safetensors"), "--input",
                 str(path / "x.npy"), "--target", str(path / "y.npy"), "--out",
                 str(path / "t.npz")])
    assert code == 0
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        arrays = dict(npz)
    assert arrays["h"].shape == (12, 3)
    for k in (0, 1):
        assert arrays[f"h_l{k}"].shape == arrays[f"c_l{k}"].shape == (12, 3)
        for gate in "ifgo":
            assert arrays[f"gate_{gate}_l{k}"].shape == (12, 3)
        assert arrays[f"grad_loss_h_l{k}"].shape == (12,)
        assert arrays[f"grad_flow_l{k}"].shape == arrays[f"memory_l{k}"].shape == (12, 12)
    assert arrays["output"].shape == (12, 1) and arrays["loss"].shape == (12,)
    assert "grad_param_weight_hh_l1" in arrays
    expected = model.trace(np.load(path / "x.npy"))
    np.testing.assert_allclose(arrays["gate_f_l1"], expected["gate_f_l1"], atol=1e-6)


def test_trace_without_target_has_states_and_memory(files):
    path, _ = files
    assert main(["trace", "--weights", str(path / "w.safetensors"), "--input",
                 str(path / "x.npy"), "--out", str(path / "t.npz")]) == 0
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        assert "memory_l1" in npz.files and "loss" not in npz.files


@pytest.mark.parametrize(("setup", "message"), [
    (lambda p: None, "absent.npy: no such file"),
    (lambda p: np.save(p / "absent.npy", np.zeros((5, 3))), r"expected \(T, 2\)"),
    (lambda p: np.save(p / "absent.npy", np.array([[0, np.nan]] * 4)), "NaN or Inf"),
    (lambda p: np.save(p / "absent.npy", np.zeros((0, 2))), "no time steps"),
])
def test_bad_input_exits_2_with_one_line(files, capsys, setup, message):
    path, _ = files
    setup(path)
    code = main(["trace", "--weights", str(path / "w.safetensors"), "--input",
                 str(path / "absent.npy"), "--out", str(path / "t.npz")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("rnnviz: error:"), err
    assert message in err or __import__("re").search(message, err)
    assert not (path / "t.npz").exists()


def test_mismatched_target_exits_2(files, capsys):
    path, _ = files
    np.save(path / "y3.npy", np.zeros((12, 3)))
    code = main(["trace", "--weights", str(path / "w.safetensors"), "--input",
                 str(path / "x.npy"), "--target", str(path / "y3.npy"), "--out",
                 str(path / "t.npz")])
    assert code == 2 and "target must be (12, 1)" in capsys.readouterr().err


def test_no_traceback_from_the_real_command(files):
    path, _ = files
    result = subprocess.run(
        [sys.executable, "-m", "rnnviz", "trace", "--weights", str(path / "nope.npz"),
         "--input", str(path / "x.npy"), "--out", str(path / "t.npz")],
        capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"rnnviz: error: {path / 'nope.npz'}: no such file (the model)"]


def test_trace_a_keras_model_on_chosen_csv_columns(tmp_path, capsys, keras_models):
    """Any model format, inputs picked from a CSV by name: the same arrays as the API."""
    import rnnviz

    model = keras_models[0] / "gru_before_2.keras"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    data = tmp_path / "d.csv"
    data.write_text("b,junk,a\n" + "".join(f"{r[1]},9,{r[0]}\n" for r in x))
    out = tmp_path / "t.npz"
    assert main(["trace", "--model", str(model), "--input", str(data), "--column", "a",
                 "--column", "b", "--out", str(out), "--no-memory"]) == 0
    with np.load(out) as z:
        np.testing.assert_array_equal(z["gate_r_l1"], rnnviz.trace(model, x)["gate_r_l1"])
    assert main(["trace", "--model", str(model), "--input", str(data), "--column", "a",
                 "--out", str(out)]) == 2
    assert "1 column(s) chosen; the model reads 2 input(s)" in capsys.readouterr().err


def _trace_args(path, *extra):
    return ["trace", "--weights", str(path / "w.safetensors"), "--input", str(path / "x.npy"),
            "--target", str(path / "y.npy"), "--out", str(path / "t.npz"), *extra]


def test_maps_over_the_budget_are_left_out_with_one_line_each(files, capsys, monkeypatch):
    from rnnviz.cli import maps

    path, model = files
    monkeypatch.setattr(maps, "TIME_BUDGET_S", 0.0)
    assert main(_trace_args(path)) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("left out grad_flow_*: (12, 12) for each of 2 unit(s)")
    assert "--full" in err[0] and "--flow-rows" in err[0]
    assert err[1].startswith("left out memory_*:") and "--full" in err[1]
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        assert not [k for k in npz.files if k.startswith(("grad_flow", "memory"))]
        assert "grad_loss_h_l1" in npz.files
    assert main(_trace_args(path, "--full")) == 0
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        assert npz["grad_flow_l1"].shape == npz["memory_l0"].shape == (12, 12)


def test_chosen_flow_rows(files, capsys):
    path, model = files
    assert main(_trace_args(path, "--flow-rows", "9,0-1", "--no-flow")) == 0
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        arrays = dict(npz)
    assert "grad_flow_l0" not in arrays
    np.testing.assert_array_equal(arrays["flow_rows"], [9, 0, 1])
    main(_trace_args(path))
    with np.load(path / "t.npz", allow_pickle=False) as npz:
        for unit in ("l0", "l1"):
            np.testing.assert_allclose(arrays[f"grad_flow_rows_{unit}"],
                                       npz[f"grad_flow_{unit}"][[9, 0, 1]], rtol=1e-6)
    capsys.readouterr()
    assert main(_trace_args(path, "--flow-rows", "3-12")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "3-12 is not within the steps 0..11" in err


def test_arrays_over_the_size_limit_are_refused_before_the_trace(files, capsys, monkeypatch):
    """``--full`` maps and ``--flow-rows`` rows are bounded by ``MAX_MATRIX_VALUES`` before
    anything is computed: one line naming what was asked, nothing written."""
    from rnnviz.cli import maps
    from rnnviz.core import trace

    path, _ = files
    for module in (maps, trace):
        monkeypatch.setattr(module, "MAX_MATRIX_VALUES", 2 * 12 * 12)  # one (12, 12) per unit

    def no_trace(*args, **kwargs):
        raise AssertionError("the trace ran before the refusal")

    monkeypatch.setattr(Model, "trace", no_trace)
    capsys.readouterr()
    assert main(_trace_args(path, "--full")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gradient-flow and memory arrays" in err
    assert main(_trace_args(path, "--flow-rows", "0-11,0-11")) == 2  # 24 rows of 12, 2 units
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--flow-rows: 24 rows of 12 steps" in err
    assert "ask for fewer rows" in err
    assert main(_trace_args(path, "--flow-rows", "0-11,0-11,0-11")) == 2  # bounded as listed
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "more than 24 rows over 12 steps" in err
    assert main(_trace_args(path, "--full", "--no-memory", "--flow-rows", "0")) == 2
    err = capsys.readouterr().err
    assert "beside the --full maps' 288" in err and "memory" not in err
    assert not (path / "t.npz").exists()


def test_long_map_work_shows_a_progress_line(files, capsys, monkeypatch):
    from rnnviz.cli import maps

    path, _ = files
    monkeypatch.setattr(maps, "PROGRESS_AFTER_S", 0.0)
    assert main(_trace_args(path, "--no-memory")) == 0
    err = capsys.readouterr().err
    assert "\r  flow map [" in err and "] 100%\n" in err
    assert "#" * maps.BAR in err
