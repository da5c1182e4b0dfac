"""The explorer window: preset picker and columns on top, the unit inspector at the side, time
controls at the bottom."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rnnviz.errors import RnnvizError, one_line
from rnnviz.files.presets import MAX_MODELS, Preset, load_preset, shipped_presets

from .. import ui_thread_gc
from ..column.view import ColumnView
from ..dialogs.column_editor import ColumnEditor
from ..export.share_menu import install as install_share_menu
from ..panels.side_tabs import SideTabs
from ..panels.training_dock import install as install_training
from ..qt_support import qt_explorer
from ..state.controller import Explorer
from ..state.scales import SharedScales
from ..style.theme import LIGHT, Theme
from .lesson_author import LessonAuthor
from .lesson_bar import LessonBar
from .own_model import OwnModel
from .sequence_tools import SequenceTools
from .settings import Settings
from .time_controls import TimeControls
from .view_modes import ViewModes

OPEN_ITEM = "Open…"
FIRST_PAINT_WAIT_MS = 500


class AfterFirstPaint(QObject):
    """Calls ``then()`` once, from the event loop, after ``widget``'s first paint (or after
    ``FIRST_PAINT_WAIT_MS``, should the platform not paint a hidden or minimised window)."""

    def __init__(self, widget: QWidget, then):
        super().__init__(widget)
        self.widget, self.then, self.done = widget, then, False
        widget.installEventFilter(self)
        QTimer.singleShot(FIRST_PAINT_WAIT_MS, self._go)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint and not self.done:
            QTimer.singleShot(0, self._go)  # after the paint, not inside it
        return False

    def _go(self) -> None:
        if not self.done:
            self.done = True
            self.widget.removeEventFilter(self)
            self.then()


class MainWindow(QMainWindow):
    def __init__(self, explorer: Explorer | None = None, *, settings: Settings | None = None,
                 theme: Theme = LIGHT):
        super().__init__()
        ui_thread_gc.hold()
        self._holds_gc = True
        self.explorer = explorer or qt_explorer()
        self.state = self.explorer.state
        self.scales = SharedScales(self.state)
        self.settings = settings
        self.theme = theme
        self.setWindowTitle("rnnviz")
        self.views: dict[int, ColumnView] = {}
        self.editable = True  # False in the student view

        menus = self.menuBar()  # features add their actions to these
        self.file_menu = menus.addMenu("&File")
        self.edit_menu = menus.addMenu("&Edit")
        self.view_menu = menus.addMenu("&View")
        self.train_menu = menus.addMenu("&Train")
        self._build_toolbar()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setContentsMargins(8, 4, 8, 4)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #b00020; padding: 2px 8px;")
        self.banner.hide()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.columns_area = QSplitter(Qt.Orientation.Horizontal)
        self.columns_area.setChildrenCollapsible(False)
        self.side = SideTabs(self.explorer, theme)  # Unit (inspector), Trajectory, Weights
        self.inspector = self.side.inspector
        # a window too short for every row at a readable height (1280x720 with the Training
        # panel open) scrolls the columns, all together, rather than squashing them
        self.columns_scroll = ColumnsScroll()
        self.columns_scroll.setWidgetResizable(True)
        self.columns_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.columns_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.columns_scroll.setWidget(self.columns_area)
        self.splitter.addWidget(self.columns_scroll)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.description)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.time_controls = TimeControls(self.explorer, self)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.time_controls)
        self.hover_label = QLabel()
        self.busy_label = QLabel()
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.busy_label)

        events = self.state.events
        events.columns.connect(self._sync_columns)
        events.message.connect(lambda text, warning: self.show_message(text, error=warning))
        events.busy.connect(lambda busy: self.busy_label.setText("computing…" if busy else ""))
        events.sequence.connect(self._update_description)
        self.training = install_training(self)
        self.view_modes = ViewModes(self, dark=settings.theme() == "dark" if settings is not None
                                    else theme.dark)
        self.lesson_bar = LessonBar(self)
        layout.insertWidget(0, self.lesson_bar)
        self.view_modes.theme_changed.connect(self.lesson_bar.apply_theme)
        self.view_modes.theme_changed.connect(self.side.apply_theme)
        self.view_modes.theme_changed.connect(self.training.panel.apply_theme)
        self.lesson_author = LessonAuthor(self)
        self.resize(1600, 1000)
        self.own_model = OwnModel(self)  # File: Open model…, Open data…; drops
        self.open_model_action = self.own_model.open_model_action
        self.setAcceptDrops(True)
        self.share = install_share_menu(self)  # File: export, sessions
        if settings is not None:
            geometry = settings.geometry()
            if geometry:
                self.restoreGeometry(QByteArray(geometry))

    # -- toolbar -----------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Preset")
        bar.setObjectName("preset-bar")
        bar.addWidget(QLabel(" Preset: "))
        self.preset_box = QComboBox()
        self.preset_box.setMinimumWidth(260)
        self._presets: list[Path] = []
        for name, path in shipped_presets():
            try:
                title = load_preset(path).title
            except RnnvizError:
                title = name
            self.preset_box.addItem(title, str(path))
            self._presets.append(path)
        self.preset_box.addItem(OPEN_ITEM, None)
        self.preset_box.activated.connect(self._on_preset_chosen)
        bar.addWidget(self.preset_box)
        self.sequence_tools = SequenceTools(self, bar, self.edit_menu)
        self.add_action = QAction("Add column", self)
        self.add_action.setToolTip("Add a model next to the others (at most three)")
        self.add_action.triggered.connect(lambda: self.explorer.add_column())
        bar.addAction(self.add_action)
        self.clear_action = QAction("Clear selection", self)
        self.clear_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.clear_action.setToolTip("Clear the selected unit (Esc; in presentation mode, Esc "
                                     "leaves it first)")
        self.clear_action.triggered.connect(self._on_escape)
        bar.addAction(self.clear_action)
        self.addAction(self.clear_action)  # Esc works while the toolbar is hidden
        for key, delta in ((Qt.Key.Key_Up, -1), (Qt.Key.Key_Down, 1)):
            move = QAction(f"Select the unit {'above' if delta < 0 else 'below'}", self)
            move.setShortcut(QKeySequence(key))
            move.triggered.connect(lambda _=False, d=delta: self.explorer.move_selection(d))
            self.addAction(move)

    def _on_escape(self) -> None:
        if not self.view_modes.escape():
            self.explorer.clear_selection()

    def _on_preset_chosen(self, index: int) -> None:
        path = self.preset_box.itemData(index)
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Open preset", "",
                                                  "Presets (*.toml)")
            if not path:
                self._select_current_preset()
                return
        self.open_preset(path)

    def _select_current_preset(self) -> None:
        """Show the open preset in the picker; one opened from a file of its own joins the
        list (above "Open…"), so the picker never names another preset."""
        preset = self.state.preset
        if preset is not None and preset.path is not None:
            index = self.preset_box.findData(str(preset.path))
            if index < 0:
                index = self.preset_box.count() - 1
                self.preset_box.insertItem(index, preset.title, str(preset.path))
            self.preset_box.setCurrentIndex(index)

    # -- presets -----------------------------------------------------------------------------
    def open_preset(self, path_or_name) -> bool:
        """Load a preset; on a bad file show one line and keep what is on screen."""
        try:
            preset = load_preset(path_or_name)
            self.load(preset)
        except RnnvizError as exc:
            self.show_message(str(exc), error=True)
            self._select_current_preset()
            return False
        return True

    def load(self, preset: Preset) -> None:
        self.explorer.load_preset(preset)
        self.banner.hide()
        self._select_current_preset()
        if self.settings is not None and preset.path is not None:
            self.settings.set_last_preset(str(preset.path))

    def show_opening(self, title: str) -> None:
        """What the window says while a preset's columns are being built."""
        self.description.setText(f"<b>{title}</b> — opening…")
        self.setWindowTitle(f"rnnviz — {title}")

    def show_then(self, then) -> None:
        """Show the window and call ``then()`` once it has been painted (or after
        ``FIRST_PAINT_WAIT_MS`` at the latest), from the event loop."""
        self._after_paint = AfterFirstPaint(self, then)
        self.show()

    def _update_description(self) -> None:
        preset = self.state.preset
        if preset is not None:
            self.description.setText(f"<b>{preset.title}</b> — {preset.description}")
            self.setWindowTitle(f"rnnviz — {preset.title}")

    def show_message(self, text: str, error: bool = False) -> None:
        """One line in the status bar; a warning or error also in the banner."""
        text = one_line(text)  # a file name with a newline stays on the one line
        if error:
            self.banner.setText(f"⚠ {text}")
            self.banner.show()
        self.statusBar().showMessage(text, 10000)

    # -- columns -----------------------------------------------------------------------------
    def _sync_columns(self) -> None:
        wanted = [c.id for c in self.state.columns]
        for column_id in list(self.views):
            if column_id not in wanted:
                view = self.views.pop(column_id)
                # it stops listening now: a new preset or session sends cursor and selection
                # signals next, which a view of a column that is gone must not receive; it is
                # deleted later, since its own ✕ button may be what removed it
                view.detach()
                view.setParent(None)
                view.deleteLater()
        for index, column_id in enumerate(wanted):
            view = self.views.get(column_id)
            if view is None:
                view = ColumnView(self.explorer, column_id, self.scales, self.theme)
                view.hovered.connect(self.hover_label.setText)
                view.edit_requested.connect(self.edit_column)
                view.set_editable(self.editable)
                self.views[column_id] = view
            else:
                view.refresh()  # a reconfigured column
            self.columns_area.insertWidget(index, view)
        first = self.views[wanted[0]]
        for view in self.views.values():
            view.input_plot.setXLink(first.input_plot if view is not first else None)
        self.add_action.setEnabled(len(wanted) < MAX_MODELS)

    # -- your own model and data: dropped files ---------------------------------------------
    def ask_open_model(self) -> None:
        self.own_model.ask_open_model()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.own_model.dropped_file(event) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if self.own_model.dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        path = self.own_model.dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.own_model.drop(path, event.position().toPoint())

    def edit_column(self, column_id: int) -> None:
        dialog = ColumnEditor(self.state.column(column_id).config, self)
        # the column may be gone when the dialog closes (a preset opened by a shortcut)
        if dialog.exec() and dialog.changed() and self.state.find(column_id) is not None:
            self.explorer.configure_column(column_id, dialog.config())

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.time_controls.pause()
        if self.settings is not None:
            self.settings.set_geometry(bytes(self.saveGeometry()))
        self.training.shutdown()
        self.explorer.shutdown()
        if self._holds_gc:  # once, though Qt may close a window twice
            self._holds_gc = False
            ui_thread_gc.release()
        super().closeEvent(event)


class ColumnsScroll(QScrollArea):
    """The scroll area around the columns: as wide as the columns want (a plain scroll area
    asks for little, and the splitter would give the side panel most of the window)."""

    def sizeHint(self):  # noqa: N802 (Qt's name)
        widget = self.widget()
        hint = super().sizeHint()
        if widget is not None:
            hint.setWidth(max(hint.width(), widget.sizeHint().width()
                              + self.verticalScrollBar().sizeHint().width()))
        return hint

