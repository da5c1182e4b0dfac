"""ONNX graphs built here with ``onnx.helper`` (an optional Gather embedding, RNN/LSTM/GRU
nodes, an optional MatMul+Add or Gemm head), read by rnnviz and run, checked against ONNX
Runtime on the same random inputs. Every layer's output sequence is a graph output, so each
unit's h is compared at every step; an LSTM's last cell state too (``Y_c``)."""

import numpy as np
import onnx  # test dependencies (pyproject's test extra): missing, the tests fail
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from rnnviz import Model, RnnvizError
from rnnviz.files.models import read_model

T = 6
ATOL = 1e-5


def _const(name, value):
    return numpy_helper.from_array(np.asarray(value), name)


def build(op, *, inputs=3, hidden=4, layers=1, bidirectional=False, vocab=None, head=None,
          outputs=2, attrs=None, seed=0):
    """An ONNX model ``ids (T,) or x (T, 1, I) -> [Gather] -> op x layers -> [head]`` and the
    names of its per-layer outputs ``Y{k} (T, D, 1, H)``."""
    rng = np.random.default_rng(seed)
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    d = 2 if bidirectional else 1
    nodes, inits, outs = [], [], []
    if vocab:
        graph_in = helper.make_tensor_value_info("ids", TensorProto.INT64, [T])
        inits += [_const("emb", rng.normal(size=(vocab, inputs)).astype(np.float32)),
                  _const("ax1", np.array([1], np.int64))]
        nodes += [helper.make_node("Gather", ["emb", "ids"], ["e"], name="embed"),
                  helper.make_node("Unsqueeze", ["e", "ax1"], ["x0"], name="batch")]
    else:
        graph_in = helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, 1, inputs])
        nodes.append(helper.make_node("Identity", ["x"], ["x0"]))
    inits.append(_const("shape3", np.array([T, 1, d * hidden], np.int64)))
    layer_in, width = "x0", inputs
    for k in range(layers):
        inits += [_const(f"W{k}", rng.normal(size=(d, gates * hidden, width)).astype(np.float32)),
                  _const(f"R{k}", rng.normal(size=(d, gates * hidden, hidden)).astype(np.float32)),
                  _const(f"B{k}", rng.normal(size=(d, 2 * gates * hidden)).astype(np.float32))]
        extra = dict(attrs or {})
        if bidirectional:
            extra["direction"] = "bidirectional"
        node_outs = [f"Y{k}", f"Yh{k}"] + ([f"Yc{k}"] if op == "LSTM" else [])
        nodes.append(helper.make_node(op, [layer_in, f"W{k}", f"R{k}", f"B{k}"], node_outs,
                                      name=f"{op.lower()}{k}", hidden_size=hidden, **extra))
        nodes += [helper.make_node("Transpose", [f"Y{k}"], [f"Yt{k}"], perm=[0, 2, 1, 3]),
                  helper.make_node("Reshape", [f"Yt{k}", "shape3"], [f"Z{k}"])]
        shapes = [[T, d, 1, hidden], [d, 1, hidden], [d, 1, hidden]]
        outs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape)
                 for n, shape in zip(node_outs, shapes, strict=False)]
        layer_in, width = f"Z{k}", d * hidden
    top = d * hidden
    if head == "matmul":
        inits += [_const("Wo", rng.normal(size=(top, outputs)).astype(np.float32)),
                  _const("bo", rng.normal(size=(outputs,)).astype(np.float32)),
                  _const("shape2", np.array([T, top], np.int64))]
        nodes += [helper.make_node("Reshape", [layer_in, "shape2"], ["flat"]),
                  helper.make_node("MatMul", ["flat", "Wo"], ["mm"], name="head"),
                  helper.make_node("Add", ["mm", "bo"], ["out"], name="head_bias")]
    elif head == "gemm":
        inits += [_const("Wo", rng.normal(size=(outputs, top)).astype(np.float32)),
                  _const("bo", rng.normal(size=(outputs,)).astype(np.float32)),
                  _const("shape2", np.array([T, top], np.int64))]
        nodes += [helper.make_node("Reshape", [layer_in, "shape2"], ["flat"]),
                  helper.make_node("Gemm", ["flat", "Wo", "bo"], ["out"], transB=1, name="fc")]
    if head:
        outs.append(helper.make_tensor_value_info("out", TensorProto.FLOAT, [T, outputs]))
    graph = helper.make_graph(nodes, "rnn", [graph_in], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _run_both(model, tmp_path, vocab=None, inputs=3):
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path))
    rng = np.random.default_rng(1)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if vocab:
        ids = rng.integers(0, vocab, size=T)
        feed, xs = {"ids": ids}, ids
    else:
        x = rng.normal(size=(T, 1, inputs)).astype(np.float32)
        feed, xs = {"x": x}, x[:, 0]
    names = [o.name for o in session.get_outputs()]
    ref = dict(zip(names, session.run(None, feed), strict=True))
    return Model.load(path), xs, ref


CASES = {
    "rnn_relu": dict(op="RNN", attrs={"activations": ["Relu"]}),
    "lstm_emb_bi_2_matmul": dict(op="LSTM", layers=2, bidirectional=True, vocab=11,
                                 head="matmul"),
    "gru_before_reset_gemm": dict(op="GRU", head="gemm"),  # linear_before_reset=0: Cho's
    "gru_after_reset_2": dict(op="GRU", layers=2, attrs={"linear_before_reset": 1},
                              head="matmul"),
    "gru_before_bi": dict(op="GRU", bidirectional=True),
}
CELLS = {"rnn_relu": "rnn_relu", "lstm_emb_bi_2_matmul": "lstm",
         "gru_before_reset_gemm": "gru_cho", "gru_after_reset_2": "gru",
         "gru_before_bi": "gru_cho"}


@pytest.mark.parametrize("case", list(CASES))
def test_trace_matches_onnx_runtime(case, tmp_path):
    options = CASES[case]
    model, xs, ref = _run_both(build(**options), tmp_path, vocab=options.get("vocab"))
    assert model.spec.cell == CELLS[case]
    trace = model.trace(xs)
    for k in range(options.get("layers", 1)):
        y = ref[f"Y{k}"][:, :, 0]  # (T, D, H)
        for d, sfx in enumerate(["", "_reverse"][: y.shape[1]]):
            np.testing.assert_allclose(trace[f"h_l{k}{sfx}"], y[:, d], atol=ATOL, rtol=0)
            if f"Yc{k}" in ref:  # the cell state where each direction ends
                end = 0 if sfx else -1
                np.testing.assert_allclose(trace[f"c_l{k}{sfx}"][end], ref[f"Yc{k}"][d, 0],
                                           atol=ATOL, rtol=0)
    if "out" in ref:
        np.testing.assert_allclose(trace["output"], ref["out"], atol=ATOL, rtol=0)


def _one_line(path, pattern):
    with pytest.raises(RnnvizError, match=pattern) as err:
        read_model(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_unsupported_op_is_named(tmp_path):
    model = build("LSTM")
    model.graph.node.append(helper.make_node("Softmax", ["Z0"], ["p"], name="probs"))
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    _one_line(path, r"node 'probs' is a Softmax; rnnviz shows an optional Gather embedding")


def test_truncated_file_is_one_line(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(build("GRU", head="gemm"), str(path))
    path.write_bytes(path.read_bytes()[:200])
    _one_line(path, "not an ONNX model")


def test_wrong_head_shape_is_one_line(tmp_path):
    model = build("GRU", head="matmul")
    for i, t in enumerate(model.graph.initializer):
        if t.name == "Wo":
            model.graph.initializer[i].CopyFrom(_const("Wo", np.zeros((3, 2), np.float32)))
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    _one_line(path, r"the head's weight is \(2, 3\) as \(O, in\); expected \(O, 4\)")


def test_clip_is_refused(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(build("LSTM", attrs={"clip": 3.0}), str(path))
    _one_line(path, r"'lstm0' clips its pre-activations")


def test_a_preset_column_can_load_an_onnx_model(tmp_path):
    """The window's columns come from presets: ``weights`` may name any model format."""
    from rnnviz.files.preset_check import check_weights
    from rnnviz.files.presets import load_preset

    onnx.save(build("GRU", inputs=1, hidden=8, head="matmul", outputs=1), str(tmp_path / "m.onnx"))
    preset = tmp_path / "mine.toml"
    preset.write_text('title = "mine"\n[task]\nname = "sine"\nlength = 50\n'
                      '[[models]]\ncell = "gru_cho"\nhidden_size = 8\nweights = "m.onnx"\n')
    loaded = load_preset(preset)
    check_weights(loaded)
    model = loaded.models[0].build(1, 1)
    assert model.spec.cell == "gru_cho"
    np.testing.assert_array_equal(model.params["weight_ih_l0"].shape, (24, 1))
    preset.write_text(preset.read_text().replace('"gru_cho"', '"gru"'))
    with pytest.raises(RnnvizError, match=r"models\[0\]\.weights: expected gru, .* got "
                                          r"gru_cho, hidden 8"):
        check_weights(load_preset(preset))


def _with_torch_zero_states(model, value=0.0):
    """``model`` with each recurrent node's initial state made as ``torch.onnx.export``
    makes it: a ``(D, 1, H)`` constant broadcast by ``Expand`` to a shape computed from the
    node's input (``Shape``, ``Gather``, ``Unsqueeze``, ``Concat``)."""
    nodes = []
    for node in model.graph.node:
        if node.op_type in ("RNN", "LSTM", "GRU"):
            d = 2 if any(a.name == "direction" for a in node.attribute) else 1
            h = next(a.i for a in node.attribute if a.name == "hidden_size")
            p = node.name
            nodes += [
                helper.make_node("Constant", [], [f"{p}_zero"], value=numpy_helper.from_array(
                    np.full((d, 1, h), value, np.float32))),
                helper.make_node("Shape", [node.input[0]], [f"{p}_shape"]),
                helper.make_node("Constant", [], [f"{p}_one"],
                                 value=numpy_helper.from_array(np.array(1, np.int64))),
                helper.make_node("Gather", [f"{p}_shape", f"{p}_one"], [f"{p}_batch"]),
                helper.make_node("Constant", [], [f"{p}_ax"],
                                 value=numpy_helper.from_array(np.array([0], np.int64))),
                helper.make_node("Unsqueeze", [f"{p}_batch", f"{p}_ax"], [f"{p}_b1"]),
                helper.make_node("Constant", [], [f"{p}_dh"],
                                 value=numpy_helper.from_array(np.array([d, h], np.int64))),
                helper.make_node("Concat", [f"{p}_dh", f"{p}_b1"], [f"{p}_dhb"], axis=0),
                helper.make_node("Gather", [f"{p}_dhb", f"{p}_perm"], [f"{p}_to"]),
                helper.make_node("Expand", [f"{p}_zero", f"{p}_to"], [f"{p}_h0"])]
            model.graph.initializer.append(_const(f"{p}_perm", np.array([0, 2, 1], np.int64)))
            node.input.extend(["", f"{p}_h0"])
        nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    return model


def test_a_zero_state_broadcast_as_torch_exports_it(tmp_path):
    model = _with_torch_zero_states(build("GRU", layers=2, bidirectional=True, head="gemm",
                                          attrs={"linear_before_reset": 1}))
    loaded, xs, ref = _run_both(model, tmp_path)
    trace = loaded.trace(xs)
    np.testing.assert_allclose(trace["h_l1_reverse"], ref["Y1"][:, 1, 0], atol=ATOL, rtol=0)
    np.testing.assert_allclose(trace["output"], ref["out"], atol=ATOL, rtol=0)
    path = tmp_path / "warm.onnx"
    onnx.save(_with_torch_zero_states(build("GRU"), value=0.5), str(path))
    _one_line(path, r"'gru0' has a non-zero or computed initial_h")


def test_external_data_beside_the_model_is_read(tmp_path):
    """As ``torch.onnx.export`` saves a model: its tensors in ``model.onnx.data``."""
    model = build("LSTM", vocab=11, head="matmul")
    path = tmp_path / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="model.onnx.data",
              size_threshold=100)  # the weights; shape constants stay inline
    assert (tmp_path / "model.onnx.data").stat().st_size > 0
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ids = np.random.default_rng(2).integers(0, 11, size=T)
    out = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"ids": ids}),
                   strict=True))
    trace = Model.load(path).trace(ids)
    np.testing.assert_allclose(trace["h_l0"], out["Y0"][:, 0, 0], atol=ATOL, rtol=0)
    np.testing.assert_allclose(trace["output"], out["out"], atol=ATOL, rtol=0)
    (tmp_path / "model.onnx.data").write_bytes(b"\0" * 8)  # cut short
    _one_line(path, r"initializer '\w+': bytes \d+\.\.\d+ of model.onnx.data \(8 bytes\); "
                    r"expected a range inside it")


def test_external_data_outside_the_models_folder_is_refused(tmp_path):
    (tmp_path / "secret").write_bytes(b"\0" * 4096)
    inner = tmp_path / "inner"
    inner.mkdir()
    model = build("GRU")
    for tensor in model.graph.initializer:
        if tensor.name == "W0":
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            tensor.external_data.add(key="location", value="../secret")
    path = inner / "m.onnx"
    onnx.save(model, str(path))
    _one_line(path, r"initializer 'W0' names external data '../secret'; expected a file in "
                    r"the model's folder")
