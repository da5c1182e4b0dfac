"""Lesson authoring and the student view, under the Lesson menu.

*Author lesson* opens a dock with the lesson's steps: **Record step** adds a step after the one
shown, from what is on screen (cursor, selected unit, framed panels, side tab, a column's changed
settings), with the text typed in the box above it; the list reorders by Move up / Move down,
Delete removes a step, and the text box edits the chosen step in place. **Save lesson as…** writes
the preset with its lesson (the same file *Save preset as…* writes), which reopens with the same
steps.

*Student view* hides what edits the setup (Add column, the columns' Edit… and ✕, the task and
sequence tools, training), so that a class can step and click but not change the lesson.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rnnviz.files.lessons import MAX_STEPS


class LessonAuthor(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window, self.explorer = window, window.explorer
        self.lesson = window.explorer.lesson
        menu = window.menuBar().addMenu("&Lesson")
        self.menu = menu
        bar = window.lesson_bar
        for action in (bar.start_action, bar.next_action, bar.back_action):
            menu.addAction(action)
        self.leave_action = QAction("Leave the lesson", window)
        self.leave_action.triggered.connect(self.lesson.leave)
        menu.addAction(self.leave_action)
        menu.addSeparator()
        self.author_action = QAction("Author lesson", window, checkable=True)
        self.author_action.setToolTip("Record, reorder, edit and save the steps of a lesson")
        self.author_action.toggled.connect(self.set_authoring)
        self.student_action = QAction("Student view", window, checkable=True)
        self.student_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.student_action.setToolTip("Hide the controls that change the setup (Ctrl+Shift+L)")
        self.student_action.toggled.connect(self.set_student_view)
        self.save_action = QAction("Save lesson as…", window)
        self.save_action.triggered.connect(self.ask_and_save)
        for action in (self.author_action, self.student_action, self.save_action):
            menu.addAction(action)
        window.addAction(self.student_action)  # its key works while the menu bar is hidden
        self._build_dock()
        self.lesson.events.changed.connect(self.refresh)
        self.refresh()

    def _build_dock(self) -> None:
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("What to say at this step; {h:words} names a panel "
                                     "(input, saliency, output, h, c, gates, a gate's letter, "
                                     "means, grad)")
        self.text.setMaximumHeight(90)
        self.text.textChanged.connect(self._on_text_edited)
        self.steps = QListWidget()
        self.steps.currentRowChanged.connect(self._on_row_chosen)
        buttons = QHBoxLayout()
        self.record_button = QPushButton("Record step")
        self.record_button.setToolTip("A new step after this one, from what is on screen now")
        self.record_button.clicked.connect(self.record)
        self.up_button = QPushButton("Move up")
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button = QPushButton("Move down")
        self.down_button.clicked.connect(lambda: self.move(1))
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete)
        for button in (self.record_button, self.up_button, self.down_button,
                       self.delete_button):
            buttons.addWidget(button)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        layout.addWidget(self.steps, 1)
        self.dock = QDockWidget("Lesson steps", self.window)
        self.dock.setObjectName("lesson-dock")
        self.dock.setWidget(box)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._on_dock_visibility)

    def _on_dock_visibility(self, visible: bool) -> None:
        # the dock's own ✕ closes it; a hidden window reports every dock invisible
        if self.window.isVisible():
            self.author_action.setChecked(visible)

    # -- authoring ---------------------------------------------------------------------------
    def set_authoring(self, on: bool) -> None:
        self.dock.setVisible(on)
        self.author_action.setChecked(on)

    def record(self) -> None:
        if self.lesson.count >= MAX_STEPS:
            self.window.show_message(f"a lesson holds at most {MAX_STEPS} steps", error=True)
            return
        text = self.text.toPlainText().strip() or "(what to say here)"
        self.lesson.record(text)

    def move(self, delta: int) -> None:
        index = self.steps.currentRow()
        to = index + delta
        if 0 <= index < self.lesson.count and 0 <= to < self.lesson.count:
            self.lesson.move(index, to)
            self.lesson.go(to)

    def delete(self) -> None:
        index = self.steps.currentRow()
        if 0 <= index < self.lesson.count:
            self.lesson.delete(index)

    def _on_row_chosen(self, index: int) -> None:
        if 0 <= index < self.lesson.count and index != self.lesson.index:
            self.lesson.go(index)

    def _on_text_edited(self) -> None:
        index = self.lesson.index
        text = self.text.toPlainText().strip()
        if self.lesson.active and text and text != self.lesson.steps[index].text:
            self.lesson.set_text(index, text)

    def refresh(self) -> None:
        lesson = self.lesson
        self.steps.blockSignals(True)
        self.steps.clear()
        for k, step in enumerate(lesson.steps):
            first = step.text.splitlines()[0] if step.text else ""
            mark = " ?" if step.question is not None else ""
            self.steps.addItem(f"{k + 1}. {first[:70]}{mark}")
        self.steps.setCurrentRow(lesson.index)
        self.steps.blockSignals(False)
        step = lesson.step
        wanted = step.text if step is not None else ""
        if self.text.toPlainText().strip() != wanted and step is not None:
            self.text.blockSignals(True)
            self.text.setPlainText(wanted)
            self.text.blockSignals(False)
        chosen = lesson.active
        for button in (self.up_button, self.down_button, self.delete_button):
            button.setEnabled(chosen)
        self.save_action.setEnabled(lesson.count > 0)

    # -- saving ------------------------------------------------------------------------------
    def ask_and_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save lesson as", "",
                                              "Presets (*.toml)")
        if path:
            self.save(path if path.endswith(".toml") else f"{path}.toml")

    def save(self, path) -> bool:
        """The preset with its lesson, as *Save preset as…* writes it (atomically)."""
        return self.window.training.save_preset(path)

    # -- the student view ----------------------------------------------------------------------
    def set_student_view(self, on: bool) -> None:
        w = self.window
        self.student_action.setChecked(on)
        for action in (w.add_action, w.sequence_tools.new_action, self.author_action,
                       self.save_action, w.training.train_action,
                       w.training.dock.toggleViewAction()):
            action.setVisible(not on)
        w.sequence_tools.task_action.setVisible(not on)
        w.train_menu.menuAction().setVisible(not on)
        if on:
            w.training.dock.hide()
            self.set_authoring(False)
        for view in w.views.values():
            view.set_editable(not on)
        w.editable = not on
