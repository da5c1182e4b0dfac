"""Tasks: shapes, determinism by seed, and each task's definition checked by hand."""

import math

import numpy as np
import pytest

from rnnviz import InitOptions, ModelSpec, RnnvizError, init_params
from rnnviz.tasks import (
    TASKS,
    AnBnTask,
    TemporalOrderTask,
    make_task,
    read_csv_column,
    sample_text,
    shipped_corpus,
    task_settings,
)

SMALL = {
    "sine": dict(length=30),
    "adding": dict(length=12),
    "copy": dict(symbols=4, memory=3, delay=2),
    "temporal_order": dict(length=20),
    "anbn": dict(n_min=1, n_max=5),
    "text": dict(length=16),
    "bidirectional_demo": dict(length=10, symbols=3, shift=2),
    "delay": dict(length=10, symbols=3, delay=4),
    "melody": dict(length=16),
    "selective_copy": dict(symbols=3, memory=2, span=8),
    "parity": dict(length=12),
}


@pytest.fixture
def series_csv(tmp_path):
    path = tmp_path / "series.csv"
    rows = ["time,temp,label"] + [f"{i},{20 + math.sin(i / 3):.4f},x" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    return path


def all_tasks(series_csv):
    tasks = [make_task(name, **settings) for name, settings in SMALL.items()]
    return [*tasks, make_task("csv", path=str(series_csv), column="temp", length=10)]


def test_every_registered_task_is_covered():
    assert set(TASKS) == {*SMALL, "csv"}


def test_shapes_dtypes_and_masks(series_csv):
    for task in all_tasks(series_csv):
        xs, ys, mask = task.batch(5, seed=3)
        T = task.length
        assert xs.shape == (5, T, task.input_size) and xs.dtype == np.float32, task.name
        if task.loss == "xent":
            assert ys.shape == (5, T) and ys.dtype == np.int32
            assert ys.min() >= 0 and ys.max() < task.output_size
            assert len(task.classes) == task.output_size
        else:
            assert ys.shape == (5, T, task.output_size) and ys.dtype == np.float32
        assert mask.shape == (5, T) and set(np.unique(mask)) <= {0.0, 1.0}
        assert mask.sum(axis=1).min() >= 1, task.name  # every sequence is scored somewhere
        x, target = task.example(seed=3)  # documented: the first row of batch(1, seed)
        one = task.batch(1, seed=3)
        np.testing.assert_array_equal(x, one[0][0])
        np.testing.assert_array_equal(target.values, one[1][0])
        np.testing.assert_array_equal(target.mask, one[2][0])


def test_same_seed_same_batch_other_seed_other_batch(series_csv):
    for task in all_tasks(series_csv):
        a, b, c = task.batch(4, seed=7), task.batch(4, seed=7), task.batch(4, seed=8)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)
        assert not all(np.array_equal(u, w) for u, w in zip(a, c, strict=True)), task.name


def test_sine_by_hand():
    # f = 1/4 cycle per step: s_t = sin(pi t / 2 + phi) = sin phi, cos phi, -sin phi, -cos phi
    task = make_task("sine", length=9, frequencies=[0.25])
    xs, ys, mask = task.batch(3, seed=0)
    s = xs[..., 0]
    np.testing.assert_allclose(s[:, 2], -s[:, 0], atol=1e-6)
    np.testing.assert_allclose(s[:, 3], -s[:, 1], atol=1e-6)
    np.testing.assert_allclose(s[:, 0] ** 2 + s[:, 1] ** 2, 1.0, atol=1e-6)
    np.testing.assert_array_equal(ys[:, :-1, 0], xs[:, 1:, 0])  # target = next input
    np.testing.assert_allclose(ys[:, -1, 0], -s[:, -2], atol=1e-6)  # s_9 = -s_7
    assert mask.min() == 1.0
    # two frequencies are averaged: values stay in [-1, 1]; noise adds variance noise**2
    clean = make_task("sine", length=400)
    noisy = make_task("sine", length=400, noise=0.3)
    diff = noisy.batch(50, seed=1)[0] - clean.batch(50, seed=1)[0]
    assert np.abs(clean.batch(50, seed=1)[0]).max() <= 1.0
    assert diff.std() == pytest.approx(0.3, rel=0.05)


def test_adding_by_hand():
    task = make_task("adding", length=10)
    xs, ys, mask = task.batch(200, seed=0)
    values, marker = xs[..., 0], xs[..., 1]
    assert np.all(marker.sum(axis=1) == 2)
    assert np.all(marker[:, :5].sum(axis=1) == 1) and np.all(marker[:, 5:].sum(axis=1) == 1)
    np.testing.assert_allclose(ys[:, -1, 0], (values * marker).sum(axis=1), rtol=1e-6)
    assert np.all(ys[:, :-1] == 0)
    np.testing.assert_array_equal(mask, np.tile([0] * 9 + [1], (200, 1)))
    assert values.min() >= 0 and values.max() <= 1
    # the "no memory" baseline: predicting 1 scores Var(v_a + v_b) = 1/6
    big = make_task("adding", length=10).batch(20000, seed=1)[1][:, -1, 0]
    assert np.mean((big - 1.0) ** 2) == pytest.approx(1 / 6, rel=0.03)


def test_copy_by_hand():
    task = make_task("copy", symbols=4, memory=3, delay=2)
    assert task.length == 2 * 3 + 2 + 1 == 9
    xs, ys, mask = task.batch(20, seed=0)
    codes = np.argmax(xs, axis=-1)
    assert np.all(xs.sum(axis=-1) == 1)  # one-hot at every step
    shown = codes[:, :3]
    assert shown.max() < 4
    np.testing.assert_array_equal(codes[:, 3:5], 4)  # blanks
    np.testing.assert_array_equal(codes[:, 5], 5)  # the marker
    np.testing.assert_array_equal(codes[:, 6:], 4)
    np.testing.assert_array_equal(ys[:, 6:], shown)  # recall in order
    np.testing.assert_array_equal(mask, np.tile([0] * 6 + [1] * 3, (20, 1)))
    assert task.decode(xs[0])[3:6] == ["_", "_", ">"]


def test_temporal_order_by_hand():
    assert TemporalOrderTask(length=100).marker_ranges() == ((10, 20), (50, 60))
    assert TemporalOrderTask(length=8).marker_ranges() == ((1, 2), (4, 5))
    for T in (4, 5, 6, 8, 30, 100):
        (lo1, hi1), (lo2, hi2) = TemporalOrderTask(length=T).marker_ranges()
        assert 1 <= lo1 <= hi1 < lo2 <= hi2 <= T - 2, T
    task = make_task("temporal_order", length=30)
    (lo1, hi1), (lo2, hi2) = task.marker_ranges()
    xs, ys, mask = task.batch(300, seed=0)
    classes = set()
    for x, y in zip(xs, ys, strict=True):
        symbols = task.decode(x)
        assert symbols[0] == "B" and symbols[-1] == "E"
        where = [t for t, s in enumerate(symbols) if s in "XY"]
        assert len(where) == 2
        assert lo1 <= where[0] <= hi1 and lo2 <= where[1] <= hi2
        assert all(s in "abcd" for t, s in enumerate(symbols[1:-1], 1) if t not in where)
        order = symbols[where[0]] + symbols[where[1]]
        assert task.classes[y[-1]] == order
        classes.add(order)
    assert classes == {"XX", "XY", "YX", "YY"}
    np.testing.assert_array_equal(mask[:, :-1], 0)
    np.testing.assert_array_equal(mask[:, -1], 1)


def test_anbn_by_hand():
    task = make_task("anbn", n_min=1, n_max=5)
    assert task.length == 12
    x, target = task.example(n=3)
    assert task.decode(x) == ["S", "a", "a", "a", "b", "b", "b", "E", "", "", "", ""]
    # the next symbol (after E: padding, class 0, never scored)
    names = [task.classes[k] for k in target.values[:8]]
    assert names == ["a", "a", "a", "b", "b", "b", "E", "S"]
    # scored: the steps reading a b (their next symbol is b, b, then E)
    np.testing.assert_array_equal(np.nonzero(target.mask)[0], [4, 5, 6])
    assert [task.classes[k] for k in target.values[[4, 5, 6]]] == ["b", "b", "E"]
    # beyond n_max: a longer sequence, for generalisation
    x, target = task.example(n=8)
    assert len(x) == 18 and target.mask.sum() == 8
    # random n cover n_min..n_max
    xs, _, mask = AnBnTask(n_min=2, n_max=4).batch(200, seed=0)
    assert set(mask.sum(axis=1).astype(int)) == {2, 3, 4}


def test_lookahead_by_hand():
    task = make_task("bidirectional_demo", length=10, symbols=3, shift=2)
    xs, ys, mask = task.batch(20, seed=0)
    codes = np.argmax(xs, axis=-1)
    np.testing.assert_array_equal(ys[:, :8], codes[:, 2:])
    np.testing.assert_array_equal(mask, np.tile([1] * 8 + [0] * 2, (20, 1)))


def test_delay_by_hand():
    task = make_task("delay", length=10, symbols=3, delay=4)
    xs, ys, mask = task.batch(20, seed=0)
    codes = np.argmax(xs, axis=-1)
    np.testing.assert_array_equal(ys[:, 4:], codes[:, :6])
    np.testing.assert_array_equal(mask, np.tile([0] * 4 + [1] * 6, (20, 1)))


def test_selective_copy_by_hand():
    task = make_task("selective_copy", symbols=4, memory=3, span=10)
    assert task.length == 13 and task.input_size == 6 and task.output_size == 4
    xs, ys, mask = task.batch(50, seed=0)
    codes = np.argmax(xs, axis=-1)
    assert np.all(xs.sum(axis=-1) == 1)  # one-hot at every step
    np.testing.assert_array_equal(codes[:, 10:], 5)  # the markers
    steps = set()
    for row, y in zip(codes, ys, strict=True):
        data = np.nonzero(row[:10] < 4)[0]
        assert len(data) == 3 and np.all(row[:10][row[:10] >= 4] == 4)  # the rest blank
        np.testing.assert_array_equal(y[10:], row[data])  # recalled in order
        np.testing.assert_array_equal(task.data_steps(row[:, None] == np.arange(6)), data)
        steps.update(data.tolist())
    assert steps == set(range(10))  # the symbols stand anywhere in the span
    np.testing.assert_array_equal(mask, np.tile([0] * 10 + [1] * 3, (50, 1)))
    assert task.decode(xs[0])[10:] == [">"] * 3
    x, target = task.example(seed=1)  # an edited symbol is the new target at its marker
    edited, first = x.copy(), task.data_steps(x)[0]
    other = (int(np.argmax(x[first])) + 1) % 4
    edited[first] = np.eye(6)[other]
    values = task.retarget(edited, target, first).values
    assert values[10] == other and list(values[11:]) == list(target.values[11:])


def test_parity_by_hand():
    task = make_task("parity", length=6)
    x = np.eye(2, dtype=np.float32)[[1, 0, 1, 1, 0, 1]]
    xs, ys, mask = task.batch(30, seed=0)
    np.testing.assert_array_equal(ys, np.cumsum(np.argmax(xs, axis=-1), axis=1) % 2)
    assert np.all(mask == 1) and task.classes == ("even", "odd")
    _, target = task.example(seed=0)
    np.testing.assert_array_equal(task.retarget(x, target, 2).values, [1, 1, 0, 1, 1, 0])


def test_accuracy_by_hand():
    task = make_task("bidirectional_demo", length=4, symbols=3, shift=1)
    outputs = np.array([[[5, 0, 0], [0, 5, 0], [0, 0, 5], [5, 0, 0]]], float)
    targets = np.array([[0, 1, 1, 2]])
    mask = np.array([[1, 1, 1, 0]])
    assert task.accuracy(outputs, targets, mask) == pytest.approx(2 / 3)
    assert task.accuracy(outputs, targets, np.zeros((1, 4))) is None
    assert make_task("sine").accuracy(outputs, targets, mask) is None


def test_bad_settings_are_one_line_errors():
    cases = [
        (("nope",), {}, "name: expected one of"),
        (("sine",), {"lenght": 5}, "lenght: unknown setting of task sine"),
        (("adding",), {"length": 1}, "length: expected an integer in 2..100000, got 1"),
        (("copy",), {"symbols": 30}, "symbols: expected an integer in 2..26"),
        (("temporal_order",), {"length": "long"}, "length: expected an integer"),
        (("anbn",), {"n_min": 5, "n_max": 3}, "n_max: expected an integer in 5..1000"),
        (("sine",), {"frequencies": [0.7]}, "frequencies: expected a number in (0, 0.5]"),
        (("sine",), {"noise": True}, "noise: expected a number"),
        (("bidirectional_demo",), {"length": 5, "shift": 5}, "shift: expected an integer in"),
        (("delay",), {"length": 5, "delay": 0}, "delay: expected an integer in 1..4, got 0"),
        (("selective_copy",), {"memory": 5, "span": 4}, "span: expected an integer in 5.."),
        (("parity",), {"length": 0}, "length: expected an integer in 1.."),
    ]
    for args, settings, message in cases:
        with pytest.raises(RnnvizError) as info:
            make_task(*args, **settings)
        assert message in str(info.value), str(info.value)
        assert "\n" not in str(info.value)
    assert task_settings("copy") == ["symbols", "memory", "delay"]


# -- text --------------------------------------------------------------------------------------
def test_text_windows_are_the_corpus_shifted_by_one():
    corpus = "abcabcabd, the end.\n" * 3
    task = make_task("text", text=corpus, length=6)
    assert task.vocab == tuple(sorted(set(corpus)))
    xs, ys, mask = task.batch(10, seed=0)
    for x, y in zip(xs, ys, strict=True):
        read = "".join(task.decode(x))
        assert read in corpus
        assert read[1:] + task.vocab[y[-1]] == "".join(task.vocab[k] for k in y)
        assert (read + task.vocab[y[-1]]) in corpus
    assert mask.min() == 1
    onehot = task.encode("cab")
    assert onehot.shape == (3, len(task.vocab))
    assert [task.vocab[k] for k in np.argmax(onehot, axis=1)] == ["c", "a", "b"]
    assert "".join(task.decode(task.encode("the end"))) == "the end"


def test_text_sources_and_errors(tmp_path):
    shipped = make_task("text")
    assert shipped.corpus == shipped_corpus() and len(shipped.corpus) > 1000
    path = tmp_path / "mine.txt"
    path.write_text("hello world, hello rnn\n", encoding="utf-8")
    assert make_task("text", path=str(path), length=5).corpus == "hello world, hello rnn\n"
    cases = [
        ({"text": "short", "length": 10}, "text: expected at least 11 characters"),
        ({"path": str(tmp_path / "missing.txt")}, "path: expected an existing text file"),
        ({"text": "abc", "path": str(path)}, "expected either text or path"),
    ]
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 " * 30)
    cases.append(({"path": str(bad)}, "cannot read as UTF-8"))
    for settings, message in cases:
        with pytest.raises(RnnvizError, match=message.replace("(", r"\(")):
            make_task("text", **settings)
    with pytest.raises(RnnvizError, match="'#' .not in the corpus"):
        make_task("text", text="abcdefgh" * 3, length=4).encode("a#")


def _bigram_model(task):
    """A one-unit-per-character linear 'RNN' whose readout gives log P(next | current) of a
    deterministic cycle a->b->c->a: exact probabilities, so sampling can be checked."""
    V = len(task.vocab)
    spec = ModelSpec("rnn_relu", V, V, output_size=V)
    params = {k: np.zeros(s, np.float32) for k, s in spec.param_shapes().items()}
    params["weight_ih_l0"] = np.eye(V, dtype=np.float32)  # h_t = one-hot of the input
    nxt = {0: 1, 1: 2, 2: 0}
    w = np.zeros((V, V), np.float32)
    for i, j in nxt.items():
        w[j, i] = 3.0  # logit 3 for the successor, 0 for the other two
    params["readout.weight"] = w
    return spec, params


def test_sample_text_temperature():
    task = make_task("text", text="abc" * 10, length=4)
    spec, params = _bigram_model(task)
    cold = sample_text(spec, params, task, "a", 30, temperature=0.01, seed=0)
    assert cold == ("bca" * 10)  # near-argmax follows the cycle exactly
    assert sample_text(spec, params, task, "a", 30, temperature=0.01, seed=5) == cold
    # temperature 1: P(successor) = e^3 / (e^3 + 2) = 0.909 at every step
    warm = sample_text(spec, params, task, "a", 3000, temperature=1.0, seed=0)
    prev = "a" + warm[:-1]
    follows = np.mean([task.vocab.index(c) == (task.vocab.index(p) + 1) % 3
                       for p, c in zip(prev, warm, strict=True)])
    assert follows == pytest.approx(math.exp(3) / (math.exp(3) + 2), abs=0.02)
    # very hot: nearly uniform
    hot = sample_text(spec, params, task, "a", 3000, temperature=1000.0, seed=0)
    counts = np.array([hot.count(c) for c in "abc"]) / 3000
    np.testing.assert_allclose(counts, 1 / 3, atol=0.04)
    assert sample_text(spec, params, task, "a", 50, seed=1) == sample_text(
        spec, params, task, "a", 50, seed=1)


def test_sample_text_errors():
    task = make_task("text", text="abc" * 10, length=4)
    spec, params = _bigram_model(task)
    with pytest.raises(RnnvizError, match="temperature: expected a number in"):
        sample_text(spec, params, task, "a", 5, temperature=0.0)
    with pytest.raises(RnnvizError, match="prime: expected at least one character"):
        sample_text(spec, params, task, "", 5)
    with pytest.raises(RnnvizError, match="not in the corpus"):
        sample_text(spec, params, task, "z", 5)
    bi = ModelSpec("lstm", 3, 4, bidirectional=True, output_size=3)
    with pytest.raises(RnnvizError, match="expected a unidirectional model"):
        sample_text(bi, init_params(bi), task, "a", 5)
    wrong = ModelSpec("gru", 3, 4, output_size=2)
    with pytest.raises(RnnvizError, match="expected input and output size 3"):
        sample_text(wrong, init_params(wrong, options=InitOptions()), task, "a", 5)
    with pytest.raises(RnnvizError, match="task: expected a text task"):
        sample_text(spec, params, make_task("sine"), "a", 5)


# -- CSV ---------------------------------------------------------------------------------------
def test_csv_column_by_name_and_number(series_csv):
    values, label = read_csv_column(series_csv, "temp")
    assert label == "'temp'" and len(values) == 40
    assert values[3] == pytest.approx(20 + math.sin(1.0), abs=1e-4)
    np.testing.assert_array_equal(read_csv_column(series_csv, 1)[0], values)
    task = make_task("csv", path=str(series_csv), column="temp", length=10)
    assert task.mean == pytest.approx(values.mean()) and task.std == pytest.approx(values.std())
    np.testing.assert_allclose(task.series, (values - values.mean()) / values.std(), rtol=1e-5)
    xs, ys, _ = task.batch(8, seed=0)
    np.testing.assert_array_equal(ys[:, :-1, 0], xs[:, 1:, 0])
    np.testing.assert_allclose(task.denormalise(task.series), values, rtol=1e-5)
    assert "temp" in task.description and "series.csv" in task.description


def test_csv_without_header_semicolons_and_blank_lines(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1;10\n2;20\n\n3;30\n4;40\n")
    np.testing.assert_array_equal(read_csv_column(path, 1)[0], [10, 20, 30, 40])
    with pytest.raises(RnnvizError, match="expected a column number .the file has no header"):
        read_csv_column(path, "b")


@pytest.mark.parametrize(("content", "column", "message"), [
    ("t,v\n1,2\n2,abc\n3,4\n", "v", r"bad.csv:3: column 'v': expected a number, got 'abc'"),
    ("t,v\n1,2\n2,\n3,4\n", "v", r"bad.csv:3: column 'v': expected a number, got a missing value"),
    ("t,v\n1,2\n2\n3,4\n", 1, r"bad.csv:3: column 'v': expected a number, got a missing value"),
    ("t,v\n1,2\n2,nan\n", "v", r"bad.csv:3: column 'v': expected a finite number, got 'nan'"),
    ("t,v\n1,2\n", "w", r"bad.csv: column: expected one of 't', 'v', got 'w'"),
    ("t,v\n1,2\n", 2, r"bad.csv: column: expected a column number in 0..1, got 2"),
    ("", 0, r"bad.csv: expected a column of numbers, got an empty file"),
])
def test_csv_errors_name_the_line(tmp_path, content, column, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(RnnvizError) as info:
        read_csv_column(path, column)
    assert message in str(info.value)


def test_csv_too_short_and_missing_file(tmp_path, series_csv):
    with pytest.raises(RnnvizError, match=r"column 'temp': expected at least 51 values for "
                                          r"length 50, got 40"):
        make_task("csv", path=str(series_csv), column="temp", length=50)
    with pytest.raises(RnnvizError, match="path: expected an existing CSV file"):
        make_task("csv", path=str(tmp_path / "nope.csv"))
    with pytest.raises(RnnvizError, match="path: expected the path of a CSV file"):
        make_task("csv")


def test_copy_length_stays_within_the_maximum():
    with pytest.raises(RnnvizError, match="delay: expected an integer in 0..97999"):
        make_task("copy", memory=1000, delay=99000)


def test_single_column_csv_with_header(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("price\n1.5\n2.5\n-3e2\n")
    values, label = read_csv_column(path, "price")
    np.testing.assert_array_equal(values, [1.5, 2.5, -300.0])
    assert label == "'price'"


def test_a_preset_reads_its_data_file_beside_it(tmp_path, series_csv):
    from rnnviz.files.presets import load_preset

    folder = tmp_path / "lesson"
    folder.mkdir()
    (folder / "data.csv").write_text(series_csv.read_text())
    (folder / "mine.toml").write_text(
        'title = "My data"\n[task]\nname = "csv"\npath = "data.csv"\ncolumn = "temp"\n'
        'length = 20\n[[models]]\ncell = "gru"\n')
    preset = load_preset(folder / "mine.toml")
    task = preset.make_task()
    assert len(task.series) == 40 and task.length == 20


def test_csv_header_names_the_columns_for_a_picker(tmp_path):
    """The picker's list comes from the same sniffing and header rule as the reader."""
    from rnnviz.tasks import csv_header

    named = tmp_path / "named.csv"
    named.write_text("\ndate;price\n2020;1.5\n")
    assert csv_header(named) == ["date", "price"]
    plain = tmp_path / "plain.csv"
    plain.write_text("1,2,3\n4,5,6\n")
    assert csv_header(plain) == ["0", "1", "2"]
    assert csv_header(tmp_path / "missing.csv") == []
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00bad")
    assert csv_header(tmp_path / "binary.csv") == []
