"""Opening a user's trained model from any format rnnviz reads, by the file's suffix.

=====================================  =====================================================
suffix                                 read by
=====================================  =====================================================
``.safetensors``, ``.npz``             ``rnnviz.files.weights`` (PyTorch's names)
``.pt``, ``.pth``                      ``rnnviz.files.weights`` through
                                       ``torch.load(weights_only=True)``, when PyTorch is
                                       installed
``.keras``, ``.weights.h5``            ``rnnviz.files.keras_files`` (h5py)
``.onnx``                              ``rnnviz.files.onnx_files`` (onnx)
=====================================  =====================================================

Every reader reads the file's arrays and structure without running any code from it, and
converges on rnnviz's ``ModelSpec`` and PyTorch-named parameters: an optional embedding, one
stack of RNN/LSTM/GRU layers and an optional linear head. Anything else in a file is one
``RnnvizError`` line saying what was found and what rnnviz shows.
"""

from __future__ import annotations

import os

import jax.numpy as jnp

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.paths import existing_file

STATE_DICT_SUFFIXES = (".safetensors", ".npz", ".pt", ".pth")
MODEL_SUFFIXES = (*STATE_DICT_SUFFIXES, ".keras", ".h5", ".onnx")
FILE_FILTER = "Models (*.safetensors *.npz *.pt *.pth *.keras *.h5 *.onnx)"


def read_model(path: str | os.PathLike, *, cell: str | None = None
               ) -> tuple[ModelSpec, dict]:
    """``(spec, params)`` of the model in ``path``, params as numpy arrays in the model's
    dtype; ``cell`` picks the cell where a file fits several (``rnn_relu``, ``gru_cho``)."""
    path = existing_file(path, "the model")
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5"):
        from rnnviz.files.keras_files import read_keras

        return read_keras(path, cell=cell)
    if suffix == ".onnx":
        from rnnviz.files.onnx_files import read_onnx

        return read_onnx(path, cell=cell)
    if suffix in STATE_DICT_SUFFIXES:
        from rnnviz.files.weights import infer_spec, read_arrays

        arrays, meta = read_arrays(path)
        return infer_spec(arrays, cell_hints=(cell, meta.get("cell")), source=str(path))
    raise RnnvizError(f"{path}: unknown model format {suffix or '(none)'}: expected one of "
                      f"{', '.join(MODEL_SUFFIXES)}")


def load_model(path: str | os.PathLike, *, cell: str | None = None
               ) -> tuple[ModelSpec, dict]:
    """``read_model`` with the parameters as JAX arrays."""
    spec, params = read_model(path, cell=cell)
    return spec, {k: jnp.asarray(v) for k, v in params.items()}
