"""A trace written as CSV reads back, by its header, to the same numbers."""

import csv

import numpy as np

from rnnviz import Model
from rnnviz.core.losses import Target
from rnnviz.files.trace_csv import trace_to_csv


def _read(path) -> dict[str, np.ndarray]:
    with open(path, encoding="utf-8") as f:
        header = next(csv.reader(f))
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    assert table.shape[1] == len(header)
    return {name: table[:, j] for j, name in enumerate(header)}


def test_csv_reloads_to_the_trace(tmp_path):
    model = Model.create("lstm", 2, 3, num_layers=2, bidirectional=True, output_size=2, seed=4)
    xs = np.random.default_rng(0).normal(size=(9, 2)).astype(np.float32)
    target = Target(np.random.default_rng(1).normal(size=(9, 2)).astype(np.float32))
    trace = model.trace(xs, target, flow=True)
    trace.arrays["loss"] = trace["loss"].copy()
    trace.arrays["loss"][4] = np.nan  # NaN is written and read back, never dropped
    path = tmp_path / "trace.csv"
    trace_to_csv(trace, path)
    columns = _read(path)

    np.testing.assert_array_equal(columns["t"], np.arange(9))
    for name, array in trace.arrays.items():
        if array.ndim == 0:
            assert not any(c.startswith(name) for c in columns)  # grad_param_*: npz only
        elif array.ndim == 1:
            np.testing.assert_array_equal(columns[name].astype(np.float32), array)
        else:
            for j in range(array.shape[1]):
                np.testing.assert_array_equal(columns[f"{name}[{j}]"].astype(np.float32),
                                              array[:, j])
    assert "gate_f_l1_reverse[2]" in columns and "grad_loss_h_l0" in columns
    assert "grad_flow_l0[8]" in columns and "output[1]" in columns
    assert np.isnan(columns["loss"][4])
