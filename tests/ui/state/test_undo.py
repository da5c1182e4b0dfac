"""The Qt-free undo stack: push runs a command, merge folds one drag into one step, the limit
drops the oldest, and ``changed`` fires after every change."""

from __future__ import annotations

from rnnviz.ui.state.undo import UndoStack


class SetValue:
    def __init__(self, box: list, new: int, drag: int | None = None):
        self.box, self.old, self.new, self.drag = box, box[0], new, drag
        self.text = f"set {new}"

    def redo(self) -> None:
        self.box[0] = self.new

    def undo(self) -> None:
        self.box[0] = self.old

    def merge(self, previous) -> bool:
        if self.drag is None or getattr(previous, "drag", None) != self.drag:
            return False
        previous.new = self.new
        return True


def test_push_undo_redo():
    box, stack, changes = [0], UndoStack(), []
    stack.events.changed.connect(lambda: changes.append(len(stack)))
    stack.push(SetValue(box, 1))
    stack.push(SetValue(box, 2))
    assert box == [2] and stack.undo_text == "set 2" and not stack.can_redo
    assert stack.undo() and box == [1] and stack.redo_text == "set 2"
    assert stack.redo() and box == [2]
    assert stack.undo() and stack.undo() and box == [0] and not stack.undo()
    stack.push(SetValue(box, 5))  # a new change drops what could have been redone
    assert not stack.can_redo and len(stack) == 1
    assert changes == [1, 2, 1, 2, 1, 0, 1]


def test_one_drag_is_one_step():
    box, stack = [0], UndoStack()
    for value in (1, 2, 3):
        stack.push(SetValue(box, value, drag=7))
    stack.push(SetValue(box, 4, drag=8))
    assert len(stack) == 2
    stack.undo()
    assert box == [3]
    stack.undo()
    assert box == [0]


def test_the_limit_keeps_the_newest():
    box, stack = [0], UndoStack(limit=3)
    for value in range(1, 6):
        stack.push(SetValue(box, value))
    assert len(stack) == 3
    while stack.undo():
        pass
    assert box == [2]
