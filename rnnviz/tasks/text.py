"""Next-character language modelling on a corpus, and sampling text from a trained model."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from rnnviz.checks import integer, number
from rnnviz.core.forward import run, step
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_LENGTH, MAX_SEED, MAX_VOCAB
from rnnviz.tasks.base import Task, next_value_target, one_hot, read_data_file

# -- text --------------------------------------------------------------------------------------

def shipped_corpus() -> str:
    """The short story shipped as ``rnnviz/data/corpus.txt`` (self-written, free to use)."""
    return (resources.files("rnnviz") / "data" / "corpus.txt").read_text(encoding="utf-8")


@dataclass(frozen=True)
class TextTask(Task):
    """Next-character language modelling on random windows of a corpus.

    The corpus is ``text``, or the UTF-8 file at ``path``, or the shipped short story. Its
    sorted distinct characters are the vocabulary ``V`` (``task.vocab``); a window of
    ``length + 1`` characters ``c_0..c_T`` gives one-hot inputs ``c_0..c_{T-1}`` ``(T, V)`` and
    targets ``c_1..c_T``; every step is scored. ``decode`` returns the raw characters
    (newlines included: a view should escape them).
    """

    name: ClassVar[str] = "text"
    title: ClassVar[str] = "Character language model"
    description: ClassVar[str] = ("Predict the next character of a text; look for cells that "
                                  "track quotes, brackets and line length.")
    loss: ClassVar[str] = "xent"
    data_file: ClassVar[str] = "Text file"
    data_suffixes: ClassVar[tuple[str, ...]] = (".txt", ".md", ".py")

    length: int = 64
    text: str | None = field(default=None, repr=False)
    path: str | None = None
    # read off the corpus: the sorted characters, their indices, the corpus as indices
    vocab: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _ids: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        integer("length", self.length, 1, MAX_LENGTH, limit="MAX_LENGTH")
        if self.text is not None and self.path is not None:
            raise RnnvizError(f"text: expected either text or path, got both (path "
                              f"{self.path!r})")
        if self.text is not None:
            if not isinstance(self.text, str):
                raise RnnvizError(f"text: expected a string, got {type(self.text).__name__}")
            corpus, source = self.text, "text"
        elif self.path is not None:
            corpus, source = self._read(self.path), str(self.path)
        else:
            corpus, source = shipped_corpus(), "the shipped corpus"
        if len(corpus) < self.length + 1:
            raise RnnvizError(f"{'text' if self.text is not None else 'path'}: expected at "
                              f"least {self.length + 1} characters for length {self.length}, "
                              f"got {len(corpus)} in {source}")
        vocab = tuple(sorted(set(corpus)))
        if len(vocab) > MAX_VOCAB:
            raise RnnvizError(f"text: expected at most {MAX_VOCAB} distinct characters, got "
                              f"{len(vocab)} in {source} (limit MAX_VOCAB)")
        index = {c: i for i, c in enumerate(vocab)}
        object.__setattr__(self, "vocab", vocab)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_ids", np.array([index[c] for c in corpus], np.int32))

    @staticmethod
    def _read(path) -> str:
        if not isinstance(path, (str, Path)):
            raise RnnvizError(f"path: expected a file path, got {path!r}")
        data = read_data_file(path, "expected an existing text file")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RnnvizError(f"{path}: cannot read as UTF-8 text: {exc}") from None

    @property
    def corpus(self) -> str:
        return "".join(self.vocab[i] for i in self._ids)

    @property
    def input_size(self) -> int:
        return len(self.vocab)

    @property
    def output_size(self) -> int:
        return len(self.vocab)

    @property
    def alphabet(self) -> tuple[str, ...]:
        return self.vocab

    @property
    def classes(self) -> tuple[str, ...]:
        return self.vocab

    def encode(self, text: str) -> np.ndarray:
        """One-hot ``(len(text), V)`` float32; a character outside the vocabulary raises."""
        missing = sorted(set(text) - set(self._index))
        if missing:
            raise RnnvizError(f"text: expected characters of the vocabulary, got "
                              f"{missing[0]!r} (not in the corpus)")
        return one_hot(np.array([self._index[c] for c in text], np.int64), len(self.vocab))

    def retarget(self, inputs, target, k):
        """The next character follows the input: ``y_{k-1}`` is the class of ``x_k``."""
        return next_value_target(inputs, target, k, int(np.argmax(inputs[k])))

    def _generate(self, rng, n):
        T = self.length
        starts = rng.integers(0, len(self._ids) - T, n)
        windows = self._ids[starts[:, None] + np.arange(T + 1)]
        return one_hot(windows[:, :-1], len(self.vocab)), windows[:, 1:], np.ones((n, T))


def sample_text(spec: ModelSpec, params: dict, task: TextTask, prime: str, n: int,
                temperature: float = 1.0, seed: int = 0) -> str:
    """Generate ``n`` characters after ``prime`` (returned without the prime).

    The model reads ``prime``, then repeatedly draws ``c ~ softmax(y_t / temperature)`` from
    its output logits ``y_t`` and feeds ``c`` back one-hot. Low temperatures approach the
    argmax, high ones the uniform distribution. Needs a unidirectional model whose input and
    output sizes are the vocabulary's.
    """
    if not isinstance(task, TextTask):
        raise RnnvizError(f"task: expected a text task, got {getattr(task, 'name', task)!r}")
    if spec.bidirectional:
        raise RnnvizError("bidirectional: expected a unidirectional model to generate text, "
                          "got a bidirectional one")
    V = len(task.vocab)
    if spec.input_size != V or spec.out_size != V:
        raise RnnvizError(f"model: expected input and output size {V} (the vocabulary), got "
                          f"{spec.input_size} and {spec.out_size}")
    if not isinstance(prime, str) or not prime:
        raise RnnvizError(f"prime: expected at least one character, got {prime!r}")
    n = integer("n", n, 1, 100_000)
    temperature = number("temperature", temperature, 0.0, 1e6, open_lo=True)
    seed = integer("seed", seed, 0, MAX_SEED, limit="MAX_SEED")
    xs = jnp.asarray(task.encode(prime), spec.dtype)
    ids = _sample_ids(spec, params, xs, jax.random.key(seed),
                      jnp.asarray(temperature, spec.dtype), n=n)
    return "".join(task.vocab[i] for i in np.asarray(ids))


@partial(jax.jit, static_argnames=("spec", "n"))
def _sample_ids(spec: ModelSpec, params: dict, xs, key, temperature, *, n: int):
    carries, _, outputs = run(spec, params, xs)

    def body(state, k):
        carries, logits = state
        idx = jax.random.categorical(k, logits / temperature)
        carries, _, out = step(spec, params, carries, jax.nn.one_hot(idx, spec.input_size,
                                                                     dtype=xs.dtype))
        return (carries, out), idx

    _, ids = lax.scan(body, (carries, outputs[-1]), jax.random.split(key, n))
    return ids
