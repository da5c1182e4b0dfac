"""The View menu's modes: presentation mode (F11) and the dark theme.

Presentation mode is for a lecture hall: full screen, only the columns of plots and the time
controls, fonts and lines about twice the size. Esc (or F11 again) leaves it; outside it, Esc
clears the selected unit as before. The dark theme is remembered in the settings; presentation
mode is not (the app never starts full screen).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QToolBar, QWidget

from ..style.theme import Theme, theme_for

PRESENTATION_ICON_PX = 40


class ViewModes(QObject):
    theme_changed = Signal(object)   # the Theme now applied

    def __init__(self, window: QMainWindow, *, dark: bool = False):
        super().__init__(window)
        self.window = window
        self.dark = dark
        self.presenting = False
        self._hidden: list[QWidget] = []        # what presentation mode hid, to show again
        self._state_before = Qt.WindowState.WindowNoState
        self._icon_size = window.time_controls.iconSize()

        self.presentation_action = QAction("Presentation mode", window, checkable=True)
        self.presentation_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.presentation_action.setToolTip("Full screen, only the plots and the time "
                                            "controls, large fonts (F11; Esc leaves)")
        self.presentation_action.toggled.connect(self.set_presentation)
        self.dark_action = QAction("Dark theme", window, checkable=True)
        self.dark_action.setChecked(dark)
        self.dark_action.toggled.connect(self.set_dark)
        for action in (self.presentation_action, self.dark_action):
            window.view_menu.addAction(action)
            window.addAction(action)  # the shortcut works while the menu bar is hidden
        self.apply()

    @property
    def theme(self) -> Theme:
        return theme_for(self.dark, self.presenting)

    def set_dark(self, dark: bool) -> None:
        if dark != self.dark:
            self.dark = dark
            self.dark_action.setChecked(dark)
            settings = getattr(self.window, "settings", None)
            if settings is not None:
                settings.set_theme("dark" if dark else "light")
            self.apply()

    def set_presentation(self, on: bool, *, full_screen: bool = True) -> None:
        """Enter or leave presentation mode; ``full_screen=False`` keeps the window's size
        (for rendering it offscreen at a chosen size)."""
        if on == self.presenting:
            return
        self.presenting = on
        self.presentation_action.setChecked(on)
        window = self.window
        if on:
            # isHidden, not isVisible: the window itself may not be shown yet (offscreen render)
            self._hidden = [w for w in self._chrome() if not w.isHidden()]
            for widget in self._hidden:
                widget.hide()
            if full_screen:
                self._state_before = window.windowState()
                window.showFullScreen()
        else:
            for widget in self._hidden:
                widget.show()
            self._hidden = []
            if window.isFullScreen():
                window.setWindowState(self._state_before)
                window.show()
        self.apply()

    def escape(self) -> bool:
        """Esc: leave presentation mode; returns False when there was none to leave."""
        if self.presenting:
            self.set_presentation(False)
            return True
        return False

    def _chrome(self) -> list[QWidget]:
        """Everything but the columns and the time controls."""
        window = self.window
        widgets: list[QWidget] = [window.menuBar(), window.statusBar(), window.side]
        widgets += [bar for bar in window.findChildren(QToolBar)
                    if bar is not window.time_controls]
        widgets += window.findChildren(QDockWidget)
        return widgets

    def apply(self) -> None:
        """Restyle the window and every column for the current theme."""
        theme = self.theme
        window = self.window
        window.theme = theme
        window.setPalette(theme.palette())
        for view in window.views.values():
            view.apply_theme(theme)
        controls = window.time_controls
        font = QFont(QApplication.font())
        if theme.ui_font_size:
            font.setPointSize(theme.ui_font_size)
        controls.setFont(font)
        window.description.setFont(font)
        window.banner.setFont(font)  # a warning the back of the room must read too
        for child in controls.findChildren(QWidget):
            child.setFont(font)
        controls.restyle()
        controls.label.setMinimumWidth(controls.label.fontMetrics()
                                       .horizontalAdvance("t = 00000 / 00000"))
        controls.setIconSize(QSize(PRESENTATION_ICON_PX, PRESENTATION_ICON_PX)
                             if theme.presentation else self._icon_size)
        self.theme_changed.emit(theme)
