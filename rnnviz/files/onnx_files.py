"""ONNX recurrent models: ``.onnx`` graphs whose recurrent part is ``RNN``, ``LSTM`` or ``GRU``
nodes, read with the ``onnx`` package (the protobuf is parsed, nothing in it is run).

What rnnviz shows: an optional embedding (``Gather`` of a 2-D initializer by the input ids),
one or more recurrent nodes of one op and width in a chain (forward or ``bidirectional``), an
optional linear head (``MatMul`` by a ``(D*H, O)`` initializer and ``Add`` of an ``(O,)`` one,
or one ``Gemm``). Reshaping between them (``Transpose``, ``Reshape``, ``Squeeze``, ...) is
allowed; any other op is one line naming it. An initial state must be zero: absent, a stored
zero tensor, or one broadcast by ``Expand`` to the batch's shape (``Shape``, ``Gather``,
``Concat``, ...), as ``torch.onnx.export`` writes ``nn.RNN``/``LSTM``/``GRU``'s zero state.

ONNX's layout (``D`` directions, ``G`` gate blocks, ``H`` units), onto PyTorch's names:

=======  =========================================================  ===========================
op       ONNX                                                       rnnviz
=======  =========================================================  ===========================
RNN      ``W (D, H, I)``, ``R (D, H, H)``, ``B (D, 2H)`` =           ``rnn_tanh`` (``Relu``:
         ``[Wb, Rb]``                                                ``rnn_relu``)
LSTM     blocks ``i o f c``                                          ``lstm``, rows reordered to
                                                                     ``i f g o``
GRU      blocks ``z r h``; ``linear_before_reset=1``                 ``gru`` (``r z n``)
GRU      ``linear_before_reset=0`` (the default): the reset gate     ``gru_cho``
         scales h before the recurrent matmul
=======  =========================================================  ===========================

``W[d]`` is ``weight_ih`` of direction ``d`` (0 forward, 1 reverse), ``R[d]`` ``weight_hh``,
``B[d]`` splits into ``bias_ih`` and ``bias_hh``. Initializers stored as external data (as
``torch.onnx.export`` writes them) are read from the model's folder (``onnx_external``). Not
shown, so refused: a ``reverse``-only direction, non-default activations (other than an RNN's
``Relu``), ``clip``, ``input_forget``, peepholes and a non-zero initial state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnviz.arrays import first_line
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.onnx_external import read_external
from rnnviz.limits import MAX_FEATURES, MAX_HIDDEN, MAX_LAYERS, MAX_TOKENS, MAX_WEIGHTS_BYTES

SHOWN = ("an optional Gather embedding, RNN/LSTM/GRU nodes of one op and width in a chain and "
         "an optional MatMul(+Add)/Gemm head")
_RECURRENT = {"RNN": 1, "GRU": 3, "LSTM": 4}
_RESHAPING = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Constant", "Shape",
              "Cast", "Concat", "Slice", "Flatten", "Expand"}
# ops whose output is zero wherever their first input is (a zero state broadcast or reshaped)
_KEEPS_ZERO = {"Expand", "Reshape", "Identity", "Cast", "Unsqueeze", "Squeeze", "Transpose"}
# rows of ONNX's blocks in PyTorch's order
_ORDER = {"RNN": [0], "LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2]}
_DEFAULT_ACTIVATIONS = {"RNN": ["Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"],
                        "GRU": ["Sigmoid", "Tanh"]}


def _onnx(path: Path):
    try:
        import onnx
    except ImportError:
        raise RnnvizError(f"{path}: reading .onnx files needs onnx (pip install onnx)") from None
    return onnx


def read_onnx(path: Path, *, cell: str | None = None) -> tuple[ModelSpec, dict]:
    """``(spec, params)`` of the ``.onnx`` model in ``path``, params as numpy arrays under
    PyTorch's names (``cell`` is unused: an ONNX graph names its activations)."""
    onnx = _onnx(path)
    size = path.stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise RnnvizError(f"{path}: {size} bytes; at most {MAX_WEIGHTS_BYTES} "
                          f"(limit MAX_WEIGHTS_BYTES)")
    try:  # external data: read below, only from the model's own folder
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # DecodeError and friends from protobuf
        raise RnnvizError(f"{path}: not an ONNX model ({first_line(exc)}); expected a graph "
                          f"saved by onnx.save or torch.onnx.export") from None
    graph = model.graph
    if not graph.node:
        raise RnnvizError(f"{path}: the graph has no nodes; expected {SHOWN}")
    from onnx import numpy_helper

    def fail(why: str):
        raise RnnvizError(f"{path}: {why}; rnnviz shows {SHOWN}")

    read_external([t for t in graph.initializer
                   if t.data_location == onnx.TensorProto.EXTERNAL], path, fail)
    constants: dict[str, np.ndarray] = {}
    for tensor in graph.initializer:
        try:
            constants[tensor.name] = numpy_helper.to_array(tensor)
        except Exception as exc:  # ValueError: bytes that do not fill the tensor's shape
            fail(f"initializer {tensor.name!r} {tuple(tensor.dims)} does not read "
                 f"({first_line(exc)})")
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)

    made_by = {out: node for node in graph.node for out in node.output}

    def is_zero(name: str) -> bool:
        """Whether the value ``name`` is a stored zero tensor, or one only reshaped or
        broadcast (``Expand``, ...)."""
        for _ in range(len(graph.node) + 1):  # a chain of nodes, never a cycle
            if name in constants:
                return not np.any(constants[name])
            node = made_by.get(name)
            if node is None or node.op_type not in _KEEPS_ZERO or not node.input:
                return False
            name = node.input[0]
        return False

    if not any(node.op_type in _RECURRENT for node in graph.node):
        found = sorted({node.op_type for node in graph.node})
        fail(f"no RNN, LSTM or GRU node (found {', '.join(found[:12])}: a loop unrolled "
             f"into matmuls cannot be shown step by step)")
    recurrent, gathers, matmuls, adds, gemms = [], [], [], [], []
    for node in graph.node:
        op = node.op_type
        if op in _RECURRENT:
            recurrent.append(node)
        elif op == "Gather" and node.input[0] in constants \
                and np.ndim(constants[node.input[0]]) == 2:
            gathers.append(node)
        elif op == "MatMul":
            matmuls.append(node)
        elif op == "Add":
            adds.append(node)
        elif op == "Gemm":
            gemms.append(node)
        elif op not in _RESHAPING and op != "Gather":
            fail(f"node {node.name or '(unnamed)'!r} is a {op}")
    if len(recurrent) > MAX_LAYERS:
        fail(f"{len(recurrent)} recurrent nodes; at most {MAX_LAYERS} (limit MAX_LAYERS)")
    ops = {n.op_type for n in recurrent}
    if len(ops) > 1:
        fail(f"recurrent nodes of several ops ({', '.join(sorted(ops))})")
    op = ops.pop()

    attrs = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute} for n in recurrent]
    directions = {a.get("direction", b"forward") for a in attrs}
    if len(directions) > 1 or directions & {b"reverse"}:
        fail(f"directions {sorted(d.decode() for d in directions)}; expected all 'forward' or "
             f"all 'bidirectional'")
    bidirectional = directions == {b"bidirectional"}
    cell = {"RNN": "rnn_tanh", "LSTM": "lstm"}.get(op, "gru")
    params: dict[str, np.ndarray] = {}
    hidden = None
    for k, (node, attr) in enumerate(zip(recurrent, attrs, strict=True)):
        name = node.name or f"{op} #{k}"
        cell_k = _check_attributes(op, attr, name, fail)
        if k and cell_k != cell:
            fail(f"{name!r} differs from the first recurrent node ({cell_k} vs {cell})")
        cell = cell_k
        inputs = list(node.input) + [""] * 8
        for index, what in ((5, "initial_h"), (6, "initial_c"), (7, "peepholes P")):
            if inputs[index] and not is_zero(inputs[index]):
                fail(f"{name!r} has a non-zero or computed {what}")
        weights = []
        for index, what in ((1, "W"), (2, "R")):
            if inputs[index] not in constants:
                fail(f"{name!r}'s {what} is computed, not stored (expected an initializer)")
            weights.append(np.asarray(constants[inputs[index]]))
        w, r = weights
        d_count = 2 if bidirectional else 1
        if w.ndim != 3 or r.ndim != 3 or w.shape[0] != d_count or r.shape[0] != d_count:
            fail(f"{name!r} W {w.shape} and R {r.shape}; expected ({d_count}, G*H, I) and "
                 f"({d_count}, G*H, H)")
        width = r.shape[2]
        if hidden is not None and width != hidden:
            fail(f"{name!r} has {width} units, the node below {hidden}; expected one width")
        hidden = width
        gates = _RECURRENT[op]
        if r.shape[1] != gates * width or w.shape[1] != gates * width:
            fail(f"{name!r} W {w.shape} and R {r.shape} do not hold {gates} blocks of "
                 f"{width} rows")
        b = (np.asarray(constants[inputs[3]]) if inputs[3] in constants
             else np.zeros((d_count, 2 * gates * width), w.dtype))
        if inputs[3] and inputs[3] not in constants:
            fail(f"{name!r}'s B is computed, not stored")
        if b.shape != (d_count, 2 * gates * width):
            fail(f"{name!r} B is {b.shape}; expected ({d_count}, {2 * gates * width})")

        def rows(m, width=width):
            return np.concatenate([m[j * width:(j + 1) * width] for j in _ORDER[op]], axis=0)

        for d, sfx in enumerate(["", "_reverse"][:d_count]):
            unit = f"l{k}{sfx}"
            params[f"weight_ih_{unit}"] = rows(w[d])
            params[f"weight_hh_{unit}"] = rows(r[d])
            params[f"bias_ih_{unit}"] = rows(b[d][: gates * width])
            params[f"bias_hh_{unit}"] = rows(b[d][gates * width:])
    assert hidden is not None
    top = hidden * (2 if bidirectional else 1)
    in_size = params["weight_ih_l0"].shape[1]

    vocab = None
    if len(gathers) > 1:
        fail(f"{len(gathers)} Gather nodes of a stored table; expected at most one embedding")
    if gathers:
        table = np.asarray(constants[gathers[0].input[0]])
        if table.shape[1] != in_size:
            fail(f"embedding {gathers[0].input[0]!r} is {table.shape}; expected (V, {in_size})")
        vocab = int(table.shape[0])
        if not 1 <= vocab <= MAX_TOKENS:
            fail(f"embedding {gathers[0].input[0]!r} has {vocab} rows; at most {MAX_TOKENS}")
        params["embedding.weight"] = table

    outputs = _head(matmuls, adds, gemms, constants, top, params, onnx, fail)
    if not 1 <= hidden <= MAX_HIDDEN or not 1 <= in_size <= MAX_FEATURES:
        fail(f"{hidden} units reading {in_size} inputs; at most {MAX_HIDDEN} and {MAX_FEATURES}")
    spec = ModelSpec(cell, int(in_size), int(hidden), len(recurrent), bidirectional, outputs,
                     "float32", vocab_size=vocab)
    for name, shape in spec.param_shapes().items():
        if name not in params or params[name].shape != shape:
            got = params[name].shape if name in params else "missing"
            fail(f"{name} (from ONNX) is {got}, expected {shape} for a {spec.describe()} model")
    return spec, {k: np.ascontiguousarray(params[k], np.float32) for k in spec.param_shapes()}


def _check_attributes(op: str, attr: dict, name: str, fail) -> str:
    """The cell a recurrent node's attributes make; fail on what rnnviz does not show."""
    activations = [a.decode() if isinstance(a, bytes) else a
                   for a in attr.get("activations", _DEFAULT_ACTIVATIONS[op])]
    if op == "RNN" and activations in (["Relu"], ["Relu", "Relu"]):
        cell = "rnn_relu"
    elif activations not in (_DEFAULT_ACTIVATIONS[op], _DEFAULT_ACTIVATIONS[op] * 2):
        fail(f"{name!r} ({op}) has activations {activations}; expected "
             f"{_DEFAULT_ACTIVATIONS[op]}" + (" or Relu" if op == "RNN" else ""))
    else:
        cell = {"RNN": "rnn_tanh", "LSTM": "lstm"}.get(op, "")
    if op == "GRU":
        cell = "gru" if attr.get("linear_before_reset", 0) else "gru_cho"
    if "clip" in attr:
        fail(f"{name!r} clips its pre-activations (clip={attr['clip']})")
    if attr.get("input_forget", 0):
        fail(f"{name!r} couples its input and forget gates (input_forget=1)")
    return cell


def _head(matmuls, adds, gemms, constants, top, params, onnx, fail) -> int | None:
    """Fill ``readout.weight``/``readout.bias`` from one ``MatMul`` (+ ``Add``) or ``Gemm``
    whose weight is an initializer reading ``top`` features; the number of outputs or None."""
    if len(matmuls) + len(gemms) > 1:
        fail(f"{len(matmuls) + len(gemms)} MatMul/Gemm nodes; expected at most one linear head")
    if gemms:
        node = gemms[0]
        attr = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if attr.get("transA", 0) or attr.get("alpha", 1.0) != 1.0 \
                or attr.get("beta", 1.0) != 1.0 or node.input[1] not in constants:
            fail(f"Gemm {node.name!r} is not y = x B + C with a stored B")
        b = np.asarray(constants[node.input[1]])
        weight = b if attr.get("transB", 0) else b.T
        bias = (np.asarray(constants[node.input[2]]) if len(node.input) > 2 and node.input[2]
                else None)
        if len(node.input) > 2 and node.input[2] and node.input[2] not in constants:
            fail(f"Gemm {node.name!r}'s C is computed, not stored")
        if adds:
            fail(f"an Add beside the Gemm head ({adds[0].name!r})")
    elif matmuls:
        node = matmuls[0]
        if node.input[1] not in constants:
            fail(f"MatMul {node.name!r} multiplies by a computed matrix, not a stored one")
        weight = np.asarray(constants[node.input[1]]).T
        if len(adds) > 1:
            fail(f"{len(adds)} Add nodes; expected at most one, the head's bias")
        bias = None
        if adds:
            stored = [i for i in adds[0].input if i in constants]
            if len(stored) != 1 or adds[0].input[0] != node.output[0] and \
                    adds[0].input[1] != node.output[0]:
                fail(f"Add {adds[0].name!r} is not the head's bias (MatMul output + a stored "
                     f"vector)")
            bias = np.asarray(constants[stored[0]])
    else:
        if adds:
            fail(f"Add {adds[0].name!r} without a linear head")
        return None
    if weight.ndim != 2 or weight.shape[1] != top:
        fail(f"the head's weight is {weight.shape} as (O, in); expected (O, {top})")
    outputs = int(weight.shape[0])
    if not 1 <= outputs <= MAX_FEATURES:
        fail(f"the head has {outputs} outputs; at most {MAX_FEATURES}")
    if bias is None:
        bias = np.zeros(outputs, weight.dtype)
    if bias.reshape(-1).shape != (outputs,):
        fail(f"the head's bias is {bias.shape}; expected ({outputs},)")
    params["readout.weight"] = weight
    params["readout.bias"] = bias.reshape(-1)
    return outputs
