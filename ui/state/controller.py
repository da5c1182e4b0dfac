"""The explorer's controller: every change of the ``ExplorerState`` goes through its methods.

It owns the background jobs (traces and gradient rows, on a ``JobRunner``), the debouncing
(the Jacobian-memory rows once the cursor rests, a drag's recomputation at most every
``DRAG_RECOMPUTE_MS``) and the undo history of the sequence (input edits and task changes).
It imports no Qt: the window hands it a runner whose callbacks arrive on the UI thread and Qt
timers; tests hand it an ``InlineJobRunner`` and ``ManualTimer``s.

Each job carries its own callbacks. A new trace of a column cancels the one before (whose
result would show the configuration or input before) and the rows of its model; a gradient row
(``flow:<column id>``, ``memory:...``, ``saliency:...``) still arrives after a newer step was
asked for, while playing, and is kept if it was computed for the model and layer the column
shows then.

An input edit at step k updates the inputs at once (``inputs_edited``: the views repaint the
input strip before the worker answers) and asks the worker, per column, for the forward from
step k only, spliced into the column's trace (``rnnviz.core.splice``), and for the gradient arrays
over the whole sequence. Traces already computed are kept (``TraceCache``), so that undo and
redo put back the exact arrays without the worker.
"""

from __future__ import annotations

import itertools
from dataclasses import fields, replace

import numpy as np

from rnnviz.core.gradient_maps import MapCost, map_cost
from rnnviz.core.losses import Target
from rnnviz.core.model import Model
from rnnviz.core.splice import bptt_arrays, retrace_from, with_arrays
from rnnviz.core.trace import check_matrices
from rnnviz.errors import RnnvizError
from rnnviz.files.data_task import DataTask
from rnnviz.files.lessons import lesson_to_tables, parse_lesson
from rnnviz.files.presets import MAX_MODELS, ModelConfig, Preset

from .edits import (
    InputEdit,
    SequenceState,
    TaskChange,
    TraceCache,
    digest,
    first_change,
    fits,
)
from .explorer import Column, ExplorerState, Selection
from .jobs import InlineJobRunner, JobRunner
from .lesson import LessonPlayer
from .timers import ManualTimer, TimerFactory
from .undo import UndoStack

MEMORY_DELAY_MS = 150      # the Jacobian norms cost H backward passes: once the cursor rests
DRAG_RECOMPUTE_MS = 100    # while dragging, the columns recompute at most this often
ROWS = ("flow", "memory", "saliency", "flowmap")  # a column's jobs besides its trace


class Explorer:
    """The controller of one ``ExplorerState`` (see the module docstring)."""

    def __init__(self, state: ExplorerState | None = None, *,
                 jobs: JobRunner | InlineJobRunner | None = None,
                 timers: TimerFactory = ManualTimer):
        self.state = state or ExplorerState()
        self.jobs = jobs if jobs is not None else InlineJobRunner()
        self.jobs.busy.connect(self.state.events.busy.emit)
        self.undo_stack = UndoStack()
        self.cache = TraceCache()
        self._ids = itertools.count()
        self._memory_timer = timers(MEMORY_DELAY_MS, self._submit_memory_rows)
        # during a drag the input strip follows every move, the columns every 100 ms: each
        # trace that lands refills every view, which would otherwise starve the moves
        self._flush_timer = timers(DRAG_RECOMPUTE_MS, self.flush)
        self._drags = itertools.count(1)
        self.dragging = False
        # per column: the inputs and target its trace on screen was computed from; columns
        # whose input was edited and that have not been asked to follow yet
        self._basis: dict[int, tuple] = {}
        self._waiting: set[int] = set()
        self.lesson = LessonPlayer(self)

    # -- showing a preset or a session -------------------------------------------------------
    def load_preset(self, preset: Preset) -> None:
        """Show ``preset``: its task's example sequence and its models, from its start step."""
        task = preset.make_task()
        inputs, target = task.example(seed=preset.example_seed)
        columns = [Column(next(self._ids), config) for config in preset.models]
        selection = None
        if preset.select is not None:  # the unit the preset points out, in its layer
            index, row, unit, layer = preset.select
            columns[index].unit = layer
            selection = (index, row, unit)
        self._show(preset, task, inputs, target, columns, preset.start_step, selection,
                   [None] * len(columns))

    def restore(self, session) -> None:
        """Show a saved ``rnnviz.files.session.Session``: its preset's task with the session's own
        input and target, each column's model as saved (trained weights included), its
        cursor, selection and shown layers."""
        preset = session.preset
        task = preset.make_task()
        columns = [Column(next(self._ids), config, unit=unit)
                   for config, unit in zip(preset.models, session.units, strict=True)]
        self._show(preset, task, session.inputs, session.target, columns, session.t,
                   session.selection, session.models)
        if session.lesson_step is not None:
            self.lesson.resume(session.lesson_step)

    def _show(self, preset, task, inputs, target, columns, t, selection, models) -> None:
        """Replace everything on screen and trace every column (with ``models[k]``, weights
        in memory, where given)."""
        s = self.state
        for column in s.columns:
            self._cancel_jobs(column.id)
        self.undo_stack.clear()
        self.cache.clear()
        self._forget()
        inputs = np.asarray(inputs, np.float32)
        with s.events.blocked():
            s.preset, s.task, s.example_seed = preset, task, preset.example_seed
            s.inputs, s.target, s.labels = inputs, target, task.decode(inputs)
            s.columns = columns
            s.t = min(t, s.steps - 1)
            s.selection = self._selection_at(selection)
            s.highlights = preset.highlights
        # the traces first: the worker computes them while the views build themselves
        for column, model in zip(columns, models, strict=True):
            self._submit_trace(column, model)
        s.announce_all()

    def _selection_at(self, select: tuple[int, str, int] | None) -> Selection | None:
        """The ``Selection`` of ``(column index, row, unit)`` (a preset's or a session's)."""
        if select is None:
            return None
        index, row, unit = select
        return Selection(self.state.columns[index].id, row, unit)

    def preset_now(self, *, as_shown: bool = False, data: bool = False) -> Preset | None:
        """The current setup as a preset (columns as configured now, the cursor as its start
        step, the selected unit, in the layer its column shows, as its ``select``). With a
        lesson whose steps change columns, the columns are those the lesson starts from,
        unless ``as_shown``. A user's data is kept as the preset's ``data`` (for a session)
        only when ``data``: a preset names its task instead, and a data file has none."""
        s = self.state
        if s.preset is None:
            return None
        if isinstance(s.task, DataTask):
            if not data:
                raise RnnvizError(f"the sequence is read from {s.task.source}, which a preset "
                                  f"cannot name: save a session instead (File > Save "
                                  f"session…), or export the trace")
            return replace(s.preset, task=s.task.name, task_settings={}, example_seed=0,
                           start_step=s.t, select=self._select_now(), lesson=(),
                           data=s.task, path=None).with_models(c.config for c in s.columns)
        select = self._select_now()
        start = None if as_shown else self.lesson.start_configs()
        models = tuple(start or (c.config for c in s.columns))
        return replace(s.preset.with_models(models), start_step=s.t, select=select,
                       lesson=self._lesson_for(models))

    def _select_now(self) -> tuple[int, str, int, str] | None:
        """The selected unit as a preset's ``select``: ``(column index, row, unit, layer)``."""
        s = self.state
        if s.selection is None:
            return None
        index = s.index_of(s.selection.column)
        return (index, s.selection.name, s.selection.index, s.columns[index].unit)

    def _lesson_for(self, models) -> tuple:
        """The lesson's steps, if they still fit the columns and the sequence shown (a column
        edited to another cell, or another task, can leave a step pointing at a row or a
        step that is gone: then the setup is saved without its lesson)."""
        steps = self.lesson.steps
        if not steps:
            return ()
        try:
            return parse_lesson(lesson_to_tables(steps, models), source="lesson",
                                models=models, length=self.state.steps)
        except RnnvizError:
            return ()

    def session_now(self):
        """What is on screen as an ``rnnviz.files.session.Session``: the models as they are in
        memory (trained in the window or not), the input as shown, cursor and selection."""
        from rnnviz.files.session import Session

        s = self.state
        preset = self.preset_now(as_shown=True, data=True)  # the weights saved are those shown
        if preset is None:
            raise RnnvizError("nothing to save: no preset is open")
        for column in s.columns:
            if column.model is None:
                raise RnnvizError(f"{column.config.title}: "
                                  f"{column.error or 'still computing; save once it is shown'}")
        # the weights travel inside the file, so the models name no weight file of their own
        preset = preset.with_models(replace(c.config, weights=None) for c in s.columns)
        lesson_step = self.lesson.index if self.lesson.active and preset.lesson else None
        return Session(preset, s.inputs, s.target, [c.model for c in s.columns], s.t,
                       None if preset.select is None else preset.select[:3],
                       [c.unit for c in s.columns], lesson_step)

    # -- the cursor and the selection --------------------------------------------------------
    def set_cursor(self, t: int) -> None:
        s = self.state
        t = int(np.clip(t, 0, s.steps - 1))
        if t != s.t:
            s.t = t
            for column in s.columns:
                # a Jacobian row being computed is for the step left: stopped between two
                # segments of its sweep, it leaves the worker to this step's rows
                self.jobs.cancel(f"memory:{column.id}")
                self._submit_rows(column)
            self._memory_timer.start()

    def step(self, delta: int = 1) -> None:
        self.set_cursor(self.state.t + delta)

    def click_step(self, t: int) -> None:
        """A click on step ``t`` of a time plot: the answer to a lesson's question asking for a
        step, if one waits for it, else a move of the cursor there."""
        if self.lesson.wants_step():
            self.lesson.answer(int(t))
        self.set_cursor(t)

    def set_highlights(self, highlights) -> None:
        """Frame these panels (``rnnviz.files.lessons.Highlight``), and only these."""
        self.state.highlights = tuple(highlights)

    def select(self, column_id: int, name: str, index: int) -> None:
        self.state.selection = Selection(column_id, name, int(index))

    def clear_selection(self) -> None:
        self.state.selection = None

    def move_selection(self, delta: int) -> None:
        """Select the unit ``delta`` rows below the selected one (above when negative), within
        its layer: a row of 512 units is too thin to click, the arrow keys reach any."""
        sel = self.state.selection
        column = self.state.find(sel.column) if sel is not None else None
        if sel is None or column is None or not column.ready:
            return
        units = column.trace[f"h_{column.unit}"].shape[1]
        index = min(max(sel.index + delta, 0), units - 1)
        if index != sel.index:
            self.select(sel.column, sel.name, index)

    # -- columns -----------------------------------------------------------------------------
    def add_column(self, config: ModelConfig | None = None) -> Column | None:
        s = self.state
        if len(s.columns) >= MAX_MODELS:
            s.events.message.emit(f"at most {MAX_MODELS} columns", False)
            return None
        column = Column(next(self._ids), config or ModelConfig(cell="gru"))
        s.columns = [*s.columns, column]
        s.events.columns.emit()
        self._submit_trace(column)
        return column

    def remove_column(self, column_id: int) -> None:
        s = self.state
        if s.find(column_id) is None:
            return
        if len(s.columns) <= 1:
            s.events.message.emit("the last column stays", False)
            return
        self._cancel_jobs(column_id)
        self._basis.pop(column_id, None)
        self._waiting.discard(column_id)
        s.columns = [c for c in s.columns if c.id != column_id]
        s.events.columns.emit()  # the column's views go first
        if s.selection is not None and s.selection.column == column_id:
            s.selection = None

    def configure_column(self, column_id: int, config: ModelConfig) -> None:
        """Replace a column's model (new cell, size, initialisation...) and re-trace it."""
        s = self.state
        column = s.column(column_id)
        column.config = config
        column.model = column.trace = column.trace_time = None
        column.rows, column.error = {}, None
        column.unit = config.units[0]
        self._basis.pop(column_id, None)
        s.events.columns.emit()
        if s.selection is not None and s.selection.column == column_id:
            s.selection = None
        self._submit_trace(column)

    def show_unit(self, column_id: int, unit: str) -> None:
        """Show another layer or direction of a column."""
        column = self.state.column(column_id)
        if column.unit != unit:
            column.unit = unit
            column.rows = {}
            self.state.events.column_ready.emit(column_id)
            self._submit_rows(column)
            self._submit_memory_rows()

    def set_column_params(self, column_id: int, params: dict, spec=None) -> None:
        """Show new weights (training reached them) in a column: ``spec`` (default: the
        column's model's) with ``params``, re-traced; the config is unchanged."""
        column = self.state.column(column_id)
        spec = spec or column.model.spec
        self._submit_trace(column, Model(spec, params))

    # -- background work ---------------------------------------------------------------------
    def _cancel_jobs(self, column_id: int) -> None:
        for kind in ("trace", *ROWS):
            self.jobs.cancel(f"{kind}:{column_id}")

    def _submit_trace(self, column: Column, model: Model | None = None) -> None:
        """Trace ``column``: with ``model`` (weights in memory) if given, else the model its
        config builds."""
        s = self.state
        for kind in ROWS:  # rows of the model shown now are of no use once this one lands
            self.jobs.cancel(f"{kind}:{column.id}")
        config, inputs, target = column.config, s.inputs, s.target
        input_size, output_size = s.task.input_size, s.task.output_size

        def job(ctx):
            built = model or config.build(input_size, output_size)
            return built, built.trace(inputs, target)

        self._submit_trace_job(column, job, (inputs, target))

    def _submit_trace_job(self, column: Column, job, basis: tuple) -> None:
        column_id = column.id
        self.jobs.cancel(f"trace:{column_id}")  # its result would show what was before
        self.jobs.submit(f"trace:{column_id}", job,
                         on_done=lambda result: self._trace_arrived(column_id, *result, basis),
                         on_error=lambda message: self._trace_failed(column_id, message))

    def _trace_arrived(self, column_id: int, model: Model, trace, basis: tuple) -> None:
        s = self.state
        column = s.find(column_id)
        if column is None:
            return
        column.model, column.trace, column.error = model, trace, None
        if trace.timing is not None:  # a spliced retrace keeps the whole trace's time
            column.trace_time = trace.timing
        column.flow_map = column.map_error = None  # of the trace before: let it go
        self._basis[column_id] = basis
        if column.unit not in model.spec.units:
            column.unit = model.spec.units[0]
        if trace.nonfinite:
            s.events.message.emit(f"{column.config.title}: {overflow_words(trace.nonfinite)}",
                                  True)
        s.events.column_ready.emit(column_id)
        self._submit_rows(column)
        self._memory_timer.start()

    def _trace_failed(self, column_id: int, message: str) -> None:
        column = self.state.find(column_id)
        if column is None:
            return
        column.error = message
        self.state.events.column_ready.emit(column_id)
        self.state.events.message.emit(f"{column.config.title}: {message}", True)

    def _submit_row(self, column: Column, name: str, compute) -> None:
        """Compute one gradient row of ``column`` for the cursor, ``compute(model, unit, t,
        job_context)``; latest wins."""
        model, unit, t, column_id = column.model, column.unit, self.state.t, column.id

        def arrived(row) -> None:
            shown = self.state.find(column_id)
            if shown is not None and shown.model is model and shown.unit == unit:
                shown.rows[name] = (t, row)
                self.state.events.rows_ready.emit(column_id, name)

        def failed(message: str) -> None:
            self.state.events.message.emit(f"{column.config.title}: {message}", True)

        self.jobs.submit(f"{name}:{column_id}", lambda ctx: compute(model, unit, t, ctx),
                         on_done=arrived, on_error=failed)

    def _submit_rows(self, column: Column) -> None:
        """The gradient flowing back from the cursor (one backward pass) and the saliency
        (O backward passes): asked at every step; while the worker is busy only the newest
        request is kept."""
        if column.model is None:
            return
        inputs, target = self.state.inputs, self.state.target
        self._submit_row(column, "saliency",
                         lambda model, unit, t, ctx: model.saliency(inputs, t))
        if target is not None:
            self._submit_row(column, "flow", lambda model, unit, t, ctx: model.gradient_flow(
                inputs, target, t)[unit])

    def _submit_memory_rows(self) -> None:
        inputs = self.state.inputs
        for column in self.state.columns:
            if column.model is not None:
                self._submit_row(column, "memory", lambda model, unit, t, ctx: model.memory_map(
                    inputs, unit, [t], should_stop=ctx.cancelled)[0])

    # -- the whole gradient-flow map ---------------------------------------------------------
    def flow_map_cost(self, column_id: int) -> MapCost | None:
        """What ``compute_flow_map`` would take for this column (None: no model or target)."""
        column = self.state.find(column_id)
        if column is None or column.model is None or self.state.target is None:
            return None
        return map_cost(column.model.spec, self.state.steps, "flow")

    def compute_flow_map(self, column_id: int) -> None:
        """Compute the column's whole ``(T, T)`` flow map on the worker, chunk by chunk
        (``map_progress``), then store it and announce ``map_ready``. Refused, with
        ``column.map_error``, when it would hold more than ``MAX_MATRIX_VALUES`` values."""
        s = self.state
        column = s.find(column_id)
        if column is None or column.model is None or s.target is None:
            return
        model, trace, inputs, target = column.model, column.trace, s.inputs, s.target
        try:
            check_matrices(model.spec, s.steps, flow=True, memory=False)
        except RnnvizError as exc:
            column.map_error = str(exc)
            s.events.map_ready.emit(column_id)
            return
        column.map_error = None

        def job(ctx):
            return model.flow_map(inputs, target, progress=ctx.report,
                                  should_stop=ctx.cancelled)

        def arrived(maps) -> None:
            shown = s.find(column_id)
            if shown is not None and shown.trace is trace:
                shown.flow_map, shown.map_error = (trace, maps), None
                s.events.map_ready.emit(column_id)

        def failed(message: str) -> None:
            shown = s.find(column_id)
            if shown is not None:
                shown.map_error = message
                s.events.map_ready.emit(column_id)

        self.jobs.submit(f"flowmap:{column_id}", job, on_done=arrived, on_error=failed,
                         on_progress=lambda f: s.events.map_progress.emit(column_id, f))
        s.events.map_progress.emit(column_id, 0.0)

    def cancel_flow_map(self, column_id: int) -> None:
        """Stop computing the column's flow map (announced as ``map_ready`` with no map)."""
        self.jobs.cancel(f"flowmap:{column_id}")
        column = self.state.find(column_id)
        if column is not None:
            column.map_error = "cancelled"
            self.state.events.map_ready.emit(column_id)

    def settled(self) -> bool:
        """Every column traced (or failed), and nothing asked of the worker unanswered, the
        Jacobian rows waiting for the cursor to rest included."""
        return (self.jobs.is_idle() and not self._memory_timer.is_active()
                and not self._flush_timer.is_active()
                and all(c.ready or c.error for c in self.state.columns))

    def rows_now(self) -> None:
        """If the Jacobian rows wait for the cursor to rest, ask for them now: the window waits
        so that playing does not queue them, an export knows the cursor will rest."""
        if self._memory_timer.is_active():
            self._memory_timer.stop()
            self._submit_memory_rows()

    def shutdown(self) -> None:
        """Stop the worker thread (call before the app quits)."""
        self._memory_timer.stop()
        self._flush_timer.stop()
        self.jobs.stop()

    # -- editing the input -------------------------------------------------------------------
    def is_current(self, column: Column) -> bool:
        """Whether the column's trace is the one of the sequence shown now."""
        basis = self._basis.get(column.id)
        s = self.state
        return (column.trace is not None and basis is not None and basis[0] is s.inputs
                and basis[1] is s.target)

    def begin_drag(self) -> int:
        """Start a mouse drag; returns the id that merges its edits into one undo step."""
        self.dragging = True
        return next(self._drags)

    def end_drag(self) -> None:
        self.dragging = False
        self.flush()

    def set_input(self, k: int, x, *, drag: int | None = None) -> bool:
        """Set the input at step ``k`` to ``x`` (``(I,)``) as an undoable edit; False (and a
        message) if ``x`` is not a finite vector of the input's size."""
        s = self.state
        k = int(k)
        x = np.asarray(x, np.float32).reshape(-1)
        if not 0 <= k < s.steps:
            s.events.message.emit(f"step: expected 0..{s.steps - 1}, got {k}", True)
            return False
        if x.shape != (s.inputs.shape[1],) or not np.all(np.isfinite(x)):
            s.events.message.emit(f"input at step {k}: expected {s.inputs.shape[1]} finite "
                                  f"number(s), got {x.tolist()}", True)
            return False
        if np.array_equal(x, s.inputs[k]):
            return True
        inputs = s.inputs.copy()
        inputs[k] = x
        target = s.target
        if target is not None:
            target = s.task.retarget(inputs, target, k)
        labels = s.labels
        label = s.task.decode(x[None])[0] if labels is not None else None
        old = (s.inputs[k].copy(), s.target, labels[k] if labels is not None else None)
        self.undo_stack.push(InputEdit(self, k, old, (x, target, label), drag))
        return True

    def apply_input(self, k: int, x: np.ndarray, target: Target | None, label) -> None:
        """Make the input at ``k`` equal ``x`` now, and let every column follow (the undo
        history's commands call this)."""
        s = self.state
        key_before = digest(s.inputs, s.target)
        for column in s.columns:
            if self.is_current(column):
                self.cache.put(column, key_before)
        # a new array: jobs already on the worker keep reading the one they were given
        inputs = s.inputs.copy()
        inputs[k] = x
        s.inputs, s.target = inputs, target
        if s.labels is not None:
            s.labels = [*s.labels[:k], label, *s.labels[k + 1:]]
        s.events.inputs_edited.emit(k)
        for column in s.columns:
            if column.model is None or column.trace is None or column.error:
                self._submit_trace(column)  # built and traced from scratch
            else:
                self._waiting.add(column.id)
        if not self.dragging:
            self.flush()
        elif not self._flush_timer.is_active():
            self._flush_timer.start()

    def flush(self) -> None:
        """Let every edited column follow the inputs now."""
        self._flush_timer.stop()
        if not self._waiting:
            return
        key = digest(self.state.inputs, self.state.target)
        for column in self.state.columns:
            if column.id in self._waiting:
                self._follow(column, key)
        self._waiting.clear()

    def _follow(self, column: Column, key: bytes) -> None:
        s = self.state
        inputs, target = s.inputs, s.target
        cached = self.cache.get(column, key)
        if cached is not None:
            self._cancel_jobs(column.id)  # drop whatever is on its way
            column.trace, column.error, column.rows = cached, None, {}
            column.flow_map = column.map_error = None
            self._basis[column.id] = (inputs, target)
            s.events.column_ready.emit(column.id)
            self._submit_rows(column)
            self._memory_timer.start()
            return
        basis = self._basis.get(column.id)
        start = 0 if basis is None else first_change(basis[0], inputs)
        model, base = column.model, column.trace

        def job(ctx):
            # only the steps from `start` on: the states before it do not depend on the edit
            trace = retrace_from(model, base, inputs, target, start)
            if target is not None:
                # BPTT of the whole loss: dL/dh_j reaches back through every later step, so
                # the edit changes it at every j (before `start` too), and autodiff needs
                # every step's activations: one full forward and backward pass.
                trace = with_arrays(trace, bptt_arrays(model, inputs, target))
            return model, trace

        for kind in ROWS:
            self.jobs.cancel(f"{kind}:{column.id}")
        self._submit_trace_job(column, job, (inputs, target))

    def _forget(self) -> None:
        self._basis.clear()
        self._waiting.clear()
        self._flush_timer.stop()

    # -- changing the task -------------------------------------------------------------------
    def set_task(self, task, seed: int) -> None:
        """Show ``task``'s example ``seed`` as an undoable change; columns whose sizes no
        longer fit get fresh seeded weights, the others are re-traced."""
        inputs, target = task.example(seed=seed)
        inputs = np.asarray(inputs, np.float32)
        labels = task.decode(inputs)
        old = self._sequence_now()
        preset = old.preset
        if preset is not None:
            settings = {f.name: getattr(task, f.name) for f in fields(task) if f.init
                        and getattr(task, f.name) is not None}
            settings = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
            preset = replace(preset, task=task.name, task_settings=settings,
                             example_seed=int(seed), title=task.title,
                             description=task.description, lesson=())
        new = SequenceState(task, int(seed), inputs, target, labels, preset, {})
        self.undo_stack.push(TaskChange(self, old, new))

    def set_data(self, task: DataTask, configs: dict[int, ModelConfig] | None = None) -> None:
        """Show the one sequence of a user's data file (``rnnviz.files.data_task``) as an
        undoable change, as ``set_task`` does, with the columns of ``configs`` (id: config)
        given those models in the same step; the other columns whose sizes do not fit it get
        fresh seeded weights."""
        inputs, target = task.example(seed=0)
        old = self._sequence_now()
        preset = old.preset
        if preset is not None:
            preset = replace(preset, title=f"{task.title}: {task.source}",
                             description=task.description, lesson=())
        models = {column_id: (config, None) for column_id, config in (configs or {}).items()}
        new = SequenceState(task, 0, inputs, target, task.decode(inputs), preset, models)
        self.undo_stack.push(TaskChange(self, old, new))

    def _sequence_now(self) -> SequenceState:
        s = self.state
        return SequenceState(s.task, s.example_seed, s.inputs, s.target, s.labels, s.preset,
                             {c.id: (c.config, c.model) for c in s.columns})

    def apply_sequence(self, sequence: SequenceState, *, announce: bool) -> None:
        """Show ``sequence`` (the undo history's task changes call this)."""
        s = self.state
        old_task = s.task
        self._forget()
        rebuilt = []
        with s.events.blocked():
            s.task, s.example_seed, s.preset = sequence.task, sequence.seed, sequence.preset
            s.inputs, s.target, s.labels = sequence.inputs, sequence.target, sequence.labels
            s.t = min(s.t, s.steps - 1)
            s.selection = None
            for column in s.columns:
                self._cancel_jobs(column.id)
                if column.id in sequence.models:
                    column.config, column.model = sequence.models[column.id]
                    if column.unit not in column.config.units:
                        column.unit = column.config.units[0]
                elif column.model is not None and not fits(column.model, sequence.task):
                    # other sizes: fresh seeded weights (a weights file cannot be read any
                    # more)
                    column.model = None
                    column.config = replace(column.config, weights=None)
                    rebuilt.append(column.config.title)
                elif column.model is None and old_task is not None and (
                        (old_task.input_size, old_task.output_size)
                        != (sequence.task.input_size, sequence.task.output_size)):
                    # its model has not arrived, and its weights file was for the old sizes
                    column.config = replace(column.config, weights=None)
                    rebuilt.append(column.config.title)
                column.trace, column.rows, column.error = None, {}, None
        s.announce_all()
        for column in s.columns:
            if column.model is None:
                self._submit_trace(column)  # fresh seeded weights, or its weights file
            else:
                self._submit_trace(column, column.model)
        if announce:
            task = sequence.task
            text = f"task: {task.title}, {len(sequence.inputs)} steps, example {sequence.seed}"
            if rebuilt:
                text += (f"; new input/output sizes {task.input_size}/{task.output_size}: "
                         f"{', '.join(rebuilt)} rebuilt with fresh seeded weights")
            s.events.message.emit(text, False)

    def undo(self) -> bool:
        return self.undo_stack.undo()

    def redo(self) -> bool:
        return self.undo_stack.redo()


_ARRAY_WORDS = (("grad", "the gradient"), ("gate", "the gates"), ("h", "the hidden state"),
                ("c", "the cell state"), ("output", "the output"), ("loss", "the loss"))


def overflow_words(names: list[str]) -> str:
    """A trace's arrays holding NaN/Inf (``h_l0``, ``grad_loss_h_l0``...), said plainly:
    "numbers too large to compute (overflow to infinity, NaN) in the hidden state and the
    loss"."""
    words: list[str] = []
    for name in names:
        word = next((w for prefix, w in _ARRAY_WORDS
                     if name == prefix or name.startswith(prefix + "_")), name)
        if word not in words:
            words.append(word)
    listed = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
    return f"numbers grew too large to compute (infinite or NaN) in {listed}"

