"""The window's sequence tools: the task button ("Task: Sine prediction, 200 steps") that opens
the Task dialog, "New sequence" (the next example of the task), and Undo/Redo in the Edit menu
(Ctrl+Z, Ctrl+Shift+Z), which cover every input edit and task change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar, QToolButton

from ui.task_dialog import MAX_SEED, TaskDialog


class SequenceTools(QObject):
    def __init__(self, window, bar: QToolBar, edit_menu):
        super().__init__(window)
        self.window, self.model = window, window.model
        self.task_button = QToolButton()
        self.task_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.task_button.setToolTip("Choose the task, its settings, your own CSV or text, and "
                                    "the example shown")
        self.task_button.clicked.connect(self.open_dialog)
        bar.addWidget(self.task_button)
        self.new_action = QAction("New sequence", window)
        self.new_action.setToolTip("Show the next example of the task (seed + 1)")
        self.new_action.triggered.connect(self.new_sequence)
        bar.addAction(self.new_action)

        stack = self.model.undo_stack
        self.undo_action = stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = stack.createRedoAction(window, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"),
                                       QKeySequence.StandardKey.Redo])
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            edit_menu.addAction(action)
            window.addAction(action)  # shortcuts work while the menu bar is hidden
        self.dialog: TaskDialog | None = None
        self.model.sequence_changed.connect(self.update_label)
        self.update_label()

    def update_label(self) -> None:
        task = self.model.task
        if task is None:
            self.task_button.setText("Task: (none)")
            return
        self.task_button.setText(f"Task: {task.title}, {self.model.steps} steps")

    def open_dialog(self) -> TaskDialog:
        """Open the Task dialog (window-modal, not blocking); OK applies it."""
        self.dialog = TaskDialog(self.model.task, self.model.example_seed, self.window)
        self.dialog.accepted.connect(self._apply)
        self.dialog.open()
        return self.dialog

    def _apply(self) -> None:
        dialog = self.sender() or self.dialog
        if dialog.result_task is not None:
            self.model.set_task(dialog.result_task, dialog.seed())

    def new_sequence(self) -> None:
        if self.model.task is not None:
            self.model.set_task(self.model.task, (self.model.example_seed + 1) % MAX_SEED)
