"""The one way rnnviz writes and reads files.

Writing: every file goes to exactly the path the user gave, atomically: the bytes are written
to a temporary file beside it (``.rnnviz-XXXXXXXX.tmp``), which then replaces the path in one
rename, so a failed or interrupted write leaves the old file as it was and nothing else
behind. A destination that cannot be written (an empty name, a name longer than the system
allows, a folder, a path under a file, a read-only or virtual file system such as ``/proc``)
is refused with one ``RnnvizError`` line naming it, and so is any ``OSError`` while writing.
``check_destination`` is the same check without writing, for commands that work a long time
before they write (``rnnviz train``, ``render``, ``export``): they call it first.

Reading: ``existing_file`` and ``read_limited`` turn a missing, unreadable or oversized file
(and an ``OSError`` such as a name too long) into one line, and never read more than a limit.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_NAME_BYTES, MAX_PATH_BYTES

TEMP_PREFIX = ".rnnviz-"  # temporary files and probes: short, so any allowed name fits


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import: os.umask is process-wide, not thread-safe


def _shown(path) -> str:
    return str(path) if str(path) else "''"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _stat(path: str) -> os.stat_result | None:
    """``os.stat(path)``, or None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


# -- writing -----------------------------------------------------------------------------------
def _check_name(text: str) -> None:
    if not text:
        raise RnnvizError("'': expected a file name, got an empty one")
    if "\0" in text:
        raise RnnvizError(f"{text!r}: a file name cannot hold a NUL character")
    raw = os.fsencode(text)
    if len(raw) > MAX_PATH_BYTES:
        raise RnnvizError(f"{text[:60]}...: the path is {len(raw)} bytes long; at most "
                          f"{MAX_PATH_BYTES} (limit MAX_PATH_BYTES)")
    for part in raw.split(b"/"):
        if len(part) > MAX_NAME_BYTES:
            raise RnnvizError(f"{text[:60]}...: a name in the path is {len(part)} bytes long; "
                              f"at most {MAX_NAME_BYTES} (limit MAX_NAME_BYTES)")
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise RnnvizError(f"{text}: names a folder; expected a file name")


def check_destination(path: str | os.PathLike) -> Path:
    """Check that a file can be written at ``path``, cheaply, before any work; return the file
    that will be replaced (``path`` itself, or the file a symbolic link at ``path`` points
    to, so that the link survives). One-line ``RnnvizError`` when it cannot.

    Checks the name (not empty, no NUL, ``MAX_NAME_BYTES``, ``MAX_PATH_BYTES``); that
    ``path`` is a regular file or nothing yet; that its nearest existing folder is a folder;
    and, by creating and removing a temporary entry there, that the file system lets us
    write (``/proc``, a read-only mount and a folder without permission all fail here)."""
    text = os.fsdecode(os.fspath(path)) if not isinstance(path, str) else path
    _check_name(text)
    target = Path(os.path.realpath(text)) if os.path.islink(text) else Path(text)
    try:
        info = _stat(str(target))
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise RnnvizError(f"{text}: is a folder; expected a file name")
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise RnnvizError(f"{text}: is not a regular file (a device or a pipe); "
                              f"expected a file name")
        folder = target.parent
        while (found := _stat(str(folder))) is None and folder != folder.parent:
            folder = folder.parent
        if found is not None and not stat.S_ISDIR(found.st_mode):
            raise RnnvizError(f"{text}: {folder} is a file, not a folder")
        if folder == target.parent:
            fd, probe = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX, suffix=".probe")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=folder, prefix=TEMP_PREFIX, suffix=".probe"))
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise RnnvizError(f"{text}: part of the path is a file, not a folder") from None
        raise RnnvizError(f"{text}: cannot write here: {_reason(exc)}") from None
    return target


def _make_folders(folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and any missing parents, appending each to ``made`` (deepest last)
    as soon as it exists, so that a failure half way still lists what to remove."""
    missing = []
    while _stat(str(folder)) is None and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for f in reversed(missing):
        os.mkdir(f)
        made.append(f)


def _temp_suffix(target: Path) -> str:
    """The temporary file's suffix: the target's, lower case (some writers pick a format by
    it, e.g. ffmpeg's .mp4), when it is short and plain."""
    suffix = target.suffix.lower()
    return suffix if 1 < len(suffix) <= 12 and suffix[1:].isalnum() else ".tmp"


@contextmanager
def atomic_path(path: str | os.PathLike):
    """``with atomic_path(path) as tmp:`` write to the ``Path`` ``tmp``; on success it
    replaces ``path`` in one rename; on failure nothing is left and ``path`` is unchanged.

    For writers that need a file name (ffmpeg, imageio); others use ``atomic_file``, which
    hands them an open file, so that no writer can add a suffix of its own (``numpy.savez``
    does to a name without ``.npz``). Missing parent folders are created (and removed again
    if the write fails). Any ``OSError`` becomes a one-line ``RnnvizError`` naming ``path``.
    """
    target = check_destination(path)
    shown = _shown(os.fspath(path))
    made: list[Path] = []
    tmp = None
    try:
        info = _stat(str(target))
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_UMASK
        _make_folders(target.parent, made)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX,
                                   suffix=_temp_suffix(target))
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, mode)  # mkstemp makes the file private (0600)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        if isinstance(exc, OSError):
            other = (f"{exc.filename}: " if exc.filename and exc.filename not in (tmp, str(target))
                     else "")  # another file the writer read, say
            raise RnnvizError(f"{shown}: cannot write: {other}{_reason(exc)}") from None
        raise


@contextmanager
def atomic_file(path: str | os.PathLike):
    """``with atomic_file(path) as f:`` write bytes to the open file ``f``; see
    ``atomic_path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        yield f


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_file(path) as f:
        f.write(data)


# -- reading -----------------------------------------------------------------------------------
def existing_file(path: str | os.PathLike, what: str = "") -> Path:
    """``path`` as a ``Path`` if it is an existing regular file; else one line (``what``, if
    given, says which file it was meant to be: ``(the input)``)."""
    text = os.fsdecode(os.fspath(path)) if not isinstance(path, str) else path
    tail = f" ({what})" if what else ""
    try:
        info = os.stat(text) if text and "\0" not in text else None
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as exc:
        raise RnnvizError(f"{_shown(text)}: cannot read{tail}: {_reason(exc)}") from None
    if info is None:
        raise RnnvizError(f"{_shown(text)}: no such file{tail}")
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise RnnvizError(f"{text}: is {kind}; expected a file{tail}")
    return Path(text)


def read_limited(path: str | os.PathLike, limit: int, limit_name: str, what: str = "") -> bytes:
    """The bytes of the regular file ``path``, refused with one line when it holds more than
    ``limit`` bytes (``limit_name`` is the constant in ``rnnviz.limits``)."""
    path = existing_file(path, what)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise RnnvizError(f"{path}: {size} bytes; at most {limit} (limit {limit_name})")
            data = f.read(limit + 1)
    except OSError as exc:
        raise RnnvizError(f"{path}: cannot read: {_reason(exc)}") from None
    if len(data) > limit:  # it grew while we read
        raise RnnvizError(f"{path}: more than {limit} bytes (limit {limit_name})")
    return data
