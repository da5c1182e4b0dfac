"""Time controls: first, back, play/pause, step, last, a slider, the speed, "t = 12 / 200".

Playback advances by wall-clock time (``speed`` steps per second), so when drawing falls
behind, steps are skipped rather than queued: play speed is a wish, never a queue.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import QLabel, QSlider, QSpinBox, QStyle, QToolBar, QWidget

from ..state.controller import Explorer

FRAME_MS = 16  # at most one step per 60 Hz frame


class TimeControls(QToolBar):
    playing_changed = Signal(bool)

    def __init__(self, explorer: Explorer, parent: QWidget | None = None):
        super().__init__("Time", parent)
        self.explorer, self.state = explorer, explorer.state
        self.setObjectName("time-controls")

        P = QStyle.StandardPixmap
        self._icons: dict[QAction, QStyle.StandardPixmap] = {}

        def action(icon, tip, keys, slot):
            a = QAction(self._icon(icon), tip, self)
            self._icons[a] = icon
            a.setToolTip(f"{tip} ({', '.join(QKeySequence(k).toString() for k in keys)})")
            a.setShortcuts([QKeySequence(k) for k in keys])
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        K = Qt.Key
        self.first_action = action(P.SP_MediaSkipBackward, "First step", [K.Key_Home],
                                   lambda: explorer.set_cursor(0))
        self.back_action = action(P.SP_MediaSeekBackward, "Step back",
                                  [K.Key_Left], lambda: self._manual(-1))
        self.play_action = action(P.SP_MediaPlay, "Play / pause", [K.Key_Space],
                                  self.toggle_play)
        self.step_action = action(P.SP_MediaSeekForward, "Step forward",
                                  [K.Key_Right], lambda: self._manual(1))
        self.last_action = action(P.SP_MediaSkipForward, "Last step", [K.Key_End],
                                  lambda: explorer.set_cursor(self.state.steps - 1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the window's shortcuts
        self.slider.setMinimumWidth(240)
        self.slider.setToolTip("Drag to scrub through time")
        self.slider.valueChanged.connect(explorer.set_cursor)
        self.addWidget(self.slider)
        self.label = QLabel()
        self.label.setMinimumWidth(110)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.label)
        self.speed = QSpinBox()
        self.speed.setRange(1, 500)
        self.speed.setValue(20)
        self.speed.setSuffix(" steps/s")
        self.speed.setToolTip("Playback speed")
        self.speed.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.speed.valueChanged.connect(self._restart_clock)
        self.addWidget(self.speed)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)
        self._clock = (0.0, 0)
        self._stop_at: int | None = None  # where playing a range ends
        explorer.state.events.t.connect(self._update)
        explorer.state.events.sequence.connect(self._update_range)
        self._update_range()

    def _icon(self, which: QStyle.StandardPixmap) -> QIcon:
        """The style's icon, recoloured to the text colour on a dark palette (the standard
        media icons are dark grey and vanish on a dark background)."""
        icon = self.style().standardIcon(which)
        text = self.palette().color(QPalette.ColorRole.WindowText)
        if text.lightness() < 128:
            return icon
        pixmap = icon.pixmap(64, 64)
        painter = QPainter(pixmap)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(pixmap.rect(), text)
        painter.end()
        return QIcon(pixmap)

    def _set_icon(self, action: QAction, which: QStyle.StandardPixmap) -> None:
        self._icons[action] = which
        action.setIcon(self._icon(which))

    def restyle(self) -> None:
        """Redraw the icons for the current palette (after a theme switch)."""
        for action, which in self._icons.items():
            action.setIcon(self._icon(which))

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.state.t >= self.state.steps - 1:
            self.explorer.set_cursor(0)
        self._restart_clock()
        self.timer.start()
        self._set_icon(self.play_action, QStyle.StandardPixmap.SP_MediaPause)
        self.playing_changed.emit(True)

    def play_range(self, start: int, stop: int) -> None:
        """Play from ``start`` to ``stop`` and pause there (a lesson step's ``play``)."""
        self.pause()
        self.explorer.set_cursor(start)
        self.play()
        self._stop_at = stop

    def pause(self) -> None:
        self._stop_at = None
        self.timer.stop()
        self._set_icon(self.play_action, QStyle.StandardPixmap.SP_MediaPlay)
        self.playing_changed.emit(False)

    def _manual(self, delta: int) -> None:
        self.pause()
        self.explorer.step(delta)

    def _restart_clock(self) -> None:
        self._clock = (time.perf_counter(), self.state.t)

    def _tick(self) -> None:
        start, t0 = self._clock
        wanted = t0 + int((time.perf_counter() - start) * self.speed.value())
        last = self.state.steps - 1
        if self._stop_at is not None:
            last = min(last, self._stop_at)
        self.explorer.set_cursor(min(wanted, last))
        if wanted >= last:
            self.pause()

    def _update_range(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(self.state.steps - 1, 0))
        self.slider.blockSignals(False)
        self._update(self.state.t)

    def _update(self, t: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(t)
        self.slider.blockSignals(False)
        self.label.setText(f"t = {t} / {self.state.steps - 1}")
