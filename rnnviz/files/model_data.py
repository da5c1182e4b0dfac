"""A user's own data, fitted to a model's inputs: ``.npy`` arrays, CSV columns and text.

==================  ==========================================================================
file                read as
==================  ==========================================================================
``.npy``            ``(T, input_size)`` values (``(T,)`` for one input), or ``(T,)`` token
                    ids for a model with an embedding
``.csv``            one column per model input, chosen by name or number (``columns``); with
                    none chosen, a file with exactly ``input_size`` columns gives all of them
``.txt``            for a model with an embedding: text, mapped to ids by a vocabulary (its
                    tokens single characters: one id per character; else one per
                    whitespace-separated word)
==================  ==========================================================================

A vocabulary is ``vocab.json`` (a ``{"token": id}`` object or a list of tokens, the id being
the position) or ``vocab.txt`` (one token per line, the id being the line number minus one);
``vocabulary_beside`` finds one in the model file's folder. Every mismatch (3 columns for a
5-input model, a token not in the vocabulary, NaN in a column) is one ``RnnvizError`` line
naming the file, the line or column, and what was expected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rnnviz.arrays import read_npy
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_DATA_BYTES, MAX_LENGTH
from rnnviz.paths import existing_file, read_limited
from rnnviz.tasks import csv_header, read_csv_column

VOCAB_NAMES = ("vocab.json", "vocab.txt")


def vocabulary_beside(model_path: str | os.PathLike) -> Path | None:
    """``vocab.json`` or ``vocab.txt`` in the model file's folder, if there is one."""
    folder = Path(model_path).parent
    for name in VOCAB_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _text(path: Path, what: str) -> str:
    try:
        return read_limited(path, MAX_DATA_BYTES, "MAX_DATA_BYTES", what).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RnnvizError(f"{path}: cannot read as UTF-8 text ({exc.reason} at byte "
                          f"{exc.start})") from None


def read_vocabulary(path: str | os.PathLike, vocab_size: int) -> dict[str, int]:
    """``{token: id}`` from ``vocab.json`` or ``vocab.txt``, every id in ``0..vocab_size-1``."""
    path = existing_file(path, "the vocabulary")
    text = _text(path, "the vocabulary")
    if path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise RnnvizError(f"{path}: not JSON ({str(exc).splitlines()[0]}); expected "
                              f"{{\"token\": id, ...}} or [\"token\", ...]") from None
        if isinstance(loaded, list) and all(isinstance(t, str) for t in loaded):
            vocab = {t: i for i, t in enumerate(loaded)}
        elif isinstance(loaded, dict) and all(isinstance(i, int) and not isinstance(i, bool)
                                              for i in loaded.values()):
            vocab = dict(loaded)
        else:
            raise RnnvizError(f"{path}: expected {{\"token\": id, ...}} with whole-number ids "
                              f"or [\"token\", ...]")
    else:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # the newline ending the last line
        vocab = {}
        for number, token in enumerate(lines, start=1):
            token = token.rstrip("\r")
            if token in vocab:
                raise RnnvizError(f"{path}:{number}: token {token!r} is already on line "
                                  f"{vocab[token] + 1}; expected one token per line, each once")
            vocab[token] = number - 1
    bad = [(t, i) for t, i in vocab.items() if not 0 <= i < vocab_size]
    if bad:
        raise RnnvizError(f"{path}: token {bad[0][0]!r} has id {bad[0][1]}; the model's "
                          f"embedding has rows 0..{vocab_size - 1}")
    if not vocab:
        raise RnnvizError(f"{path}: holds no tokens")
    return vocab


def tokenize(text: str, vocab: dict[str, int], source: str) -> np.ndarray:
    """``(T,)`` ids of ``text``: one per character when every token is one character, else
    one per whitespace-separated word; one line naming the line of an unknown token."""
    by_char = all(len(t) == 1 for t in vocab)
    ids = []
    for number, line in enumerate(text.splitlines(keepends=by_char), start=1):
        for token in (line if by_char else line.split()):
            if token not in vocab:
                raise RnnvizError(f"{source}:{number}: {token!r} is not in the vocabulary; "
                                  f"expected one of its {len(vocab)} tokens")
            ids.append(vocab[token])
            if len(ids) > MAX_LENGTH:
                raise RnnvizError(f"{source}: more than {MAX_LENGTH} tokens (limit "
                                  f"MAX_LENGTH)")
    if not ids:
        raise RnnvizError(f"{source}: holds no tokens")
    return np.asarray(ids, np.int64)


def read_inputs(path: str | os.PathLike, spec: ModelSpec, *,
                columns: list[str | int] | None = None,
                vocab: str | os.PathLike | None = None) -> np.ndarray:
    """The model's inputs from a data file: ``(T, input_size)`` values, or ``(T,)`` token ids
    for a model with an embedding (``vocab`` maps a ``.txt``'s text to ids)."""
    path = existing_file(path, "the data")
    suffix = path.suffix.lower()
    width = spec.input_size if spec.vocab_size is None else 1
    if suffix == ".npy":
        array = read_npy(path, "the data")
        if array.ndim == 1 and width == 1:
            array = array if spec.vocab_size is not None else array[:, None]
        expected = "(T,) token ids" if spec.vocab_size is not None else f"(T, {width}) values"
        if (spec.vocab_size is not None and array.ndim != 1) or (
                spec.vocab_size is None and (array.ndim != 2 or array.shape[1] != width)):
            raise RnnvizError(f"{path}: holds {array.shape}; the model reads {expected}")
        return array
    if suffix == ".txt" and spec.vocab_size is not None:
        if vocab is None:
            raise RnnvizError(f"{path}: text for a model of token inputs needs a vocabulary: "
                              f"vocab.json or vocab.txt beside the model, or --vocab")
        return tokenize(_text(path, "the data"), read_vocabulary(vocab, spec.vocab_size),
                        str(path))
    if suffix not in (".csv", ".txt"):
        raise RnnvizError(f"{path}: unknown data format {suffix or '(none)'}: expected .npy, "
                          f".csv" + (" or .txt (text)" if spec.vocab_size is not None else ""))
    if columns is None:
        header = csv_header(path)
        if len(header) != width:
            raise RnnvizError(f"{path}: has {len(header)} column(s) ({', '.join(header)}); "
                              f"the model reads {width} input(s): choose {width} column(s)")
        columns = list(range(width))
    if len(columns) != width:
        raise RnnvizError(f"{path}: {len(columns)} column(s) chosen; the model reads {width} "
                          f"input(s)")
    values = np.stack([read_csv_column(path, c)[0] for c in columns], axis=1)
    return values[:, 0] if spec.vocab_size is not None else values


def read_target(path: str | os.PathLike, *, columns: list[str | int] | None = None,
                ) -> np.ndarray:
    """A target from ``.npy`` (any shape; checked against the model by the trace) or chosen
    CSV columns (all of them when none are chosen): ``(T, n)`` values."""
    path = existing_file(path, "the target")
    if path.suffix.lower() == ".npy":
        return read_npy(path, "the target")
    if path.suffix.lower() not in (".csv", ".txt"):
        raise RnnvizError(f"{path}: unknown target format {path.suffix or '(none)'}: "
                          f"expected .npy or .csv")
    chosen: list[str | int] = (list(columns) if columns
                               else list(range(len(csv_header(path)))))
    if not chosen:
        raise RnnvizError(f"{path}: holds no columns")
    return np.stack([read_csv_column(path, c)[0] for c in chosen], axis=1)
