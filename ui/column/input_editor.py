"""Editing the input in place, in a column's input strip.

- Numeric inputs (drawn as curves): press the left button near the curve at step k and drag
  up or down; the value follows the mouse (within the plot's range). One drag is one undo step.
- Symbol and text inputs: click the input strip at step k (the cursor moves there), then type
  a symbol of the task's alphabet; it replaces the input at the cursor and the cursor moves on,
  like overwriting text. While the strip has the keyboard, a typed symbol wins over a shortcut
  with the same key (Space is a character of a text); arrows keep stepping.

Every edit goes through ``ExplorerModel.set_input``; ``repaint`` redraws the input strip of
its view at once (a synchronous paint of that strip), before the worker has recomputed the
columns.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, Qt

HIT_PIXELS = 10.0
KEY_TEXT = {Qt.Key.Key_Return: "\n", Qt.Key.Key_Enter: "\n", Qt.Key.Key_Tab: "\t"}


class InputEditor(QObject):
    """Mouse and keyboard editing of one ``ColumnView``'s input strip."""

    def __init__(self, view):
        super().__init__(view)
        self.view, self.explorer, self.state = view, view.explorer, view.state
        self.drag: tuple[int, int, int] | None = None   # (drag id, step, channel)
        self.armed = False                               # typing edits the input
        view.canvas.viewport().installEventFilter(self)
        view.canvas.installEventFilter(self)

    # -- drawing -----------------------------------------------------------------------------
    def repaint(self, k: int) -> None:
        """Show the edited input at step ``k`` now (the rest follows with the new trace); its
        column view calls it when the state says the input was edited."""
        view = self.view
        view.input.show_edit(self.state.inputs, self.state.labels, k)
        # paint the strip now rather than when the event loop gets to it: a trace landing
        # from the worker (which refills every panel) must not delay the feedback
        strip = view.canvas.mapFromScene(view.input_plot.sceneBoundingRect()).boundingRect()
        view.canvas.viewport().repaint(strip.adjusted(-2, -2, 2, 2))

    # -- where the mouse is ------------------------------------------------------------------
    def _numeric(self) -> bool:
        task = self.state.task
        # a model's token ids (rnnviz.files.data_task) are symbols, not values to drag
        return (task is not None and task.alphabet is None
                and getattr(task, "tokens", None) is None
                and self.view.input.map.data is None)

    def _in_input_plot(self, scene_pos) -> bool:
        return self.view.input_plot.getViewBox().sceneBoundingRect().contains(scene_pos)

    def hit(self, scene_pos) -> tuple[int, int] | None:
        """``(step, channel)`` of the input point within ``HIT_PIXELS`` of ``scene_pos``."""
        if not self._numeric() or not self._in_input_plot(scene_pos):
            return None
        vb = self.view.input_plot.getViewBox()
        k = int(round(vb.mapSceneToView(scene_pos).x()))
        xs = self.state.inputs
        if not 0 <= k < len(xs):
            return None
        best = None
        for c in range(min(xs.shape[1], len(self.view.input.curves))):
            point = vb.mapViewToScene(QPointF(k, float(xs[k, c])))
            distance = abs(point.y() - scene_pos.y())
            if distance <= HIT_PIXELS and (best is None or distance < best[0]):
                best = (distance, c)
        return None if best is None else (k, best[1])

    def value_at(self, scene_pos) -> float:
        """The input value under the mouse, kept within the plot's visible range."""
        vb = self.view.input_plot.getViewBox()
        lo, hi = vb.viewRange()[1]
        return float(np.clip(vb.mapSceneToView(scene_pos).y(), lo, hi))

    # -- events ------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                    QEvent.Type.MouseButtonRelease):
            return self._mouse(event)
        if kind == QEvent.Type.ShortcutOverride and self._symbol(event) is not None:
            event.accept()  # the key comes to us as a key press, not to a shortcut
            return True
        if kind == QEvent.Type.KeyPress:
            symbol = self._symbol(event)
            if symbol is not None:
                self.type_symbol(symbol)
                return True
        if kind == QEvent.Type.FocusOut:
            self.armed = False
        return False

    def _mouse(self, event) -> bool:
        scene_pos = self.view.canvas.mapToScene(event.position().toPoint())
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            if self.explorer.lesson.wants_step():
                return False  # the click answers the lesson's question, it edits nothing
            self.armed = self._in_input_plot(scene_pos) and not self._numeric()
            hit = self.hit(scene_pos)
            if hit is None:
                return False
            self.drag = (self.explorer.begin_drag(), *hit)
            self.explorer.set_cursor(hit[0])
            return True
        if self.drag is None:
            return False
        if kind == QEvent.Type.MouseMove:
            drag, k, c = self.drag
            x = self.state.inputs[k].copy()
            x[c] = self.value_at(scene_pos)
            self.explorer.set_input(k, x, drag=drag)
            return True
        if kind == QEvent.Type.MouseButtonRelease:
            self.drag = None
            self.explorer.end_drag()
            return True
        return False

    def _symbol(self, event) -> str | None:
        """The alphabet symbol a key press types, when typing is on."""
        task = self.state.task
        if not self.armed or task is None or task.alphabet is None:
            return None
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                | Qt.KeyboardModifier.AltModifier):
            return None
        text = KEY_TEXT.get(event.key(), event.text())
        alphabet = task.alphabet
        if len(text) != 1:
            return None
        if text in alphabet:
            return text
        swapped = text.swapcase()
        return swapped if swapped in alphabet else None

    def type_symbol(self, symbol: str) -> None:
        """Replace the input at the cursor by ``symbol`` (one-hot) and move on one step."""
        task, t = self.state.task, self.state.t
        x = np.zeros(self.state.inputs.shape[1], np.float32)
        x[task.alphabet.index(symbol)] = 1.0
        self.explorer.set_input(t, x)
        self.explorer.set_cursor(t + 1)
