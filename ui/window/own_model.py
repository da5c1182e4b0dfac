"""A user's own model and data in the window: File > Open model…, File > Open data…, and
files dropped on the window.

A model that reads the task's inputs and writes its outputs becomes a column at once; any
other (another input size, token ids through an embedding) asks for its data file, which
becomes the sequence (``rnnviz.files.data_task``: a ``.npy``, a CSV whose columns a dialog
chooses, text through the vocabulary beside the model), then the model its column. A model
dropped on a column replaces it, dropped elsewhere adds one; a data file dropped on a column
is fitted to that column's model. Every bad file is one line and nothing changes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import DATA_FILTER, DATA_SUFFIXES, CsvChoice, DataTask, fit_data
from rnnviz.files.model_data import vocabulary_beside
from rnnviz.files.models import FILE_FILTER, MODEL_SUFFIXES

from ..dialogs.data_columns import DataColumnsDialog
from ..state.model_files import (
    data_column,
    fits_task,
    read_spec,
    show_data,
    show_model,
    target_column,
)

TARGET_FILTER = "Targets (*.npy *.csv)"


class OwnModel:
    """The File menu's Open model… and Open data… of ``window``, and its drops."""

    def __init__(self, window):
        self.window = window
        self.explorer = window.explorer
        self.state = window.state
        self.open_model_action = QAction("Open model…", window)
        self.open_model_action.setToolTip("Show your PyTorch, Keras or ONNX model as a column "
                                          "(or drop its file on the window or on a column)")
        self.open_model_action.triggered.connect(self.ask_open_model)
        self.open_data_action = QAction("Open data…", window)
        self.open_data_action.setToolTip("Your data (.npy, .csv, text) for the selected "
                                         "column's model, as the sequence")
        self.open_data_action.triggered.connect(lambda: self.ask_open_data())
        window.file_menu.addAction(self.open_model_action)
        window.file_menu.addAction(self.open_data_action)

    def _say(self, text: str) -> None:
        self.state.events.message.emit(text, True)

    # -- models ------------------------------------------------------------------------------
    def ask_open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", "", FILE_FILTER)
        if path:
            self.open_model(path)

    def open_model(self, path: str, *, column_id: int | None = None, add: bool = False) -> bool:
        """Show the model in ``path`` in column ``column_id`` (else a new column); one that does
        not fit the task asks for its data first."""
        spec = read_spec(self.explorer, path)
        if spec is None or not target_column(self.state, Path(path).name, column_id, add)[0]:
            return False
        if fits_task(spec, self.state.task):
            return show_model(self.explorer, path, spec, column_id=column_id, add=add)
        data, _ = QFileDialog.getOpenFileName(
            self.window, f"Data for {Path(path).name} (Cancel: keep the task)",
            str(Path(path).parent), DATA_FILTER)
        if not data:  # the mismatch, in one line
            return show_model(self.explorer, path, spec, column_id=column_id, add=add)
        task = self.fit(spec, data, Path(path))
        return task is not None and show_data(self.explorer, task, (path, spec),
                                              column_id=column_id, add=add)

    # -- data --------------------------------------------------------------------------------
    def ask_open_data(self, column_id: int | None = None) -> None:
        column = data_column(self.state, column_id)
        if column is None:
            self._say("open data: no column has a model yet (File > Open model… first)")
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, f"Data for {column.config.title}", "", DATA_FILTER)
        if path:
            self.open_data(path, column.id)

    def open_data(self, path: str, column_id: int | None = None) -> bool:
        """Fit the data file ``path`` to the model of column ``column_id`` (``data_column``)
        and show it as the sequence."""
        column = data_column(self.state, column_id)
        if column is None:
            self._say(f"{Path(path).name}: no column has a model to read it yet")
            return False
        task = self.fit(column.model.spec, path, column.config.weights)
        return task is not None and show_data(self.explorer, task)

    def fit(self, spec: ModelSpec, path: str, model_path: Path | None) -> DataTask | None:
        """The data task of ``path`` for ``spec``: a CSV's columns chosen in a dialog, a
        ``.npy``/text's target asked for (Cancel: none); None after one line, or when
        cancelled."""
        vocab = (vocabulary_beside(model_path) if model_path is not None
                 and spec.vocab_size is not None else None)
        name = model_path.name if model_path is not None else spec.describe()
        try:
            if Path(path).suffix.lower() == ".csv":
                dialog = DataColumnsDialog(CsvChoice.for_model(path, spec), name, self.window)
                if not dialog.exec():
                    return None
                return dialog.chosen().fit(spec, vocab)
            target, _ = QFileDialog.getOpenFileName(
                self.window, f"Target for {Path(path).name} (Cancel: no target)",
                str(Path(path).parent), TARGET_FILTER)
            return fit_data(spec, path, target=target or None, vocab=vocab)
        except RnnvizError as exc:
            self._say(str(exc))
            return None

    # -- drops -------------------------------------------------------------------------------
    @staticmethod
    def dropped_file(event) -> str | None:
        """The one local model or data file an event carries, if it does."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if len(paths) == 1 and Path(paths[0]).suffix.lower() in (*MODEL_SUFFIXES,
                                                                  *DATA_SUFFIXES):
            return paths[0]
        return None

    def column_at(self, position: QPoint) -> int | None:
        """The column whose view is under ``position`` (window coordinates)."""
        for column_id, view in self.window.views.items():
            if view.isVisible() and view.rect().contains(view.mapFrom(self.window, position)):
                return column_id
        return None

    def drop(self, path: str, position: QPoint) -> bool:
        column_id = self.column_at(position)
        if Path(path).suffix.lower() in DATA_SUFFIXES:
            return self.open_data(path, column_id)
        return self.open_model(path, column_id=column_id, add=column_id is None)
