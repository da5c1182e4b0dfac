"""A lesson in the window: the narration bar, a clicker's keys, questions answered by buttons and
by clicks on a plot, panel words that frame panels, authoring and the student view."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from tests_support import TINY_LESSON as LESSON

from rnnviz.files.lessons import TABS, Highlight
from rnnviz.files.presets import load_preset


@pytest.fixture
def lesson_path(tmp_path):
    path = tmp_path / "lesson.toml"
    path.write_text(LESSON)
    return path


def _click_step(qtbot, window, t):
    view = next(iter(window.views.values()))
    plot = view.input_plot
    scene = plot.getViewBox().mapViewToScene(pg.Point(t, 0.0))
    pos = view.canvas.mapFromScene(scene)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))


def _border(view, plot):
    pen = plot.getViewBox().border
    if pen is None or pen.style() == Qt.PenStyle.NoPen:
        return None
    return pen.color().name()


def test_a_clicker_runs_the_whole_lesson(make_window, wait_ready, qtbot, lesson_path):
    window = make_window(lesson_path)
    bar, lesson, state = window.lesson_bar, window.explorer.lesson, window.state
    assert bar.isVisible() and not lesson.active and "3 steps" in bar.narration.text()
    qtbot.keyClick(window, Qt.Key.Key_PageDown)  # the clicker's first press starts it
    assert lesson.index == 0 and bar.counter.text() == "1 of 3"
    assert not window.description.isVisible()  # the narration takes its place
    assert state.t == 5 and state.selection.name == "c"
    assert window.side.tab_name() == "trajectory"
    # the framed panels, each in its own colour, and only in the columns named
    rnn, lstm = (window.views[c.id] for c in state.columns)
    theme = window.theme
    assert _border(rnn, rnn.states["h"].plot) == theme.panel_colour("h").lower()
    assert _border(lstm, lstm.states["c"].plot) == theme.panel_colour("c").lower()
    assert _border(rnn, rnn.states["c"].plot) is None   # the RNN has no cell state
    assert 'href="panel:h"' in bar.narration.text()

    qtbot.keyClick(window, Qt.Key.Key_PageDown)         # step 2: plays 5..12
    assert lesson.index == 1 and window.time_controls.playing
    qtbot.waitUntil(lambda: not window.time_controls.playing, timeout=10_000)
    assert state.t == 12 and state.selection is None
    wait_ready(window)
    assert state.columns[0].config.init.spectral_radius == 2.0
    assert [b.text() for b in bar._choice_buttons] == ["RNN", "LSTM"]  # noqa: SLF001
    assert bar.next_button.text() == "Reveal ▶"
    qtbot.mouseClick(bar._choice_buttons[1], Qt.MouseButton.LeftButton)  # noqa: SLF001
    assert lesson.right() is False and "Not quite" in bar.feedback.text()
    assert "the answer is “RNN”" in bar.feedback.text()
    assert not any(b.isEnabled() for b in bar._choice_buttons)  # noqa: SLF001

    qtbot.keyClick(window, Qt.Key.Key_PageDown)         # step 3: click a step
    assert lesson.index == 2 and lesson.wants_step() and "click that step" in bar.ask.text()
    _click_step(qtbot, window, 11)
    assert lesson.right() is True and "Right." in bar.feedback.text() and state.t == 11
    assert not bar.next_button.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_PageDown)         # the end: nothing more
    assert lesson.index == 2
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert lesson.index == 1 and "Not quite" in bar.feedback.text()  # answers are kept
    qtbot.mouseClick(bar.leave_button, Qt.MouseButton.LeftButton)
    assert not lesson.active and window.description.isVisible()
    t = state.t
    qtbot.keyClick(window, Qt.Key.Key_PageDown)         # no lesson: the keys move in time
    assert state.t == t + 1
    qtbot.keyClick(window, Qt.Key.Key_F5)               # and it starts over
    assert lesson.index == 0 and lesson.replies == {}


def test_next_alone_reveals_each_question(make_window, qtbot, lesson_path):
    window = make_window(lesson_path)
    lesson, bar = window.explorer.lesson, window.lesson_bar
    lesson.start()
    for _ in range(2):
        qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert lesson.index == 1 and lesson.revealed() and lesson.right() is None
    assert "The answer:" in bar.feedback.text() and "“RNN”" in bar.feedback.text()
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert lesson.index == 2 and lesson.revealed() and window.state.t == 10  # shown where


def test_panel_words_frame_their_panel(make_window, lesson_path):
    window = make_window(lesson_path)
    bar, state = window.lesson_bar, window.state
    window.explorer.lesson.start()
    window.explorer.set_highlights(())
    lstm = window.views[state.columns[1].id]
    bar._on_link_hovered("panel:c")  # noqa: SLF001 (what QLabel's linkHovered sends)
    assert _border(lstm, lstm.states["c"].plot) == window.theme.panel_colour("c").lower()
    bar._on_link_hovered("")  # noqa: SLF001
    assert _border(lstm, lstm.states["c"].plot) is None
    bar._on_link_clicked("panel:grad")  # noqa: SLF001 (clicking keeps the frame)
    assert state.highlights == (Highlight("grad"),)
    assert _border(lstm, lstm.grad.plot) is not None
    bar._on_link_clicked("panel:grad")  # noqa: SLF001 (and again takes it away)
    assert state.highlights == ()


def test_record_reorder_save_and_reopen(make_window, qtbot, lesson_path, tmp_path):
    window = make_window(lesson_path)
    author, lesson, explorer = window.lesson_author, window.explorer.lesson, window.explorer
    author.set_authoring(True)
    assert author.dock.isVisible()
    lesson.start()
    explorer.set_cursor(30)
    explorer.select(window.state.columns[0].id, "h", 1)
    explorer.set_highlights([Highlight("output")])
    window.side.show_tab("weights")
    # a lesson can name every side tab: the lesson files' names are the tabs' own
    assert [window.side.tabText(i).lower() for i in range(window.side.count())] == list(TABS)
    author.text.setPlainText("Unit 1 of the {h:RNN} at step 30.")
    author.record()
    assert lesson.count == 4 and lesson.index == 1
    assert author.steps.count() == 4 and author.steps.currentRow() == 1
    author.text.setPlainText("Unit 1 of the {h:RNN}, at step 30.")  # edited in place
    assert lesson.steps[1].text == "Unit 1 of the {h:RNN}, at step 30."
    author.move(1)
    assert lesson.index == 2 and lesson.steps[2].step == 30
    steps = list(lesson.steps)
    out = tmp_path / "saved.toml"
    assert author.save(out)
    reopened = load_preset(out)
    assert reopened.lesson == tuple(steps)
    assert reopened.lesson[2].tab == "weights"
    assert reopened.lesson[2].select == (0, "h", 1, "l0")
    # and the window opens it with the same steps
    assert window.open_preset(out) and window.explorer.lesson.steps == steps


def test_the_student_view_hides_what_edits(make_window, lesson_path):
    window = make_window(lesson_path)
    author = window.lesson_author
    author.set_student_view(True)
    view = next(iter(window.views.values()))
    assert not window.add_action.isVisible() and not view.edit_button.isVisible()
    assert not window.sequence_tools.task_action.isVisible()
    assert not window.train_menu.menuAction().isVisible()
    assert window.lesson_bar.isVisible()  # the lesson and time still work
    window.explorer.add_column()  # a column added meanwhile follows the view
    new = window.views[window.state.columns[-1].id]
    assert not new.edit_button.isVisible()
    author.set_student_view(False)
    assert window.add_action.isVisible() and view.edit_button.isVisible()


def test_a_preset_without_lesson_has_no_bar(make_window, tmp_path):
    path = tmp_path / "plain.toml"
    path.write_text(LESSON.split("[[lesson]]")[0])
    window = make_window(path)
    assert not window.lesson_bar.isVisible() and window.description.isVisible()
