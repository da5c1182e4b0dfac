"""Animation files: a GIF holds one frame per step, and MP4 says when it cannot be written."""

import imageio.v3 as iio
import numpy as np
import pytest

from rnnviz import RnnvizError
from rnnviz.files.animation import animation_writer, find_ffmpeg


def _frames(n, h=30, w=40):
    frames = []
    for k in range(n):
        frame = np.full((h, w, 3), 255, np.uint8)
        frame[:, 4 * k: 4 * k + 4] = (200, 30 * k % 256, 0)  # a bar moving right
        frames.append(frame)
    return frames


def test_gif_has_every_frame(tmp_path):
    path = tmp_path / "a.gif"
    with animation_writer(path, fps=5) as add:
        for frame in _frames(7):
            add(frame)
    assert iio.improps(path, plugin="pillow").shape == (7, 30, 40, 3)
    back = iio.imread(path, index=None, plugin="pillow")
    assert back.shape == (7, 30, 40, 3)
    for k, frame in enumerate(_frames(7)):  # few colours: the palette keeps them exactly
        np.testing.assert_array_equal(back[k], frame)
    assert iio.immeta(path, plugin="pillow")["duration"] == 200


def test_failure_midway_writes_nothing(tmp_path):
    path = tmp_path / "a.gif"
    with pytest.raises(KeyboardInterrupt), animation_writer(path, fps=5) as add:
        add(_frames(1)[0])
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_bad_names_and_rates(tmp_path):
    with pytest.raises(RnnvizError, match="expected a .gif or .mp4"):
        with animation_writer(tmp_path / "a.avi", fps=5):
            pass
    with pytest.raises(RnnvizError, match=r"fps: expected a number in \(0, 60\]"):
        with animation_writer(tmp_path / "a.gif", fps=0):
            pass


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # JAX, when ffmpeg starts
def test_mp4_is_written_where_ffmpeg_is_found_else_refused(tmp_path):
    path = tmp_path / "a.mp4"
    if find_ffmpeg() is None:
        # the one branch that depends on the machine: without ffmpeg, a clear refusal
        with pytest.raises(RnnvizError, match="MP4 needs ffmpeg.*imageio-ffmpeg"):
            with animation_writer(path, fps=5):
                pass
        assert not path.exists()
        return
    with animation_writer(path, fps=5) as add:
        for frame in _frames(6, 31, 41):  # odd sizes are cut to even ones for yuv420p
            add(frame)
    import imageio.v2 as iio2

    reader = iio2.get_reader(path)
    assert reader.count_frames() == 6 and reader.get_meta_data()["size"] == (40, 30)
