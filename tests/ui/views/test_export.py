"""Export from the window: every file is opened again and checked (pictures decode and are not
blank, the GIF has one frame per step, the trace reloads to the same numbers)."""

import csv
import xml.etree.ElementTree as ET

import imageio.v3 as iio
import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from rnnviz.ui.export import writers as export

from rnnviz.cli import main
from rnnviz.files.animation import NO_FFMPEG, find_ffmpeg


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, : w * 3].reshape(h, w, 3).copy()  # the image's memory goes with it


def _colours(pixels: np.ndarray) -> int:
    return len(np.unique(pixels.reshape(-1, 3), axis=0))


def _render_svg(path, width, height) -> np.ndarray:
    ET.parse(path)  # well-formed XML
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return _pixels(image)


def test_window_as_png_and_svg(make_window, tmp_path):
    window = make_window()
    png, svg = tmp_path / "w.png", tmp_path / "w.svg"
    assert window.share.window_to(png) and window.share.window_to(svg)
    shown = _pixels(QImage(str(png)))
    assert shown.shape[:2] == (window.height(), window.width())
    assert _colours(shown) > 500  # heatmaps, curves and text
    drawn = _render_svg(svg, window.width(), window.height())
    assert _colours(drawn) > 500
    # the SVG shows what the window shows: few pixels differ (text is drawn a little
    # differently, the status bar says "wrote w.png"); without the shade over the steps after
    # the cursor (its clip lost) 15% differ, and a plot out of place would move many more
    differ = np.abs(drawn.astype(int) - shown.astype(int)).max(axis=2) > 10
    assert differ.mean() < 0.06, differ.mean()


def test_one_panel_as_png_and_svg(make_window, tmp_path):
    window = make_window()
    column = window.state.columns[1]
    plot = window.views[column.id].named_plots()["h"]
    png, svg = tmp_path / "h.png", tmp_path / "h.svg"
    assert window.share.panel_to(column.id, "h", png)
    assert window.share.panel_to(column.id, "h", svg)
    image = QImage(str(png))
    rect = plot.sceneBoundingRect()
    assert (image.width(), image.height()) == (round(rect.width() * 4), round(rect.height() * 4))
    assert _colours(_pixels(image)) > 100  # the heatmap's many colours
    assert _colours(_render_svg(svg, round(rect.width()), round(rect.height()))) > 100
    assert not window.share.panel_to(column.id, "h", tmp_path / "h.jpg")
    assert "expected a file name ending in .png or .svg" in window.banner.text()


def test_trace_as_csv_and_npz(make_window, tmp_path):
    window = make_window()
    column = window.state.columns[1]
    assert window.share.trace_to(column.id, tmp_path / "t.csv")
    assert window.share.trace_to(column.id, tmp_path / "t.npz")
    with open(tmp_path / "t.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    table = np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1)
    trace = column.trace
    assert table.shape == (trace.steps, len(header))
    for j in range(16):
        np.testing.assert_array_equal(table[:, header.index(f"c_l0[{j}]")].astype(np.float32),
                                      trace["c_l0"][:, j])
    np.testing.assert_array_equal(table[:, header.index("loss")].astype(np.float32),
                                  trace["loss"])
    with np.load(tmp_path / "t.npz", allow_pickle=False) as npz:
        assert set(npz.files) == set(trace.arrays)
        for name in npz.files:
            np.testing.assert_array_equal(npz[name], trace[name])


@pytest.mark.filterwarnings("ignore:os.fork:RuntimeWarning")  # JAX, when ffmpeg reads
def test_animation_has_one_frame_per_step(make_window, tmp_path):
    window = make_window()
    before = window.state.t
    gif = tmp_path / "a.gif"
    assert window.share.animation_to(gif, 10, 13, 5.0)
    props = iio.improps(gif, plugin="pillow")
    size = window.grab().size()
    assert props.shape == (4, size.height(), size.width(), 3)
    frames = iio.imread(gif, index=None, plugin="pillow")
    assert _colours(frames[0]) > 50 and not np.array_equal(frames[0], frames[3])
    assert window.state.t == before  # the cursor is back where it was
    if find_ffmpeg() is None:  # MP4 is offered only where imageio finds ffmpeg
        assert not window.share.mp4_action.isEnabled()
        assert window.share.mp4_action.toolTip() == NO_FFMPEG
    else:
        import imageio.v2 as iio2

        mp4 = tmp_path / "a.mp4"
        assert window.share.animation_to(mp4, 0, 2, 5.0)
        assert iio2.get_reader(mp4).count_frames() == 3


def test_cancelled_animation_writes_nothing(make_window, tmp_path):
    window = make_window()
    before = window.state.t
    gif = tmp_path / "a.gif"
    with pytest.raises(export.Cancelled):
        export.export_animation(window, gif, 0, 9, 5.0, progress=lambda done, total: done < 2)
    assert list(tmp_path.iterdir()) == []
    assert window.state.t == before


def test_menu_entries_and_mp4_without_ffmpeg(qtbot, monkeypatch):
    import rnnviz.ui.export.share_menu
    from rnnviz.ui.window.main_window import MainWindow

    monkeypatch.setattr(rnnviz.ui.export.share_menu, "find_ffmpeg", lambda: None)
    window = MainWindow()
    qtbot.addWidget(window)
    texts = [a.text() for a in window.file_menu.actions() if a.text()]
    for entry in ("Export window as PNG/SVG…", "Export panel…", "Export trace as CSV/NPZ…",
                  "Export animation as GIF…", "Save session…", "Open session…"):
        assert entry in texts
    mp4 = window.share.mp4_action
    assert not mp4.isEnabled() and mp4.text().endswith("(needs ffmpeg)")
    assert "imageio-ffmpeg" in mp4.toolTip()
    window.close()


def test_export_command_writes_a_gif(qapp, tmp_path, capsys):
    out = tmp_path / "a.gif"
    assert main(["export", "sine", "--gif", str(out), "--from", "3", "--to", "6",
                 "--size", "960x600"]) == 0
    assert iio.improps(out, plugin="pillow").shape == (4, 600, 960, 3)
    assert f"wrote {out}: 4 frames" in capsys.readouterr().out


def test_export_command_bad_input_exits_2_with_one_line(tmp_path, capsys):
    out = tmp_path / "a.gif"
    cases = [
        (["--from", "5", "--to", "200"], "--from 5 --to 200: expected 0 <= from <= to <= 199"),
        (["--from", "9", "--to", "3"], "--from 9 --to 3: expected"),
        (["--fps", "0"], "--fps 0: expected a number in (0, 60]"),
    ]
    for extra, message in cases:
        assert main(["export", "sine", "--gif", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert main(["export", "no-such-preset", "--gif", str(out)]) == 2
    assert "no such preset" in capsys.readouterr().err
    assert main(["export", "sine"]) == 2
    assert "give --gif OUT.gif and/or --mp4 OUT.mp4" in capsys.readouterr().err
    assert main(["export", "sine", "--gif", str(tmp_path / "a.png")]) == 2
    assert "expected a file name ending in .gif" in capsys.readouterr().err
    assert not out.exists()


def test_menu_dialogs_pick_paths_and_numbers(make_window, tmp_path, monkeypatch):
    """The entries' dialogs only choose; what they choose reaches the files."""
    import rnnviz.ui.export.share_menu as share_menu
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    window = make_window()
    chosen = {}
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a: (str(chosen["path"]), chosen["filter"]))
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a: (a[3][chosen["item"]], True))

    chosen.update(path=tmp_path / "window", filter="SVG drawing (*.svg)")
    window.share.window_action.trigger()
    ET.parse(tmp_path / "window.svg")  # the filter's suffix was added

    chosen.update(path=tmp_path / "gate.png", filter="PNG image (*.png)", item=0)
    window.share.panel_action.trigger()
    assert QImage(str(tmp_path / "gate.png")).width() > 100

    chosen.update(path=tmp_path / "lstm", filter="CSV table (*.csv)", item=1)
    window.share.trace_action.trigger()
    header = (tmp_path / "lstm.csv").read_text().splitlines()[0]
    assert "c_l0[0]" in header  # the second column, the LSTM, has a cell state

    def fill(dialog):
        dialog.start.setValue(5)
        dialog.stop.setValue(7)
        dialog.fps.setValue(4)
        return True

    monkeypatch.setattr(share_menu.RangeDialog, "exec", fill)
    chosen.update(path=tmp_path / "steps", filter="GIF animation (*.gif)")
    window.share.gif_action.trigger()
    assert iio.improps(tmp_path / "steps.gif", plugin="pillow").n_images == 3
    assert iio.immeta(tmp_path / "steps.gif", plugin="pillow")["duration"] == 250

    chosen.update(path=tmp_path / "lesson", filter="rnnviz session (*.rnnviz)")
    window.share.save_action.trigger()
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a: (str(tmp_path / "lesson.rnnviz"), ""))
    window.explorer.set_cursor(3)
    window.share.open_action.trigger()
    assert window.state.t == window.state.preset.start_step == 60


def test_opening_a_bad_session_from_the_command_line(tmp_path, capsys):
    from rnnviz.ui.app import main as app_main

    bad = tmp_path / "bad.rnnviz"
    bad.write_text("not a zip")
    assert app_main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rnnviz: error: {bad}: not an rnnviz")


def test_cancel_in_the_progress_dialog(make_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QProgressDialog

    window = make_window()
    before = window.state.t
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: True)
    assert not window.share.animation_to(tmp_path / "a.gif", 0, 20, 5.0)
    assert list(tmp_path.iterdir()) == []
    assert window.statusBar().currentMessage() == "animation export cancelled; nothing written"
    assert window.state.t == before and not window.share.progress_dialog.isVisible()


def test_a_save_that_cannot_be_written_says_one_line_and_loses_nothing(make_window, tmp_path):
    """Every File menu save to a place that cannot be written: one line in the window, no
    file written or left behind, the window as it was (an animation does not even start)."""
    window = make_window()
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    (tmp_path / "t.csv").mkdir()
    before = window.state.t
    column = window.state.columns[0].id
    attempts = [
        (lambda: window.share.window_to(a_file / "w.png"), "part of the path is a file"),
        (lambda: window.share.trace_to(column, tmp_path / "t.csv"), "is a folder"),
        (lambda: window.share.save_session_to("/proc/rnnviz-test/s.rnnviz"), "cannot write"),
        (lambda: window.share.animation_to(a_file / "a.gif", 0, 5, 5.0),
         "part of the path is a file"),
        (lambda: window.training.save_preset(a_file / "p.toml"), "part of the path is a file"),
    ]
    for attempt, message in attempts:
        assert attempt() is False
        shown = window.statusBar().currentMessage()
        assert message in shown and "\n" not in shown and window.banner.isVisible(), shown
    assert window.state.t == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a-file.txt", "t.csv"]
