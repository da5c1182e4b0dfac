"""Weight files of the modern cells: rnnviz's own names round-trip, a ``mamba_ssm`` ``Mamba``
module's state_dict and a minimal LRU's (vector ``D``) load, and presets carry the options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz import Model, RnnvizError
from rnnviz.files.preset_check import check_weights
from rnnviz.files.presets import load_preset, parse_preset, save_preset
from rnnviz.files.weights import infer_spec

REFERENCE = Path(__file__).parents[1] / "core" / "reference" / "modern_reference.npz"


@pytest.mark.parametrize("cell,options", [("mingru", None), ("minlstm", None),
                                          ("lru", {"state_size": 3}),
                                          ("mamba_signed", {"d_state": 4, "d_conv": 2})])
def test_save_load_round_trip(tmp_path, cell, options):
    model = Model.create(cell, 2, 3, num_layers=2, bidirectional=True, output_size=4, seed=5,
                         options=options)
    path = tmp_path / "w.safetensors"
    model.save(path)
    loaded = Model.load(path)
    assert loaded.spec == model.spec
    for name, value in model.params.items():
        np.testing.assert_array_equal(np.asarray(loaded.params[name]), np.asarray(value))


def test_a_mamba_ssm_state_dict_loads():
    """``mamba_ssm.Mamba(d_model=4, d_state=4, d_conv=3, expand=1.5, dt_rank=2)``'s keys, as
    a whole model would hold them (``mixer.`` prefix), and a readout ``head``."""
    with np.load(REFERENCE) as npz:
        own = {k.split("/", 1)[1].removesuffix("_l1"): npz[k] for k in npz.files
               if k.startswith("mamba/") and k.endswith("_l1") and "grad" not in k
               and not k.startswith("mamba/gate_") and not k.startswith("mamba/h_")
               and not k.startswith("mamba/memory_")}
    assert set(own) == {"in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight",
                        "dt_proj.weight", "dt_proj.bias", "A_log", "D", "out_proj.weight"}
    arrays = {f"mixer.{k}": v for k, v in own.items()}
    arrays |= {"head.weight": np.ones((2, 4), np.float32), "head.bias": np.zeros(2, np.float32)}
    spec, params = infer_spec(arrays, cell_hints=(None,))
    assert (spec.cell, spec.input_size, spec.hidden_size, spec.output_size) == ("mamba", 4, 4, 2)
    assert dict(spec.options) == {"d_conv": 3, "d_inner": 6, "d_state": 4, "dt_rank": 2}
    np.testing.assert_array_equal(params["A_log_l0"], own["A_log"])
    assert infer_spec(arrays, cell_hints=("mamba_signed",))[0].cell == "mamba_signed"


def test_a_minimal_lru_with_a_vector_d_loads_as_its_diagonal():
    rng = np.random.default_rng(0)
    n, h = 3, 4
    arrays = {name: rng.normal(size=shape).astype(np.float32) for name, shape in
              {"nu_log": (n,), "theta_log": (n,), "gamma_log": (n,), "B_re": (n, h),
               "B_im": (n, h), "C_re": (h, n), "C_im": (h, n), "D": (h,)}.items()}
    spec, params = infer_spec(arrays)
    assert (spec.cell, spec.input_size, spec.hidden_size, dict(spec.options)) == (
        "lru", 4, 4, {"state_size": 3})
    np.testing.assert_array_equal(params["D_l0"], np.diag(arrays["D"]))


def test_a_wrong_shape_is_one_line():
    model = Model.create("mingru", 2, 3)
    arrays = {k.removesuffix("_l0"): np.asarray(v) for k, v in model.params.items()}
    arrays["to_hidden_and_gate.bias"] = np.zeros(5, np.float32)
    with pytest.raises(RnnvizError, match=r"to_hidden_and_gate.bias_l0 is \(5,\), expected "
                                          r"\(6,\)"):
        infer_spec(arrays)


PRESET = '''title = "modern"
[task]
name = "sine"
length = 10
[[models]]
cell = "mamba"
hidden_size = 4
options = {{ {options} }}
select = {{ row = "dt", unit = 7 }}
'''


def test_preset_options_are_read_checked_and_written(tmp_path):
    preset = parse_preset(PRESET.format(options="d_state = 8, d_inner = 8"))
    assert dict(preset.models[0].options) == {"d_conv": 4, "d_inner": 8, "d_state": 8,
                                              "dt_rank": 1}
    assert preset.models[0].spec(1, 1).param_shapes()["A_log_l0"] == (8, 8)
    assert preset.select == (0, "dt", 7, "l0")      # dt has d_inner = 8 units
    path = tmp_path / "p.toml"
    save_preset(preset, path)
    assert load_preset(path).models == preset.models
    with pytest.raises(RnnvizError, match=r"models\[0\].options: d_state .*expected an "
                                          r"integer in 1..256, got 0"):
        parse_preset(PRESET.format(options="d_state = 0"), source="p.toml")
    with pytest.raises(RnnvizError, match=r"models\[0\].select.unit: expected an integer in "
                                          r"0..3 \(the units of row dt\)"):
        parse_preset(PRESET.format(options="d_inner = 4"))


def test_weights_with_other_options_than_the_table_are_refused(tmp_path):
    preset = parse_preset(PRESET.format(options="d_inner = 8"))
    weights = tmp_path / "m.safetensors"
    Model.create("mamba", 1, 4, output_size=1, options={"d_inner": 8, "d_state": 4}).save(weights)
    table = preset.models[0]
    from dataclasses import replace
    preset = replace(preset, models=(replace(table, weights=weights),))
    with pytest.raises(RnnvizError, match="expected options .*d_state': 16.* got .*'d_state': 4"):
        check_weights(preset)


def test_a_session_with_a_mamba_column_round_trips(tmp_path):
    from rnnviz.files.presets import ModelConfig
    from rnnviz.files.session import Session, read_session, write_session

    config = ModelConfig("mamba", 3, options=(("d_inner", 4), ("d_state", 5)))
    preset = load_preset("sine").with_models((config,))
    task = preset.make_task()
    inputs, target = task.example(seed=2)
    model = preset.models[0].build(task.input_size, task.output_size)
    session = Session(preset, inputs, target, [model], t=4, selection=(0, "h", 17),
                      units=["l0"])
    path = tmp_path / "s.rnnviz"
    write_session(path, session)
    back = read_session(path)
    assert back.models[0].spec == model.spec and back.selection == (0, "h", 17)
    assert dict(back.preset.models[0].options)["d_state"] == 5
    for name, value in model.params.items():
        np.testing.assert_array_equal(np.asarray(back.models[0].params[name]), np.asarray(value))
