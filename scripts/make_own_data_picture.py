"""Draw docs/images/own-data.png: a token LSTM (random weights, written here as a PyTorch-named
safetensors state_dict with ``vocab.txt`` beside it) on its own text, next-character ids as the
target, beside the sine preset's models.

    .venv/bin/python scripts/make_own_data_picture.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from rnnviz.core.init import init_params
from rnnviz.core.spec import ModelSpec
from rnnviz.files.weights import save_weights

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "own-data.png"
TEXT = "the cat sat on the mat "


def main() -> int:
    folder = Path(tempfile.mkdtemp())
    tokens = sorted(set(TEXT))
    spec = ModelSpec("lstm", 8, 12, output_size=len(tokens), vocab_size=len(tokens))
    save_weights(folder / "lm.safetensors", spec,
                 {k: np.asarray(v) for k, v in init_params(spec, seed=0).items()})
    (folder / "vocab.txt").write_text("".join(f"{t}\n" for t in tokens))
    (folder / "text.txt").write_text(TEXT)
    ids = [tokens.index(c) for c in TEXT]
    np.save(folder / "next.npy", np.array([*ids[1:], ids[0]]))
    rnnviz = Path(sys.executable).parent / "rnnviz"
    return subprocess.call([str(rnnviz), "render", "sine", "--model",
                            str(folder / "lm.safetensors"), "--data", str(folder / "text.txt"),
                            "--target", str(folder / "next.npy"), "--step", "8", "--out",
                            str(OUT)])


if __name__ == "__main__":
    sys.exit(main())
