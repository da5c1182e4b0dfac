"""The window driven by a seeded stream of random user actions.

Each action goes through what a user has: the window's actions and buttons, keys and mouse
clicks through qtbot, the dialogs' fields, and the model methods the views themselves call
(``set_input`` with a drag, ``show_unit``). Between actions the event loop runs for a random
few milliseconds, so actions land while traces, gradient rows and training are on their way.

The test fails on an exception in a slot (pytest-qt's capture), a Qt warning or critical
message (pytest-qt's message handler, ``qtlog``), a status-bar message naming a Python
exception (a job that failed for a reason other than bad input), a hang, a column left in an
error, a saved preset that ``rnnviz check`` rejects, or a window that no longer matches its
model when everything has settled. The failure names the seed and lists the actions, to
replay them:

    RNNVIZ_FUZZ_SEEDS=7 RNNVIZ_FUZZ_ACTIONS=3000 .venv/bin/python -m pytest -q \\
        tests/ui/views/test_random_actions.py

(``RNNVIZ_FUZZ_SEEDS`` takes a comma-separated list; ``RNNVIZ_FUZZ_LOG=path`` also writes
each action to ``path`` as it starts, for a run that takes the process down.) The suite runs
``DEFAULT_ACTIONS`` with one seed.
"""

from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer, QtMsgType
from PySide6.QtWidgets import QApplication
from rnnviz.ui.dialogs.column_editor import ColumnEditor
from rnnviz.ui.window.main_window import MainWindow

from rnnviz.core.programs import PROGRAMS
from rnnviz.files.preset_check import check_preset
from rnnviz.files.presets import load_preset

DEFAULT_ACTIONS = 250
SEEDS = [int(s) for s in os.environ.get("RNNVIZ_FUZZ_SEEDS", "1").split(",")]
ACTIONS = int(os.environ.get("RNNVIZ_FUZZ_ACTIONS", DEFAULT_ACTIONS))
SETTLE_EVERY = 40          # actions between checks of the settled window
SETTLE_TIMEOUT_MS = 180_000
TRAIN_STEPS = 8            # every run the same length: training compiles once per column
# Qt messages the offscreen platform prints for any window
HARMLESS = ("This plugin does not support propagateSizeHints()",)
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception)\b:")

FUZZ_PRESET = """title = "Fuzz"
description = "Small columns on a short sine."
start_step = 5

[task]
name = "sine"
length = 16

[[models]]
cell = "rnn"
hidden_size = 4
label = "RNN, labelled"
{weights0}
[[models]]
cell = "lstm"
hidden_size = 4
num_layers = 2
{weights1}
[[models]]
cell = "gru"
hidden_size = 4
bidirectional = true
{weights2}
[training]
steps = 8
batch_size = 4
learning_rate = 0.02
eval_every = 4
eval_batch = 4
"""

TEXT = "abc cab bca abc bac"
# (name, settings) the Task dialog is given: two lengths, four input/output sizes (each new
# (model, length) pair compiles programs, which is most of the test's time)
TASKS = [
    ("sine", {"length": 16}),
    ("sine", {"length": 12}),
    ("adding", {"length": 16}),
    ("copy", {"symbols": 3, "memory": 2, "delay": 11}),
    ("text", {"length": 16, "text": TEXT}),
]
CELLS = ["rnn_tanh", "lstm", "gru"]


class Fuzzer:
    """Runs random actions on ``window``; ``log`` lists them."""

    def __init__(self, window, qtbot, qtlog, rng: random.Random, presets: list, out_dir,
                 log_path: str | None):
        self.window, self.qtbot, self.qtlog, self.rng = window, qtbot, qtlog, rng
        self.explorer, self.state = window.explorer, window.state
        self.training = window.training.model
        self.presets, self.out_dir = presets, out_dir
        self.log: list[str] = []  # the actions, each with the seconds since the start
        self.start = time.monotonic()
        self.log_path = log_path
        self.messages: list[str] = []
        self.saved = 0
        events = self.state.events
        events.message.connect(lambda text, _warn: self.messages.append(text))
        self.training.events.message.connect(lambda text, _warn: self.messages.append(text))
        self.effects: Counter[str] = Counter()  # what the actions did, to know they did
        self._count(events.inputs_edited, "input edited")
        self._count(events.sequence, "sequence changed")
        self._count(events.columns, "columns changed")
        self._count(window.view_modes.theme_changed, "theme changed")
        events.selection.connect(
            lambda selection: self.effects.update(["unit selected"] if selection else []))
        self.training.events.state.connect(
            lambda: self.effects.update(["training"] if self.training.running_column()
                                        is not None else []))
        self.actions = [
            (12, self.step), (3, self.scrub), (2, self.play_or_pause), (6, self.click_unit),
            (4, self.click_time), (5, self.edit_input), (4, self.undo), (3, self.redo),
            (3, self.edit_column), (2, self.remove_column), (2, self.add_column),
            (3, self.change_task), (2, self.new_sequence), (2, self.toggle_dark),
            (2, self.toggle_presentation), (2, self.escape), (2, self.train), (2, self.stop),
            (1, self.reset_weights), (3, self.switch_layer), (1, self.switch_preset),
            (2, self.switch_side_tab), (1, self.save_preset), (2, self.wait),
        ]

    # -- bookkeeping -------------------------------------------------------------------------
    def _count(self, signal, name: str) -> None:
        signal.connect(lambda *_: self.effects.update([name]))

    def note(self, text: str) -> None:
        text = f"{time.monotonic() - self.start:7.2f}s {text}"
        self.log.append(text)
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(text + "\n")

    def fail(self, why: str) -> None:
        actions = "\n".join(f"  {i}: {a}" for i, a in enumerate(self.log))
        pytest.fail(f"{why}\nreplay: RNNVIZ_FUZZ_SEEDS={self.seed} "
                    f"RNNVIZ_FUZZ_ACTIONS={ACTIONS}\nactions:\n{actions}", pytrace=False)

    def check_messages(self, exceptions) -> None:
        if exceptions:
            text = "".join(traceback.format_exception(*exceptions[0]))
            self.fail(f"exception in the event loop:\n{text}")
        bad = [r for r in self.qtlog.records
               if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                             QtMsgType.QtFatalMsg) and r.message not in HARMLESS]
        if bad:
            self.fail(f"Qt message: {bad[0].message}")
        internal = [m for m in self.messages if EXCEPTION_NAME.search(m)]
        if internal:
            self.fail(f"the window reported an internal error: {internal[0]}")

    def run(self, seed: int, count: int) -> None:
        self.seed = seed
        weights, actions = zip(*self.actions, strict=True)
        with self.qtbot.captureExceptions() as exceptions:
            for i in range(count):
                action = self.rng.choices(actions, weights)[0]
                self.note(action.__name__)
                action()
                self.qtbot.wait(self.rng.choice([0, 0, 1, 5, 20]))
                self.check_messages(exceptions)
                if (i + 1) % SETTLE_EVERY == 0:
                    self.settle()
                    self.check_messages(exceptions)
            self.settle()
            self.check_messages(exceptions)

    # -- what must hold once everything has settled ------------------------------------------
    def settle(self) -> None:
        self.note("(settle)")
        self.window.training.stop_action.trigger()
        self.answer_dialogs()

        def done():
            return (self.explorer.settled() and not self.training.running
                    and self.training.runner.is_idle())

        try:
            self.qtbot.waitUntil(done, timeout=SETTLE_TIMEOUT_MS)
        except Exception:  # noqa: BLE001 (pytest-qt's TimeoutError)
            self.fail("the window did not settle (a hang?)")
        state, window = self.state, self.window
        task = state.task
        for column in state.columns:
            title = column.config.title
            if column.error:
                self.fail(f"column {title} is left in an error: {column.error}")
            if column.trace is None or column.trace.steps != state.steps:
                self.fail(f"column {title} has no trace of the sequence shown")
            spec = column.model.spec
            if (spec.input_size, spec.out_size) != (task.input_size, task.output_size):
                self.fail(f"column {title}'s model does not fit task {task.name}")
            view = window.views.get(column.id)
            if view is None or not view.title.text().startswith(title):
                self.fail(f"column {title} has no view, or a view titled otherwise")
            data = view.heatmaps["h"].data
            if data is None or data.shape != (spec.hidden_size, state.steps):
                self.fail(f"column {title}'s h heatmap is not its trace")
        if set(window.views) != {c.id for c in state.columns}:
            self.fail("the window's views are not the model's columns")
        if state.selection is not None and state.find(state.selection.column) is None:
            self.fail("the selection names a column that is gone")
        if not 0 <= state.t < state.steps:
            self.fail(f"the cursor {state.t} is outside 0..{state.steps - 1}")
        if window.time_controls.label.text() != f"t = {state.t} / {state.steps - 1}":
            self.fail("the time controls do not show the cursor")

    def answer_dialogs(self) -> None:
        dialog = self.window.sequence_tools.dialog
        if dialog is not None and dialog.isVisible():
            dialog.reject()

    # -- picking things ----------------------------------------------------------------------
    def pick_view(self):
        columns = self.state.columns
        column = columns[self.rng.randrange(3) % len(columns)]
        return column, self.window.views[column.id]

    def viewport_point(self, view, plot, x: float, y: float):
        scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
        return view.canvas.mapFromScene(scene)

    # -- the actions -------------------------------------------------------------------------
    def step(self) -> None:
        key = self.rng.choice([Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left,
                               Qt.Key.Key_PageDown, Qt.Key.Key_PageUp, Qt.Key.Key_Home,
                               Qt.Key.Key_End])
        self.note(f"  key {key.name}")
        self.qtbot.keyClick(self.window, key)

    def scrub(self) -> None:
        slider = self.window.time_controls.slider
        value = self.rng.randrange(slider.maximum() + 1)
        self.note(f"  slider to {value}")
        slider.setValue(value)

    def play_or_pause(self) -> None:
        self.window.time_controls.play_action.trigger()

    def click_unit(self) -> None:
        column, view = self.pick_view()
        slot = self.rng.choice(["h", "h", "c", "gate0", "gate1", "gate2"])
        t, unit = self.rng.randrange(self.state.steps), self.rng.randrange(4)
        self.note(f"  column {column.id} {slot} unit {unit} at t={t}")
        main = view.states[slot].plot
        self.qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                              pos=self.viewport_point(view, main, t, unit + 0.5))

    def click_time(self) -> None:
        column, view = self.pick_view()
        t = self.rng.randrange(self.state.steps)
        plot = self.rng.choice([view.output.plot, view.grad.plot, view.means.plot])
        self.note(f"  column {column.id} at t={t}")
        lo, hi = plot.getViewBox().viewRange()[1]
        self.qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                              pos=self.viewport_point(view, plot, t, (lo + hi) / 2))

    def edit_input(self) -> None:
        """Type a symbol into a symbol task's input strip, or drag a numeric input."""
        column, view = self.pick_view()
        task, k = self.state.task, self.rng.randrange(self.state.steps)
        viewport = view.canvas.viewport()
        if task.alphabet is not None:
            symbol = self.rng.choice([s for s in task.alphabet if s.isprintable()])
            self.note(f"  column {column.id}: type {symbol!r} at {k}")
            self.qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton,
                                  pos=self.viewport_point(view, view.input_plot, k,
                                                          self.state.inputs.shape[1] / 2))
            self.qtbot.keyClick(view.canvas, symbol)
            return
        channel = self.rng.randrange(min(self.state.inputs.shape[1], 3))
        y0 = float(self.state.inputs[k, channel])
        goal = y0 + self.rng.uniform(-0.5, 0.5)
        self.note(f"  column {column.id}: drag input {k}[{channel}] to {goal:.3f}")
        self.qtbot.mousePress(viewport, Qt.MouseButton.LeftButton,
                              pos=self.viewport_point(view, view.input_plot, k, y0))
        for i in (1, 2, 3):
            self.qtbot.mouseMove(viewport, self.viewport_point(
                view, view.input_plot, k, y0 + (goal - y0) * i / 3))
            self.qtbot.wait(self.rng.choice([0, 5, 30]))
        self.qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton,
                                pos=self.viewport_point(view, view.input_plot, k, goal))

    def undo(self) -> None:
        self.qtbot.keyClick(self.window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    def redo(self) -> None:
        self.qtbot.keyClick(self.window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                            | Qt.KeyboardModifier.ShiftModifier)

    def edit_column(self) -> None:
        """Edit… then, in the dialog: nothing, a new seed, a new cell, or Cancel."""
        column, view = self.pick_view()
        change = self.rng.choice(["nothing", "seed", "cell", "layers", "cancel"])
        cell, seed = self.rng.choice(CELLS), self.rng.randrange(5)
        self.note(f"  column {column.id}: {change} (cell {cell}, seed {seed})")

        def answer():
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, ColumnEditor):
                QTimer.singleShot(5, answer)  # not shown yet
                return
            if change == "seed":
                dialog.seed.setValue(seed)
            elif change == "cell":
                dialog.cell.setCurrentIndex(dialog.cell.findData(cell))
            elif change == "layers":
                dialog.layers.setValue(3 - dialog.layers.value() if dialog.layers.value() < 3
                                       else 1)
            (dialog.reject if change == "cancel" else dialog.accept)()

        QTimer.singleShot(0, answer)
        self.qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)

    def remove_column(self) -> None:
        column, view = self.pick_view()
        self.note(f"  column {column.id}")
        self.qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)

    def add_column(self) -> None:
        self.window.add_action.trigger()

    def change_task(self) -> None:
        name, settings = self.rng.choice(TASKS)
        seed = self.rng.randrange(4)
        self.note(f"  {name} {settings} example {seed}")
        dialog = self.window.sequence_tools.open_dialog()
        dialog.name.setCurrentIndex(dialog.name.findData(name))
        for key, value in settings.items():
            kind, editor = dialog.editors[key]
            if kind == "text":
                editor.setPlainText(value)
            else:
                editor.setValue(value)
        dialog.seed_box.setValue(seed)
        self.qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        if dialog.isVisible():
            self.fail(f"the Task dialog refused {name} {settings}: {dialog.error.text()}")

    def new_sequence(self) -> None:
        self.window.sequence_tools.new_action.trigger()

    def toggle_dark(self) -> None:
        self.window.view_modes.dark_action.trigger()

    def toggle_presentation(self) -> None:
        self.qtbot.keyClick(self.window, Qt.Key.Key_F11)

    def escape(self) -> None:
        self.qtbot.keyClick(self.window, Qt.Key.Key_Escape)

    def train(self) -> None:
        """Train one column (or all) for a few steps, from the panel."""
        dock = self.window.training
        panel = dock.panel
        index = self.rng.randrange(panel.target.count())
        self.note(f"  target {index}")
        if panel.target.isEnabled():
            panel.target.setCurrentIndex(index)
        if panel.steps.isEnabled():
            panel.steps.setValue(TRAIN_STEPS)
        dock.train_action.trigger()

    def stop(self) -> None:
        self.window.training.stop_action.trigger()

    def reset_weights(self) -> None:
        button = self.window.training.panel.reset_button
        if button.isEnabled():
            button.click()

    def switch_layer(self) -> None:
        column, view = self.pick_view()
        box = view.unit_box
        if box.count():
            index = self.rng.randrange(box.count())
            self.note(f"  column {column.id} to {box.itemText(index)}")
            box.setCurrentIndex(index)

    def switch_preset(self) -> None:
        path = self.rng.choice(self.presets)
        self.note(f"  {path}")
        if not self.window.open_preset(path):
            self.fail(f"the preset {path} did not open: {self.window.banner.text()}")

    def switch_side_tab(self) -> None:
        side = self.window.side
        side.setCurrentIndex(self.rng.randrange(side.count()))

    def save_preset(self) -> None:
        """Save preset as…: when it says it saved, ``rnnviz check`` takes the file."""
        self.saved += 1
        path = self.out_dir / f"saved{self.saved}.toml"
        if self.window.training.save_preset(path):
            try:
                check_preset(path)
            except Exception as exc:  # noqa: BLE001 (any rejection is the failure)
                self.fail(f"a saved preset is rejected: {exc}")

    def wait(self) -> None:
        self.qtbot.wait(self.rng.choice([50, 200, 600]))


def _presets(folder) -> list:
    """The fuzz preset with seeded weights, and the same columns with weight files (other
    seeds), as a lesson's presets have."""
    plain = folder / "fuzz.toml"
    plain.write_text(FUZZ_PRESET.format(weights0="", weights1="", weights2=""))
    names = {}
    for k, config in enumerate(load_preset(plain).models):
        model = replace(config, seed=10 + k).build(1, 1)
        names[f"weights{k}"] = f'weights = "fuzz-{k}.safetensors"\n'
        model.save(folder / f"fuzz-{k}.safetensors")
    with_files = folder / "fuzz-weights.toml"
    with_files.write_text(FUZZ_PRESET.format(**names))
    return [plain, with_files]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_actions(seed, qtbot, qtlog, tmp_path):
    presets = _presets(tmp_path)
    fuzz = presets[0]
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.load(load_preset(fuzz))
    window.show()
    log_path = os.environ.get("RNNVIZ_FUZZ_LOG")
    rng = random.Random(seed)
    drops = PROGRAMS.drops
    fuzzer = Fuzzer(window, qtbot, qtlog, rng, presets, tmp_path, log_path)
    try:
        fuzzer.run(seed, ACTIONS)
    finally:
        window.close()
    assert np.isfinite(window.state.inputs).all()
    print(f"seed {seed}, {ACTIONS} actions: {dict(fuzzer.effects)}; compiled programs "
          f"dropped {PROGRAMS.drops - drops} times")  # shown with -s
    done = {"input edited", "sequence changed", "columns changed", "theme changed",
            "unit selected", "training"}
    assert done <= set(fuzzer.effects), f"never happened: {done - set(fuzzer.effects)}"
