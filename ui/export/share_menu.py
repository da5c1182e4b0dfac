"""The File menu's share entries: export pictures, traces and animations, save and open
sessions. The dialogs only pick paths and numbers; the work is in ``ui/export.py`` and
``rnnviz.files.session``, and every ``*_to`` method here can be called without a dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QProgressDialog,
    QSpinBox,
)

from rnnviz.errors import RnnvizError
from rnnviz.files.animation import NO_FFMPEG, find_ffmpeg
from rnnviz.files.session import SUFFIX, read_session, write_session

from . import writers as export

PICTURES = "PNG image (*.png);;SVG drawing (*.svg)"
TRACES = "CSV table (*.csv);;NumPy arrays (*.npz)"
SESSIONS = f"rnnviz session (*{SUFFIX})"


def _with_suffix(path: str, chosen_filter: str) -> Path:
    """The path the user typed, with the chosen filter's suffix when it has none."""
    path = Path(path)
    if not path.suffix and "(*." in chosen_filter:
        path = path.with_suffix(chosen_filter.split("(*")[1].split(")")[0])
    return path


class RangeDialog(QDialog):
    """From, to (both included) and frames per second of an animation."""

    def __init__(self, steps: int, t: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.start, self.stop = QSpinBox(), QSpinBox()
        for box in (self.start, self.stop):
            box.setRange(0, steps - 1)
        self.start.setValue(0)
        self.stop.setValue(steps - 1 if t == 0 else t)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, 60)
        self.fps.setValue(10)
        form = QFormLayout(self)
        form.addRow("from step", self.start)
        form.addRow("to step (included)", self.stop)
        form.addRow("frames per second", self.fps)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class ShareMenu(QObject):
    """Adds the share entries to ``window.file_menu`` and runs them."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        menu = window.file_menu
        menu.setToolTipsVisible(True)

        def add(text: str, slot, tip: str) -> QAction:
            action = QAction(text, window)
            action.setToolTip(tip)
            action.triggered.connect(slot)
            menu.addAction(action)
            return action

        menu.addSeparator()
        self.window_action = add("Export window as PNG/SVG…", self.ask_window,
                                 "The whole window as a picture")
        self.panel_action = add("Export panel…", self.ask_panel,
                                "One panel of one column as PNG or SVG")
        self.trace_action = add("Export trace as CSV/NPZ…", self.ask_trace,
                                "A column's states, gates, output, loss and gradients, "
                                "one row per step")
        self.gif_action = add("Export animation as GIF…", lambda: self.ask_animation(".gif"),
                              "Step the cursor through a range and save each step as a frame")
        self.mp4_action = add("Export animation as MP4…", lambda: self.ask_animation(".mp4"),
                              "Step the cursor through a range and save it as a video")
        if find_ffmpeg() is None:
            self.mp4_action.setEnabled(False)
            self.mp4_action.setText("Export animation as MP4… (needs ffmpeg)")
            self.mp4_action.setToolTip(NO_FFMPEG)
        menu.addSeparator()
        self.save_action = add("Save session…", self.ask_save_session,
                               "Everything on screen (models and weights, input, cursor, "
                               "selection) in one file that reopens on another machine")
        self.open_action = add("Open session…", self.ask_open_session, "Reopen a saved session")

    # -- running, without dialogs ------------------------------------------------------------
    def _run(self, work, done: str) -> bool:
        try:
            work()
        except RnnvizError as exc:
            self.window.show_message(str(exc), error=True)
            return False
        except OSError as exc:
            self.window.show_message(f"{exc.filename or ''}: {exc.strerror or exc}", error=True)
            return False
        self.window.show_message(done)
        return True

    def window_to(self, path) -> bool:
        return self._run(lambda: export.export_widget(self.window, path), f"wrote {path}")

    def panel_to(self, column_id: int, panel: str, path) -> bool:
        plot = self.window.views[column_id].named_plots()[panel]
        return self._run(lambda: export.export_plot(plot, path), f"wrote {path}")

    def trace_to(self, column_id: int, path) -> bool:
        column = self.window.state.column(column_id)
        return self._run(lambda: export.export_trace(column, path), f"wrote {path}")

    def animation_to(self, path, start: int, stop: int, fps: float) -> bool:
        """Export with a progress dialog whose Cancel stops it (and writes nothing)."""
        dialog = QProgressDialog("Rendering frames…", "Cancel", 0, stop - start + 1,
                                 self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        self.progress_dialog = dialog

        def progress(done: int, total: int) -> bool:
            dialog.setValue(done)
            dialog.setLabelText(f"Frame {done} of {total}")
            return not dialog.wasCanceled()

        try:
            return self._run(lambda: export.export_animation(self.window, path, start, stop,
                                                             fps, progress),
                             f"wrote {path}: {stop - start + 1} frames")
        except export.Cancelled:
            self.window.show_message("animation export cancelled; nothing written")
            return False
        finally:
            dialog.close()

    def save_session_to(self, path) -> bool:
        return self._run(lambda: write_session(path, self.window.explorer.session_now()),
                         f"saved {path}")

    # -- dialogs -----------------------------------------------------------------------------
    def _save_path(self, title: str, filters: str) -> Path | None:
        name = self.window.state.preset.name if self.window.state.preset else "rnnviz"
        path, chosen = QFileDialog.getSaveFileName(self.window, title, name, filters)
        return _with_suffix(path, chosen) if path else None

    def _pick_column(self, title: str) -> int | None:
        columns = self.window.state.columns
        if len(columns) == 1:
            return columns[0].id
        names = [f"{k + 1}: {c.config.title}" for k, c in enumerate(columns)]
        name, ok = QInputDialog.getItem(self.window, title, "Column", names, 0, False)
        return columns[names.index(name)].id if ok else None

    def ask_window(self) -> None:
        path = self._save_path("Export window", PICTURES)
        if path:
            self.window_to(path)

    def ask_panel(self) -> None:
        choices = [(c.id, k, panel) for k, c in enumerate(self.window.state.columns)
                   for panel in self.window.views[c.id].named_plots()]
        names = [f"{k + 1}: {self.window.state.column(cid).config.title} — {panel}"
                 for cid, k, panel in choices]
        name, ok = QInputDialog.getItem(self.window, "Export panel", "Panel", names, 0, False)
        if not ok:
            return
        column_id, _, panel = choices[names.index(name)]
        path = self._save_path("Export panel", PICTURES)
        if path:
            self.panel_to(column_id, panel, path)

    def ask_trace(self) -> None:
        column_id = self._pick_column("Export trace")
        if column_id is None:
            return
        path = self._save_path("Export trace", TRACES)
        if path:
            self.trace_to(column_id, path)

    def ask_animation(self, suffix: str) -> None:
        dialog = RangeDialog(self.window.state.steps, self.window.state.t, self.window)
        if not dialog.exec():
            return
        kind = "GIF animation (*.gif)" if suffix == ".gif" else "MP4 video (*.mp4)"
        path = self._save_path("Export animation", kind)
        if path:
            self.animation_to(path, dialog.start.value(), dialog.stop.value(),
                              dialog.fps.value())

    def ask_save_session(self) -> None:
        path = self._save_path("Save session", SESSIONS)
        if path:
            self.save_session_to(path)

    def ask_open_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", "", SESSIONS)
        if path:
            self.open_session(path)

    def open_session(self, path) -> bool:
        """Show the session in ``path``; on a damaged or foreign file show one line and keep
        what is on screen."""
        try:
            session = read_session(path)
        except RnnvizError as exc:
            self.window.show_message(str(exc), error=True)
            return False
        self.window.explorer.restore(session)
        self.window.banner.hide()
        self.window.show_message(f"opened {path}")
        return True


def install(window) -> ShareMenu:
    return ShareMenu(window)
