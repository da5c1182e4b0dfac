"""Write ``tests/files/reference/keras/``: Keras 3's answers for
``tests/files/test_keras_models.py``, every recurrent layer kind Keras has (``SimpleRNN``,
``LSTM``, ``GRU`` with ``reset_after=True`` and ``reset_after=False``), ``Bidirectional``,
``Embedding`` and a ``Dense`` head.

Needs keras 3 with its JAX backend (not needed to run the tests, which only read what this
writes):

    KERAS_BACKEND=jax python tests/files/reference/make_keras_models.py

For every configuration it saves the model as ``{config}.keras`` and ``{config}.weights.h5``
(random weights, biases included) and, in ``keras_models.npz`` under ``{config}/``:

- ``x``: the input, ``(T, I)`` values or ``(T,)`` token ids, T = 7;
- ``output (T, O)``: ``model.predict``; ``h_{unit} (T, H)``: each recurrent layer's output
  sequence from Keras (a sub-model ending at that layer; a ``Bidirectional`` layer's concat
  split into its forward and backward halves as ``l{k}`` and ``l{k}_reverse``);
- ``c_{unit}`` and ``gate_{x}_{unit}`` under rnnviz's names (``i f g o``, ``r z n``), from a
  numpy loop written from Keras's documented cell equations, checked here against Keras's own
  ``h`` to 1e-5 (Keras does not return its gates).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

T = 7
SEED = 20261130
HERE = Path(__file__).parent / "keras"
# name: (vocab or None, inputs, layer kind, layer options, hidden, layers, bidirectional, outputs)
CONFIGS = {
    "simple_rnn_relu_2": (None, 3, "SimpleRNN", {"activation": "relu"}, 4, 2, False, 2),
    "lstm_emb_bi_2": (13, 3, "LSTM", {}, 4, 2, True, 2),
    "gru_after_1": (None, 3, "GRU", {"reset_after": True}, 5, 1, False, 1),
    "gru_before_2": (None, 2, "GRU", {"reset_after": False}, 4, 2, False, 3),
    "gru_before_emb_bi": (9, 3, "GRU", {"reset_after": False}, 3, 1, True, None),
    # one input, one output: fits the window's sine task (tests/ui/views/test_open_model.py)
    "lstm_sine": (None, 1, "LSTM", {}, 6, 1, False, 1),
}


def build(vocab, inputs, kind, options, hidden, layers, bidirectional, outputs):
    if vocab:
        first = keras.Input((None,), dtype="int32")
        x = keras.layers.Embedding(vocab, inputs)(first)
    else:
        first = keras.Input((None, inputs))
        x = first
    recurrent = []
    for _ in range(layers):
        layer = getattr(keras.layers, kind)(hidden, return_sequences=True, **options)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        x = layer(x)
        recurrent.append(x)
    if outputs:
        x = keras.layers.Dense(outputs)(x)
    return keras.Model(first, x), recurrent


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def cell_loop(kind, options, kernel, recurrent, bias, xs):
    """Keras's cell equations step by step: ``(h (T, H), c or None, {gate: (T, H)})``."""
    hidden = recurrent.shape[0]
    h, c = np.zeros(hidden), np.zeros(hidden)
    hs, cs, gates = [], [], []
    for x in xs:
        if kind == "SimpleRNN":
            pre = x @ kernel + h @ recurrent + bias
            h = np.maximum(pre, 0) if options.get("activation") == "relu" else np.tanh(pre)
            g = {}
        elif kind == "LSTM":  # blocks i f c o
            z = x @ kernel + h @ recurrent + bias
            i, f, cc, o = np.split(z, 4)
            i, f, cc, o = sigmoid(i), sigmoid(f), np.tanh(cc), sigmoid(o)
            c = f * c + i * cc
            h = o * np.tanh(c)
            g = {"i": i, "f": f, "g": cc, "o": o}
        else:  # GRU, blocks z r h
            after = options.get("reset_after", True)
            b_in, b_rec = (bias[0], bias[1]) if after else (bias, np.zeros_like(bias))
            xz, xr, xh = np.split(x @ kernel + b_in, 3)
            uz, ur, uh = np.split(recurrent, 3, axis=1)
            brz, brr, brh = np.split(b_rec, 3)
            z = sigmoid(xz + h @ uz + brz)
            r = sigmoid(xr + h @ ur + brr)
            n = np.tanh(xh + r * (h @ uh + brh)) if after else np.tanh(xh + (r * h) @ uh)
            h = z * h + (1 - z) * n
            g = {"r": r, "z": z, "n": n}
        hs.append(h)
        cs.append(c)
        gates.append(g)
    gate_arrays = {k: np.stack([g[k] for g in gates]) for k in gates[0]}
    return np.stack(hs), (np.stack(cs) if kind == "LSTM" else None), gate_arrays


def reference(name: str, seed: int) -> dict[str, np.ndarray]:
    vocab, inputs, kind, options, hidden, layers, bidirectional, outputs = CONFIGS[name]
    keras.utils.set_random_seed(seed)
    model, recurrent = build(*CONFIGS[name])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.6, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    xs = (rng.integers(0, vocab, size=T) if vocab
          else rng.normal(size=(T, inputs)).astype(np.float32))
    out: dict[str, np.ndarray] = {"x": xs, "output": model.predict(xs[None], verbose=0)[0]}
    layer_input = (model.get_layer(index=1).get_weights()[0][xs] if vocab else xs)
    rnn_layers = [la for la in model.layers
                  if isinstance(la, (keras.layers.RNN, keras.layers.Bidirectional))]
    for k, (layer, symbolic) in enumerate(zip(rnn_layers, recurrent, strict=True)):
        seq = keras.Model(model.inputs, symbolic).predict(xs[None], verbose=0)[0]
        directions = ([("", layer.forward_layer), ("_reverse", layer.backward_layer)]
                      if bidirectional else [("", layer)])
        halves = []
        for d, (sfx, sub) in enumerate(directions):
            kernel, rec, *bias = sub.get_weights()
            order = slice(None, None, -1) if sfx else slice(None)
            h, c, gates = cell_loop(kind, options, kernel, rec, bias[0], layer_input[order])
            h, gates = h[order], {g: v[order] for g, v in gates.items()}
            keras_h = seq[:, d * hidden:(d + 1) * hidden]
            unit = f"l{k}{sfx}"
            gap = float(np.abs(h - keras_h).max())
            assert gap <= 1e-5, (name, unit, gap)
            out[f"h_{unit}"] = keras_h
            if c is not None:
                out[f"c_{unit}"] = c[order]
            out.update({f"gate_{g}_{unit}": v for g, v in gates.items()})
            halves.append(h)
        layer_input = np.concatenate(halves, axis=1)
    model.save(HERE / f"{name}.keras")
    model.save_weights(HERE / f"{name}.weights.h5")
    return {f"{name}/{k}": np.asarray(v, dtype=np.int64 if k == "x" and vocab else np.float32)
            for k, v in out.items()}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for i, name in enumerate(CONFIGS):
        arrays.update(reference(name, SEED + i))
    path = HERE / "keras_models.npz"
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(arrays)} arrays) and "
          f"{2 * len(CONFIGS)} model files, keras {keras.__version__}")


if __name__ == "__main__":
    main()
