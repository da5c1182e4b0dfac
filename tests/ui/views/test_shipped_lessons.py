"""Every shipped lesson, walked in the window as a clicker runs it: PageDown from the first step
to the last, each question answered wrong on the first walk and right on the second (F5 starts
over), and at every step the cursor, selection, framed panels and side tab the step asks for.
One window per preset; no step trains, so a walk costs a few seconds."""

from html import escape

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from rnnviz.files.presets import load_preset, shipped_presets

NAMES = [name for name, _ in shipped_presets()]


def test_every_shipped_preset_is_a_lesson():
    for name in NAMES:
        steps = load_preset(name).lesson
        assert 5 <= len(steps) <= 10, name
        assert any(step.question is not None for step in steps), name
        assert all(step.question is None or step.question.why for step in steps), name
        assert not any(step.train for step in steps), name  # a lesson a class runs at once


def _border(plot):
    pen = plot.getViewBox().border
    if pen is None or pen.style() == Qt.PenStyle.NoPen:
        return None
    return pen.color().name()


def _click_step(qtbot, window, t):
    view = next(iter(window.views.values()))
    scene = view.input_plot.getViewBox().mapViewToScene(pg.Point(t, 0.0))
    pos = view.canvas.mapFromScene(scene)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))


def _check_step(window, qtbot, step, selected):
    """What ``step`` asks for is on screen; returns the selection it leaves."""
    state, theme = window.state, window.theme
    # a step that changes a column (or a restart that changes it back) frames the column's
    # panels once its new trace has come
    qtbot.waitUntil(lambda: all(c.ready for c in state.columns), timeout=120_000)
    if step.play is not None:
        qtbot.waitUntil(lambda: not window.time_controls.playing, timeout=20_000)
    if step.cursor is not None:
        assert state.t == step.cursor
    if step.select is not None:
        k, row, unit, _ = step.select
        selected = (state.columns[k].id, row, unit)
    elif step.clear:
        selected = None
    now = state.selection
    assert (now.column, now.name, now.index) == selected if selected else now is None
    assert state.highlights == step.highlight
    if step.tab is not None:
        assert window.side.tab_name() == step.tab
    for highlight in step.highlight:
        named = highlight.models or range(len(state.columns))
        framed = 0
        for k, column in enumerate(state.columns):
            view = window.views[column.id]
            plots = view.panel_plots(highlight.panel)
            if k in named:
                assert all(_border(p) == theme.panel_colour(highlight.panel).lower()
                           for p in plots), (highlight, k)
                framed += len(plots)
            elif not any(h.panel == highlight.panel and (h.models is None or k in h.models)
                         for h in step.highlight):
                assert all(_border(p) is None for p in plots), (highlight, k)
        assert framed > 0, f"{highlight} frames no panel that a column has"
    return selected


def _answer(qtbot, window, question, right):
    bar, lesson = window.lesson_bar, window.explorer.lesson
    assert not lesson.revealed() and escape(question.ask) in bar.ask.text()
    if question.steps is not None:
        lo, hi = question.steps
        length = window.state.steps
        wrong = lo - 3 if lo >= 3 else min(hi + 3, length - 1)
        _click_step(qtbot, window, (lo + hi) // 2 if right else wrong)
    else:
        k = question.answer if right else (question.answer + 1) % len(question.choices)
        assert [b.text() for b in bar._choice_buttons] == list(question.choices)  # noqa: SLF001
        qtbot.mouseClick(bar._choice_buttons[k], Qt.MouseButton.LeftButton)  # noqa: SLF001
    assert lesson.revealed() and lesson.right() is right
    feedback = bar.feedback.text()
    assert ("Right." in feedback) if right else ("Not quite" in feedback
                                                 and "the answer is" in feedback)
    word = next(w for w in question.why.split() if w.isalpha() and len(w) > 3)
    assert word in feedback  # and why


def _clicker(qtbot, window, key):
    """A clicker's key, sent to the active window. (Offscreen, a widget deleted or hidden while
    it has the keyboard focus, such as an answered question's button, can leave no window
    active; a real window manager keeps the window active, so the test makes it so.)"""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, key)


@pytest.mark.parametrize("name", NAMES)
def test_a_clicker_walks_the_shipped_lesson(name, make_window, qtbot):
    window = make_window(name)
    lesson, bar = window.explorer.lesson, window.lesson_bar
    steps = load_preset(name).lesson
    assert lesson.steps == list(steps) and bar.isVisible()
    for right in (False, True):
        now = window.state.selection
        selected = (now.column, now.name, now.index) if now else None
        _clicker(qtbot, window, Qt.Key.Key_F5)   # starts (again) at the first step
        assert lesson.index == 0 and lesson.replies == {}
        # starting over shows the columns the first steps describe (memory_cost's step 5
        # makes a column 128 units wide)
        assert [c.config for c in window.state.columns] == lesson.base
        for index, step in enumerate(steps):
            assert lesson.index == index and bar.counter.text() == f"{index + 1} of {len(steps)}"
            selected = _check_step(window, qtbot, step, selected)
            if step.question is not None:
                _answer(qtbot, window, step.question, right)
                now = window.state.selection
                selected = (now.column, now.name, now.index) if now else None
            _clicker(qtbot, window, Qt.Key.Key_PageDown)
        assert lesson.index == len(steps) - 1  # PageDown at the end stays there
    _clicker(qtbot, window, Qt.Key.Key_PageUp)
    assert lesson.index == len(steps) - 2
