"""The one write path (``rnnviz.paths``): exactly the name given, atomically, nothing left
behind, every refusal one line naming the path; and the limits it and the readers share."""

import os
import stat

import numpy as np
import pytest

from rnnviz import RnnvizError
from rnnviz.core.trace import Trace
from rnnviz.errors import one_line
from rnnviz.limits import MAX_NESTING, nesting
from rnnviz.paths import atomic_file, check_destination, read_limited, write_bytes_atomic


def test_the_exact_name_is_written_whatever_its_suffix(tmp_path):
    trace = Trace(None, {"output": np.arange(6.0).reshape(3, 2)})
    for name in ("result", "result.npy", "result.NPZ"):
        trace.save_npz(tmp_path / name)
        with np.load(tmp_path / name, allow_pickle=False) as npz:
            np.testing.assert_array_equal(npz["output"], trace["output"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result", "result.NPZ", "result.npy"]


def _socket_file(folder, name: str):
    """A Unix socket file (a pipe would block a regression that opened it for writing)."""
    import socket

    here = os.getcwd()
    os.chdir(folder)  # bound by its relative name: a socket's path holds ~100 characters
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(name)  # the file stays when the socket closes
    finally:
        os.chdir(here)
    return folder / name


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p, "is a folder; expected a file name"),
    (lambda p: (p / "f").write_text("x") and p / "f" / "x.npz", "part of the path is a file"),
    (lambda p: "", "expected a file name, got an empty one"),
    (lambda p: f"{p}/nul\0.npz", "cannot hold a NUL character"),
    (lambda p: p / ("n" * 256), "(limit MAX_NAME_BYTES)"),
    (lambda p: p.joinpath(*["d" * 200] * 21, "x"), "(limit MAX_PATH_BYTES)"),
    (lambda p: f"{p}/folder/", "names a folder; expected a file name"),
    (lambda p: _socket_file(p, "socket"), "is not a regular file"),
    (lambda p: "/proc/rnnviz-test/x.npz", "/proc/rnnviz-test/x.npz: cannot write here"),
])
def test_destinations_that_cannot_be_written_get_one_line(tmp_path, make, message):
    path = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(RnnvizError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        check_destination(path)
    assert "\n" not in str(e.value)
    with pytest.raises(RnnvizError):
        write_bytes_atomic(path, b"data")
    assert sorted(tmp_path.rglob("*")) == before  # no probe, no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_new_folder(tmp_path):
    old = tmp_path / "keep.bin"
    old.write_bytes(b"old")
    with pytest.raises(ZeroDivisionError), atomic_file(old) as f:
        f.write(b"half")
        1 / 0  # noqa: B018 (a writer failing half way)
    assert old.read_bytes() == b"old"
    deep = tmp_path / "new" / "deeper" / "x.bin"
    with pytest.raises(ZeroDivisionError), atomic_file(deep):
        1 / 0  # noqa: B018
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin"]
    write_bytes_atomic(deep, b"new")  # missing folders are made when the write succeeds
    assert deep.read_bytes() == b"new"


def test_an_os_error_while_writing_is_one_line_naming_the_path(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(RnnvizError, match=r"x\.bin: cannot write: No space left on device"):
        write_bytes_atomic(tmp_path / "x.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_link_is_written_through_and_kept_and_modes_are_kept(tmp_path):
    target = tmp_path / "real.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_reading_is_bounded(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    with pytest.raises(RnnvizError, match=r"101 bytes; at most 100 \(limit SOME_LIMIT\)"):
        read_limited(path, 100, "SOME_LIMIT")
    assert read_limited(path, 101, "SOME_LIMIT") == b"x" * 101
    with pytest.raises(RnnvizError, match="cannot read: File name too long"):
        read_limited(tmp_path / ("n" * 300), 100, "SOME_LIMIT")


def test_messages_stay_on_one_line():
    assert one_line("a\nb\tc\x1b[31m\u2028\u202e\udcff é") == (
        "a\\nb\\tc\\x1b[31m\\u2028\\u202e\\udcff é")
    assert str(RnnvizError("file\nname: bad")) == "file\\nname: bad"


def test_nesting_is_measured_without_recursion():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting(deep) == MAX_NESTING + 1  # counted up to the limit and one more
    assert nesting({"a": [1, {"b": 2}]}) == 3 and nesting(5) == 0
