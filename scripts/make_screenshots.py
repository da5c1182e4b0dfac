"""Redraw every picture in docs/images with rnnviz's own render command (offscreen).

    .venv/bin/python scripts/make_screenshots.py            # every picture
    .venv/bin/python scripts/make_screenshots.py sine       # those whose name starts so

Each picture is ``rnnviz render`` of a shipped preset at its start step, at the size and in
the mode its name says; the two of docs/formats.md add a model file of their own as a column:

- ``own-model.png``: the Keras LSTM ``lstm_sine.keras`` of the tests (``tests/keras_reference.py``,
  random weights from a fixed seed, saved by Keras itself: keras is a test dependency);
- ``own-data.png``: a token LSTM (random weights, written here as a PyTorch-named safetensors
  state_dict with ``vocab.txt`` beside it) on its own text, next-character ids as the target.

Look at them before committing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
RNNVIZ = Path(sys.executable).parent / "rnnviz"
TEXT = "the cat sat on the mat "


def own_model(folder: Path) -> list[str]:
    """The sine preset with the tests' Keras LSTM (one input, one output) as a fourth model."""
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("KERAS_HOME", str(folder / "keras_home"))  # not ~/.keras
    sys.path.insert(0, str(ROOT / "tests"))
    import keras
    from keras_reference import CONFIGS, SEED, reference

    name = "lstm_sine"
    reference(keras, name, SEED + list(CONFIGS).index(name), folder)  # as the tests build it
    return ["sine", "--model", str(folder / f"{name}.keras")]


def own_data(folder: Path) -> list[str]:
    """A token LSTM on its own text beside the sine preset's models."""
    from rnnviz.core.init import init_params
    from rnnviz.core.spec import ModelSpec
    from rnnviz.files.weights import save_weights

    tokens = sorted(set(TEXT))
    spec = ModelSpec("lstm", 8, 12, output_size=len(tokens), vocab_size=len(tokens))
    save_weights(folder / "lm.safetensors", spec,
                 {k: np.asarray(v) for k, v in init_params(spec, seed=0).items()})
    (folder / "vocab.txt").write_text("".join(f"{t}\n" for t in tokens))
    (folder / "text.txt").write_text(TEXT)
    ids = [tokens.index(c) for c in TEXT]
    np.save(folder / "next.npy", np.array([*ids[1:], ids[0]]))
    return ["sine", "--model", str(folder / "lm.safetensors"), "--data",
            str(folder / "text.txt"), "--target", str(folder / "next.npy"), "--step", "8"]


# file: the arguments of `rnnviz render`, or what makes them (given a scratch folder)
PICTURES: dict[str, list[str] | Callable[[Path], list[str]]] = {
    "sine.png": ["sine", "--size", "1600x1000"],
    "anbn-dark.png": ["anbn", "--size", "1600x1000", "--theme", "dark"],
    "vanishing-presentation.png": ["vanishing", "--size", "1920x1080", "--presentation"],
    "own-model.png": own_model,
    "own-data.png": own_data,
}


def main(prefixes: list[str]) -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, make in PICTURES.items():
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        out = IMAGES / name
        with tempfile.TemporaryDirectory() as scratch:
            args = make(Path(scratch)) if callable(make) else make
            print(f"rnnviz render {' '.join(args)} -> {out}", flush=True)
            subprocess.run([str(RNNVIZ), "render", *args, "--out", str(out)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
