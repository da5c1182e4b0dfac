"""ONNX external data: initializers stored in a file beside the ``.onnx`` graph.

``torch.onnx.export`` (its default exporter since PyTorch 2.9) writes every tensor of more than
a few values to ``MODEL.onnx.data``, each initializer naming its ``location`` (a file name),
``offset`` and ``length`` in bytes. rnnviz reads those bytes itself, and only from a regular
file in the model's own folder (no absolute path, no ``..``, no link out of it), at most
``MAX_WEIGHTS_BYTES`` in all, checked before reading; the tensor then holds them as its
``raw_data``, as if it had been stored in the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import NoReturn

from rnnviz.limits import MAX_WEIGHTS_BYTES


def read_external(tensors, model_path: Path, fail: Callable[[str], NoReturn]) -> None:
    """Fill the external ``tensors`` (``onnx.TensorProto``) of the graph in ``model_path`` with
    their bytes, in place; ``fail`` (one line) on a location outside the model's folder, a
    missing file, a range past its end, or more than ``MAX_WEIGHTS_BYTES`` in all."""
    folder = model_path.resolve().parent
    total = 0
    for tensor in tensors:
        info = {entry.key: entry.value for entry in tensor.external_data}
        location = info.get("location", "")
        parts = PurePath(location).parts
        if not location or PurePath(location).is_absolute() or ".." in parts or "\0" in location:
            fail(f"initializer {tensor.name!r} names external data {location!r}; expected a "
                 f"file in the model's folder")
        source = (folder / location).resolve()
        if folder not in source.parents or not source.is_file():  # a link out: refused
            fail(f"initializer {tensor.name!r}: external data {location!r} is not a file in "
                 f"the model's folder")
        try:
            offset, size = int(info.get("offset", 0)), source.stat().st_size
            length = int(info["length"]) if "length" in info else size - offset
        except ValueError:
            fail(f"initializer {tensor.name!r}: external data offset/length are not numbers")
        if offset < 0 or length < 0 or offset + length > size:
            fail(f"initializer {tensor.name!r}: bytes {offset}..{offset + length} of "
                 f"{location} ({size} bytes); expected a range inside it")
        total += length
        if total > MAX_WEIGHTS_BYTES:
            fail(f"external data of more than {MAX_WEIGHTS_BYTES} bytes "
                 f"(limit MAX_WEIGHTS_BYTES)")
        with open(source, "rb") as f:
            f.seek(offset)
            data = f.read(length)
        tensor.raw_data = data
        tensor.data_location = 0  # onnx.TensorProto.DEFAULT: the bytes are in the tensor now
        del tensor.external_data[:]

