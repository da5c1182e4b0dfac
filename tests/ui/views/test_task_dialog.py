"""The Task dialog builds its form from the task's class alone: a new task with a file setting
gets its own caption and file filters, and every task its line of description, with no task
named in the dialog."""

from dataclasses import dataclass
from typing import ClassVar

from rnnviz.ui.dialogs.task_dialog import TaskDialog, file_filters

from rnnviz.tasks import TASKS, CsvTask, Task, TextTask


@dataclass(frozen=True)
class MidiTask(Task):
    name: ClassVar[str] = "midi"
    title: ClassVar[str] = "MIDI melody"
    description: ClassVar[str] = "Predict the next note of your MIDI file."
    data_file: ClassVar[str] = "MIDI file"
    data_suffixes: ClassVar[tuple[str, ...]] = (".mid", ".midi")

    path: str | None = None
    length: int = 10


def test_each_task_brings_its_description_and_its_file_kind(qtbot, monkeypatch):
    monkeypatch.setitem(TASKS, MidiTask.name, MidiTask)
    dialog = TaskDialog()
    qtbot.addWidget(dialog)
    for name, cls in TASKS.items():
        dialog.name.setCurrentIndex(dialog.name.findData(name))
        assert dialog.description.text() == cls.overview() != "", name
    dialog.name.setCurrentIndex(dialog.name.findData("midi"))
    path = dialog.editors["path"][1]
    assert path._caption == "MIDI file"  # noqa: SLF001 (what Browse… will show)
    assert path._filters == "MIDI files (*.mid *.midi);;All files (*)"  # noqa: SLF001
    assert "column" not in dialog.editors
    dialog.editors["path"][1].line.setText("tune.mid")
    assert dialog.settings() == {"path": "tune.mid", "length": 10}


def test_the_shipped_file_tasks_keep_their_filters():
    assert file_filters(CsvTask) == "CSV files (*.csv *.tsv *.txt);;All files (*)"
    assert file_filters(TextTask) == "Text files (*.txt *.md *.py);;All files (*)"
    assert CsvTask.overview() == "Predict the next value of a column of your CSV file."
    assert TextTask.overview() == TextTask.description
