"""The window's sequence tools: the task button ("Task: Sine prediction, 200 steps") that opens
the Task dialog, "New sequence" (the next example of the task), and Undo/Redo in the Edit menu
(Ctrl+Z, Ctrl+Shift+Z), which cover every input edit and task change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar, QToolButton

from rnnviz.limits import MAX_SEED

from ..dialogs.task_dialog import TaskDialog


class SequenceTools(QObject):
    def __init__(self, window, bar: QToolBar, edit_menu):
        super().__init__(window)
        self.window, self.explorer, self.state = window, window.explorer, window.state
        self.task_button = QToolButton()
        self.task_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.task_button.setToolTip("Choose the task, its settings, your own CSV or text, and "
                                    "the example shown")
        self.task_button.clicked.connect(self.open_dialog)
        self.task_action = bar.addWidget(self.task_button)
        self.new_action = QAction("New sequence", window)
        self.new_action.setToolTip("Show the next example of the task (seed + 1)")
        self.new_action.triggered.connect(self.new_sequence)
        bar.addAction(self.new_action)

        self.undo_action = QAction("&Undo", window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.explorer.undo)
        self.redo_action = QAction("&Redo", window)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"),
                                       QKeySequence.StandardKey.Redo])
        self.redo_action.triggered.connect(self.explorer.redo)
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            edit_menu.addAction(action)
            window.addAction(action)  # shortcuts work while the menu bar is hidden
        self.dialog: TaskDialog | None = None
        self.explorer.undo_stack.events.changed.connect(self._update_undo)
        self.state.events.sequence.connect(self.update_label)
        self.update_label()
        self._update_undo()

    def _update_undo(self) -> None:
        """Undo and Redo say what they would do, and are off when there is nothing."""
        stack = self.explorer.undo_stack
        for action, name, text, enabled in (
                (self.undo_action, "&Undo", stack.undo_text, stack.can_undo),
                (self.redo_action, "&Redo", stack.redo_text, stack.can_redo)):
            action.setText(f"{name} {text}" if text else name)
            action.setEnabled(enabled)

    def update_label(self) -> None:
        task = self.state.task
        if task is None:
            self.task_button.setText("Task: (none)")
            return
        self.task_button.setText(f"Task: {task.title}, {self.state.steps} steps")

    def open_dialog(self) -> TaskDialog:
        """Open the Task dialog (window-modal, not blocking); OK applies it."""
        self.dialog = TaskDialog(self.state.task, self.state.example_seed, self.window)
        self.dialog.accepted.connect(self._apply)
        self.dialog.open()
        return self.dialog

    def _apply(self) -> None:
        dialog = self.sender() or self.dialog
        if dialog.result_task is not None:
            self.explorer.set_task(dialog.result_task, dialog.seed())

    def new_sequence(self) -> None:
        if self.state.task is not None:
            self.explorer.set_task(self.state.task, (self.state.example_seed + 1) % MAX_SEED)
