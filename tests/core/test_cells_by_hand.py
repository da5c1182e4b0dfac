"""Each cell's equations checked by hand: tiny cells with simple weights, two time steps
written out with ``math`` (PyTorch's equations and gate order, see /work/shared/TASKS.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.core.cells import get_cell
from rnnviz.core.forward import run
from rnnviz.core.spec import ModelSpec, enable_float64

ATOL = 1e-6


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def params(w_ih, w_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    return {"weight_ih": np.array(w_ih, np.float32), "weight_hh": np.array(w_hh, np.float32),
            "bias_ih": np.array(b_ih, np.float32), "bias_hh": np.array(b_hh, np.float32)}


def two_steps(cell_name: str, p: dict, xs: list[float]) -> list[dict[str, np.ndarray]]:
    """The cell's records for each step of ``xs`` (input size 1), from a zero state."""
    cell = get_cell(cell_name)
    carry = cell.zero_carry(p["weight_hh"].shape[1], np.float32)
    records = []
    for x in xs:
        carry, record = cell(p, carry, np.array([x], np.float32))
        records.append({k: np.asarray(v) for k, v in record.items()})
        for name, value in zip(cell.carry_names, carry, strict=True):  # carry == record
            np.testing.assert_array_equal(np.asarray(value), records[-1][name])
    return records


def check(record: dict[str, np.ndarray], expected: dict[str, list[float]]) -> None:
    assert sorted(record) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(record[name], value, rtol=0, atol=ATOL, err_msg=name)


def test_rnn_tanh_two_units():
    # W_hh is not symmetric, so W_hh @ h and h @ W_hh differ
    p = params(w_ih=[[0.5], [-1.0]], w_hh=[[0.5, -1.0], [0.25, 2.0]],
               b_ih=[0.1, -0.2], b_hh=[0.3, 0.0])
    r1, r2 = two_steps("rnn_tanh", p, [1.0, -2.0])
    # step 1, h0 = 0: only the input and the biases
    h1 = [math.tanh(0.5 * 1.0 + 0.1 + 0.3), math.tanh(-1.0 * 1.0 - 0.2 + 0.0)]
    check(r1, {"h": h1})
    # step 2: W_ih x + b_ih + W_hh h1 + b_hh, row by row
    a0 = 0.5 * -2.0 + 0.1 + (0.5 * h1[0] - 1.0 * h1[1]) + 0.3
    a1 = -1.0 * -2.0 - 0.2 + (0.25 * h1[0] + 2.0 * h1[1]) + 0.0
    check(r2, {"h": [math.tanh(a0), math.tanh(a1)]})


def test_rnn_relu_clips_at_zero_and_recovers():
    p = params(w_ih=[[2.0]], w_hh=[[-1.0]], b_ih=[0.5], b_hh=[-1.0])
    r1, r2, r3 = two_steps("rnn_relu", p, [1.0, -0.5, 2.0])
    h1 = max(0.0, 2.0 * 1.0 + 0.5 - 1.0 * 0.0 - 1.0)  # 1.5
    h2 = max(0.0, 2.0 * -0.5 + 0.5 - 1.0 * h1 - 1.0)  # -3 -> 0
    h3 = max(0.0, 2.0 * 2.0 + 0.5 - 1.0 * h2 - 1.0)  # 3.5
    assert (h1, h2, h3) == (1.5, 0.0, 3.5)
    check(r1, {"h": [h1]})
    check(r2, {"h": [h2]})
    check(r3, {"h": [h3]})


LSTM_P = dict(  # rows in PyTorch's gate order i, f, g, o
    w_ih=[[0.5], [-1.0], [2.0], [1.0]], w_hh=[[1.0], [0.5], [-0.5], [2.0]],
    b_ih=[0.0, 1.0, -0.5, 0.25], b_hh=[0.5, 0.0, 0.25, -0.25],
)


def lstm_by_hand() -> list[dict[str, list[float]]]:
    # step 1, x = 1, h0 = c0 = 0
    i1 = sigmoid(0.5 * 1 + 0.0 + 1.0 * 0 + 0.5)     # sigma(1)
    f1 = sigmoid(-1.0 * 1 + 1.0 + 0.5 * 0 + 0.0)    # sigma(0) = 0.5
    g1 = math.tanh(2.0 * 1 - 0.5 - 0.5 * 0 + 0.25)  # tanh(1.75)
    o1 = sigmoid(1.0 * 1 + 0.25 + 2.0 * 0 - 0.25)   # sigma(1)
    c1 = f1 * 0.0 + i1 * g1
    h1 = o1 * math.tanh(c1)
    # step 2, x = -1
    i2 = sigmoid(0.5 * -1 + 0.0 + 1.0 * h1 + 0.5)
    f2 = sigmoid(-1.0 * -1 + 1.0 + 0.5 * h1 + 0.0)
    g2 = math.tanh(2.0 * -1 - 0.5 - 0.5 * h1 + 0.25)
    o2 = sigmoid(1.0 * -1 + 0.25 + 2.0 * h1 - 0.25)
    c2 = f2 * c1 + i2 * g2
    h2 = o2 * math.tanh(c2)
    return [{"i": [i1], "f": [f1], "g": [g1], "o": [o1], "c": [c1], "h": [h1]},
            {"i": [i2], "f": [f2], "g": [g2], "o": [o2], "c": [c2], "h": [h2]}]


def test_lstm_gates_cell_and_hidden_state():
    r1, r2 = two_steps("lstm", params(**LSTM_P), [1.0, -1.0])
    e1, e2 = lstm_by_hand()
    assert e1["f"] == [0.5]
    check(r1, e1)
    check(r2, e2)


GRU_P = dict(  # rows in PyTorch's gate order r, z, n
    w_ih=[[1.0], [-0.5], [0.5]], w_hh=[[0.5], [1.0], [-1.0]],
    b_ih=[0.0, 0.5, -0.25], b_hh=[-0.5, 0.0, 0.5],
)


def gru_by_hand(cho: bool = False) -> list[dict[str, list[float]]]:
    """PyTorch's GRU: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). With ``cho``, Cho et al.
    2014's placement instead, n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""
    def candidate(x, r, h):
        if cho:
            return math.tanh(0.5 * x - 0.25 + (-1.0) * (r * h) + 0.5)
        return math.tanh(0.5 * x - 0.25 + r * ((-1.0) * h + 0.5))

    # step 1, x = 1, h0 = 0
    r1 = sigmoid(1.0 * 1 + 0.0 + 0.5 * 0 - 0.5)   # sigma(0.5)
    z1 = sigmoid(-0.5 * 1 + 0.5 + 1.0 * 0 + 0.0)  # sigma(0) = 0.5
    n1 = candidate(1.0, r1, 0.0)                  # torch: tanh(0.25 + r1 * 0.5)
    h1 = (1 - z1) * n1 + z1 * 0.0
    # step 2, x = 0.5
    r2 = sigmoid(1.0 * 0.5 + 0.0 + 0.5 * h1 - 0.5)
    z2 = sigmoid(-0.5 * 0.5 + 0.5 + 1.0 * h1 + 0.0)
    n2 = candidate(0.5, r2, h1)
    h2 = (1 - z2) * n2 + z2 * h1
    return [{"r": [r1], "z": [z1], "n": [n1], "h": [h1]},
            {"r": [r2], "z": [z2], "n": [n2], "h": [h2]}]


def test_gru_gates_with_pytorch_reset_placement():
    r1, r2 = two_steps("gru", params(**GRU_P), [1.0, 0.5])
    e1, e2 = gru_by_hand()
    check(r1, e1)
    check(r2, e2)
    # the check tells the two placements of the reset gate apart
    c1, c2 = gru_by_hand(cho=True)
    assert abs(c1["n"][0] - e1["n"][0]) > 1e-2
    assert abs(c2["h"][0] - e2["h"][0]) > 1e-2


def gate_blocks_by_hand(cell: str, p: dict, xs: list[float]) -> list[dict[str, np.ndarray]]:
    """Two hidden units: the same equations per unit, each gate's rows taken as contiguous
    blocks of H rows (PyTorch's layout, not interleaved)."""
    w_ih, w_hh = np.array(p["w_ih"], float), np.array(p["w_hh"], float)
    b = np.array(p["b_ih"], float) + np.array(p["b_hh"], float)
    hidden = w_hh.shape[1]
    h, c, out = [0.0] * hidden, [0.0] * hidden, []
    for x in xs:
        def pre(gate, unit, h=h, x=x):
            row = gate * hidden + unit
            return w_ih[row, 0] * x + sum(w_hh[row, j] * h[j] for j in range(hidden)) + b[row]

        rec: dict[str, list[float]] = {}
        if cell == "lstm":
            rec["i"] = [sigmoid(pre(0, u)) for u in range(hidden)]
            rec["f"] = [sigmoid(pre(1, u)) for u in range(hidden)]
            rec["g"] = [math.tanh(pre(2, u)) for u in range(hidden)]
            rec["o"] = [sigmoid(pre(3, u)) for u in range(hidden)]
            c = [rec["f"][u] * c[u] + rec["i"][u] * rec["g"][u] for u in range(hidden)]
            h = [rec["o"][u] * math.tanh(c[u]) for u in range(hidden)]
            rec["c"] = c
        else:  # gru: b_hn stays inside the reset gate's product
            rec["r"] = [sigmoid(pre(0, u)) for u in range(hidden)]
            rec["z"] = [sigmoid(pre(1, u)) for u in range(hidden)]
            rows = [2 * hidden + u for u in range(hidden)]
            rec["n"] = [math.tanh(w_ih[r, 0] * x + p["b_ih"][r] + rec["r"][u] * (
                sum(w_hh[r, j] * h[j] for j in range(hidden)) + p["b_hh"][r]))
                for u, r in enumerate(rows)]
            h = [(1 - rec["z"][u]) * rec["n"][u] + rec["z"][u] * h[u] for u in range(hidden)]
        rec["h"] = h
        out.append(rec)
    return out


TWO_UNITS = {
    "lstm": dict(w_ih=[[0.5], [-1.0], [1.0], [0.25], [2.0], [-0.5], [1.5], [-2.0]],
                 w_hh=[[1.0, -0.5], [0.5, 2.0], [-1.0, 0.25], [0.5, 0.5],
                       [2.0, -1.0], [-0.25, 1.0], [1.0, 0.0], [0.0, -1.0]],
                 b_ih=[0.0, 0.5, 1.0, -1.0, 0.25, 0.0, -0.5, 0.5],
                 b_hh=[0.5, 0.0, 0.0, 0.5, -0.25, 0.25, 0.0, 1.0]),
    "gru": dict(w_ih=[[1.0], [-0.5], [0.5], [2.0], [-1.0], [1.5]],
                w_hh=[[0.5, -1.0], [1.0, 0.25], [-0.5, 2.0], [0.0, 1.0], [-1.0, 0.5], [2.0, -2.0]],
                b_ih=[0.0, 0.5, 0.25, -0.5, 1.0, 0.0],
                b_hh=[-0.5, 0.0, 0.5, 0.25, 0.5, -1.0]),
}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_two_units_take_contiguous_gate_blocks(cell):
    p = TWO_UNITS[cell]
    got = two_steps(cell, params(**p), [1.0, -0.5])
    for record, expected in zip(got, gate_blocks_by_hand(cell, p, [1.0, -0.5]), strict=True):
        check(record, expected)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_scan_names_each_gate_as_the_cell_does(cell):
    """``forward.run`` scans the same cell and files gate x of unit l0 as ``gate_x_l0``."""
    p = {"lstm": LSTM_P, "gru": GRU_P}[cell]
    xs = [1.0, -1.0] if cell == "lstm" else [1.0, 0.5]
    expected = lstm_by_hand() if cell == "lstm" else gru_by_hand()
    spec = ModelSpec(cell, input_size=1, hidden_size=1)
    flat = {f"{k}_l0": v for k, v in params(**p).items()}
    _, states, outputs = run(spec, flat, np.array(xs, np.float32)[:, None])
    for name in expected[0]:
        key = f"{name}_l0" if name in ("h", "c") else f"gate_{name}_l0"
        np.testing.assert_allclose(np.asarray(states[key])[:, 0],
                                   [e[name][0] for e in expected], rtol=0, atol=ATOL)
    np.testing.assert_allclose(np.asarray(outputs), np.asarray(states["h_l0"]), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_gates_are_sigmoids_and_a_tanh(dtype):
    """``lstm_gates`` (one tanh for all four blocks) against ``math``'s sigmoid and tanh,
    over pre-activations from -40 to 40 (where the sigmoid underflows towards 0)."""
    from rnnviz.core.cells import lstm_gates

    if dtype == np.float64:
        enable_float64()
    z = np.linspace(-40, 40, 4 * 101).astype(dtype)  # H = 101, each block its own range
    gates = np.asarray(lstm_gates(z))
    assert gates.dtype == dtype
    expected = [sigmoid(v) for v in z[:202]] + [math.tanh(v) for v in z[202:303]] + [
        sigmoid(v) for v in z[303:]]
    tol = 3e-7 if dtype == np.float32 else 1e-15  # float32: a few ulps of 1
    np.testing.assert_allclose(gates, expected, rtol=0, atol=tol)
