"""Writing frames ``(H, W, 3) uint8`` to an animated GIF or an MP4, one frame at a time.

GIF goes through imageio's Pillow plugin; each frame is reduced to its own 256-colour palette
as it arrives (one byte a pixel kept in memory until the file is closed). MP4 needs an ffmpeg
that imageio can find (the ``imageio-ffmpeg`` package, which brings one or honours
``IMAGEIO_FFMPEG_EXE``); ``find_ffmpeg`` says whether there is one and, if not, why.
The file appears only once complete (written beside it, then renamed).
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rnnviz.checks import number
from rnnviz.errors import RnnvizError
from rnnviz.paths import atomic_path

FORMATS = (".gif", ".mp4")
NO_FFMPEG = ("MP4 needs ffmpeg, and imageio finds none here: install the imageio-ffmpeg "
             "package (pip install imageio-ffmpeg), or export a GIF")


def find_ffmpeg() -> str | None:
    """The ffmpeg executable imageio would use, or None."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # the package is there but no executable was found
        return None


def check_animation_path(path: str | os.PathLike) -> Path:
    """``path`` if its suffix is .gif, or .mp4 with ffmpeg found; else one-line error."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise RnnvizError(f"{path}: expected a .gif or .mp4 file name")
    if suffix == ".mp4" and find_ffmpeg() is None:
        raise RnnvizError(f"{path}: {NO_FFMPEG}")
    return path


@contextmanager
def animation_writer(path: str | os.PathLike, fps: float):
    """``with animation_writer("out.gif", fps=10) as add: add(frame)`` for each frame."""
    path = check_animation_path(path)
    fps = number("fps", fps, 0.0, 60.0, open_lo=True)
    import imageio.v2 as iio2
    import imageio.v3 as iio

    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".gif":
            with iio.imopen(tmp, "w", plugin="pillow") as file:
                def add(frame: np.ndarray) -> None:
                    # bits=8: quantise now, so a frame costs one byte a pixel until closing
                    file.write(_rgb(frame), bits=8, duration=1000.0 / fps,  # type: ignore[call-arg]
                               loop=0)

                yield add
        else:
            with _quiet_fork():
                writer = iio2.get_writer(tmp, format="FFMPEG", mode="I", fps=fps,
                                         codec="libx264", pixelformat="yuv420p",
                                         macro_block_size=1, quality=8)
            try:
                def add(frame: np.ndarray) -> None:
                    frame = _rgb(frame)
                    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2  # yuv420p: even
                    with _quiet_fork():  # ffmpeg starts with the first frame
                        writer.append_data(np.ascontiguousarray(frame[:h, :w]))

                yield add
            finally:
                writer.close()


@contextmanager
def _quiet_fork():
    """JAX warns at any fork; starting ffmpeg forks and at once runs exec, which is safe."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "os.fork", RuntimeWarning)
        yield


def _rgb(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    return frame
