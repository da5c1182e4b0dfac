"""A user's data fitted to a model as the window's task (``DataTask``), the CSV column choice
behind the window's dialog, and every mismatch as one line naming the file and where."""

import numpy as np
import pytest

from rnnviz import RnnvizError
from rnnviz.core.spec import ModelSpec
from rnnviz.files.data_task import CsvChoice, fit_data, model_and_data

GRU3 = ModelSpec("gru", 3, 4, output_size=1)
TOKENS = ModelSpec("lstm", 2, 3, output_size=4, vocab_size=4)


def _csv(path, text):
    path.write_text(text)
    return path


@pytest.fixture
def weather(tmp_path):
    rows = "\n".join(f"{t},{0.1 * t},{-t},{t % 3},{0.5 * t}" for t in range(6))
    return _csv(tmp_path / "weather.csv", "day,temp,wind,rain,y\n" + rows + "\n")


def test_the_choice_guesses_the_target_and_reads_the_chosen_columns(weather):
    choice = CsvChoice.for_model(weather, GRU3)
    assert choice.header == ["day", "temp", "wind", "rain", "y"]
    assert (choice.inputs, choice.target) == ([0, 1, 2], 4)  # "y" is the target
    assert choice.labels == ["input 1", "input 2", "input 3"]
    choice.inputs = [1, 2, 3]  # the dialog's combos
    task = choice.fit(GRU3)
    t = np.arange(6)
    np.testing.assert_array_equal(task.values, np.stack([0.1 * t, -t, t % 3], 1)
                                  .astype(np.float32))
    inputs, target = task.example(seed=0)
    assert inputs is task.values and target.kind == "mse"
    np.testing.assert_array_equal(target.values[:, 0], (0.5 * t).astype(np.float32))
    assert (task.input_size, task.output_size, task.length) == (3, 1, 6)
    assert task.channel_ticks == [(0, "temp"), (1, "wind"), (2, "rain")]
    xs, ys, mask = task.batch(2, seed=5)  # training repeats the one sequence
    assert xs.shape == (2, 6, 3) and np.all(mask == 1) and np.all(ys[1] == ys[0])


def test_token_data_shows_the_vocabulary_and_takes_class_targets(tmp_path):
    (tmp_path / "vocab.json").write_text('["a", "b", " ", "\\n"]')
    (tmp_path / "text.txt").write_text("ab a\nb")
    np.save(tmp_path / "next.npy", np.array([1, 2, 0, 3, 1, 0]))
    spec, task = model_and_data(_token_model(tmp_path), tmp_path / "text.txt",
                                target=str(tmp_path / "next.npy"))
    assert spec == TOKENS
    assert task.values[:, 0].tolist() == [0, 1, 2, 0, 3, 1]
    assert task.decode(task.values) == ["a", "b", "␣", "a", "⏎", "b"]
    assert task.loss == "xent" and task.example(seed=0)[1].values.dtype == np.int32


def _token_model(folder):
    from rnnviz.core.init import init_params
    from rnnviz.files.weights import save_weights

    path = folder / "lm.safetensors"
    save_weights(path, TOKENS, {k: np.asarray(v) for k, v in init_params(TOKENS).items()})
    return path


def test_mismatches_are_one_line_naming_the_file_and_where(tmp_path, weather):
    bad = {}
    few = _csv(tmp_path / "few.csv", "a,b\n1,2\n")
    bad[few] = (lambda: CsvChoice.for_model(few, GRU3),
                "few.csv: has 2 column(s) (a, b); the model reads 3 input(s)")
    nan = _csv(tmp_path / "nan.csv", "a,b,c\n1,2,3\n4,nan,6\n")
    bad[nan] = (lambda: CsvChoice.for_model(nan, GRU3).fit(GRU3),
                "nan.csv:3: column 'b': expected a finite number, got 'nan'")
    np.save(tmp_path / "wide.npy", np.zeros((5, 4)))
    bad[tmp_path / "wide.npy"] = (lambda: fit_data(GRU3, tmp_path / "wide.npy"),
                                  "wide.npy: holds (5, 4); the model reads (T, 3) values")
    np.save(tmp_path / "inf.npy", np.array([[0, 1, 2], [3, np.inf, 5]]))
    bad[tmp_path / "inf.npy"] = (lambda: fit_data(GRU3, tmp_path / "inf.npy"),
                                 "inf.npy: the input at step 1, column 1 is inf; expected finite")
    np.save(tmp_path / "short.npy", np.zeros(4))
    bad[tmp_path / "short.npy"] = (
        lambda: fit_data(GRU3, weather, columns=["temp", "wind", "rain"],
                         target=tmp_path / "short.npy"),
        "short.npy: has 4 steps; the data has 6")
    (tmp_path / "vocab.txt").write_text("ab\nba\n")  # words: one id per word
    (tmp_path / "dog.txt").write_text("ab ba\nba dog\n")
    bad[tmp_path / "dog.txt"] = (
        lambda: fit_data(TOKENS, tmp_path / "dog.txt", vocab=tmp_path / "vocab.txt"),
        "dog.txt:2: 'dog' is not in the vocabulary")
    np.save(tmp_path / "ids.npy", np.array([0, 1, 7]))
    bad[tmp_path / "ids.npy"] = (lambda: fit_data(TOKENS, tmp_path / "ids.npy"),
                                 "ids.npy: token ids must be whole numbers in 0..3")
    for action, message in bad.values():
        with pytest.raises(RnnvizError) as info:
            action()
        text = str(info.value)
        assert "\n" not in text and message in text, text
    np.save(tmp_path / "classes.npy", np.array([0, 1, 9]))
    np.save(tmp_path / "ok.npy", np.array([0, 1, 2]))
    with pytest.raises(RnnvizError, match="classes.npy: the target at step 2 is 9; expected "
                                          r"\(T, 4\) values or \(T,\) class ids in 0..3"):
        fit_data(TOKENS, tmp_path / "ok.npy", target=tmp_path / "classes.npy")
