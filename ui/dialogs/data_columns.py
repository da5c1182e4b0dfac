"""Choosing a CSV file's columns for a model's inputs and target: a form over a
``rnnviz.files.data_task.CsvChoice`` (one combo per model input, by the header's names, and
an optional target column)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel

from rnnviz.files.data_task import CsvChoice

NO_TARGET = "(no target)"


class DataColumnsDialog(QDialog):
    """Edits ``choice`` in place when accepted (``chosen()``)."""

    def __init__(self, choice: CsvChoice, model_name: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Columns of {choice.path.name}")
        self.choice = choice
        form = QFormLayout(self)
        note = QLabel(f"Which columns of {choice.path.name} does {model_name} read? The target "
                      f"gives the loss and the gradient views.")
        note.setWordWrap(True)
        form.addRow(note)
        self.input_boxes: list[QComboBox] = []
        for label, column in zip(choice.labels, choice.inputs, strict=True):
            box = QComboBox()
            box.addItems(choice.header)
            box.setCurrentIndex(column)
            form.addRow(label, box)
            self.input_boxes.append(box)
        self.target_box = QComboBox()
        self.target_box.addItems([NO_TARGET, *choice.header])
        self.target_box.setCurrentIndex(0 if choice.target is None else choice.target + 1)
        form.addRow("target", self.target_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen(self) -> CsvChoice:
        """The choice as the combos show it."""
        self.choice.inputs = [box.currentIndex() for box in self.input_boxes]
        index = self.target_box.currentIndex()
        self.choice.target = None if index <= 0 else index - 1
        return self.choice
