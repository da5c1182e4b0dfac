"""``rnnviz.show``: the explorer window from a notebook or a script, without blocking it.

    import rnnviz
    rnnviz.show("mine.keras", x, target=y)         # a path, a torch nn.Module or a Model
    rnnviz.show(preset="adding")                    # a preset on its own

The model becomes a column beside the preset's (``preset``, default the sine preset; in place
of the last one when there are three already), over ``x`` ``(T, input_size)`` and ``target``
(``(T, O)`` values for ``loss="mse"``, ``(T,)`` classes for ``"xent"``) or, without ``x``, the
task's example sequence. The model must read the task's inputs and write its outputs.

Two ways to show it, chosen by whether a Qt application runs in this process:

- **in this process** (Jupyter after ``%gui qt``, or a PySide6 script with its own
  ``QApplication``): the window is built in that application's event loop and returned (a
  ``MainWindow``); the kernel stays free.
- **in a process of its own** (anywhere else): everything shown is written to a session file
  (``rnnviz.files.session``, atomically) in a new temporary folder, ``python -m rnnviz
  SESSION`` opens it, and ``show`` returns at once a ``ShowProcess`` (``.process``,
  ``.running()``, ``.wait()``, ``.log()``, ``.close()``).

The engine never imports Qt: the in-process window comes from ``rnnviz.ui.notebook``, loaded
by name only when it is needed, as the ``rnnviz`` command loads its window.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.errors import RnnvizError
from rnnviz.files.model_columns import column_config
from rnnviz.files.model_data import read_inputs, read_target, vocabulary_beside
from rnnviz.files.notebook import open_model
from rnnviz.files.presets import DEFAULT_PRESET, MAX_MODELS, Preset, load_preset
from rnnviz.files.session import Session, write_session
from rnnviz.limits import MAX_LENGTH


def show(model: Any = None, x: Any = None, target: Any = None, *,
         preset: str | os.PathLike | Preset | None = None, loss: str = "mse",
         columns: list[str | int] | None = None, vocab: str | os.PathLike | None = None,
         in_process: bool | None = None):
    """Open the explorer on ``model`` (what ``rnnviz.trace`` takes, or None: the preset's
    columns only) over ``x`` and ``target`` (arrays, or data files as ``rnnviz.trace``
    reads them, ``columns`` and ``vocab`` included), beside ``preset``'s columns.

    ``in_process``: True builds the window in this process's running ``QApplication`` and
    returns it; False starts a process of its own and returns a ``ShowProcess``; None (the
    default) picks the first when a ``QApplication`` exists here. Bad input is one
    ``RnnvizError`` line, before any window opens."""
    session = show_session(model, x, target, preset=preset, loss=loss, columns=columns,
                           vocab=vocab)
    if in_process is None:
        in_process = qt_application_running()
    if in_process:
        if not qt_application_running():
            raise RnnvizError("in_process=True: no QApplication runs in this process; in "
                              "Jupyter, run %gui qt first")
        return importlib.import_module("rnnviz.ui.notebook").show_window(session)
    return launch(session)


def qt_application_running() -> bool:
    """Whether this process has a PySide6 ``QApplication`` (found among the loaded modules:
    asking must not load Qt)."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is None:
        return False
    return isinstance(widgets.QApplication.instance(), widgets.QApplication)


def _preset(preset: str | os.PathLike | Preset | None) -> Preset:
    if isinstance(preset, Preset):
        return preset
    return load_preset(DEFAULT_PRESET if preset is None else Path(preset))


def _label(model: Any) -> str:
    if isinstance(model, (str, os.PathLike)):
        return Path(model).name
    if isinstance(model, Model):
        return f"{model.spec.cell_type.label} (notebook)"
    return f"{type(model).__name__} (notebook)"


def show_session(model: Any = None, x: Any = None, target: Any = None, *,
                 preset: str | os.PathLike | Preset | None = None, loss: str = "mse",
                 columns: list[str | int] | None = None,
                 vocab: str | os.PathLike | None = None) -> Session:
    """What ``show`` opens, checked: the preset with the model as its last column, the input
    ``(T, I)``, the target, and the models in memory (None for a column the window builds from
    its preset entry)."""
    shown = _preset(preset)
    task = shown.make_task()
    models: list[Model | None] = [None] * len(shown.models)
    opened = None
    if model is not None:
        opened = open_model(model)
        config = column_config(opened.spec, _label(model), task.input_size, task.output_size)
        # the weights are in memory (a module, a Model) or read already: no file to follow
        config = dataclasses.replace(config, weights=None, label=_label(model))
        kept = shown.models[: MAX_MODELS - 1]
        shown = shown.with_models([*kept, config])
        models = [*models[: len(kept)], opened]
    if x is None:
        if target is not None:
            raise RnnvizError("target: given without x; give the input x it belongs to")
        inputs, example_target = task.example(seed=shown.example_seed)
        return _session(shown, inputs, example_target, models)
    if isinstance(x, (str, os.PathLike)):
        if opened is None:
            raise RnnvizError(f"x: {x} is a data file; reading one needs the model it is "
                              f"fitted to (give model too, or x as an array)")
        if vocab is None and isinstance(model, (str, os.PathLike)):
            vocab = vocabulary_beside(model)
        x = read_inputs(x, opened.spec, columns=columns, vocab=vocab)
    inputs = np.asarray(x, dtype=np.float32)
    if inputs.ndim == 1 and task.input_size == 1:
        inputs = inputs[:, None]
    if inputs.ndim != 2 or inputs.shape[1] != task.input_size or len(inputs) == 0:
        raise RnnvizError(f"x: expected (T, {task.input_size}) values for task {task.name}, "
                          f"got shape {inputs.shape}")
    if len(inputs) > MAX_LENGTH:
        raise RnnvizError(f"x: {len(inputs)} steps; at most {MAX_LENGTH} (limit MAX_LENGTH)")
    if not np.isfinite(inputs).all():
        raise RnnvizError("x: expected finite numbers, got NaN or infinity")
    return _session(shown, inputs, _target(target, loss, len(inputs), task), models)


def _session(preset: Preset, inputs, target: Target | None, models: list[Model | None]
             ) -> Session:
    """The session from its first step, each column on its first layer, nothing selected."""
    units = [config.units[0] for config in preset.models]
    return Session(preset, inputs, target, models, units=units)  # type: ignore[arg-type]


def _target(target: Any, loss: str, steps: int, task) -> Target | None:
    if target is None or isinstance(target, Target):
        return target
    values = np.asarray(read_target(target) if isinstance(target, (str, os.PathLike))
                        else target)
    if loss == "xent" and values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    expected = (steps, task.output_size) if loss == "mse" else (steps,)
    if loss == "mse" and values.ndim == 1 and task.output_size == 1:
        values = values[:, None]
    if values.shape != expected:
        raise RnnvizError(f"target: expected {expected} for loss {loss!r} over the {steps} "
                          f"steps of x, got shape {values.shape}")
    return Target(values, kind=loss)


@dataclass
class ShowProcess:
    """The window's own process: ``process`` (a ``subprocess.Popen``), the session file it
    opened and the file its output goes to (one line, when it failed)."""

    process: subprocess.Popen
    session: Path
    log_path: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the window to be closed; its exit status."""
        return self.process.wait(timeout)

    def log(self) -> str:
        """What the process printed (an error is one line)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Close the window (end its process) and remove its temporary folder."""
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.session.parent, ignore_errors=True)


def launch(session: Session) -> ShowProcess:
    """Write ``session`` to a new temporary folder and open it with ``python -m rnnviz`` in a
    process of its own; returns at once."""
    if not _has_display():
        raise RnnvizError("no display here (DISPLAY is not set), so rnnviz.show has no window "
                          "to open: use rnnviz.trace, or `rnnviz render` for a picture")
    preset = session.preset
    task = preset.make_task()
    models = [m if m is not None else config.build(task.input_size, task.output_size)
              for m, config in zip(session.models, preset.models, strict=True)]
    folder = Path(tempfile.mkdtemp(prefix="rnnviz-show-"))
    path = folder / "show.rnnviz"
    try:
        write_session(path, dataclasses.replace(session, models=models))
        log_path = folder / "output.txt"
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "rnnviz", str(path)],
                                       stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ShowProcess(process, path, log_path)


def _has_display() -> bool:
    """Whether a window can open: always off Linux; on Linux, an X11 or Wayland display, or
    a Qt platform chosen (``QT_QPA_PLATFORM``, offscreen included)."""
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
