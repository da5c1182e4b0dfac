"""The explorer's model: the sequence, the columns, the time cursor and the selection.

It holds no widgets. Views take it in their constructor and subscribe to its signals; it sends
all JAX work to the ``JobRunner`` and stores the numpy results it gets back.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from rnnviz import columns as engine
from rnnviz.losses import Target
from rnnviz.model import Model
from rnnviz.presets import MAX_MODELS, ModelConfig, Preset
from rnnviz.trace import Trace
from ui.jobs import JobRunner

MEMORY_DELAY_MS = 150


@dataclass
class Column:
    """One model on screen. ``unit`` is the layer and direction shown (``l0``, ``l1_reverse``)."""

    id: int
    config: ModelConfig
    model: Model | None = None
    trace: Trace | None = None
    unit: str = "l0"
    rows: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)  # name: (t, row)
    error: str | None = None
    generation: int = 0

    @property
    def ready(self) -> bool:
        return self.trace is not None

    def row(self, name: str, t: int | None = None) -> np.ndarray | None:
        """The row ``name`` ("flow", "memory" or "saliency"), if computed for step ``t`` (any
        step when ``t`` is None)."""
        if name not in self.rows or (t is not None and self.rows[name][0] != t):
            return None
        return self.rows[name][1]


@dataclass(frozen=True)
class Selection:
    column: int
    name: str       # "h", "c" or a gate letter
    index: int      # the hidden unit


class ExplorerModel(QObject):
    sequence_changed = Signal()        # new inputs/target (all columns will re-trace)
    inputs_edited = Signal(int)        # step k: the input at k was edited (columns follow)
    columns_changed = Signal()         # a column was added, removed or reconfigured
    column_ready = Signal(int)         # column id: its trace arrived (or failed)
    rows_ready = Signal(int, str)      # column id, row name ("flow", "memory", "saliency")
    cursor_changed = Signal(int)
    selection_changed = Signal()
    message = Signal(str)              # one line for the status bar (errors included)
    busy_changed = Signal(bool)

    def __init__(self, runner: JobRunner | None = None, parent=None):
        super().__init__(parent)
        self.runner = runner or JobRunner()
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.runner.idle_changed.connect(lambda idle: self.busy_changed.emit(not idle))
        self._ids = itertools.count()
        self.preset: Preset | None = None
        self.task = None
        self.example_seed = 0
        self.inputs = np.zeros((1, 1), np.float32)
        self.target: Target | None = None
        self.labels: list[str] | None = None
        self.columns: list[Column] = []
        self.t = 0
        self.selection: Selection | None = None
        # the Jacobian norms cost H backward passes: computed once the cursor rests
        self._memory_timer = QTimer(self, singleShot=True, interval=MEMORY_DELAY_MS)
        self._memory_timer.timeout.connect(self._submit_memory_rows)
        from ui.edits import SequenceEdits

        self.edits = SequenceEdits(self)  # input edits and task changes, with undo
        self.undo_stack = self.edits.stack

    # -- the sequence ------------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self.inputs)

    def load_preset(self, preset: Preset) -> None:
        """Show ``preset``: its task's example sequence and its models, from its start step."""
        from rnnviz.tasks import make_task

        task = make_task(preset.task, **preset.task_settings)
        inputs, target = task.example(seed=preset.example_seed)
        self.preset, self.task = preset, task
        self.example_seed = preset.example_seed
        self.edits.reset()
        self.labels = task.decode(inputs) if hasattr(task, "decode") else None
        self.inputs, self.target = np.asarray(inputs, np.float32), target
        self.t = min(preset.start_step, self.steps - 1)
        self.columns = [Column(next(self._ids), config) for config in preset.models]
        if preset.select is not None:  # the unit the preset points out, in its layer
            index, row, unit, layer = preset.select
            self.columns[index].unit = layer
            self.selection = self._selection_at((index, row, unit))
        else:
            self.selection = None
        self.sequence_changed.emit()
        self.columns_changed.emit()
        self.cursor_changed.emit(self.t)
        self.selection_changed.emit()
        for column in self.columns:
            self._submit_trace(column)

    def set_input(self, k: int, x, *, drag: int | None = None) -> bool:
        """Edit the input at step ``k`` (undoable); the steps from ``k`` on are recomputed."""
        return self.edits.set_input(k, x, drag=drag)

    def set_task(self, task, seed: int) -> None:
        """Show ``task``'s example ``seed`` (undoable); columns whose sizes no longer fit get
        fresh seeded weights, the others are re-traced."""
        self.edits.set_task(task, seed)

    # -- columns -----------------------------------------------------------------------------
    def column(self, column_id: int) -> Column:
        for column in self.columns:
            if column.id == column_id:
                return column
        raise KeyError(f"no column {column_id}")  # not StopIteration, which slots swallow oddly

    def has_column(self, column_id: int) -> bool:
        return any(c.id == column_id for c in self.columns)

    def add_column(self, config: ModelConfig | None = None) -> Column | None:
        if len(self.columns) >= MAX_MODELS:
            self.message.emit(f"at most {MAX_MODELS} columns")
            return None
        config = config or ModelConfig(cell="gru")
        column = Column(next(self._ids), config)
        self.columns.append(column)
        self.columns_changed.emit()
        self._submit_trace(column)
        return column

    def remove_column(self, column_id: int) -> None:
        if len(self.columns) <= 1:
            self.message.emit("the last column stays")
            return
        self.columns = [c for c in self.columns if c.id != column_id]
        for kind in ("trace", "flow", "memory", "saliency"):
            self.runner.cancel(f"{kind}:{column_id}")
        selected = self.selection is not None and self.selection.column == column_id
        if selected:
            self.selection = None
        # the views learn that the column is gone (the window drops its view) before they
        # hear of the selection it took with it
        self.columns_changed.emit()
        if selected:
            self.selection_changed.emit()

    def configure_column(self, column_id: int, config: ModelConfig) -> None:
        """Replace a column's model (new cell, size, initialisation...) and re-trace it."""
        column = self.column(column_id)
        column.config = config
        column.model = column.trace = None
        column.rows, column.error = {}, None
        column.unit = "l0"
        if self.selection and self.selection.column == column_id:
            self.selection = None
            self.selection_changed.emit()
        self.columns_changed.emit()
        self._submit_trace(column)

    def show_unit(self, column_id: int, unit: str) -> None:
        """Show another layer or direction of a column."""
        column = self.column(column_id)
        if column.unit != unit:
            column.unit = unit
            column.rows = {}
            self.column_ready.emit(column_id)
            self._submit_rows(column)
            self._submit_memory_rows()

    # -- the cursor --------------------------------------------------------------------------
    def set_cursor(self, t: int) -> None:
        t = int(np.clip(t, 0, self.steps - 1))
        if t != self.t:
            self.t = t
            self.cursor_changed.emit(t)
            for column in self.columns:
                self._submit_rows(column)
            self._memory_timer.start()

    def step(self, delta: int = 1) -> None:
        self.set_cursor(self.t + delta)

    # -- selection ---------------------------------------------------------------------------
    def select(self, column_id: int, name: str, index: int) -> None:
        self.selection = Selection(column_id, name, int(index))
        self.selection_changed.emit()

    def clear_selection(self) -> None:
        if self.selection is not None:
            self.selection = None
            self.selection_changed.emit()

    def set_column_params(self, column_id: int, params: dict, spec=None) -> None:
        """Show new weights (training reached them) in a column: ``spec`` (default: the
        column's model's) with ``params``, re-traced; the config is unchanged."""
        column = self.column(column_id)
        spec = spec or column.model.spec
        self._submit_trace(column, Model(spec, params))

    # -- work on the worker thread -----------------------------------------------------------
    def _submit_trace(self, column: Column, model: Model | None = None) -> None:
        """Trace ``column``: with ``model`` (weights in memory) if given, else the model its
        config builds."""
        column.generation += 1
        config, generation = column.config, column.generation
        inputs, target = self.inputs, self.target
        input_size, output_size = self.task.input_size, self.task.output_size
        given = model

        def job(ctx):
            model = given or engine.build_model(config, input_size, output_size)
            return generation, model, engine.trace_column(model, inputs, target)

        self.runner.submit(f"trace:{column.id}", job)

    def _submit_rows(self, column: Column) -> None:
        """The gradient flowing back from the cursor (one backward pass): asked at every step;
        while the worker is busy only the newest request is kept."""
        self._submit_saliency(column)
        if column.model is None or self.target is None:
            return
        model, inputs, target, unit, t = (column.model, self.inputs, self.target, column.unit,
                                          self.t)
        generation = column.generation

        def job(ctx):
            return generation, unit, "flow", t, engine.flow_row(model, inputs, target, unit, t)

        self.runner.submit(f"flow:{column.id}", job)

    def _submit_saliency(self, column: Column) -> None:
        """``||d output_t / d x_k||_F`` for the cursor (O backward passes), latest wins."""
        if column.model is None:
            return
        model, inputs, unit, t, generation = (column.model, self.inputs, column.unit, self.t,
                                              column.generation)

        def job(ctx):
            return generation, unit, "saliency", t, engine.saliency_row(model, inputs, t)

        self.runner.submit(f"saliency:{column.id}", job)

    def _submit_memory_rows(self) -> None:
        for column in self.columns:
            if column.model is None:
                continue
            model, inputs, unit, t = column.model, self.inputs, column.unit, self.t
            generation = column.generation

            def job(ctx, model=model, inputs=inputs, unit=unit, t=t, generation=generation):
                return generation, unit, "memory", t, engine.memory_row(model, inputs, unit, t)

            self.runner.submit(f"memory:{column.id}", job)

    def _find(self, key: str) -> Column | None:
        column_id = int(key.split(":")[1])
        return next((c for c in self.columns if c.id == column_id), None)

    def _on_done(self, key: str, result) -> None:
        column = self._find(key)
        if column is None:
            return
        if key.startswith("trace:"):
            generation, model, trace = result
            if generation != column.generation:
                return  # a newer configuration is on its way
            column.model, column.trace, column.error = model, trace, None
            if column.unit not in model.spec.units:
                column.unit = model.spec.units[0]
            if trace.nonfinite:
                self.message.emit(f"{column.config.title}: NaN/Inf in "
                                  f"{', '.join(trace.nonfinite[:4])}")
            self.column_ready.emit(column.id)
            self._submit_rows(column)
            self._memory_timer.start()
        else:
            generation, unit, name, t, row = result
            if generation == column.generation and unit == column.unit:
                column.rows[name] = (t, row)
                self.rows_ready.emit(column.id, name)

    def _on_failed(self, key: str, message: str) -> None:
        column = self._find(key)
        if column is None or message == "cancelled":
            return
        if key.startswith("trace:"):
            column.error = message
            self.column_ready.emit(column.id)
        self.message.emit(f"{column.config.title}: {message}")

    def settled(self) -> bool:
        """Every column traced (or failed), and nothing asked of the worker unanswered, the
        Jacobian rows waiting for the cursor to rest included."""
        return (self.runner.is_idle() and not self._memory_timer.isActive()
                and all(c.ready or c.error for c in self.columns))

    def restore(self, session) -> None:
        """Show a saved ``rnnviz.session.Session``: its preset's task with the session's own
        input and target, each column's model as saved (trained weights included), its
        cursor, selection and shown layers."""
        from rnnviz.tasks import make_task

        preset = session.preset
        self.task = make_task(preset.task, **preset.task_settings)
        self.preset = preset
        self.example_seed = preset.example_seed
        self.edits.reset()
        self.labels = (self.task.decode(session.inputs) if hasattr(self.task, "decode")
                       else None)
        self.inputs, self.target = np.asarray(session.inputs, np.float32), session.target
        self.t = min(session.t, self.steps - 1)
        self.columns = [Column(next(self._ids), config, unit=unit)
                        for config, unit in zip(preset.models, session.units, strict=True)]
        self.selection = self._selection_at(session.selection)
        self.sequence_changed.emit()
        self.columns_changed.emit()
        self.cursor_changed.emit(self.t)
        self.selection_changed.emit()
        for column, model in zip(self.columns, session.models, strict=True):
            self._submit_trace(column, model)

    def shutdown(self) -> None:
        """Stop the worker thread (call before the app quits)."""
        self.runner.stop()

    def preset_now(self) -> Preset | None:
        """The current setup as a preset (columns as configured now, the cursor as its start
        step, the selected unit, in the layer its column shows, as its ``select``)."""
        if self.preset is None:
            return None
        select = None
        if self.selection is not None:
            ids = [c.id for c in self.columns]
            index = ids.index(self.selection.column)
            select = (index, self.selection.name, self.selection.index,
                      self.columns[index].unit)
        return replace(self.preset.with_models(c.config for c in self.columns),
                       start_step=self.t, select=select)

    def _selection_at(self, select: tuple[int, str, int] | None) -> Selection | None:
        """The ``Selection`` of ``(column index, row, unit)`` (a preset's or a session's)."""
        if select is None:
            return None
        index, row, unit = select
        return Selection(self.columns[index].id, row, unit)
