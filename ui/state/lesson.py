"""Playing a preset's lesson (``rnnviz.files.lessons``) and recording one, without Qt.

``LessonPlayer`` walks the steps of the open preset's lesson: entering a step moves the cursor
(or asks the window to play a range), selects a unit, frames panels, switches the side tab,
changes a column's settings and trains a column, as the step says; the narration is the
window's to show. A step with a question holds there until it is answered (``answer``) or
revealed (``next`` on an unanswered question reveals it, so that a clicker alone can run a
lesson); then ``next`` moves on. Going back shows a step again without training or changing
columns again. ``leave`` gives back the free explorer as it is; ``restart`` starts over, with the
columns a step changes as the lesson found them.

Authoring: ``record(text)`` adds a step after the current one from what is on screen now (the
cursor, the selected unit, the framed panels, the side tab); ``move``, ``delete`` and
``set_text`` edit the steps, which Save preset as writes (``Explorer.preset_now``). The steps
are the open preset's lesson, taken afresh with every new preset, session or task.

``events.changed`` fires when the lesson starts, moves, is answered, edited or left;
``events.play(from, to)`` and ``events.tab(name)`` ask the window for what it does itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from psygnal import Signal, SignalGroup

from rnnviz.files.lessons import LessonStep, changed_config, config_changes, configs_after

if TYPE_CHECKING:
    from .controller import Explorer


class LessonEvents(SignalGroup):
    changed = Signal()
    play = Signal(int, int)
    tab = Signal(str)


class LessonPlayer:
    def __init__(self, explorer: Explorer):
        self.explorer, self.state = explorer, explorer.state
        self.events = LessonEvents()
        self.training: Any = None      # the window's Training, to train a column
        self.steps: list[LessonStep] = []
        self.index = -1                # the step shown; -1: no lesson running
        self.replies: dict[int, int | None] = {}   # step: the reply (None: revealed unasked)
        self._entered: set[int] = set()  # steps whose changes and training were done
        self.tab = "unit"              # the side tab the window shows (set by the window)
        self.base: list = []           # the columns' configs the lesson starts from
        self._left = False             # the lesson was left: the clicker moves in time
        self.state.events.sequence.connect(self._on_sequence)

    # -- what is shown -----------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.index >= 0

    @property
    def step(self) -> LessonStep | None:
        return self.steps[self.index] if self.active else None

    @property
    def count(self) -> int:
        return len(self.steps)

    def revealed(self, index: int | None = None) -> bool:
        """Whether the step's question (if any) was answered or revealed."""
        index = self.index if index is None else index
        step = self.steps[index] if 0 <= index < len(self.steps) else None
        return step is None or step.question is None or index in self.replies

    def right(self, index: int | None = None) -> bool | None:
        """Whether the reply to the step's question was right (None: no reply)."""
        index = self.index if index is None else index
        reply = self.replies.get(index)
        step = self.steps[index] if 0 <= index < len(self.steps) else None
        if reply is None or step is None or step.question is None:
            return None
        return step.question.is_right(reply)

    def wants_step(self) -> bool:
        """Whether a question waits for a click on a step of the sequence."""
        step = self.step
        return (step is not None and step.question is not None
                and step.question.steps is not None and not self.revealed())

    # -- moving ------------------------------------------------------------------------------
    @property
    def waiting(self) -> bool:
        """The preset has a lesson nobody has started or left yet: a clicker's first press
        starts it (a teacher opens the preset and clicks, with no preparation)."""
        return bool(self.steps) and not self.active and not self._left

    def start(self) -> bool:
        """Play the lesson from its first step; False if there is none."""
        self._left = False
        if not self.steps:
            return False
        self._undo_changes()
        self.replies.clear()
        self._entered.clear()
        self._show(0)
        return True

    def _undo_changes(self) -> None:
        """The columns a step changes go back to how the lesson found them, so that starting
        over shows what the first steps describe (not the 128 units a later step made)."""
        columns = self.state.columns
        if len(self.base) != len(columns):
            return
        for k in sorted({k for step in self.steps for k, _ in step.changes}):
            if k < len(columns) and columns[k].config != self.base[k]:
                self.explorer.configure_column(columns[k].id, self.base[k])

    def restart(self) -> bool:
        self.leave()
        return self.start()

    def leave(self) -> None:
        """Stop the lesson; the explorer stays as it is."""
        if self.active:
            self.index = -1
            self._left = True
            self.events.changed.emit()

    def resume(self, index: int) -> None:
        """Be at step ``index`` as a saved session left it: the cursor and selection are the
        session's, and the changes and training of the steps up to it are in its models."""
        if 0 <= index < len(self.steps):
            self._left = False
            self._entered = set(range(index + 1))
            self.index = index
            self.explorer.set_highlights(self.steps[index].highlight)
            self.events.changed.emit()

    def next(self) -> bool:
        """Reveal the question of this step if it is unanswered, else go to the next step.
        False at the end."""
        if not self.active:
            return False
        if not self.revealed():
            self.replies[self.index] = None
            question = self.steps[self.index].question
            if question is not None and question.steps is not None:
                self.explorer.set_cursor(question.steps[0])  # show where the answer is
            self.events.changed.emit()
            return True
        if self.index + 1 >= len(self.steps):
            return False
        self._show(self.index + 1)
        return True

    def back(self) -> bool:
        if not self.active or self.index == 0:
            return False
        self._show(self.index - 1)
        return True

    def go(self, index: int) -> None:
        if self.steps and 0 <= index < len(self.steps):
            self._show(index)

    def answer(self, reply: int) -> bool:
        """Answer the step's question (a choice's index, or a clicked step); True if right.
        An answer stays as given (a second one changes nothing)."""
        step = self.step
        if step is None or step.question is None:
            return False
        if self.index not in self.replies:
            self.replies[self.index] = int(reply)
            self.events.changed.emit()
        return bool(self.right())

    # -- doing what a step says --------------------------------------------------------------
    def _show(self, index: int) -> None:
        self.index = index
        step = self.steps[index]
        ex, s = self.explorer, self.state
        columns = s.columns
        first_time = index not in self._entered
        self._entered.add(index)
        for k, settings in step.changes if first_time else ():
            if k < len(columns):
                ex.configure_column(columns[k].id, changed_config(columns[k].config, settings))
        if (first_time and step.train is not None and step.train[0] < len(columns)
                and self.training is not None):
            k, steps = step.train
            cid = columns[k].id
            self.training.set_option([cid], "steps", steps)
            self.training.train([cid])
        if step.play is not None:
            ex.set_cursor(step.play[0])
            self.events.play.emit(*step.play)
        elif step.step is not None:
            ex.set_cursor(step.step)
        if step.select is not None and step.select[0] < len(columns):
            k, row, unit, layer = step.select
            ex.show_unit(columns[k].id, layer)
            ex.select(columns[k].id, row, unit)
        elif step.clear:
            ex.clear_selection()
        ex.set_highlights(step.highlight)
        if step.tab is not None:
            self.events.tab.emit(step.tab)
        self.events.changed.emit()

    def _on_sequence(self) -> None:
        """Another preset, session or task: a running lesson stops, and the steps are the
        new preset's."""
        preset = self.state.preset
        self.steps = list(preset.lesson) if preset is not None else []
        self.base = [c.config for c in self.state.columns]
        self.replies.clear()
        self._entered.clear()
        self.index = -1
        self._left = False
        self.events.changed.emit()

    # -- authoring ---------------------------------------------------------------------------
    def record(self, text: str) -> LessonStep:
        """A new step after the current one (or at the end), from what is on screen now: the
        cursor, the selected unit, the framed panels, the side tab and the settings of every
        column that differ from what the steps before it leave. The player shows it."""
        s = self.state
        select = None
        if s.selection is not None and s.find(s.selection.column) is not None:
            k = s.index_of(s.selection.column)
            select = (k, s.selection.name, s.selection.index, s.columns[k].unit)
        at = self.index + 1 if self.active else len(self.steps)
        if not self.steps or len(self.base) != len(s.columns):
            self.base = [c.config for c in s.columns]   # a lesson starts from what is shown
        expected = configs_after(self.base, self.steps[:at])
        changes = tuple((k, settings) for k, column in enumerate(s.columns)
                        if (settings := config_changes(expected[k], column.config)))
        step = LessonStep(text=text, step=s.t, select=select, clear=select is None,
                          highlight=s.highlights, tab=self.tab, changes=changes)
        self.steps.insert(at, step)
        self._entered.add(at)  # what it shows is on screen already
        self.replies = {i + (i >= at): r for i, r in self.replies.items()}
        self.index = at
        self.events.changed.emit()
        return step

    def start_configs(self) -> list | None:
        """The columns' configs to save with the lesson: those it starts from when a step
        changes a column (the changes are the steps'), else None (save what is shown)."""
        if any(step.changes for step in self.steps) and len(self.base) == len(self.state.columns):
            return list(self.base)
        return None

    def set_text(self, index: int, text: str) -> None:
        self.steps[index] = replace(self.steps[index], text=text)
        self.events.changed.emit()

    def move(self, index: int, to: int) -> None:
        """Move step ``index`` to position ``to``."""
        step = self.steps.pop(index)
        self.steps.insert(to, step)
        self.replies.clear()
        if self.active:
            self.index = to
        self.events.changed.emit()

    def delete(self, index: int) -> None:
        del self.steps[index]
        self.replies.clear()
        if self.active:
            self.index = min(self.index, len(self.steps) - 1)
        self.events.changed.emit()

