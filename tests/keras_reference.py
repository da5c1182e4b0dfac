"""Keras 3 models built at test time, saved by Keras, and Keras's own answers for them.

Every recurrent layer kind Keras has (``SimpleRNN``, ``LSTM``, ``GRU`` with ``reset_after=True``
and ``reset_after=False``), ``Bidirectional``, ``Embedding`` and a ``Dense`` head, with random
weights (biases included). ``build_all(folder)`` writes ``{name}.keras`` and
``{name}.weights.h5`` with ``model.save`` and ``model.save_weights`` and returns, per name,
``{"x", "output", "h_{unit}", "c_{unit}", "gate_{g}_{unit}"}`` under rnnviz's names (units
``l{k}`` and ``l{k}_reverse``; gates ``i f g o`` for the LSTM, ``r z n`` for the GRU):

- ``output (T, O)``: the Keras model called on ``x``;
- ``h``, ``c`` and the gates: Keras's own cell (``layer.cell``, or the ``Bidirectional``'s
  forward and backward layers' cells) called one step at a time, each gate taken as it leaves
  the activation function Keras applies to it: the cell's ``recurrent_activation`` and
  ``activation`` are wrapped to record their results (Keras returns no gates). The LSTM cell
  applies ``recurrent_activation`` to i, f, o and ``activation`` to the candidate g, then to
  c; the GRU cell ``recurrent_activation`` to z, r and ``activation`` to the candidate n. The
  number of calls per step is checked, and each layer's ``h`` from these steps is checked
  against the Keras layer's own output (its scan, in the model's run) to 1e-5.

Keras (its JAX backend: ``KERAS_BACKEND=jax``, set by ``tests/conftest.py``) is a test
dependency; ``tests/files/test_keras_models.py`` compares rnnviz against these answers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

T = 7
SEED = 20261130
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
CELLS = {"simple_rnn_relu_2": "rnn_relu", "lstm_emb_bi_2": "lstm", "gru_after_1": "gru",
         "gru_before_2": "gru_cho", "gru_before_emb_bi": "gru_cho", "lstm_sine": "lstm"}
# what Keras's cells pass through each activation at every step, in the order they call it
_RECURRENT_CALLS = {"SimpleRNN": (), "LSTM": ("i", "f", "o"), "GRU": ("z", "r")}
_ACTIVATION_CALLS = {"SimpleRNN": ("h",), "LSTM": ("g", "tanh_c"), "GRU": ("n",)}
_RNNVIZ_GATES = {"SimpleRNN": (), "LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}


# Every weight is set after the build, so Keras need not draw its defaults (an orthogonal
# recurrent kernel, Glorot kernels): each would be an XLA program compiled for its shape, most
# of the time these models take to build.
_ZEROS = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}


def _build(keras, vocab, inputs, kind, options, hidden, layers, bidirectional, outputs):
    if vocab:
        first = keras.Input((None,), dtype="int32")
        x = keras.layers.Embedding(vocab, inputs, embeddings_initializer="zeros")(first)
    else:
        first = keras.Input((None, inputs))
        x = first
    sequences = []
    for _ in range(layers):
        layer = getattr(keras.layers, kind)(hidden, return_sequences=True,
                                            recurrent_initializer="zeros", **_ZEROS, **options)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)
        x = layer(x)
        sequences.append(x)
    if outputs:
        x = keras.layers.Dense(outputs, **_ZEROS)(x)
    # the model, and the same layers answering with every recurrent layer's output too
    return keras.Model(first, x), keras.Model(first, [x, *sequences])


class _Recorder:
    """An activation function that keeps what it returns."""

    def __init__(self, fn):
        self.fn, self.values = fn, []

    def __call__(self, v):
        out = self.fn(v)
        self.values.append(np.asarray(out)[0])
        return out


def _keras_steps(cell, kind: str, xs: np.ndarray):
    """Keras's ``cell`` called step by step over ``xs (T, I)`` from zero state: ``h (T, H)``,
    ``c (T, H)`` or None, and ``{gate: (T, H)}`` recorded from its activations."""
    recurrent = getattr(cell, "recurrent_activation", None)  # a SimpleRNN cell has none
    activation = cell.activation
    hidden = cell.units
    states = [np.zeros((1, hidden), np.float32)] * (2 if kind == "LSTM" else 1)
    hs, cs, gates = [], [], []
    for x in xs:
        rec, act = _Recorder(recurrent), _Recorder(activation)
        if kind != "SimpleRNN":
            object.__setattr__(cell, "recurrent_activation", rec)
        object.__setattr__(cell, "activation", act)
        try:
            h, states = cell(x[None].astype(np.float32), states, training=False)
        finally:
            if kind != "SimpleRNN":
                object.__setattr__(cell, "recurrent_activation", recurrent)
            object.__setattr__(cell, "activation", activation)
        names = {"rec": _RECURRENT_CALLS[kind], "act": _ACTIVATION_CALLS[kind]}
        assert (len(rec.values), len(act.values)) == (len(names["rec"]), len(names["act"]))
        step = dict(zip(names["rec"], rec.values, strict=True))
        step.update(zip(names["act"], act.values, strict=True))
        gates.append({g: step[g] for g in _RNNVIZ_GATES[kind]})
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        hs.append(np.asarray(h)[0])
        cs.append(np.asarray(states[1])[0] if kind == "LSTM" else None)
    gate_arrays = {g: np.stack([s[g] for s in gates]) for g in _RNNVIZ_GATES[kind]}
    return np.stack(hs), (np.stack(cs) if kind == "LSTM" else None), gate_arrays


def reference(keras, name: str, seed: int, folder: Path) -> dict[str, np.ndarray]:
    """Build, save and answer for the model ``name`` of ``CONFIGS``."""
    vocab, inputs, kind, options, hidden, layers, bidirectional, outputs = CONFIGS[name]
    keras.utils.set_random_seed(seed)
    model, probe = _build(keras, *CONFIGS[name])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.6, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    xs = (rng.integers(0, vocab, size=T) if vocab
          else rng.normal(size=(T, inputs)).astype(np.float32))
    output, *keras_seqs = (np.asarray(a)[0] for a in probe(xs[None]))  # one run of Keras
    out: dict[str, np.ndarray] = {"x": xs, "output": output}
    embedding = [la for la in model.layers if isinstance(la, keras.layers.Embedding)]
    layer_input = np.asarray(embedding[0](xs[None]))[0] if vocab else xs
    rnn_layers = [la for la in model.layers
                  if isinstance(la, (keras.layers.RNN, keras.layers.Bidirectional))]
    for k, (layer, keras_seq) in enumerate(zip(rnn_layers, keras_seqs, strict=True)):
        directions = ([("", layer.forward_layer), ("_reverse", layer.backward_layer)]
                      if bidirectional else [("", layer)])
        for d, (sfx, sub) in enumerate(directions):
            order = slice(None, None, -1) if sfx else slice(None)
            h, c, gates = _keras_steps(sub.cell, kind, layer_input[order])
            unit = f"l{k}{sfx}"
            out[f"h_{unit}"] = h[order]
            gap = float(np.abs(h[order] - keras_seq[:, d * hidden:(d + 1) * hidden]).max())
            assert gap <= 1e-5, (name, unit, gap)
            if c is not None:
                out[f"c_{unit}"] = c[order]
            out.update({f"gate_{g}_{unit}": v[order] for g, v in gates.items()})
        layer_input = keras_seq
    model.save(folder / f"{name}.keras")
    model.save_weights(folder / f"{name}.weights.h5")
    return out


def build_all(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """Every model of ``CONFIGS`` saved in ``folder``, and its answers (see the docstring)."""
    import keras

    assert keras.backend.backend() == "jax", keras.backend.backend()
    return {name: reference(keras, name, SEED + i, folder) for i, name in enumerate(CONFIGS)}
