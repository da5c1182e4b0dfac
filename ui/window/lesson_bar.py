"""The narration bar under the toolbar: a lesson's Back / Next, "3 of 9", the step's narration
and its question.

Words of the narration that name a panel (``{h:the hidden state}`` in the lesson) are drawn in
the panel's colour: resting the pointer on them frames the panel in every column, clicking them
keeps the frame. A question's choices are buttons; a question answered by a step waits for a
click on any time plot. Next on an unanswered question reveals the answer, so that a clicker's
two keys run a whole lesson: PageDown and PageUp move through the steps while a lesson runs and
through time otherwise (the arrow keys always move in time); on a preset whose lesson was not
started or left yet, the first PageDown starts it; F5 starts the lesson, or starts it over.
Presentation mode keeps the bar, in large type.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rnnviz.files.lessons import Highlight, LessonStep, narration_parts

from ..style.theme import Theme

RIGHT, WRONG = "#009E73", "#D55E00"


def narration_html(text: str, theme: Theme) -> str:
    """``text`` as rich text: each ``{panel:words}`` a link drawn in the panel's colour."""
    out = []
    for words, panel in narration_parts(text):
        if panel is None:
            out.append(escape(words))
        else:
            out.append(f'<a href="panel:{panel}" style="color: {theme.panel_colour(panel)}; '
                       f'text-decoration: none; font-weight: 600">{escape(words)}</a>')
    return "".join(out)


class LessonBar(QFrame):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.explorer = window.explorer
        self.lesson = window.explorer.lesson
        self.setObjectName("lesson-bar")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._choice_buttons: list[QPushButton] = []

        self.back_button = QPushButton("◀ Back")
        self.back_button.setToolTip("The step before (PageUp)")
        self.back_button.clicked.connect(self.lesson.back)
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("Reveal the answer, or the next step (PageDown)")
        self.next_button.clicked.connect(self.lesson.next)
        self.start_button = QPushButton("Start the lesson")
        self.start_button.setToolTip("Play the preset's guided lesson from its first step (F5)")
        self.start_button.clicked.connect(self.lesson.restart)
        self.leave_button = QPushButton("Leave")
        self.leave_button.setToolTip("Stop the lesson and explore freely from here")
        self.leave_button.clicked.connect(self.lesson.leave)
        for button in (self.back_button, self.next_button, self.start_button,
                       self.leave_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay with the window
        self.narration = QLabel()
        self.narration.setWordWrap(True)
        self.narration.setTextFormat(Qt.TextFormat.RichText)
        self.narration.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.narration.linkHovered.connect(self._on_link_hovered)
        self.narration.linkActivated.connect(self._on_link_clicked)
        self.ask = QLabel()
        self.ask.setWordWrap(True)
        self.choices = QHBoxLayout()
        self.choices.setContentsMargins(0, 0, 0, 0)
        self.feedback = QLabel()
        self.feedback.setWordWrap(True)

        nav = QVBoxLayout()
        nav.setSpacing(2)
        row = QHBoxLayout()
        for button in (self.back_button, self.next_button):
            row.addWidget(button)
        nav.addLayout(row)
        nav.addWidget(self.counter)
        nav.addStretch(1)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self.narration)
        text.addWidget(self.ask)
        self.choices.addStretch(1)
        text.addLayout(self.choices)
        text.addWidget(self.feedback)
        ends = QVBoxLayout()
        ends.addWidget(self.start_button)
        ends.addWidget(self.leave_button)
        ends.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(nav)
        layout.addLayout(text, 1)
        layout.addLayout(ends)

        self.next_action = self._key_action("Next lesson step", Qt.Key.Key_PageDown,
                                            self.clicker_next)
        self.back_action = self._key_action("Lesson step back", Qt.Key.Key_PageUp,
                                            self.clicker_back)
        self.start_action = self._key_action("Start the lesson", Qt.Key.Key_F5,
                                             self.lesson.restart)
        self.lesson.events.changed.connect(self.refresh)
        self.lesson.events.play.connect(window.time_controls.play_range)
        self.lesson.events.tab.connect(window.side.show_tab)
        self.lesson.training = window.training.model
        window.side.currentChanged.connect(self._on_tab_changed)
        self.apply_theme(window.theme)

    def _key_action(self, text: str, key: Qt.Key, slot) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(key))
        # any window of the app: a clicker must keep working whatever holds the focus
        action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(slot)
        self.window.addAction(action)  # the keys work while menus and toolbars are hidden
        return action

    # -- a clicker's keys --------------------------------------------------------------------
    def clicker_next(self) -> None:
        if self.lesson.active:
            self.lesson.next()
        elif self.lesson.waiting:
            self.lesson.start()
        else:
            self.window.time_controls.step_action.trigger()

    def clicker_back(self) -> None:
        if self.lesson.active:
            self.lesson.back()
        else:
            self.window.time_controls.back_action.trigger()

    # -- showing the step --------------------------------------------------------------------
    def refresh(self) -> None:
        lesson = self.lesson
        has_lesson = lesson.count > 0
        self.setVisible(has_lesson)
        # the narration takes the description's place (presentation mode keeps either: they
        # say what to look at)
        self.window.description.setVisible(not lesson.active)
        for widget in (self.back_button, self.next_button, self.counter, self.leave_button):
            widget.setVisible(lesson.active)
        self.start_button.setText("Start over" if lesson.active else "Start the lesson")
        step = lesson.step
        if step is None:
            self.narration.setText(f"This preset is a guided lesson of {lesson.count} steps. "
                                   f"Start it here, with F5 or a clicker's PageDown; PageDown "
                                   f"and PageUp then move through it.")
            self._show_question(None)
            return
        self.counter.setText(f"{lesson.index + 1} of {lesson.count}")
        self.back_button.setEnabled(lesson.index > 0)
        revealed = lesson.revealed()
        at_end = lesson.index + 1 >= lesson.count
        self.next_button.setText("Reveal ▶" if not revealed else "Next ▶")
        self.next_button.setEnabled(not revealed or not at_end)
        self.narration.setText(narration_html(step.text, self.window.theme))
        self._show_question(step)

    def _show_question(self, step: LessonStep | None) -> None:
        for button in self._choice_buttons:
            self.choices.removeWidget(button)
            button.setParent(None)  # gone now: a deferred delete waits for the event loop
            button.deleteLater()
        self._choice_buttons = []
        question = step.question if step is not None else None
        self.ask.setVisible(question is not None)
        self.feedback.setVisible(question is not None and self.lesson.revealed())
        if question is None:
            return
        revealed, right = self.lesson.revealed(), self.lesson.right()
        reply = self.lesson.replies.get(self.lesson.index)
        if question.steps is None:
            self.ask.setText(f"<b>{escape(question.ask)}</b>")
            for k, choice in enumerate(question.choices):
                button = QPushButton(choice)
                # a clicked choice must not take the focus: it is deleted on the next step,
                # and the clicker's keys would go nowhere
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setFont(self.back_button.font())
                button.setEnabled(not revealed)
                button.clicked.connect(lambda _=False, k=k: self.lesson.answer(k))
                if revealed and k == question.answer:
                    button.setText(f"✓ {choice}")
                    button.setStyleSheet(f"color: {RIGHT}; font-weight: bold;")
                elif revealed and k == reply:
                    button.setText(f"✗ {choice}")
                    button.setStyleSheet(f"color: {WRONG};")
                self.choices.insertWidget(k, button)
                self._choice_buttons.append(button)
        else:
            hint = "" if revealed else " <i>(click that step in any plot)</i>"
            self.ask.setText(f"<b>{escape(question.ask)}</b>{hint}")
        if revealed:
            self.feedback.setText(self._verdict(question, right, reply))

    def _verdict(self, question, right: bool | None, reply: int | None) -> str:
        if question.steps is not None:
            lo, hi = question.steps
            answer = f"step {lo}" if lo == hi else f"steps {lo} to {hi}"
        else:
            answer = f"“{escape(question.choices[question.answer or 0])}”"
        if right is True:
            head = f'<span style="color: {RIGHT}"><b>Right.</b></span>'
        elif right is False:
            chosen = (f"step {reply}" if question.steps is not None
                      else f"“{escape(question.choices[reply or 0])}”")
            head = (f'<span style="color: {WRONG}"><b>Not quite:</b></span> you chose '
                    f"{chosen}; the answer is {answer}.")
        else:
            head = f"<b>The answer:</b> {answer}."
        why = narration_html(question.why, self.window.theme) if question.why else ""
        return f"{head} {why}".strip()

    # -- the narration's panel words -----------------------------------------------------------
    def _on_link_hovered(self, link: str) -> None:
        panel = link.removeprefix("panel:") if link.startswith("panel:") else None
        for view in self.window.views.values():
            view.show_hint(panel)

    def _on_link_clicked(self, link: str) -> None:
        if not link.startswith("panel:"):
            return
        frame = Highlight(link.removeprefix("panel:"))
        shown = self.explorer.state.highlights
        self.explorer.set_highlights(tuple(h for h in shown if h != frame) if frame in shown
                                     else (*shown, frame))

    def _on_tab_changed(self, _index: int) -> None:
        self.lesson.tab = self.window.side.tab_name()

    # -- theme ---------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Large type in presentation mode (it is read from the back of a room), a tint that
        sets the bar apart from the plots."""
        size = 22 if theme.presentation else 12
        tint = "#2b2a22" if theme.dark else "#fbf6e6"
        # the tint as the palette's window colour, not a style sheet: it then shows in the
        # window's SVG export too
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(tint))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        for widget in self.findChildren(QWidget):
            font = widget.font()
            font.setPointSize(size if widget in (self.narration, self.ask, self.feedback)
                              else max(size - 3, 9))
            widget.setFont(font)
        self.refresh()
