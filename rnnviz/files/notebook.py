"""The notebook API: open a user's model from a file or a live PyTorch module, and trace it.

    import rnnviz
    model = rnnviz.open_model("lstm.keras")            # or a .onnx, a state_dict, a module
    tr = rnnviz.trace(model, x, target=y)              # x: (T, I) array, or a data file
    tr["gate_f_l0"]                                    # (T, H) numpy: the forget gate

``rnnviz.trace`` takes what ``open_model`` takes, so ``rnnviz.trace("lstm.keras", x)`` works
too. A PyTorch module is read from its ``state_dict()`` (nothing is run): an ``nn.RNN``,
``nn.LSTM`` or ``nn.GRU``, or a module whose children are at most an ``nn.Embedding``, one of
those and an ``nn.Linear``, taken to run in that order (rnnviz cannot see ``forward``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.trace import Trace
from rnnviz.errors import RnnvizError
from rnnviz.files.model_data import read_inputs, read_target, vocabulary_beside
from rnnviz.files.models import load_model
from rnnviz.files.weights import infer_spec

_TORCH_CHILDREN = ("Embedding", "RNN", "LSTM", "GRU", "Linear", "Dropout")


def open_model(model: Any, *, cell: str | None = None) -> Model:
    """A ``Model`` from a file path (any format of ``rnnviz.files.models``), a PyTorch module
    or a ``Model`` (returned as is); ``cell`` picks the cell where the weights fit several
    (``"rnn_relu"``, ``"gru_cho"``)."""
    if isinstance(model, Model):
        return model
    if isinstance(model, (str, os.PathLike)):
        spec, params = load_model(model, cell=cell)
        return Model(spec, params)
    if hasattr(model, "state_dict") and hasattr(model, "named_modules"):
        return _from_torch(model, cell)
    raise RnnvizError(f"model: expected a file path, a PyTorch nn.Module or an rnnviz Model, "
                      f"got a {type(model).__name__}")


def _from_torch(module, cell: str | None) -> Model:
    """A Model from a live ``torch.nn`` module's state_dict (see the module docstring)."""
    kind = type(module).__name__
    children = [(n, type(c).__name__) for n, c in module.named_children()]
    if kind not in ("RNN", "LSTM", "GRU"):
        odd = [f"{n} ({k})" for n, k in children if k not in _TORCH_CHILDREN]
        if odd:
            raise RnnvizError(f"model: {kind} holds {', '.join(odd)}; rnnviz shows an "
                              f"nn.Embedding, an nn.RNN/LSTM/GRU and an nn.Linear head")
    relu = any(getattr(m, "nonlinearity", None) == "relu" for _, m in module.named_modules())
    arrays = {k: v.detach().cpu().float().numpy() for k, v in module.state_dict().items()}
    spec, params = infer_spec(arrays, cell_hints=(cell, "rnn_relu" if relu else None),
                              source=f"model ({kind})")
    return Model(spec, params)


def trace(model: Any, x: Any, target: Any = None, *, loss: str = "mse",
          columns: list[str | int] | None = None, vocab: str | os.PathLike | None = None,
          flow: bool = False, memory: bool = False) -> Trace:
    """Run ``model`` (what ``open_model`` takes) over ``x`` and return every gate, state and,
    with a ``target``, the loss and gradient arrays (``rnnviz.core.trace``), as numpy.

    ``x``: ``(T, input_size)`` values (``(T,)`` token ids for a model with an embedding), or a
    data file (``.npy``, ``.csv`` with ``columns`` chosen, ``.txt`` text through ``vocab`` or a
    vocabulary beside the model file). ``target``: ``(T, O)`` values for ``loss="mse"``,
    ``(T,)`` class indices for ``"xent"``, a ``Target``, or a ``.npy``/``.csv`` file.
    ``flow`` and ``memory`` add the ``(T, T)`` gradient-flow and memory matrices."""
    opened = open_model(model)
    if isinstance(x, (str, os.PathLike)):
        if vocab is None and isinstance(model, (str, os.PathLike)):
            vocab = vocabulary_beside(model)
        x = read_inputs(x, opened.spec, columns=columns, vocab=vocab)
    if target is not None and not isinstance(target, Target):
        values = read_target(target) if isinstance(target, (str, os.PathLike)) else target
        values = np.asarray(values)
        if loss == "xent" and values.ndim == 2 and values.shape[1] == 1:
            values = values[:, 0]
        target = Target(values, kind=loss)
    return opened.trace(x, target, flow=flow and target is not None, memory=memory)
