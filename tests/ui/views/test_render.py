"""``rnnviz render``: the window drawn offscreen to a PNG, and its one-line errors."""

import numpy as np
from PySide6.QtGui import QImage

from rnnviz.cli import main


def test_render_writes_a_picture_of_the_window(qapp, tmp_path):
    out = tmp_path / "shot.png"
    assert main(["render", "sine", "--step", "12", "--out", str(out), "--size", "1000x700"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 700)
    pixels = np.frombuffer(image.convertToFormat(QImage.Format.Format_RGB32).constBits(),
                           np.uint32)
    assert len(np.unique(pixels)) > 500  # heatmaps, curves and text: not a blank window


def test_step_out_of_range_exits_2_with_one_line(tmp_path, capsys):
    out = tmp_path / "shot.png"
    assert main(["render", "sine", "--step", "200", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--step 200 is out of range" in err and "0..199" in err
    assert not out.exists()


def test_bad_preset_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 'x'\n[task]\nname = 'sine'\nlength = -3\n[[models]]\n")
    assert main(["render", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rnnviz: error: {bad}: task.length")
    assert main(["render", "no-such-preset", "--out", str(tmp_path / "x.png")]) == 2
    assert "no such preset" in capsys.readouterr().err


def test_a_failure_after_the_window_opened_stops_its_threads(tmp_path, capsys, monkeypatch):
    """The window's worker threads end before render returns, also when drawing fails (a
    running QThread destroyed at exit aborts the process); the fixture checks none is left."""
    import rnnviz.ui.render

    from rnnviz.errors import RnnvizError

    def not_ready(app, window, timeout=0):
        raise RnnvizError("the window was not ready after 0 s")

    monkeypatch.setattr(rnnviz.ui.render, "wait_until_ready", not_ready)
    out = tmp_path / "shot.png"
    assert main(["render", "sine", "--out", str(out)]) == 2
    assert capsys.readouterr().err == "rnnviz: error: the window was not ready after 0 s\n"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_tab_is_refused_before_any_window(tmp_path, capsys, monkeypatch):
    import rnnviz.ui.window.main_window

    def no_window(*args, **kwargs):
        raise AssertionError("a window was made")

    monkeypatch.setattr(rnnviz.ui.window.main_window, "MainWindow", no_window)
    assert main(["render", "sine", "--tab", "nope", "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == ("rnnviz: error: --tab 'nope': the side tabs are Unit, "
                                       "Trajectory, Weights, Flow map\n")


def test_the_offscreen_platform_note_is_dropped_and_other_messages_kept(qapp, capsys):
    """Qt's "does not support propagateSizeHints()" would stand before render's one line."""
    from PySide6.QtCore import qWarning
    from rnnviz.ui.qt_messages import PLATFORM_NOTES, platform_notes_dropped

    with platform_notes_dropped():
        qWarning(PLATFORM_NOTES[0])
        qWarning("something else")
    assert capsys.readouterr().err == "something else\n"


def test_no_display_and_a_bad_preset_is_one_line(tmp_path, capsys, monkeypatch):
    import rnnviz.ui.app

    monkeypatch.setattr(rnnviz.ui.app, "_has_display", lambda: False)
    monkeypatch.chdir(tmp_path)
    assert rnnviz.ui.app.main(["missing.toml"]) == 2
    assert capsys.readouterr().err == "rnnviz: error: missing.toml: no such file\n"
    assert list(tmp_path.iterdir()) == []
    # a session (a zip) is not read as a preset's TOML: it needs the window
    import zipfile

    with zipfile.ZipFile(tmp_path / "s.rnnviz", "w") as zf:
        zf.writestr("state.json", "{}")
    assert main(["render", "s.rnnviz", "--out", "x.png"]) == 2
    assert capsys.readouterr().err == (
        "rnnviz: error: s.rnnviz: a zip file (a saved session?), not a preset's TOML; a "
        "session opens in the window: rnnviz FILE.rnnviz\n")
    assert rnnviz.ui.app.main(["s.rnnviz"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnviz: error: s.rnnviz: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.rnnviz"]
