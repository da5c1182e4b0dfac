"""Keras 3 recurrent models: ``.keras`` archives and ``.weights.h5`` files, read with h5py.

A model rnnviz shows is a chain: an optional ``Embedding``, one or more ``SimpleRNN``, ``LSTM``
or ``GRU`` layers of one kind and width (each optionally inside ``Bidirectional``, concat merge),
an optional linear ``Dense`` head. ``InputLayer`` and ``Dropout`` (a no-op when predicting) may
sit between them. Keras stores each layer's arrays under ``layers/{key}/...`` where ``key`` is
the layer's class in snake case with a counter (``gru``, ``gru_1``: the order of the model's
layers); the user's layer name is the ``name`` attribute beside them, used in messages.

Keras's layout, mapped onto PyTorch's names (``H`` hidden units, ``I`` inputs):

==============  ===========================================  ==================================
layer           Keras arrays                                 rnnviz
==============  ===========================================  ==================================
SimpleRNN       kernel ``(I, H)``, recurrent ``(H, H)``,      ``rnn_tanh`` / ``rnn_relu``
                bias ``(H,)``
LSTM            kernel ``(I, 4H)``, blocks ``i f c o``        ``lstm`` (``i f g o``: same order)
GRU, reset_     kernel ``(I, 3H)``, blocks ``z r h``; bias    ``gru``, blocks reordered to
after=True      ``(2, 3H)`` (input row, recurrent row)        ``r z n``
GRU, reset_     bias ``(3H,)``, no recurrent bias             ``gru_cho`` (reset before the
after=False                                                  recurrent matmul)
Embedding       embeddings ``(V, I)``                         ``embedding.weight``
Dense           kernel ``(D*H, O)``, bias ``(O,)``            ``readout.weight`` (transposed)
==============  ===========================================  ==================================

Kernels are transposed (Keras computes ``x @ W``, PyTorch ``W @ x``); Keras has one bias where
PyTorch has two, so ``bias_hh`` is zero. A ``.keras`` archive's ``config.json`` (read as JSON,
never deserialized) tells the activations, ``reset_after`` and merge mode; a bare
``.weights.h5`` has no config, so the kind comes from the shapes and a SimpleRNN's activation
from the caller's hint (``rnn_relu``), else tanh.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnnviz.arrays import first_line
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import (
    MAX_FEATURES,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_MEMBERS,
    MAX_PRESET_BYTES,
    MAX_TOKENS,
    MAX_WEIGHTS_BYTES,
)

SHOWN = ("an optional Embedding, SimpleRNN/LSTM/GRU layers of one kind and width (optionally "
         "Bidirectional) and an optional linear Dense head")
_RECURRENT = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}
_CLASS_KEYS = {**_RECURRENT, "Embedding": "embedding", "Dense": "dense",
               "Bidirectional": "bidirectional", "InputLayer": "input_layer",
               "Dropout": "dropout"}
_KEY = re.compile(r"^(?P<base>[a-z_]+?)(?:_(?P<n>[0-9]{1,4}))?$")
_GATES = {1: "SimpleRNN", 3: "GRU", 4: "LSTM"}


@dataclass
class _Layer:
    """One layer of the chain: its Keras class, h5 key, user name and config (``{}`` without)."""

    kind: str
    key: str
    name: str
    config: dict = field(default_factory=dict)


def _h5py(path: Path):
    try:
        import h5py
    except ImportError:
        raise RnnvizError(f"{path}: reading Keras files needs h5py (pip install h5py)") from None
    return h5py


def read_keras(path: Path, *, cell: str | None = None) -> tuple[ModelSpec, dict]:
    """``(spec, params)`` of the Keras model in ``path`` (``.keras`` or ``.weights.h5``),
    params as numpy arrays under PyTorch's names; ``cell="rnn_relu"`` for a bare
    ``.weights.h5`` of a ReLU SimpleRNN."""
    h5py = _h5py(path)
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise RnnvizError(f"{path}: {size} bytes; at most {MAX_WEIGHTS_BYTES} "
                          f"(limit MAX_WEIGHTS_BYTES)")
    if path.suffix.lower() == ".keras":
        config, weights = _read_archive(path)
        handle = h5py.File(io.BytesIO(weights), "r")
    else:
        config = None
        try:
            handle = h5py.File(path, "r")
        except OSError as exc:
            raise RnnvizError(f"{path}: not an HDF5 file ({first_line(exc)}); expected Keras "
                              f"3 weights saved by model.save_weights('x.weights.h5')") from None
    with handle as h5:
        if "layers" not in h5:
            legacy = " (a Keras 2 file: re-save it with Keras 3)" if "model_weights" in h5 \
                or "layer_names" in h5.attrs else ""
            raise RnnvizError(f"{path}: no 'layers' group{legacy}; expected Keras 3 weights "
                              f"saved by model.save or model.save_weights")
        layers = (_layers_from_config(config, path) if config is not None
                  else _layers_from_h5(h5["layers"], path))
        return _convert(layers, h5["layers"], path, cell)


def _read_archive(path: Path) -> tuple[dict, bytes]:
    """``config.json`` (parsed) and ``model.weights.h5`` (bytes) of a ``.keras`` zip, sizes
    checked before reading."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = {i.filename: i for i in archive.infolist()}
            for member, most in (("config.json", MAX_PRESET_BYTES),
                                 ("model.weights.h5", MAX_WEIGHTS_BYTES)):
                if member not in infos:
                    raise RnnvizError(f"{path}: no {member} inside; expected a Keras 3 .keras "
                                      f"archive (model.save('x.keras'))")
                if infos[member].file_size > most:
                    raise RnnvizError(f"{path}: {member} is {infos[member].file_size} bytes; "
                                      f"at most {most}")
            config_text = archive.read("config.json")
            weights = archive.read("model.weights.h5")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise RnnvizError(f"{path}: not a .keras archive ({first_line(exc)}); expected a zip "
                          f"written by Keras 3 model.save") from None
    try:
        config = json.loads(config_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RnnvizError(f"{path}: config.json is not JSON ({first_line(exc)})") from None
    if not isinstance(config, dict):
        raise RnnvizError(f"{path}: config.json holds a {type(config).__name__}, expected an "
                          f"object")
    return config, weights


def _layers_from_config(config: dict, path: Path) -> list[_Layer]:
    """The chain of layers a ``Sequential`` or ``Functional`` config lists, with their h5 keys
    (class in snake case, counted in order)."""
    kind = config.get("class_name")
    body = config.get("config")
    if kind not in ("Sequential", "Functional") or not isinstance(body, dict) \
            or not isinstance(body.get("layers"), list):
        raise RnnvizError(f"{path}: config.json describes a {kind!r}; expected a Sequential or "
                          f"Functional model whose layers are {SHOWN}")
    if len(body["layers"]) > MAX_MEMBERS:
        raise RnnvizError(f"{path}: {len(body['layers'])} layers; at most {MAX_MEMBERS}")
    counts: dict[str, int] = {}
    layers, previous = [], None
    for entry in body["layers"]:
        entry = entry if isinstance(entry, dict) else {}
        cls, cfg = entry.get("class_name"), entry.get("config")
        cfg = cfg if isinstance(cfg, dict) else {}
        name = str(cfg.get("name", entry.get("name", "?")))
        if cls not in _CLASS_KEYS:
            raise RnnvizError(f"{path}: layer {name!r} is a {cls}; rnnviz shows {SHOWN}")
        base = _CLASS_KEYS[cls]
        key = base if base not in counts else f"{base}_{counts[base]}"
        counts[base] = counts.get(base, 0) + 1
        sources = _inbound(entry)
        if kind == "Functional" and cls != "InputLayer" and sources != [previous]:
            raise RnnvizError(f"{path}: layer {name!r} reads {', '.join(sources) or 'nothing'}, "
                              f"not the layer before it ({previous}); rnnviz shows one chain "
                              f"of layers: {SHOWN}")
        previous = name
        if cls not in ("InputLayer", "Dropout"):
            layers.append(_Layer(cls, key, name, cfg))
    return layers


def _inbound(entry: dict) -> list[str]:
    """Names of the layers a Functional layer's first call reads."""
    nodes = entry.get("inbound_nodes") or []
    if not nodes or not isinstance(nodes[0], dict):
        return []
    names = []
    for arg in nodes[0].get("args", []):
        history = arg.get("config", {}).get("keras_history") if isinstance(arg, dict) else None
        if isinstance(history, list) and history:
            names.append(str(history[0]))
    return names


def _layers_from_h5(group, path: Path) -> list[_Layer]:
    """The chain of a bare ``.weights.h5``: its layer groups ordered by their keys' counters
    (within one class) and the chain's fixed order embedding, recurrent, dense."""
    rank = {"embedding": 0, "simple_rnn": 1, "lstm": 1, "gru": 1, "bidirectional": 1,
            "dense": 2, "input_layer": 3, "dropout": 3}
    found = []
    for key in list(group.keys())[:MAX_MEMBERS + 1]:
        match = _KEY.match(key)
        base = match["base"] if match else key
        if base not in rank:
            raise RnnvizError(f"{path}: layers/{key} ({_user_name(group[key])}) is no layer "
                              f"rnnviz shows; it shows {SHOWN}")
        if rank[base] < 3:
            kind = next(c for c, k in _CLASS_KEYS.items() if k == base)
            found.append((rank[base], base, int(match["n"] or 0) if match else 0,
                          _Layer(kind, key, _user_name(group[key]))))
    if len(found) > MAX_MEMBERS:
        raise RnnvizError(f"{path}: more than {MAX_MEMBERS} layers")
    return [layer for *_, layer in sorted(found, key=lambda f: f[:3])]


def _user_name(group) -> str:
    vars_group = group.get("vars")
    name = vars_group.attrs.get("name") if vars_group is not None else None
    return str(name.decode() if isinstance(name, bytes) else name or "?")


def _arrays(group, where: str, path: Path) -> list[np.ndarray]:
    """The ``vars/0, vars/1, ...`` arrays of a group, each checked to be a float array of at
    most ``MAX_WEIGHTS_BYTES`` before it is read."""
    vars_group = group.get("vars")
    if vars_group is None:
        raise RnnvizError(f"{path}: {where} has no vars; expected Keras 3 weights")
    if len(vars_group) > MAX_MEMBERS:
        raise RnnvizError(f"{path}: {where} holds {len(vars_group)} arrays; at most "
                          f"{MAX_MEMBERS} (limit MAX_MEMBERS)")
    out = []
    for i in range(len(vars_group)):
        data = vars_group.get(str(i))
        if data is None or not hasattr(data, "shape") or data.dtype.kind != "f":
            raise RnnvizError(f"{path}: {where}/vars/{i} is not a float array")
        if data.size * data.dtype.itemsize > MAX_WEIGHTS_BYTES or data.ndim > 2:
            raise RnnvizError(f"{path}: {where}/vars/{i} {data.shape} is too large or not "
                              f"1-D/2-D")
        out.append(np.asarray(data[()]))
    return out


def _convert(layers: list[_Layer], group, path: Path, hint: str | None
             ) -> tuple[ModelSpec, dict]:
    def fail(why: str):
        raise RnnvizError(f"{path}: {why}; rnnviz shows {SHOWN}")

    kinds = [la.kind for la in layers]
    embed = layers.pop(0) if kinds[:1] == ["Embedding"] else None
    head = layers.pop() if layers and layers[-1].kind == "Dense" else None
    if not layers:
        fail(f"no recurrent layer among {', '.join(kinds) or 'no layers'}")
    stray = [la for la in layers if la.kind not in ("Bidirectional", *_RECURRENT)]
    if stray:
        fail(f"layer {stray[0].name!r} ({stray[0].kind}) sits where a recurrent layer was "
             f"expected")
    if len(layers) > MAX_LAYERS:
        fail(f"{len(layers)} recurrent layers; at most {MAX_LAYERS} (limit MAX_LAYERS)")
    bidirectional = layers[0].kind == "Bidirectional"
    if any((la.kind == "Bidirectional") != bidirectional for la in layers):
        fail("some recurrent layers are Bidirectional and some not")

    params: dict[str, np.ndarray] = {}
    cells, hidden = set(), None
    for k, layer in enumerate(layers):
        if layer.key not in group:
            fail(f"no layers/{layer.key} for layer {layer.name!r}")
        parts = ([("", "forward_layer"), ("_reverse", "backward_layer")] if bidirectional
                 else [("", None)])
        inner_cfg = layer.config
        if bidirectional and layer.config:
            if layer.config.get("merge_mode", "concat") != "concat":
                fail(f"{layer.name!r} merges its directions by "
                     f"{layer.config.get('merge_mode')!r}; expected 'concat'")
            inner_cfg = (layer.config.get("layer") or {}).get("config", {})
        for sfx, sub in parts:
            inside = f"{layer.key}/{sub}/cell" if sub else f"{layer.key}/cell"
            if inside not in group:
                fail(f"no layers/{inside} for layer {layer.name!r}")
            arrays = _arrays(group[inside], f"layers/{inside}", path)
            cell, unit_params = _recurrent(arrays, inner_cfg, f"layers/{inside}", layer.name,
                                           hint, fail)
            cells.add(cell)
            width = unit_params["weight_hh"].shape[1]
            if hidden is not None and width != hidden:
                fail(f"{layer.name!r} has {width} units, the layer below {hidden}; expected "
                     f"one width")
            hidden = width
            params.update({f"{n}_l{k}{sfx}": v for n, v in unit_params.items()})
    if len(cells) > 1:
        fail(f"recurrent layers of several kinds ({', '.join(sorted(cells))})")
    assert hidden is not None
    inputs = params["weight_ih_l0"].shape[1]
    vocab = None
    if embed is not None:
        if embed.config.get("mask_zero"):
            fail(f"Embedding {embed.name!r} has mask_zero=True (Keras skips steps of id 0); "
                 f"expected mask_zero=False")
        (table,) = _arrays(group[embed.key], f"layers/{embed.key}", path)[:1]
        if table.ndim != 2 or table.shape[1] != inputs:
            fail(f"Embedding {embed.name!r} is {table.shape}; expected (V, {inputs}) to feed "
                 f"the first recurrent layer")
        vocab = int(table.shape[0])
        if not 1 <= vocab <= MAX_TOKENS:
            fail(f"Embedding {embed.name!r} has {vocab} rows; at most {MAX_TOKENS}")
        params["embedding.weight"] = table
    outputs = None
    if head is not None:
        if head.config.get("activation", "linear") not in ("linear", None):
            fail(f"Dense {head.name!r} has activation {head.config['activation']!r}; expected "
                 f"a linear head")
        kernel, *bias = _arrays(group[head.key], f"layers/{head.key}", path)
        top = hidden * (2 if bidirectional else 1)
        if kernel.ndim != 2 or kernel.shape[0] != top:
            fail(f"Dense {head.name!r} kernel is {kernel.shape}; expected ({top}, O)")
        outputs = int(kernel.shape[1])
        if not 1 <= outputs <= MAX_FEATURES:
            fail(f"Dense {head.name!r} has {outputs} outputs; at most {MAX_FEATURES}")
        params["readout.weight"] = kernel.T
        params["readout.bias"] = bias[0] if bias else np.zeros(outputs, kernel.dtype)
    if not 1 <= hidden <= MAX_HIDDEN or not 1 <= inputs <= MAX_FEATURES:
        fail(f"{hidden} units reading {inputs} inputs; at most {MAX_HIDDEN} and {MAX_FEATURES}")
    spec = ModelSpec(cells.pop(), int(inputs), int(hidden), len(layers), bidirectional, outputs,
                     "float32", vocab_size=vocab)
    for name, shape in spec.param_shapes().items():
        if name not in params or params[name].shape != shape:
            got = params[name].shape if name in params else "missing"
            fail(f"{name} (from Keras) is {got}, expected {shape} for a {spec.describe()} model")
    return spec, {k: np.ascontiguousarray(params[k], np.float32) for k in spec.param_shapes()}


def _recurrent(arrays: list[np.ndarray], config: dict, where: str, name: str,
               hint: str | None, fail) -> tuple[str, dict[str, np.ndarray]]:
    """``(cell, {weight_ih, weight_hh, bias_ih, bias_hh})`` of one Keras recurrent cell."""
    if len(arrays) not in (2, 3) or arrays[0].ndim != 2 or arrays[1].ndim != 2:
        fail(f"{where} of {name!r} holds {[a.shape for a in arrays]}; expected kernel (I, G*H), "
             f"recurrent kernel (H, G*H) and a bias")
    kernel, recurrent = arrays[0], arrays[1]
    hidden = recurrent.shape[0]
    gates, rest = divmod(recurrent.shape[1], hidden) if hidden else (0, 1)
    kind = None if rest else _GATES.get(gates)
    if kind is None or kernel.shape[1] != recurrent.shape[1]:
        fail(f"{where} of {name!r}: recurrent kernel {recurrent.shape} and kernel "
             f"{kernel.shape} fit no SimpleRNN (G=1), GRU (3) or LSTM (4)")
    bias = arrays[2] if len(arrays) == 3 else np.zeros(gates * hidden, kernel.dtype)
    activation = config.get("activation", "relu" if hint == "rnn_relu" else "tanh")
    allowed = ("tanh", "relu") if kind == "SimpleRNN" else ("tanh",)
    if activation not in allowed:
        fail(f"{name!r} ({kind}) has activation={activation!r}; expected "
             f"{' or '.join(map(repr, allowed))}")
    if kind != "SimpleRNN" and config.get("recurrent_activation", "sigmoid") != "sigmoid":
        fail(f"{name!r} ({kind}) has recurrent_activation="
             f"{config['recurrent_activation']!r}; expected 'sigmoid'")
    if config.get("go_backwards"):
        fail(f"{name!r} has go_backwards=True")
    if kind == "SimpleRNN":
        cell = "rnn_relu" if activation == "relu" else "rnn_tanh"
        order = [np.s_[:]]
    elif kind == "LSTM":
        cell, order = "lstm", [np.s_[:]]  # i f c o is PyTorch's i f g o
    else:  # GRU: z r h -> r z n
        cell = "gru" if bias.ndim == 2 else "gru_cho"
        if config and bool(config.get("reset_after", True)) != (bias.ndim == 2):
            fail(f"{where} bias {bias.shape} does not fit reset_after="
                 f"{config.get('reset_after')}")
        order = [np.s_[hidden:2 * hidden], np.s_[:hidden], np.s_[2 * hidden:]]

    def torch_rows(matrix):  # (.., G*H) columns in Keras's order -> (G*H, ..) rows in ours
        return np.concatenate([matrix[..., s] for s in order], axis=-1).T

    b_ih, b_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
    if b_ih.shape != (gates * hidden,):
        fail(f"{where} bias is {bias.shape}; expected ({gates * hidden},) or "
             f"(2, {gates * hidden})")
    return cell, {"weight_ih": torch_rows(kernel), "weight_hh": torch_rows(recurrent),
                  "bias_ih": torch_rows(b_ih), "bias_hh": torch_rows(b_hh)}
