"""A user's data fitted to a model's inputs: .npy, CSV columns, text through a vocabulary; each
mismatch one line naming the file and the line or column."""

import json

import numpy as np
import pytest

from rnnviz import ModelSpec, RnnvizError
from rnnviz.files.model_data import read_inputs, read_target, read_vocabulary, tokenize

VALUES = ModelSpec("lstm", 2, 3)
TOKENS = ModelSpec("gru", 4, 3, vocab_size=5)


def _one_line(pattern, action):
    with pytest.raises(RnnvizError, match=pattern) as err:
        action()
    assert "\n" not in str(err.value)


def test_csv_columns_by_name_and_number(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("t,a,b\n0,1.5,2\n1,3,4\n")
    np.testing.assert_array_equal(read_inputs(path, VALUES, columns=["b", 1]),
                                  [[2, 1.5], [4, 3]])


def test_csv_with_the_wrong_number_of_columns_is_one_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n")
    _one_line(r"d\.csv: has 3 column\(s\) \(a, b, c\); the model reads 2 input\(s\)",
              lambda: read_inputs(path, VALUES))


def test_nan_in_a_column_names_the_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\nnan,4\n")
    _one_line(r"d\.csv:3: column 'a': expected a finite number",
              lambda: read_inputs(path, VALUES))


def test_npy_shape_is_checked(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((4, 3)))
    _one_line(r"x\.npy: holds \(4, 3\); the model reads \(T, 2\) values",
              lambda: read_inputs(tmp_path / "x.npy", VALUES))


def test_text_through_vocab_txt(tmp_path):
    (tmp_path / "vocab.txt").write_text("a\nb\nc\n")
    (tmp_path / "x.txt").write_text("abc\ncab")
    vocab = read_vocabulary(tmp_path / "vocab.txt", 5)
    assert vocab == {"a": 0, "b": 1, "c": 2}
    _one_line(r"x\.txt:1: '\\n' is not in the vocabulary",  # characters: newlines count
              lambda: read_inputs(tmp_path / "x.txt", TOKENS, vocab=tmp_path / "vocab.txt"))
    (tmp_path / "x.txt").write_text("abcca")
    np.testing.assert_array_equal(
        read_inputs(tmp_path / "x.txt", TOKENS, vocab=tmp_path / "vocab.txt"), [0, 1, 2, 2, 0])


def test_words_through_vocab_json(tmp_path):
    (tmp_path / "vocab.json").write_text(json.dumps({"the": 0, "cat": 3, "sat": 4}))
    (tmp_path / "x.txt").write_text("the cat\nsat the dog\n")
    _one_line(r"x\.txt:2: 'dog' is not in the vocabulary; expected one of its 3 tokens",
              lambda: read_inputs(tmp_path / "x.txt", TOKENS, vocab=tmp_path / "vocab.json"))
    (tmp_path / "x.txt").write_text("the cat\nsat the\n")
    np.testing.assert_array_equal(
        read_inputs(tmp_path / "x.txt", TOKENS, vocab=tmp_path / "vocab.json"), [0, 3, 4, 0])


def test_vocabulary_ids_must_fit_the_embedding(tmp_path):
    (tmp_path / "vocab.json").write_text(json.dumps(["a", "b", "c", "d", "e", "f"]))
    _one_line(r"token 'f' has id 5; the model's embedding has rows 0..4",
              lambda: read_vocabulary(tmp_path / "vocab.json", 5))


def test_characters_keep_newlines():
    ids = tokenize("ab\nb", {"a": 0, "b": 1, "\n": 2}, "s")
    np.testing.assert_array_equal(ids, [0, 1, 2, 1])


def test_target_from_csv(tmp_path):
    path = tmp_path / "y.csv"
    path.write_text("y\n1\n2\n")
    np.testing.assert_array_equal(read_target(path), [[1], [2]])
