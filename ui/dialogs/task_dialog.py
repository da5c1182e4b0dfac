"""The Task dialog: which task the explorer shows, its settings, and which example.

The settings form is generated from the task's dataclass fields (``rnnviz.tasks``): integers
and numbers get spin boxes, lists of numbers a comma-separated line, a file path a line with
"Browse…", the CSV column a list filled from the file's header, and the text of a character
model a box to type into. OK builds the task with ``make_task``; a bad setting (a missing
file, a non-numeric CSV cell, a text too short for the length) shows its one-line error under
the form and the dialog stays open with nothing changed.

Limits are said, never applied in silence: a number box takes any number typed into it (the
task checks it on OK, naming the allowed range), the length box shows the engine's limit,
``rnnviz.tasks.MAX_LENGTH``, beside it, and a CSV file longer than that says so under the form.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnviz.errors import RnnvizError
from rnnviz.limits import MAX_LENGTH, MAX_SEED
from rnnviz.tasks import TASKS, Task, csv_header, make_task, read_csv_column, task_settings

MAX_TYPED = 2**31 - 1  # a number box takes what is typed; the task says what it allows
LIMIT_TEXT = f"at most {MAX_LENGTH:,} steps".replace(",", " ")


def file_filters(task: type[Task]) -> str:
    """The file dialog's filters for the file of ``task``'s ``path`` setting."""
    patterns = " ".join(f"*{suffix}" for suffix in task.data_suffixes)
    mine = f"{task.data_file}s ({patterns});;" if patterns else ""
    return f"{mine}All files (*)"


class PathField(QWidget):
    """A file path: a line to type it and a "Browse…" button."""

    def __init__(self, caption: str, filters: str, parent=None):
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText("a file path")
        self.button = QPushButton("Browse…")
        self.button.clicked.connect(self._browse)
        self._caption, self._filters = caption, filters
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line, 1)
        layout.addWidget(self.button)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self._caption, self.line.text(),
                                              self._filters)
        if path:
            self.line.setText(path)

    def value(self) -> str | None:
        return self.line.text().strip() or None

    def set_value(self, value) -> None:
        self.line.setText("" if value is None else str(value))


class TaskDialog(QDialog):
    """Choose a task, its settings and the example seed; ``task()`` and ``seed()`` once
    accepted."""

    def __init__(self, task: Task | None = None, seed: int = 0, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Task")
        self.setMinimumWidth(520)
        self.result_task: Task | None = None
        self.name = QComboBox()
        for name, cls in TASKS.items():
            self.name.addItem(cls.title, name)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.form_holder = QWidget()
        self.form = QFormLayout(self.form_holder)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.seed_box = QSpinBox(minimum=0, maximum=MAX_SEED)
        self.seed_box.setToolTip("Which example of the task to show (the same seed always "
                                 "gives the same sequence)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        top = QFormLayout()
        top.addRow("Task", self.name)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addWidget(self.form_holder)
        seed_row = QFormLayout()
        seed_row.addRow("Example seed", self.seed_box)
        layout.addLayout(seed_row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.editors: dict[str, tuple[str, QWidget]] = {}
        self._csv_sizes: dict[tuple, tuple[int, str]] = {}  # (path, column): values, label
        self.name.currentIndexChanged.connect(lambda _: self._build_form(None))
        if task is not None and task.name not in TASKS:
            task = None  # a user's data file (rnnviz.files.data_task): choose a task afresh
        if task is not None:
            self.name.setCurrentIndex(self.name.findData(task.name))
        self._build_form(task)
        self.seed_box.setValue(int(seed))

    # -- the form ----------------------------------------------------------------------------
    @property
    def task_name(self) -> str:
        return self.name.currentData()

    def _build_form(self, task: Task | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self.error.hide()
        name = self.task_name
        cls = TASKS[name]
        self.description.setText(cls.overview())
        wanted = set(task_settings(name))
        for f in fields(cls):
            if f.name not in wanted:
                continue
            default = getattr(task, f.name) if task is not None else (
                f.default if f.default is not MISSING else None)
            # "int" as written (postponed annotations) or the class int itself
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            kind, editor = self._editor(cls, f.name, kind, default)
            self.editors[f.name] = (kind, editor)
            self.form.addRow(f.name.replace("_", " ").capitalize(),
                             self._with_limit(editor) if f.name == "length" else editor)
        if "path" in self.editors and "column" in self.editors:
            path = self.editors["path"][1]
            path.line.textChanged.connect(self._fill_columns)
            self._fill_columns(path.line.text(), keep=True)
            self.editors["column"][1].currentTextChanged.connect(self._check_limits)
        if "length" in self.editors:
            self.editors["length"][1].valueChanged.connect(self._check_limits)
        self._check_limits()

    def _with_limit(self, box: QSpinBox) -> QWidget:
        """The length box with the engine's limit beside it (and in its tooltip)."""
        box.setToolTip(f"Steps in the sequence: {LIMIT_TEXT} (rnnviz's limit)")
        self.limit_label = QLabel(LIMIT_TEXT)
        self.limit_label.setToolTip(box.toolTip())
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box, 1)
        layout.addWidget(self.limit_label)
        return row

    def _editor(self, task: type[Task], key: str, kind: str, value) -> tuple[str, QWidget]:
        if key == "path":
            editor = PathField(task.data_file, file_filters(task))
            editor.set_value(value)
            return "path", editor
        if key == "column":
            editor = QComboBox()
            editor.setEditable(True)
            editor.setToolTip("The column of numbers to use: pick one from the file's header")
            editor.setCurrentText("" if value is None else str(value))
            return "column", editor
        if key == "text":
            editor = QPlainTextEdit()
            editor.setPlaceholderText("Type or paste a text here, or leave empty to read the "
                                      "file above (or, with neither, the shipped story)")
            editor.setFixedHeight(90)
            editor.setPlainText(value or "")
            return "text", editor
        if kind == "int":
            editor = QSpinBox(minimum=0, maximum=MAX_TYPED)
            editor.setValue(int(value or 0))
            return "int", editor
        if kind == "float":
            editor = QDoubleSpinBox(minimum=0.0, maximum=1e6, decimals=4, singleStep=0.01)
            editor.setValue(float(value or 0.0))
            return "float", editor
        editor = QLineEdit(", ".join(f"{v:g}" for v in value) if isinstance(value, (list, tuple))
                           else ("" if value is None else str(value)))
        editor.setToolTip("Numbers separated by commas")
        return "floats", editor

    def _fill_columns(self, path: str, keep: bool = False) -> None:
        box = self.editors["column"][1]
        current = box.currentText()
        names = csv_header(path) if path.strip() else []
        box.blockSignals(True)
        box.clear()
        box.addItems(names)
        if keep and current:
            box.setCurrentText(current)
        elif names:
            box.setCurrentIndex(0)
        box.blockSignals(False)
        self._check_limits()

    # -- what the form says under it --------------------------------------------------------
    def say(self, text: str, *, error: bool = False) -> None:
        """One line under the form: an error (red, OK refused) or a note; empty hides it."""
        colour = "#b00020" if error else "palette(window-text)"
        self.error.setStyleSheet(f"color: {colour};")
        self.error.setText(f"⚠ {text}" if error else text)
        self.error.setVisible(bool(text))

    def _check_limits(self, *_args) -> None:
        """Say, as the form changes, when the length is past the engine's limit or a CSV
        file holds more values than one sequence can show."""
        if "length" not in self.editors:
            return
        length = self.editors["length"][1].value()
        if length > MAX_LENGTH:
            self.say(f"length: {LIMIT_TEXT} (rnnviz's limit), got {length}", error=True)
            return
        self.say(self._csv_note() if "column" in self.editors else "")

    def _csv_note(self) -> str:
        try:
            settings = self.settings()
            key = (settings["path"], settings["column"])
        except (RnnvizError, KeyError):
            return ""
        if key not in self._csv_sizes:
            try:
                values, label = read_csv_column(*key)
            except RnnvizError:
                return ""  # said on OK, with the file and line
            self._csv_sizes = {key: (len(values), label)}  # the file shown now only
        count, label = self._csv_sizes[key]
        if count - 1 <= MAX_LENGTH:
            return ""
        return (f"{Path(key[0]).name}: column {label} holds {count} values; a sequence is "
                f"{LIMIT_TEXT} (rnnviz's limit), so each example is a window of the series")

    # -- reading it --------------------------------------------------------------------------
    def settings(self) -> dict:
        """The settings as ``make_task`` takes them (raises ``RnnvizError`` on a bad one)."""
        out = {}
        for key, (kind, editor) in self.editors.items():
            if kind == "path":
                value = editor.value()
            elif kind == "column":
                text = editor.currentText().strip()
                names = [editor.itemText(i) for i in range(editor.count())]
                header = names and not all(n.isdigit() for n in names)
                value = int(text) if text.isdigit() and not (header and text in names) else text
            elif kind == "text":
                value = editor.toPlainText() or None
            elif kind in ("int", "float"):
                value = editor.value()
            else:
                parts = [p.strip() for p in editor.text().split(",") if p.strip()]
                try:
                    value = tuple(float(p) for p in parts)
                except ValueError:
                    raise RnnvizError(f"{key}: expected numbers separated by commas, got "
                                      f"{editor.text()!r}") from None
            if value is not None:
                out[key] = value
        if "text" in out and "path" in out:
            del out["path"]  # typed text wins over a file
        return out

    def seed(self) -> int:
        return self.seed_box.value()

    def task(self) -> Task:
        """The task the form describes (raises ``RnnvizError`` when a setting is bad)."""
        return make_task(self.task_name, **self.settings())

    def accept(self) -> None:
        try:
            self.result_task = self.task()
        except RnnvizError as exc:
            self.say(str(exc), error=True)
            return
        super().accept()
