"""Hooks training into the main window: the panel as a dock at the bottom, the Train menu's
actions, View > Training panel, and File > Save preset as…"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QToolBar

from rnnviz.errors import RnnvizError
from rnnviz.files.preset_saving import save_setup

from ..qt_support import qt_runner
from ..state.training import Training
from .training_panel import TrainingPanel

DOCK_HEIGHT = 270  # px: the explorer's columns keep most of the window


class TrainingDock:
    """What ``install`` added to a window: ``model``, ``panel``, ``dock`` and the actions."""

    def __init__(self, window):
        self.window = window
        self.model = Training(window.explorer, qt_runner("rnnviz-training"))
        self.model.events.message.connect(
            lambda text, warn: window.show_message(text, error=warn))
        self.panel = TrainingPanel(self.model, window.theme)
        self.dock = QDockWidget("Training", window)
        self.dock.setObjectName("training-dock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.resizeDocks([self.dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)

        self.train_action = QAction("Train", window, shortcut=QKeySequence("Ctrl+T"))
        self.train_action.setToolTip("Train the column chosen in the training panel (or all)")
        self.train_action.triggered.connect(self._train)
        self.stop_action = QAction("Stop training", window, shortcut=QKeySequence("Ctrl+."))
        self.stop_action.triggered.connect(self.model.stop)
        window.train_menu.addAction(self.train_action)
        window.train_menu.addAction(self.stop_action)
        toggle = self.dock.toggleViewAction()
        toggle.setText("Training panel")
        toggle.setShortcut(QKeySequence("Ctrl+Shift+T"))
        toggle.setToolTip("Show or hide the training panel (Ctrl+Shift+T)")
        window.view_menu.addAction(toggle)
        toolbar = window.findChild(QToolBar, "preset-bar")
        if toolbar is not None:
            toolbar.addAction(toggle)
        # The plots get the whole height until someone asks to train.
        self.dock.hide()
        self.save_action = QAction("Save preset as…", window, shortcut=QKeySequence.SaveAs)
        self.save_action.setToolTip("Save the columns, their weights and their training "
                                    "options as a new preset")
        self.save_action.triggered.connect(self._ask_and_save)
        window.file_menu.addAction(self.save_action)
        self.model.events.state.connect(self._update_actions)
        # every column's header says what back-propagation through its sequence holds
        events = window.state.events
        for signal in (events.columns, events.sequence, events.column_ready,
                       self.model.events.options):
            signal.connect(self.show_memory)
        self.show_memory()
        self.panel.reset_button.clicked.connect(self._clear_stale_warning)
        self._update_actions()

    def show_memory(self, *_args) -> None:
        """Each column's ``BPTT 12.3 MB`` for its training batch, window and chunks."""
        for column_id, view in self.window.views.items():
            view.set_memory(*self.model.memory_words(column_id))

    def _train(self) -> None:
        self.dock.show()
        self.model.train(self.panel.target_ids())

    def _clear_stale_warning(self) -> None:
        """After Reset weights, a NaN warning about weights now gone would mislead."""
        if not any(c.trace is not None and c.trace.nonfinite for c in self.window.state.columns
                   if self.model.trained(c.id)):
            self.window.banner.hide()

    def _update_actions(self) -> None:
        running = self.model.running
        self.train_action.setEnabled(not running)
        self.stop_action.setEnabled(running)

    def _ask_and_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save preset as", "",
                                              "Presets (*.toml)")
        if path:
            self.save_preset(path if path.endswith(".toml") else f"{path}.toml")

    def save_preset(self, path) -> bool:
        """Save the current setup to ``path`` (see ``rnnviz.files.preset_saving``); errors are
        one line
        in the window."""
        explorer = self.window.explorer
        try:
            preset = explorer.preset_now()
        except RnnvizError as exc:
            self.window.show_message(f"{path}: cannot save: {exc}", error=True)
            return False
        if preset is None:
            return False
        broken = next((c for c in explorer.state.columns if c.error), None)
        if broken is not None:  # its config would name weights that cannot be opened
            self.window.show_message(f"{path}: cannot save: column {broken.config.title} has "
                                     f"no model ({broken.error}); Edit… or remove it first",
                                     error=True)
            return False
        ids = [c.id for c in explorer.state.columns]
        models = [self.model.current_model(i) for i in ids]
        try:
            save_setup(preset, models, [self.model.options[i] for i in ids], path)
        except (RnnvizError, OSError) as exc:
            self.window.show_message(f"{path}: cannot save: {exc}" if isinstance(exc, OSError)
                                     else str(exc), error=True)
            return False
        written = sum(m is not None for m in models)  # a column still building has none
        self.window.show_message(f"saved {Path(path).name} and {written} weight file(s) "
                                 f"beside it")
        return True

    def shutdown(self) -> None:
        self.model.shutdown()


def install(window) -> TrainingDock:
    """Add training to ``window`` (a ``MainWindow``)."""
    return TrainingDock(window)
