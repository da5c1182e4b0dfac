"""Damaged files, odd paths and sizes beyond the limits: every one gets status 0 or 2, and on
status 2 exactly one line ``rnnviz: error: ...`` on stderr, never a traceback; nothing that
existed is changed, and no temporary file is left behind.

A few hundred seeded cases (presets, CSV series, text corpora, weight files, input, target and
mask arrays, session files, output paths) run in one subprocess (``tests/fuzz_driver.py``)
whose address space is capped (``RLIMIT_AS``, ``CAP``), so that anything that allocates
without a bound fails as a ``MemoryError`` instead of slowing the machine; a few run as real
``rnnviz`` commands. Cases known to be wrong must fail, known-good ones must succeed; the
random mutations may do either, but only in one of those two ways.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomli_w
from numpy.lib import format as npy

SEED = 20261125
CAP = 4 << 30  # JAX with its CPU client runs in ~0.5 GiB of address space; 2 GiB also works
DRIVER = Path(__file__).with_name("fuzz_driver.py")
HERE = Path(__file__).resolve().parent.parent

BASE_PRESET = {
    "title": "Fuzz", "description": "a preset to break", "start_step": 2,
    "task": {"name": "sine", "length": 12, "seed": 0},
    "models": [{"cell": "gru", "hidden_size": 3, "num_layers": 1, "seed": 0,
                "init": {"recurrent": "orthogonal", "forget_bias": 1.0}}],
    "training": {"steps": 1, "batch_size": 2, "eval_batch": 2},
}
ODD_VALUES = [0, -1, 1, 7, 2**63 - 1, 2**63, -2**63, 10**9, 10**30, 1.5, math.nan, math.inf,
              -math.inf, 1e308, 1e-320, "", "x\ny", "\u202e", "lstm", True, [], [1, 2],
              [[[[1]]]], {}, {"a": 1}, "nope.safetensors", "h", "l1"]
PRESET_KEYS = [(), ("task",), ("models", 0), ("models", 0, "init"), ("training",)]


class Cases:
    """Files under ``root``, and the cases that read or write them."""

    def __init__(self, root: Path):
        self.root = root
        self.rng = random.Random(SEED)
        self.cases: list[dict] = []
        self.count = 0

    def name(self, stem: str, suffix: str = "") -> Path:
        self.count += 1
        return self.root / "in" / f"{stem}-{self.count}{suffix}"

    def out(self, suffix: str = ".npz") -> Path:
        self.count += 1
        return self.root / "out" / f"o-{self.count}{suffix}"

    def add(self, name: str, op: str = "cli", expect: str | None = None,
            outputs: tuple = (), **fields) -> None:
        """``expect``: "ok", "error" or None (either); ``outputs``: the files a success may
        create or replace (relative to root)."""
        relative = []
        for o in outputs:
            if isinstance(o, str) and o and not os.path.isabs(o):
                relative.append(o)
            elif Path(o).is_absolute() and Path(o).is_relative_to(self.root):
                relative.append(str(Path(o).relative_to(self.root)))
        self.cases.append({"name": name, "op": op, "expect": expect, "outputs": relative,
                           **fields})

    # -- files -----------------------------------------------------------------------------
    def write(self, path: Path, data: bytes | str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def npy_bytes(self, array) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array)  # pickles object arrays, which the readers must refuse
        return buffer.getvalue()

    def npy_header_only(self, shape, descr="<f4") -> bytes:
        """An .npy whose header declares ``shape`` and which holds 16 bytes of data."""
        buffer = io.BytesIO()
        npy.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False,
                                            "shape": shape})
        return buffer.getvalue() + b"\0" * 16


def _set(table: dict, path: tuple, key: str, value) -> None:
    for step in path:
        table = table[step]
    table[key] = value


def _toml(data: dict) -> str:
    return tomli_w.dumps(data)


def _deep(depth: int, kind: str) -> str:
    if kind == "toml":
        return "title = 'x'\nx = " + "[" * depth + "1" + "]" * depth + "\n"
    return "[" * depth + "]" * depth


# -- the cases ---------------------------------------------------------------------------------
def preset_cases(c: Cases) -> None:
    good = c.good_preset = c.write(c.name("good", ".toml"), _toml(BASE_PRESET))
    c.add("preset: good", argv=["check", str(good)], expect="ok")
    for _ in range(70):  # one odd value at one key
        data = json.loads(json.dumps(BASE_PRESET))
        where = c.rng.choice(PRESET_KEYS)
        table = data
        for step in where:
            table = table[step]
        key = c.rng.choice([*table.keys()] * 3 + [
            "zzz", "select", "weights", "label", "clip_norm", "chunk_steps", "eval_every",
            "noise", "frequencies", "spectral_radius", "recurrent"])
        value = c.rng.choice(ODD_VALUES)
        _set(data, where, key, value)
        try:
            text = _toml(data)
        except (TypeError, ValueError):
            continue
        path = c.write(c.name("preset", ".toml"), text)
        c.add(f"preset: {'.'.join(map(str, where))}.{key} = {value!r}", argv=["check", str(path)])
    for name, text, expect in [
        ("seed 2**63", _toml({**BASE_PRESET, "models": [{"cell": "gru", "seed": 2**63}]}),
         "error"),
        ("task seed -1", _toml({**BASE_PRESET, "task": {"name": "sine", "length": 12,
                                                        "seed": -1}}), "error"),
        ("batch 10**9", _toml({**BASE_PRESET, "training": {"batch_size": 10**9}}), "error"),
        ("batch values", _toml({**BASE_PRESET, "task": {"name": "sine", "length": 10000},
                                "models": [{"cell": "lstm", "hidden_size": 1024,
                                            "num_layers": 8}],
                                "training": {"batch_size": 4096}, "start_step": 0}), "error"),
        ("hidden 10**6", _toml({**BASE_PRESET, "models": [{"hidden_size": 10**6}]}), "error"),
        ("length 10**6", _toml({**BASE_PRESET, "task": {"name": "sine", "length": 10**6}}),
         "error"),
        ("toml nested 40", _deep(40, "toml"), "error"),
        ("toml nested 5000", _deep(5000, "toml"), "error"),
        ("toml int of 5000 digits", "title = 'x'\nstart_step = " + "9" * 5000 + "\n", "error"),
        ("toml not utf-8", b"title = '\xff\xfe'\n", "error"),
        ("toml too big", "# " + "x" * (1 << 20) + "\n", "error"),
        ("toml empty", "", "error"),
        ("toml garbage", bytes(range(256)) * 4, "error"),
    ]:
        path = c.write(c.name("preset", ".toml"), text)
        c.add(f"preset: {name}", argv=["check", str(path)], expect=expect)
    long_name = c.root / "in" / ("p" * 300 + ".toml")
    c.add("preset: a 300-character name", argv=["check", str(long_name)], expect="error")
    c.add("preset: a folder", argv=["check", str(c.root / "in")], expect="error")
    c.add("preset: newline in the name", argv=["check", str(c.root / "in" / "a\nb.toml")],
          expect="error")


def _csv_text(c: Cases) -> str:
    odd = ["1.5e308", "-1.7e308", "nan", "inf", "abc", "", "1e400", "0x10", "1_000", "١٢",
           "1e-320", " 3 ", "4;5", "\x00", "\"7\"", "1,5"]
    rows = [f"{c.rng.gauss(0, 1):.6g}" for _ in range(c.rng.choice([0, 5, 13, 40]))]
    for _ in range(c.rng.choice([0, 1, 3])):
        if rows:
            rows[c.rng.randrange(len(rows))] = c.rng.choice(odd)
    header = c.rng.choice(["", "value\n", "a,b\n", "\ufeffv\n", "x\ny\n"])
    sep = c.rng.choice(["\n", "\r\n", ";\n"])
    return header + sep.join(rows) + "\n"


def data_file_cases(c: Cases) -> None:
    for k in range(30):
        csv = c.write(c.name("series", ".csv"), _csv_text(c))
        column = c.rng.choice([0, 1, -1, "value", "a", "x\ny", 10**20])
        length = c.rng.choice([1, 5, 12, 12, 12, 10**6])
        data = {**BASE_PRESET, "start_step": 0,
                "task": {"name": "csv", "path": csv.name, "column": column, "length": length}}
        path = c.write(c.name("csvtask", ".toml"), _toml(data))
        c.add(f"csv {k}", argv=["check", str(path)])
    huge = c.write(c.name("huge", ".csv"), "v\n" + "\n".join(["1.5e308", "-1.7e308"] * 20))
    data = {**BASE_PRESET, "start_step": 0, "task": {"name": "csv", "path": huge.name,
                                                     "length": 12}}
    path = c.write(c.name("csvtask", ".toml"), _toml(data))
    c.add("csv values near the float limit", argv=["check", str(path)], expect="ok")
    for name, content in [("random bytes", bytes(c.rng.randrange(256) for _ in range(3000))),
                          ("300 distinct characters", "".join(map(chr, range(200, 500))) * 2),
                          ("short", "abc"), ("not utf-8", b"\xff" * 200)]:
        corpus = c.write(c.name("corpus", ".txt"), content)
        data = {**BASE_PRESET, "start_step": 0,
                "task": {"name": "text", "path": corpus.name, "length": 12}}
        path = c.write(c.name("texttask", ".toml"), _toml(data))
        c.add(f"text corpus: {name}", argv=["check", str(path)], expect="error")


def _lstm_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {"weight_ih_l0": rng.normal(size=(12, 2)), "weight_hh_l0": rng.normal(size=(12, 3)),
              "bias_ih_l0": rng.normal(size=12), "bias_hh_l0": rng.normal(size=12),
              "fc.weight": rng.normal(size=(1, 3)), "fc.bias": rng.normal(size=1)}
    return {k: v.astype(np.float32) for k, v in arrays.items()}


def _save_weights(c: Cases, arrays: dict, suffix: str) -> Path:
    path = c.name("weights", suffix)
    if suffix == ".safetensors":
        from safetensors.numpy import save

        try:
            return c.write(path, save(arrays))
        except Exception:  # noqa: BLE001 (a dtype safetensors cannot hold: use .npz)
            path = c.name("weights", ".npz")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return c.write(path, buffer.getvalue())


def weight_cases(c: Cases, good_input: Path) -> None:
    def trace(name, weights, expect=None):
        out = c.out()
        c.add(f"weights: {name}", argv=["trace", "--weights", str(weights), "--input",
                                        str(good_input), "--out", str(out), "--no-memory"],
              expect=expect, outputs=(out,))

    trace("good", _save_weights(c, _lstm_arrays(), ".safetensors"), "ok")
    mutations = [
        ("hidden 0", lambda a: a.update(weight_hh_l0=np.zeros((0, 0), np.float32),
                                        weight_ih_l0=np.zeros((0, 2), np.float32)), "error"),
        ("input 0", lambda a: a.update(weight_ih_l0=np.zeros((12, 0), np.float32)), "error"),
        ("no weight_ih_l0 beside layer 1", lambda a: a.update(
            weight_ih_l1=a.pop("weight_ih_l0")), "error"),
        ("0-output readout", lambda a: a.update(**{"fc.weight": np.zeros((0, 3), np.float32),
                                                   "fc.bias": np.zeros(0, np.float32)}),
         "error"),
        ("layer 99999999", lambda a: a.update(weight_ih_l99999999=a["weight_ih_l0"]), "error"),
        ("layer of 5000 digits", lambda a: a.update(**{"weight_ih_l" + "9" * 5000:
                                                       a["weight_ih_l0"]}), "error"),
        ("layer 8", lambda a: a.update(weight_ih_l8=a["weight_ih_l0"]), "error"),
        ("key with a newline", lambda a: a.update(**{"weight\nih": a["fc.bias"]}), "error"),
        ("strings", lambda a: a.update(weight_hh_l0=np.full((12, 3), "ab")), "error"),
        ("complex", lambda a: a.update(weight_hh_l0=a["weight_hh_l0"] * 1j), "error"),
        ("integers", lambda a: a.update(weight_hh_l0=np.ones((12, 3), np.int32)), "error"),
        ("scalar", lambda a: a.update(weight_hh_l0=np.float32(1)), "error"),
        ("3-D", lambda a: a.update(weight_hh_l0=np.zeros((12, 3, 1), np.float32)), "error"),
        ("hidden 2000", lambda a: a.update(weight_hh_l0=np.zeros((2000, 2000), np.float16)),
         "error"),
        ("float64", lambda a: a.update({k: v.astype(np.float64) for k, v in a.items()}),
         "ok"),
        ("NaN weights", lambda a: a["weight_hh_l0"].__setitem__((0, 0), np.nan), "ok"),
    ]
    for name, change, expect in mutations:
        arrays = _lstm_arrays()
        change(arrays)
        trace(name, _save_weights(c, arrays, c.rng.choice([".npz", ".safetensors"])), expect)
    for k in range(12):  # random drops and reshapes
        arrays = _lstm_arrays()
        key = c.rng.choice(sorted(arrays))
        if c.rng.random() < 0.5:
            del arrays[key]
        else:
            arrays[key] = np.zeros(c.rng.choice([(1,), (12, 2), (3, 3), (12, 3, 2)]), np.float32)
        trace(f"random {k}: {key}", _save_weights(c, arrays, ".npz"))

    good = io.BytesIO()
    np.savez(good, **_lstm_arrays())
    raw = good.getvalue()
    member = io.BytesIO()
    with zipfile.ZipFile(member, "w") as zf:
        for k, v in _lstm_arrays().items():
            zf.writestr(k + ".npy", c.npy_bytes(v))
        zf.writestr("notes.txt", "not an array")
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w") as zf:
        zf.writestr("weight_ih_l0.npy", c.npy_header_only((10**12,)))
    for name, data, suffix in [
        ("npz member not an array", member.getvalue(), ".npz"),
        ("npz header of 10**12 values", huge.getvalue(), ".npz"),
        ("npz truncated", raw[: len(raw) // 2], ".npz"),
        ("npz encrypted flag", _encrypted(raw), ".npz"),
        ("garbage", bytes(c.rng.randrange(256) for _ in range(500)), ".safetensors"),
        ("safetensors huge header", struct.pack("<Q", 2**62) + b"{}", ".safetensors"),
        ("safetensors lying header", struct.pack("<Q", 80) + json.dumps(
            {"w": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}
        ).encode().ljust(80) + b"\0" * 16, ".safetensors"),
        ("empty", b"", ".npz"),
        ("unknown suffix", raw, ".pt"),
        ("no suffix", raw, ""),
    ]:
        trace(name, c.write(c.name("weights", suffix), data), "error")
    trace("missing", c.root / "in" / "absent.safetensors", "error")
    trace("a folder", c.root / "in", "error")


def _encrypted(zip_bytes: bytes) -> bytes:
    """``zip_bytes`` with the "encrypted" flag set on every member (local and central
    headers)."""
    data = bytearray(zip_bytes)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 1
            start += 4
    return bytes(data)


def array_cases(c: Cases, weights: Path, good_input: Path) -> None:
    def trace(name, inputs=None, target=None, mask=None, loss=None, expect=None, extra=()):
        out = c.out()
        argv = ["trace", "--weights", str(weights), "--input", str(inputs or good_input),
                "--out", str(out), "--no-memory", *extra]
        for flag, value in (("--target", target), ("--mask", mask), ("--loss", loss)):
            if value is not None:
                argv += [flag, str(value)]
        c.add(f"arrays: {name}", argv=argv, expect=expect, outputs=(out,))

    def npy(array) -> Path:
        return c.write(c.name("array", ".npy"), c.npy_bytes(array))

    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 2)).astype(np.float32)
    bad_inputs = [
        ("complex input", x * (1 + 1j)), ("strings", np.full((12, 2), "1.0")),
        ("objects (pickled)", np.array([[{}, {}]] * 12, dtype=object)),
        ("NaN", np.where(np.eye(12, 2) > 0, np.nan, x)), ("Inf", x * np.inf),
        ("beyond float32", np.full((12, 2), 1e300)), ("no steps", np.zeros((0, 2))),
        ("wrong width", np.zeros((12, 3))), ("3-D", np.zeros((12, 2, 1))),
        ("1-D", np.zeros(12)), ("1,000,000 steps", np.zeros((1_000_000, 2), np.float32)),
        ("100001 steps", np.zeros((100_001, 2), np.float32)),
        ("records", np.zeros((12, 2), [("a", "<f4")])),
        ("dates", np.zeros((12, 2), "datetime64[s]")),
    ]
    for name, array in bad_inputs:
        trace(name, inputs=npy(array), expect="error")
    for name, array in [("bool", x > 0), ("int64", (x * 10).astype(np.int64)),
                        ("float16", x.astype(np.float16)), ("float64", x.astype(np.float64))]:
        trace(name, inputs=npy(array), expect="ok")
    for name, data, expect in [
        ("npy header of 10**12 values", c.npy_header_only((10**12,)), "error"),
        ("npy header of 10**6 x 10**6", c.npy_header_only((10**6, 10**6)), "error"),
        ("npy header beyond the file", c.npy_header_only((100, 2)), "error"),
        ("npy truncated", c.npy_bytes(x)[:90], "error"),
        ("npy version 9", b"\x93NUMPY\x09\x00" + c.npy_bytes(x)[8:], "error"),
        ("npy garbage", b"\x93NUMPY" + bytes(range(200)), "error"),
    ]:
        trace(name, inputs=c.write(c.name("array", ".npy"), data), expect=expect)
    for name, text, expect in [
        ("empty csv", "", "error"), ("ragged csv", "1,2\n3\n", "error"),
        ("words csv", "a,b\n1,2\n", "error"), ("complex csv", "1+2j,3\n", "error"),
        ("good csv", "\n".join("1,2" for _ in range(12)) + "\n", "ok"),
        ("huge csv value", "1e400,1\n" * 12, "error"),
        ("csv not utf-8", b"\xff\xfe,1\n", "error"),
    ]:
        trace(name, inputs=c.write(c.name("input", ".csv"), text), expect=expect)
    trace("unknown suffix", inputs=c.write(c.name("input", ".dat"), "1,2\n"), expect="error")

    y = rng.normal(size=(12, 1)).astype(np.float32)
    classes = np.zeros(12)
    targets = [
        ("good target", npy(y), None, None, "ok"),
        ("NaN target", npy(np.where(np.arange(12)[:, None] == 4, np.nan, y)), None, None,
         "error"),
        ("string target", npy(np.full((12, 1), "x")), None, None, "error"),
        ("complex target", npy(y * 1j), None, None, "error"),
        ("short target", npy(y[:11]), None, None, "error"),
        ("wide target", npy(np.zeros((12, 2))), None, None, "error"),
        ("class 0.7", npy(classes + 0.7), None, "xent", "error"),
        ("class -1", npy(classes - 1), None, "xent", "error"),
        ("class 1e20", npy(classes + 1e20), None, "xent", "error"),
        ("class NaN", npy(classes * np.nan), None, "xent", "error"),
        ("good classes", npy(classes.astype(np.int64)), None, "xent", "ok"),
        ("NaN mask", npy(y), npy(np.where(np.arange(12) == 3, np.nan, 1.0)), None, "error"),
        ("negative mask", npy(y), npy(-np.ones(12)), None, "error"),
        ("short mask", npy(y), npy(np.ones(11)), None, "error"),
        ("string mask", npy(y), npy(np.full(12, "1")), None, "error"),
        ("good mask", npy(y), npy(np.ones(12)), None, "ok"),
        ("mask without target", None, npy(np.ones(12)), None, "error"),
        ("mask of 10**12 values", npy(y), c.write(c.name("mask", ".npy"),
                                                  c.npy_header_only((10**12,))), None, "error"),
    ]
    for name, target, mask, loss, expect in targets:
        trace(name, target=target, mask=mask, loss=loss, expect=expect)


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy the zip ``src`` with ``change(name, data) -> data | None`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def session_cases(c: Cases, good: Path) -> None:
    c.add("session: good", op="session", path=str(good), expect="ok", outputs=("cache",))
    state = json.loads(zipfile.ZipFile(good).read("state.json"))

    def with_member(name: str, data, expect="error"):
        path = _rewrite(good, c.name("session", ".rnnviz"),
                        lambda n, d: (data if n == name else d))
        c.add(f"session: {name} changed ({str(data)[:40]!r})", op="session", path=str(path),
              expect=expect, outputs=("cache",))

    for key, value in [("t", -1), ("t", 10**9), ("t", "x"), ("t", True), ("t", 1.5),
                       ("version", 2), ("version", "1"), ("format", "zip"),
                       ("selection", {"column": -1, "name": "h", "index": 0}),
                       ("selection", {"column": True, "name": "h", "index": 0}),
                       ("selection", {"column": 0, "name": "h", "index": 2.0}),
                       ("selection", [0, "h", 0]), ("columns", [{"unit": ["l0"]}]),
                       ("columns", "l0"), ("target", "xent"), ("target", 3)]:
        with_member("state.json", json.dumps({**state, key: value}).encode())
    with_member("state.json", _deep(100_000, "json").encode())
    with_member("state.json", ('{"t": ' + "9" * 5000 + "}").encode())
    with_member("state.json", b"\xff\xfe")
    with_member("state.json", b" " * (2 << 20))
    with_member("preset.toml", _deep(3000, "toml").encode())
    with_member("preset.toml", b"title = 'x'\n")
    with_member("input.npy", c.npy_header_only((10**12,)))
    with_member("input.npy", c.npy_bytes(np.full((12, 1), "s")))
    with_member("input.npy", c.npy_bytes(np.zeros((12, 1), complex)))
    with_member("input.npy", c.npy_bytes(np.zeros((20_000, 1), np.float32)))
    with_member("input.npy", c.npy_bytes(np.array([[{}]] * 12, dtype=object)))
    with_member("input.npy", c.npy_bytes(np.full((12, 1), 1e300)))
    with_member("weights/0.safetensors", b"garbage")
    for name, values, mask in [("strings", np.full((12, 1), "x"), np.ones(12)),
                               ("NaN mask", np.zeros((12, 1)), np.full(12, np.nan)),
                               ("NaN values", np.full((12, 1), np.nan), np.ones(12))]:
        buffer = io.BytesIO()
        np.savez(buffer, values=values, mask=mask)
        path = _rewrite(good, c.name("session", ".rnnviz"), lambda n, d:
                        None if n == "target.npz" else d)
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("target.npz", buffer.getvalue())
        c.add(f"session: target {name}", op="session", path=str(path), expect="error",
              outputs=("cache",))

    raw = good.read_bytes()
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for k in range(300):
            zf.writestr(f"m{k}", b"")
    for name, data in [("encrypted", _encrypted(raw)), ("truncated", raw[: len(raw) // 3]),
                       ("not a zip", b"hello"), ("empty", b""), ("300 members", many.getvalue()),
                       ("huge declared size", _declared_size(raw, "input.npy", 2**40)),
                       ("unknown compression", _method(raw, "state.json", 99))]:
        path = c.write(c.name("session", ".rnnviz"), data)
        c.add(f"session: {name}", op="session", path=str(path), expect="error",
              outputs=("cache",))
    for k in range(10):  # flip random bytes
        data = bytearray(raw)
        for _ in range(c.rng.choice([1, 4, 16])):
            data[c.rng.randrange(len(data))] ^= 1 << c.rng.randrange(8)
        path = c.write(c.name("session", ".rnnviz"), bytes(data))
        c.add(f"session: flipped bits {k}", op="session", path=str(path), outputs=("cache",))


def _central(raw: bytes, member: str):
    """The offset of ``member``'s central directory header in the zip ``raw``."""
    start = 0
    while (start := raw.find(b"PK\x01\x02", start)) >= 0:
        name_length = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46: start + 46 + name_length] == member.encode():
            return start
        start += 4
    raise KeyError(member)


def _declared_size(raw: bytes, member: str, size: int) -> bytes:
    data = bytearray(raw)
    struct.pack_into("<I", data, _central(raw, member) + 24, min(size, 2**32 - 1))
    return bytes(data)


def _method(raw: bytes, member: str, method: int) -> bytes:
    data = bytearray(raw)
    struct.pack_into("<H", data, _central(raw, member) + 10, method)
    return bytes(data)


def output_cases(c: Cases, weights: Path, good_input: Path) -> None:
    out = c.root / "out"
    existing = c.write(out / "existing.npz", b"old bytes")
    folder = out / "a-folder"
    folder.mkdir()
    a_file = c.write(out / "a-file.txt", "x")
    target = c.write(out / "link-target.npz", b"old")
    (out / "link.npz").symlink_to(target)
    (out / "dangling.npz").symlink_to(out / "nowhere" / "gone.npz")
    special = _socket_file(out, "socket.npz")  # not a regular file (never /dev/null: a
    # regression would replace the system's, as root; never a pipe: writing to one blocks)
    paths = [
        ("no suffix", out / "result", "ok"), ("npy suffix", out / "result.npy", "ok"),
        ("upper-case NPZ", out / "result.NPZ", "ok"), ("new folders", out / "new/deep/r.npz",
                                                        "ok"),
        ("an existing file", existing, "ok"), ("through a link", out / "link.npz", "ok"),
        ("a dangling link", out / "dangling.npz", "ok"),
        ("a folder", folder, "error"), ("under a file", a_file / "x.npz", "error"),
        ("/proc", Path("/proc/rnnviz-fuzz/o.npz"), "error"),
        ("/sys", Path("/sys/rnnviz-fuzz.npz"), "error"),
        ("/proc/version", Path("/proc/version"), "error"),
        ("a socket", special, "error"),
        ("300 characters", out / ("n" * 300 + ".npz"), "error"),
        ("a long path", out / "/".join(["d" * 200] * 25) / "x.npz", "error"),
        ("empty", "", "error"), ("trailing slash", f"{out}/slash/", "error"),
        ("newline", out / "new\nline.npz", "ok"), ("undecodable byte", out / "x\udcff.npz",
                                                   "ok"),
        ("NUL", out / "nul\x00.npz", "error"),
    ]
    produced = {"ok": {}}
    for name, path, expect in paths:
        outputs = (path, target, out / "nowhere" / "gone.npz", out / "new")
        argv = ["trace", "--weights", str(weights), "--input", str(good_input), "--out",
                str(path), "--no-memory"]
        c.add(f"out: {name}", argv=argv, expect=expect, outputs=[o for o in outputs if o])
        if expect == "ok":
            produced["ok"][f"out: {name}"] = str(path)
    for kind, suffix in [("weights", ".safetensors"), ("weights", ".npz"), ("preset", ".toml"),
                         ("session", ".rnnviz"), ("trace_npz", ".npz"), ("trace_csv", ".csv")]:
        good = c.out(suffix)
        c.add(f"save {kind}: good", op="save", kind=kind, path=str(good), expect="ok",
              outputs=(good,))
        upper = c.out(suffix.upper())
        c.add(f"save {kind}: upper case", op="save", kind=kind, path=str(upper),
              expect="ok", outputs=(upper,))
        for name, path in [("a folder", folder), ("under a file", a_file / f"x{suffix}"),
                           ("/proc", f"/proc/rnnviz-fuzz/x{suffix}"), ("empty", ""),
                           ("300 characters", out / ("n" * 300 + suffix))]:
            c.add(f"save {kind}: {name}", op="save", kind=kind, path=str(path),
                  expect="error")
    for argv in (["train", "PRESET", "--out", "/proc/rnnviz-fuzz"],
                 ["train", "PRESET", "--out", str(folder), "--preset-out", str(a_file / "p")],
                 ["train", "PRESET", "--out", ""],
                 ["render", "sine", "--out", "/proc/rnnviz-fuzz/o.png"],
                 ["render", "sine", "--out", str(folder)],
                 ["render", "sine", "--out", "x.png", "--size", "10x10"],
                 ["render", "sine", "--out", "x.png", "--step", "many"],
                 ["export", "sine", "--gif", str(a_file / "x.gif")],
                 ["export", "sine", "--gif", "/proc/rnnviz-fuzz/x.gif"],
                 ["trace", "--weights"], ["--no-such-option"], ["check"]):
        argv = [str(c.good_preset) if a == "PRESET" else a for a in argv]
        c.add(f"command: {' '.join(argv)[:60]}", argv=argv, expect="error")
    return produced


def _socket_file(folder: Path, name: str) -> Path:
    """A Unix socket at ``folder / name`` (bound by its relative name: a socket's path may
    hold only ~100 characters)."""
    import socket

    here = os.getcwd()
    os.chdir(folder)
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(name)  # the file stays when the socket closes
    finally:
        os.chdir(here)
    return folder / name


# -- running -----------------------------------------------------------------------------------
def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def _one_error_line(stderr: str) -> bool:
    return (stderr.startswith("rnnviz: error: ") and stderr.endswith("\n")
            and stderr.count("\n") == 1 and "Traceback" not in stderr)


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory):
    from rnnviz.core.model import Model
    from rnnviz.files.presets import ModelConfig, Preset
    from rnnviz.files.session import Session, write_session
    from rnnviz.tasks import make_task

    root = tmp_path_factory.mktemp("fuzz")
    c = Cases(root)
    (root / "in").mkdir()
    (root / "out").mkdir()
    weights = c.root / "in" / "model.safetensors"
    Model.create("lstm", 2, 3, output_size=1, seed=0).save(weights)
    good_input = c.write(c.name("x", ".npy"), c.npy_bytes(
        np.random.default_rng(0).normal(size=(12, 2)).astype(np.float32)))
    config = ModelConfig("gru", 3)
    task = make_task("sine", length=12)
    xs, target = task.example(seed=0)
    session = root / "in" / "good.rnnviz"
    write_session(session, Session(Preset("s", "", "sine", {"length": 12}, (config,)), xs,
                                   target, [config.build(1, 1)], t=3))

    preset_cases(c)
    data_file_cases(c)
    weight_cases(c, good_input)
    array_cases(c, weights, good_input)
    session_cases(c, session)
    produced = output_cases(c, weights, good_input)

    before = _hashes(root)
    cases_file, results_file = root.parent / "cases.json", root.parent / "results.json"
    cases_file.write_text(json.dumps({"root": str(root), "cwd": str(root / "out"),
                                      "cache": str(root / "cache"), "cases": c.cases}))
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, str(DRIVER), str(cases_file), str(results_file),
                          str(CAP)], cwd=HERE, env=env, capture_output=True, text=True,
                         timeout=600)
    results = [json.loads(line) for line in results_file.read_text().splitlines()]
    if len(results) < len(c.cases):
        crashed = c.cases[len(results)]
        pytest.fail(f"the driver died (status {run.returncode}) in case {crashed['name']!r}: "
                    f"{crashed}\n{run.stderr[-2000:]}")
    c.driver_status = (run.returncode, run.stderr[-2000:])
    return c, results, before, produced


def test_every_case_exits_0_or_2_with_one_line(fuzz):
    c, results, _, _ = fuzz
    assert len(results) == len(c.cases) > 250
    problems = []
    for case, result in zip(c.cases, results, strict=True):
        code, err = result["code"], result["stderr"]
        if result["escaped"] is not None:
            problems.append(f"{case['name']}: escaped\n{result['escaped'][-1500:]}")
        elif code not in (0, 2):
            problems.append(f"{case['name']}: exit status {code!r}")
        elif code == 2 and not _one_error_line(err):
            problems.append(f"{case['name']}: stderr {err!r}")
        elif code == 0 and ("Traceback" in err or "rnnviz: error" in err):
            problems.append(f"{case['name']}: status 0 with stderr {err!r}")
        elif case["expect"] == "ok" and code != 0:
            problems.append(f"{case['name']}: expected success, got {err!r}")
        elif case["expect"] == "error" and code != 2:
            problems.append(f"{case['name']}: expected an error, got status {code}")
    assert not problems, "\n".join(problems)
    assert c.driver_status[0] == 0, c.driver_status  # and it ended well


def test_nothing_existing_changes_and_nothing_is_left_behind(fuzz):
    c, results, before, produced = fuzz
    problems = []
    for case, result in zip(c.cases, results, strict=True):
        allowed = case["outputs"] if result["code"] == 0 else []
        stray = [f for f in result["changed"]
                 if not any(f == o or f.startswith(o.rstrip("/") + "/") for o in allowed)]
        if stray:
            problems.append(f"{case['name']} (status {result['code']}) changed {stray}")
    assert not problems, "\n".join(problems)
    outputs = {o for case in c.cases for o in case["outputs"]}
    after = _hashes(c.root)
    for name, digest in before.items():
        if name not in outputs:
            assert after.get(name) == digest, f"{name} changed"
    leftovers = [p for p in c.root.rglob("*") if p.name.startswith(".")]
    assert not leftovers, leftovers


def test_outputs_are_written_at_exactly_the_name_given(fuzz):
    c, results, _, produced = fuzz
    by_name = {case["name"]: result for case, result in zip(c.cases, results, strict=True)}
    for name, path in produced["ok"].items():
        assert by_name[name]["code"] == 0, name
        with np.load(path, allow_pickle=False) as npz:  # a link is followed: it stays a link
            assert npz["output"].shape == (12, 1), name
    assert (c.root / "out" / "link.npz").is_symlink()
    assert not (c.root / "out" / "result.npz").exists()  # "result" is not renamed


def test_real_commands(tmp_path):
    """The installed entry point, as a user types it: no traceback, no abort."""
    model = tmp_path / "w.safetensors"
    from rnnviz.core.model import Model

    Model.create("gru", 2, 3, output_size=1, seed=0).save(model)
    np.save(tmp_path / "x.npy", np.zeros((12, 2), np.float32))
    preset = tmp_path / "tiny.toml"
    preset.write_text(tomli_w.dumps(BASE_PRESET))
    deep = tmp_path / "deep.toml"
    deep.write_text(_deep(5000, "toml"))
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "QT_QPA_PLATFORM": "offscreen"}
    commands = [
        (["trace", "--weights", str(model), "--input", str(tmp_path / "x.npy"), "--out",
          str(tmp_path / "result")], 0),
        (["check", str(deep)], 2),
        (["train", str(preset), "--steps", "1", "--out", str(tmp_path / "t.safetensors")], 0),
        (["render", "sine", "--out", "/proc/rnnviz-fuzz/o.png"], 2),
        (["render", "sine", "--out", str(tmp_path / "o.png"), "--size", "10x10"], 2),
    ]
    running = [(argv, code, subprocess.Popen(  # the driver caps memory, then runs rnnviz
        [sys.executable, str(DRIVER), "--exec", str(CAP), *argv], cwd=tmp_path, env=env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for argv, code in commands]
    for argv, code, process in running:
        out, err = process.communicate(timeout=300)
        assert process.returncode == code, (argv, err)
        if code == 2:
            assert _one_error_line(err), (argv, err)
        assert "Traceback" not in err, (argv, err)
    with np.load(tmp_path / "result", allow_pickle=False) as npz:
        assert npz["h"].shape == (12, 3)
    assert Model.load(tmp_path / "t.safetensors").spec.hidden_size == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "deep.toml", "result", "t.safetensors", "tiny.toml", "w.safetensors", "x.npy"]
