"""Weight files: ``.safetensors`` and ``.npz`` under PyTorch's names. Never pickle.

A PyTorch ``nn.RNN``/``nn.LSTM``/``nn.GRU`` state_dict saved with
``safetensors.torch.save_file(module.state_dict(), path)`` or
``numpy.savez(path, **{k: v.numpy() for k, v in module.state_dict().items()})`` loads directly.
The cell type, sizes, layer count and direction are read off the keys and shapes:

- ``weight_hh_l0`` is ``(G*H, H)``: ``H`` its width, ``G`` = 1 (RNN), 3 (GRU) or 4 (LSTM);
- ``weight_ih_l0`` is ``(G*H, I)``; layers are counted from ``weight_ih_l{k}``; a ``_reverse``
  twin means bidirectional; missing biases (``bias=False``) load as zeros.

Keys may carry a module prefix (``rnn.weight_ih_l0`` in a whole model's state_dict). A linear
layer after the RNN (``fc.weight (O, D*H)`` with ``fc.bias (O,)``, any name) becomes the readout;
an ``nn.Embedding`` before it (``embed.weight (V, I)`` without a bias, any name, its width the
RNN's input size) makes a model of token inputs; an LSTM with ``proj_size`` (``weight_hr_l*
(P, H)``) is the ``lstm_proj`` cell with the option ``proj_size`` ``P`` (read by that cell's
``infer``). Anything else is refused in one line that names it.
A vanilla RNN's nonlinearity is not visible in its weights: files written here record the cell
(``rnnviz.cell``); otherwise the cell named by the caller's hint is taken, else ``rnn_tanh``.
So is a GRU's placement of the reset gate: ``gru`` (PyTorch's) unless the hint or the file
says ``gru_cho``.

A file without ``weight_ih_l0`` may hold a modern cell (minGRU, minLSTM, LRU, Mamba) under its
own short names: ``{short}_l{k}{sfx}`` as ``save_weights`` writes them, or the reference
module's own ``state_dict`` without a layer suffix (one layer; ``mamba_ssm``'s ``Mamba``:
``in_proj.weight``, ``conv1d.weight``, ..., ``A_log``, ``D``, ``out_proj.weight``). The cell
and its sizes (``ModelSpec.options``) are read off the names and shapes (``CellType.infer``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NoReturn

import jax.numpy as jnp
import numpy as np

from rnnviz.arrays import first_line, read_npz
from rnnviz.core.cells import cell_with_gate_blocks, cell_with_layout, own_parameter_names
from rnnviz.core.spec import ModelSpec, float64_enabled
from rnnviz.errors import RnnvizError
from rnnviz.limits import (
    MAX_FEATURES,
    MAX_HIDDEN,
    MAX_LAYERS,
    MAX_MEMBERS,
    MAX_TOKENS,
    MAX_WEIGHTS_BYTES,
)
from rnnviz.paths import atomic_file, check_destination, existing_file, write_bytes_atomic

_CELL_KEY = "rnnviz.cell"  # npz only: safetensors keeps it in the header metadata
_UNIT_KEY = re.compile(r"^(?P<prefix>.*?)(?P<kind>weight|bias)_(?P<mat>ih|hh|hr)"
                       r"_l(?P<layer>[0-9]+)(?P<rev>_reverse)?$")


TORCH_SUFFIXES = (".pt", ".pth")
SUFFIXES = (".safetensors", ".npz", *TORCH_SUFFIXES)
SHOWN = ("an optional embedding, one stack of RNN/LSTM/GRU layers (bidirectional or not) and "
         "an optional linear head")


def read_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """All arrays in a ``.safetensors``, ``.npz`` or PyTorch ``.pt``/``.pth`` file (a
    state_dict, read by ``torch.load(weights_only=True)``: never a pickled module), and its
    text metadata. The file holds at most ``MAX_WEIGHTS_BYTES`` and ``MAX_MEMBERS`` arrays;
    an ``.npz``'s headers are checked before its arrays are read (``rnnviz.arrays``)."""
    path = existing_file(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RnnvizError(f"{path}: unknown weight format {suffix or '(none)'}: "
                          "expected .safetensors, .npz, .pt or .pth")
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise RnnvizError(f"{path}: {size} bytes; at most {MAX_WEIGHTS_BYTES} "
                          f"(limit MAX_WEIGHTS_BYTES)")
    if suffix in TORCH_SUFFIXES:
        return read_torch_state_dict(path), {}
    if suffix == ".npz":
        arrays = read_npz(path, str(path), max_values=MAX_WEIGHTS_BYTES,
                          max_bytes=MAX_WEIGHTS_BYTES, limit_name="MAX_WEIGHTS_BYTES")
        meta = {}
        if _CELL_KEY in arrays:
            meta["cell"] = str(arrays.pop(_CELL_KEY))
        return arrays, meta
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            keys = list(f.keys())
            if len(keys) > MAX_MEMBERS:
                raise RnnvizError(f"{path}: holds {len(keys)} arrays; at most {MAX_MEMBERS} "
                                  f"(limit MAX_MEMBERS)")
            arrays = {k: f.get_tensor(k) for k in keys}
        return arrays, meta
    except RnnvizError:
        raise
    except Exception as exc:  # OSError, SafetensorError, TypeError (an unknown dtype)...
        raise RnnvizError(f"{path}: not a readable .safetensors weight file "
                          f"({first_line(exc)})") from None


def read_torch_state_dict(path: Path) -> dict[str, np.ndarray]:
    """A state_dict saved by ``torch.save(module.state_dict(), path)``, as numpy arrays.

    ``torch.load(weights_only=True)`` unpickles only tensors and plain containers (never a
    class of the file's choosing); PyTorch is optional, so without it this is one line
    saying how to install it or convert the file."""
    try:
        import torch
    except ImportError:
        raise RnnvizError(f"{path}: reading a PyTorch .pt/.pth file needs PyTorch (pip install "
                          f"torch); or save the state_dict with safetensors.torch.save_file "
                          f"and open the .safetensors") from None
    try:
        loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for a pickled module, RuntimeError, EOFError...
        # torch's own message runs to paragraphs (with terminal colours): its kind is enough
        raise RnnvizError(f"{path}: not a PyTorch state_dict that loads with "
                          f"weights_only=True ({type(exc).__name__}: a pickled object other "
                          f"than tensors, or not a PyTorch file); save model.state_dict(), "
                          f"not the model") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]  # a checkpoint that wraps it
    if not isinstance(loaded, dict):
        raise RnnvizError(f"{path}: holds a {type(loaded).__name__}, expected a state_dict "
                          f"(a dict of tensors: torch.save(model.state_dict(), path))")
    if len(loaded) > MAX_MEMBERS:
        raise RnnvizError(f"{path}: holds {len(loaded)} entries; at most {MAX_MEMBERS} "
                          f"(limit MAX_MEMBERS)")
    arrays = {}
    for key, value in loaded.items():
        if not isinstance(value, torch.Tensor):
            raise RnnvizError(f"{path}: {key} is a {type(value).__name__}, expected a tensor "
                              f"(a state_dict holds only tensors)")
        if value.dtype == torch.bfloat16:
            value = value.float()
        arrays[str(key)] = value.detach().cpu().numpy()
    return arrays


def _listing(arrays: dict) -> str:
    """What a file holds, for an error message: names and shapes, at most 12 of them."""
    items = [f"{k} {tuple(np.shape(v))}" for k, v in sorted(arrays.items())]
    more = f", ... ({len(items) - 12} more)" if len(items) > 12 else ""
    return ", ".join(items[:12]) + more if items else "nothing"


def infer_spec(arrays: dict[str, np.ndarray], *, cell_hints: tuple[str | None, ...] = (),
               source: str = "weights") -> tuple[ModelSpec, dict[str, np.ndarray]]:
    """Read a ``ModelSpec`` off PyTorch-named arrays; return it with the arrays renamed to this
    project's names (prefix stripped, readout as ``readout.*``, missing biases as zeros).

    The cell is the one whose layout has as many gate blocks as ``weight_hh_l0``; where
    several have (the tanh and relu RNNs), the first of ``cell_hints`` (cell names) that is
    one of them, else the first registered."""
    found = _listing(arrays)

    def fail(why: str) -> NoReturn:
        raise RnnvizError(f"{source}: {why}; found {found}; expected PyTorch nn.RNN/LSTM/GRU keys "
                          "weight_ih_l0 (G*H, I), weight_hh_l0 (G*H, H), bias_ih_l0, bias_hh_l0, "
                          "... with G = 1 (RNN), 3 (GRU) or 4 (LSTM); rnnviz shows " + SHOWN)

    not_arrays = sorted(k for k, v in arrays.items() if not isinstance(v, np.ndarray))
    if not_arrays:
        fail(f"{not_arrays[0]} is not an array")
    matches = {k: _UNIT_KEY.match(k) for k in arrays}
    prefixes = sorted({m["prefix"] for m in matches.values() if m and m["mat"] == "ih"})
    if not prefixes:
        own = _infer_own_layout(arrays, cell_hints, fail)
        if own is None:
            fail("no weight_ih_l0")
        return own
    if len(prefixes) > 1:
        names = ", ".join(p.rstrip(".") or "(root)" for p in prefixes)
        fail(f"several recurrent modules ({names})")
    prefix = prefixes[0]
    w_hr = arrays.get(f"{prefix}weight_hr_l0")
    projected = w_hr is not None
    deepest = max(int(m["layer"]) if len(m["layer"]) < 6 else 10**6  # int() of a long
                  for m in matches.values() if m and m["prefix"] == prefix)  # number is slow
    if deepest >= MAX_LAYERS:
        named = deepest if deepest < 10**6 else "beyond 999999"
        fail(f"a key names layer {named}; at most {MAX_LAYERS} layers, l0..l{MAX_LAYERS - 1} "
             f"(limit MAX_LAYERS)")
    w_ih, w_hh = arrays.get(f"{prefix}weight_ih_l0"), arrays.get(f"{prefix}weight_hh_l0")
    if w_ih is None or w_hh is None:
        fail(f"missing {prefix}weight_ih_l0 or {prefix}weight_hh_l0")
    if w_ih.ndim != 2 or w_hh.ndim != 2 or (w_hr is not None and w_hr.ndim != 2):
        fail("weight_ih_l0, weight_hh_l0 (and weight_hr_l0) must be 2-D")
    # with proj_size P: weight_hh (G*H, P) and weight_hr (P, H)
    hidden = w_hr.shape[1] if w_hr is not None else w_hh.shape[1]
    proj = int(w_hr.shape[0]) if w_hr is not None else None
    if not 1 <= hidden <= MAX_HIDDEN or (proj is not None and not 1 <= proj <= MAX_HIDDEN):
        fail(f"weight_hh_l0 {w_hh.shape} has {hidden} hidden units; expected 1..{MAX_HIDDEN} "
             f"(limit MAX_HIDDEN)")
    if not 1 <= w_ih.shape[1] <= MAX_FEATURES:
        fail(f"weight_ih_l0 {w_ih.shape} reads {w_ih.shape[1]} inputs; expected "
             f"1..{MAX_FEATURES} (limit MAX_FEATURES)")
    gates, rest = divmod(w_hh.shape[0], hidden)
    options: dict[str, int] = {}
    if projected:  # a cell of PyTorch's tensors and weight_hr: its infer reads P (proj_size)
        layer0 = {m["kind"] + "_" + m["mat"]: arrays[k] for k, m in matches.items()
                  if m and m["prefix"] == prefix and m["layer"] == "0" and not m["rev"]}
        read = cell_with_layout(layer0, cell_hints)
        cell_type = None if read is None else read[0]
        options = {} if read is None else read[1][2]
    else:
        cell_type = None if rest else cell_with_gate_blocks(gates, cell_hints)
    if cell_type is None:
        fail(f"weight_hh_l0 {w_hh.shape} has {w_hh.shape[0] / hidden:g} gate blocks"
             + (" and a projection weight_hr_l0" if projected else ""))
    cell = cell_type.name
    layers = 1 + deepest
    bidirectional = f"{prefix}weight_ih_l0_reverse" in arrays

    ours = {k for k, m in matches.items() if m and m["prefix"] == prefix}
    others = {k: v for k, v in arrays.items() if k not in ours}
    embedding = _find_embedding(others, int(w_ih.shape[1]), fail)
    if embedding is not None:
        others.pop(embedding)
        vocab = int(arrays[embedding].shape[0])
        if not 1 <= vocab <= MAX_TOKENS:
            fail(f"{embedding} {arrays[embedding].shape} has {vocab} tokens; expected "
                 f"1..{MAX_TOKENS} (limit MAX_TOKENS)")
    readout = _find_readout(others, (proj or hidden) * (2 if bidirectional else 1), fail)
    # float64 weights stay float64 only where the process computes in 64 bits
    dtype = ("float64" if float64_enabled() and all(v.dtype == np.float64
                                                    for v in arrays.values()) else "float32")
    outputs = None if readout is None else int(others[readout + "weight"].shape[0])
    if outputs is not None and not 1 <= outputs <= MAX_FEATURES:
        fail(f"{readout}weight has {outputs} outputs; expected 1..{MAX_FEATURES} "
             f"(limit MAX_FEATURES)")
    spec = ModelSpec(cell, int(w_ih.shape[1]), int(hidden), layers, bidirectional, outputs,
                     dtype, options=tuple(options.items()),
                     vocab_size=None if embedding is None else vocab)

    params: dict[str, np.ndarray] = {}
    for name, shape in spec.param_shapes().items():
        if name == "embedding.weight":
            assert embedding is not None  # the spec has one only when one was found
            value = arrays[embedding]
        elif name.startswith("readout."):
            assert readout is not None  # the spec has a readout only when one was found
            value = others[readout + name.split(".")[1]]
        elif f"{prefix}{name}" in arrays:
            value = arrays[f"{prefix}{name}"]
        elif name.startswith("bias_") and not any(k.startswith(f"{prefix}bias_") for k in arrays):
            value = np.zeros(shape)  # saved from a module with bias=False
        else:
            fail(f"missing {prefix}{name} {shape} for a {spec.describe()} model")
        if tuple(value.shape) != shape:
            fail(f"{prefix}{name} is {tuple(value.shape)}, expected {shape} for a "
                 f"{spec.describe()} model")
        if not np.issubdtype(value.dtype, np.floating):
            fail(f"{prefix}{name} has dtype {value.dtype}, expected floats")
        params[name] = np.asarray(value, dtype=spec.dtype)
    return spec, params


def _find_embedding(others: dict[str, np.ndarray], width: int, fail) -> str | None:
    """The key of the one ``nn.Embedding`` table (``*weight (V, width)`` with no bias beside
    it) whose rows the RNN reads, if any."""
    tables = [k for k, v in others.items()
              if k.endswith("weight") and np.ndim(v) == 2 and v.shape[1] == width
              and k[: -len("weight")] + "bias" not in others]
    if len(tables) > 1:
        fail(f"several embedding tables ({', '.join(sorted(tables))})")
    return tables[0] if tables else None


def _own_key_pattern() -> re.Pattern:
    """A key of a cell with parameters of its own: an optional module prefix, a short name
    (``A_log``, ``in_proj.weight``, ``to_hidden_and_gate.bias``, ...) and ``_l{k}`` with an
    optional ``_reverse`` (absent in a reference module's own state_dict: one layer)."""
    shorts = sorted({s for names in own_parameter_names().values() for s in names},
                    key=len, reverse=True)
    return re.compile(rf"^(?P<prefix>.*?)(?P<short>{'|'.join(map(re.escape, shorts))})"
                      r"(?:_l(?P<layer>[0-9]{1,6})(?P<rev>_reverse)?)?$")


def _infer_own_layout(arrays: dict[str, np.ndarray], cell_hints, fail):
    """``(spec, params)`` for a model of a cell with its own layout (minGRU, minLSTM, LRU,
    Mamba): keys ``{short}_l{k}{sfx}`` as rnnviz writes them, or the reference module's own
    state_dict (``mamba_ssm``'s ``Mamba``: ``in_proj.weight``, ``A_log``, ...), one layer.
    None when no key is one of theirs."""
    pattern = _own_key_pattern()
    matches = {k: pattern.match(k) for k in arrays}
    found = {k: m for k, m in matches.items() if m}
    if not found:
        return None
    prefixes = sorted({m["prefix"] for m in found.values()})
    if len(prefixes) > 1:
        names = ", ".join(p.rstrip(".") or "(root)" for p in prefixes)
        fail(f"several recurrent modules ({names})")
    prefix = prefixes[0]
    units: dict[str, dict[str, np.ndarray]] = {}
    for key, m in found.items():
        layer = int(m["layer"] or 0)
        if layer >= MAX_LAYERS:
            fail(f"{key} names layer {layer}; at most {MAX_LAYERS} layers (limit MAX_LAYERS)")
        units.setdefault(f"l{layer}{m['rev'] or ''}", {})[m["short"]] = arrays[key]
    if "l0" not in units:
        fail("no parameters of layer 0")
    read = cell_with_layout(units["l0"], cell_hints)
    if read is None:
        fail("parameters of minGRU, minLSTM, LRU or Mamba that fit none of them")
    cell, (inputs, hidden, options, _) = read
    if not 1 <= hidden <= MAX_HIDDEN or not 1 <= inputs <= MAX_FEATURES:
        fail(f"a {cell.label} layer of {inputs} inputs and {hidden} units; expected "
             f"1..{MAX_FEATURES} inputs and 1..{MAX_HIDDEN} units (limits MAX_FEATURES, "
             "MAX_HIDDEN)")
    layers = 1 + max(int(u[1:].split("_")[0]) for u in units)
    bidirectional = "l0_reverse" in units
    others = {k: v for k, v in arrays.items() if k not in found}
    top = hidden * (2 if bidirectional else 1)
    readout = _find_readout(others, top, fail)
    outputs = None if readout is None else int(others[readout + "weight"].shape[0])
    if outputs is not None and not 1 <= outputs <= MAX_FEATURES:
        fail(f"{readout}weight has {outputs} outputs; expected 1..{MAX_FEATURES} "
             f"(limit MAX_FEATURES)")
    dtype = ("float64" if float64_enabled() and all(v.dtype == np.float64
                                                    for v in arrays.values()) else "float32")
    try:
        spec = ModelSpec(cell.name, inputs, hidden, layers, bidirectional, outputs, dtype,
                         tuple(options.items()))
    except RnnvizError as exc:
        fail(str(exc))
    params: dict[str, np.ndarray] = {}
    for unit, own in units.items():
        if unit not in spec.units:
            fail(f"layer {unit} of a {spec.describe()} model")
        read_unit = cell.infer(own) if cell.infer is not None else None
        if read_unit is not None:   # the arrays as the layout wants them (an LRU's vector D)
            own = read_unit[3]
        params.update({f"{short}_{unit}": v for short, v in own.items()})
    for name, shape in spec.param_shapes().items():
        if name.startswith("readout."):
            assert readout is not None
            value = others[readout + name.split(".")[1]]
        elif name in params:
            value = params[name]
        else:
            fail(f"missing {prefix}{name} {shape} for a {spec.describe()} model")
        if tuple(value.shape) != shape:
            fail(f"{prefix}{name} is {tuple(value.shape)}, expected {shape} for a "
                 f"{spec.describe()} model")
        if not np.issubdtype(value.dtype, np.floating):
            fail(f"{prefix}{name} has dtype {value.dtype}, expected floats")
        params[name] = np.asarray(value, dtype=spec.dtype)
    return spec, {k: params[k] for k in spec.param_shapes()}


def _find_readout(others: dict[str, np.ndarray], top: int, fail) -> str | None:
    """The prefix (``"fc."``, ``"readout."``) of the one linear layer reading ``top`` features."""
    linear = [k[: -len("weight")] for k, v in others.items()
              if k.endswith("weight") and v.ndim == 2 and v.shape[1] == top
              and k[: -len("weight")] + "bias" in others]
    used = {p + s for p in linear for s in ("weight", "bias")}
    unknown = sorted(set(others) - used)
    if unknown:
        fail(f"unexpected key(s) {', '.join(unknown)} (layers rnnviz does not show)")
    if len(linear) > 1:
        fail(f"several linear layers read the RNN's output ({', '.join(linear)})")
    return linear[0] if linear else None


def load_weights(path: str | os.PathLike, *, cell: str | None = None
                 ) -> tuple[ModelSpec, dict]:
    """``(spec, params)`` from a weight file; params as JAX arrays in the model's dtype.
    ``cell`` names the cell to take where the weights fit several (a vanilla RNN's tanh or
    relu); the file's own record comes next."""
    arrays, meta = read_arrays(path)
    spec, params = infer_spec(arrays, cell_hints=(cell, meta.get("cell")), source=str(path))
    return spec, {k: jnp.asarray(v) for k, v in params.items()}


def save_weights(path: str | os.PathLike, spec: ModelSpec, params: dict) -> None:
    """Write ``params`` under PyTorch's names to ``.safetensors`` or ``.npz``, at exactly
    ``path``, atomically; one-line ``RnnvizError`` when it cannot."""
    check_destination(path)
    path = Path(path)
    if path.suffix.lower() not in (".safetensors", ".npz"):
        raise RnnvizError(f"{path}: unknown weight format {path.suffix or '(none)'}: "
                          "expected .safetensors or .npz")
    arrays = {k: np.ascontiguousarray(np.asarray(params[k])) for k in spec.param_shapes()}
    if path.suffix.lower() == ".safetensors":
        from safetensors.numpy import save

        write_bytes_atomic(path, save(arrays, metadata={"cell": spec.cell}))
    else:
        with atomic_file(path) as f:
            np.savez(f, **arrays, **{_CELL_KEY: np.array(spec.cell)})  # type: ignore[arg-type]
