"""Arrays from files and from users, checked before they are allocated and before they are used.

``.npy`` and ``.npz`` files are read with ``numpy.lib.format`` after their headers have been
checked: an array must not need pickle, must hold at most a given number of values
(``rnnviz.limits.MAX_ARRAY_VALUES`` by default), and its header must not declare more data
than the file holds (a header claiming 10**12 values would otherwise make numpy allocate them
before noticing). An ``.npz`` (a zip) may hold only ``.npy`` members, unencrypted, at most
``MAX_MEMBERS`` of them. ``real_array`` accepts booleans, integers and floats and refuses
complex numbers (whose imaginary part a cast would drop), text, dates and Python objects.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from typing import IO

import numpy as np
from numpy.lib import format as npy

from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_ARRAY_VALUES, MAX_MEMBERS
from rnnviz.paths import existing_file

# what can go wrong inside a damaged zip or .npy: bad CRC or deflate data, a truncated file,
# an unknown compression method, an encrypted member, a header numpy cannot parse
READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError,
               NotImplementedError, SyntaxError)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_header(f: IO[bytes], size: int, source: str, max_values: int) -> None:
    """Read an ``.npy`` header from ``f`` (at its start; ``size`` bytes in all) and refuse
    what cannot or should not be loaded."""
    version = npy.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = npy.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = npy.read_array_header_2_0(f)
    else:
        raise RnnvizError(f"{source}: .npy format version {version[0]}.{version[1]} is not "
                          f"read here; expected 1.0 or 2.0 (what numpy.save writes)")
    if dtype.hasobject:
        raise RnnvizError(f"{source}: holds Python objects, which only pickle can read; "
                          f"expected numbers")
    values = math.prod(shape)
    if values > max_values:
        raise RnnvizError(f"{source}: an array of shape {shape} holds {values} values; at most "
                          f"{max_values} (limit MAX_ARRAY_VALUES)")
    data = values * dtype.itemsize
    if data > size - f.tell():
        raise RnnvizError(f"{source}: the header declares {data} bytes of data for shape "
                          f"{shape}, the file holds {max(0, size - f.tell())}")


def read_npy(path, what: str = "", *, max_values: int = MAX_ARRAY_VALUES) -> np.ndarray:
    """The array in the ``.npy`` file ``path`` (header checked first), else one line."""
    path = existing_file(path, what)
    try:
        with open(path, "rb") as f:
            _check_header(f, path.stat().st_size, str(path), max_values)
            f.seek(0)
            return npy.read_array(f, allow_pickle=False)
    except RnnvizError:
        raise
    except READ_ERRORS as exc:
        raise RnnvizError(f"{path}: not a readable .npy file ({first_line(exc)})") from None


def npy_from_bytes(data: bytes, source: str, *, max_values: int = MAX_ARRAY_VALUES
                   ) -> np.ndarray:
    """The array in ``.npy`` bytes (a zip member, say), header checked first."""
    try:
        _check_header(io.BytesIO(data), len(data), source, max_values)
        return npy.read_array(io.BytesIO(data), allow_pickle=False)
    except RnnvizError:
        raise
    except READ_ERRORS as exc:
        raise RnnvizError(f"{source}: not a numpy array ({first_line(exc)})") from None


def read_npz(file, source: str, *, max_values: int = MAX_ARRAY_VALUES,
             max_bytes: int | None = None, limit_name: str = "") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (a path or a binary file object), by name, each header
    checked before its data is read; ``max_bytes`` bounds the members' declared sizes
    together (``limit_name`` names that limit)."""
    try:
        with zipfile.ZipFile(file) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise RnnvizError(f"{source}: holds {len(infos)} members; at most "
                                  f"{MAX_MEMBERS} (limit MAX_MEMBERS)")
            total = sum(info.file_size for info in infos)
            if max_bytes is not None and total > max_bytes:
                raise RnnvizError(f"{source}: its arrays take {total} bytes; at most "
                                  f"{max_bytes} (limit {limit_name})")
            arrays = {}
            for info in infos:
                member = f"{source}:{info.filename}"
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise RnnvizError(f"{source}: member {info.filename!r} is not an array "
                                      f"(expected only .npy members)")
                if info.flag_bits & 0x1:
                    raise RnnvizError(f"{member}: is encrypted; expected a plain .npz")
                with zf.open(info) as f:
                    _check_header(f, info.file_size, member, max_values)
                with zf.open(info) as f:
                    arrays[info.filename[:-4]] = npy.read_array(f, allow_pickle=False)
            return arrays
    except RnnvizError:
        raise
    except READ_ERRORS as exc:
        raise RnnvizError(f"{source}: not a readable .npz file ({first_line(exc)})") from None


_KINDS = {"c": "complex numbers (a cast would drop the imaginary part)", "U": "text",
          "S": "bytes", "O": "Python objects", "V": "records", "M": "dates", "m": "durations"}


def real_array(values, source: str) -> np.ndarray:
    """``values`` as a numpy array of real numbers (booleans, integers or floats), else one
    line naming ``source``."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError) as exc:  # ragged lists, say
        raise RnnvizError(f"{source}: expected an array of numbers ({first_line(exc)})"
                          ) from None
    if array.dtype.kind not in "biuf":
        raise RnnvizError(f"{source}: expected real numbers, got "
                          f"{_KINDS.get(array.dtype.kind, str(array.dtype))} ({array.dtype})")
    return array


def finite_as(array: np.ndarray, dtype, source: str) -> np.ndarray:
    """``array`` cast to ``dtype``, refused with one line (naming the first bad step) when it
    holds NaN or Inf, or values beyond the range of ``dtype``."""
    with np.errstate(over="ignore", invalid="ignore"):  # found below, said in one line
        cast = np.asarray(array).astype(dtype)
    bad = ~np.isfinite(cast)
    if np.any(bad):
        where = np.argwhere(bad)[0]
        value = np.asarray(array)[tuple(where)]
        why = ("NaN or Inf" if not np.isfinite(value)
               else f"a value beyond the range of {np.dtype(dtype).name}")
        at = f"first at step {int(where[0])}: " if cast.ndim else ""
        raise RnnvizError(f"{source}: holds {why} ({at}{float(value):g})")
    return cast
