"""Training the explorer's columns, without Qt: per-column options, runs on a worker thread,
loss histories.

``train(column_ids)`` queues one job per column on its own ``JobRunner`` (one worker per core
in the window: the columns train side by side, each reaching bitwise the weights it reaches
alone); each job runs
``rnnviz.training.loop.train`` in chunks, merges the chunk reports (``ProgressMerger``: at most one
every ``REPORT_INTERVAL`` s) and reports them to its own ``on_progress`` callback. The newest
weights go to the explorer's column every ``LIVE_WEIGHTS_INTERVAL`` s while a run goes on and
when it ends (stopped, done or diverged), where they are re-traced on the explorer's worker.
Stop asks the running job to stop (``Job.stop``: ``train``'s ``should_stop``), which still
delivers the weights it reached.

It is a second runner, not the explorer's, so that re-tracing with new weights, scrubbing and
gradient rows never wait behind a run. Views subscribe to ``events``: ``state`` (a run was
queued, started or ended), ``progress(column_id)`` (its history grew), ``options(column_id)``
and ``message(text, warning)``.
"""

from __future__ import annotations

import time
from dataclasses import replace

from psygnal import Signal, SignalGroup

from rnnviz.core.model import Model
from rnnviz.errors import RnnvizError
from rnnviz.training.history import (
    ACTIVE,
    COMPILING,
    DIVERGED,
    DONE,
    FAILED,
    IDLE,
    QUEUED,
    RUNNING,
    STOPPED,
    History,
    ProgressMerger,
    Update,
)
from rnnviz.training.loop import TrainOptions, train
from rnnviz.training.memory import MemoryCost, bptt_memory

from .controller import Explorer
from .jobs import InlineJobRunner, Job, JobRunner

REPORT_INTERVAL = 0.1          # s: the UI gets at most ~10 updates a second
LIVE_WEIGHTS_INTERVAL = 1.0    # s: how often a running column is re-traced
OPTION_NAMES = ("optimizer", "learning_rate", "momentum", "clip_norm", "batch_size", "steps",
                "seed", "bptt_window", "bptt_carry", "remat_chunk")


def megabytes(n: int) -> str:
    """``"12.3 MB"``, ``"0.041 MB"`` (1 MB = 1e6 bytes)."""
    return f"{n / 1e6:.3g} MB"


class _Started:
    """The first report of a job: it left the queue (the next step compiles)."""

    def __init__(self, spec):
        self.spec = spec


class TrainingEvents(SignalGroup):
    state = Signal()           # a run was queued, started or ended
    progress = Signal(int)     # column id: its history grew
    options = Signal(int)      # column id: its options changed
    message = Signal(str, bool)  # one line, and whether it is a warning


class Training:
    """Training of the explorer's columns (see the module docstring)."""

    def __init__(self, explorer: Explorer, runner: JobRunner | InlineJobRunner | None = None):
        self.explorer, self.state = explorer, explorer.state
        self.runner = runner if runner is not None else InlineJobRunner()
        self.events = TrainingEvents()
        self.histories: dict[int, History] = {}
        self.options: dict[int, TrainOptions] = {}
        self._configs: dict[int, object] = {}    # the config each column's history is about
        self._models: dict[int, Model] = {}      # the newest trained weights of each column
        self._jobs: dict[int, tuple[object, TrainOptions, Job]] = {}  # column id: its run
        self._last_push: dict[int, float] = {}
        self.live_weights_interval = LIVE_WEIGHTS_INTERVAL  # s; inf: only when a run ends
        self.stopping = False  # Stop was pressed; the running chunk is finishing
        self._run_specs: dict[int, object] = {}  # the spec of each column's running job
        self.state.events.sequence.connect(self._on_sequence_changed)
        self.state.events.columns.connect(self._sync_columns)
        self._sync_columns()

    # -- options -----------------------------------------------------------------------------
    def default_options(self, index: int | None) -> TrainOptions:
        """The preset's options for model ``index`` (its ``[training]`` table and the model's
        own), or the preset-wide ones for a column added later, or ``TrainOptions()``."""
        preset = self.state.preset
        if preset is not None:
            if index is not None and index < len(preset.models):
                options = preset.train_options(index)
                if options is not None:
                    return options
            if preset.training:
                return TrainOptions(**preset.training)
        return TrainOptions()

    def set_option(self, column_ids, name: str, value) -> bool:
        """Set option ``name`` of the given columns; an invalid value is a one-line message
        and changes nothing."""
        if name not in OPTION_NAMES:
            raise KeyError(name)
        try:
            new = {cid: replace(self.options[cid], **{name: value}) for cid in column_ids}
        except RnnvizError as exc:
            self.events.message.emit(f"training {exc}", True)
            return False
        for cid, options in new.items():
            if options != self.options[cid]:
                self.options[cid] = options
                self.events.options.emit(cid)
        return True

    # -- memory ------------------------------------------------------------------------------
    def memory(self, column_id: int) -> MemoryCost | None:
        """What back-propagation through the sequence holds for one training batch of the
        column, with its options' window and chunks (``rnnviz.training.memory``); None
        before its model is built. A bidirectional model is always differentiated whole."""
        column = self.state.find(column_id)
        options = self.options.get(column_id)
        if column is None or column.model is None or options is None:
            return None
        spec = column.model.spec
        cut = not spec.bidirectional
        return bptt_memory(spec, self.state.steps, batch=options.batch_size,
                           window=options.bptt_window if cut else None,
                           chunk=options.remat_chunk if cut else None)

    def memory_words(self, column_id: int) -> tuple[str, str]:
        """The column header's ``"BPTT 12.3 MB"`` and its tooltip; empty before the model is
        built."""
        cost = self.memory(column_id)
        if cost is None:
            return "", ""
        options = self.options[column_id]
        how = "through the whole sequence"
        if options.bptt_window is not None and options.bptt_window < self.state.steps:
            how = f"truncated to windows of {options.bptt_window} steps"
        if options.remat_chunk is not None:
            how += f", recomputing chunks of {options.remat_chunk} steps"
        column = self.state.find(column_id)
        if column is not None and column.model is not None and column.model.spec.bidirectional:
            how = "through the whole sequence (a bidirectional model cannot be cut)"
        tip = (f"Back-propagation {how} stores {megabytes(cost.stored)} of activations for one "
               f"training batch ({options.batch_size} sequences of {self.state.steps} "
               f"steps): {cost.steps_held} steps of {megabytes(cost.step_bytes)} and "
               f"{cost.states_held} saved states; {megabytes(cost.peak)} at the peak of the "
               f"backward pass. The weights, optimizer and batch come on top.")
        return f"BPTT {megabytes(cost.stored)}", tip

    # -- runs --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return any(h.state in ACTIVE for h in self.histories.values())

    def running_column(self) -> int | None:
        """The first column training now (or compiling), if any."""
        for cid, history in self.histories.items():
            if history.state in (COMPILING, RUNNING):
                return cid
        return None

    def train(self, column_ids=None) -> bool:
        """Train the given columns (default: all), side by side on the runner's workers (one
        after another on one), each with its own options, from the weights it has now."""
        if self.running:
            self.events.message.emit("training is already running: Stop it first", True)
            return False
        ids = list(column_ids) if column_ids is not None else [c.id for c in
                                                                 self.state.columns]
        if self.state.task is None or not ids:
            return False
        self.stopping = False
        for cid in ids:
            self._submit(cid)
        self.events.state.emit()
        return True

    def stop(self) -> None:
        """Stop the running columns after their current chunks, keeping the weights they
        reached, and drop the queued ones."""
        self.stopping = self.running
        for cid, history in self.histories.items():
            if history.state in ACTIVE and cid in self._jobs:
                self._jobs[cid][2].stop()
                if history.state == QUEUED:
                    self._jobs.pop(cid, None)
                    history.state = STOPPED if len(history.losses) else IDLE
        self.events.state.emit()

    def reset(self, column_id: int) -> None:
        """Forget the column's training: its initial weights back, its curves cleared."""
        self._cancel(column_id)
        self._models.pop(column_id, None)
        self.histories[column_id] = History()
        column = self.state.column(column_id)
        self.explorer.configure_column(column_id, column.config)
        self.events.progress.emit(column_id)
        self.events.state.emit()

    def current_model(self, column_id: int) -> Model | None:
        """The column's newest weights: those training reached, else the column's model."""
        model = self._models.get(column_id)
        return model if model is not None else self.state.column(column_id).model

    def trained(self, column_id: int) -> bool:
        """Whether the column has weights training reached (since its last reset)."""
        return column_id in self._models

    def weights_shown(self, column_id: int) -> bool:
        """Whether the column's trace is of the newest weights training reached (their trace
        arrives from the explorer's worker a little after them)."""
        model = self._models.get(column_id)
        column = self.state.column(column_id)
        return model is None or (column.model is not None
                                 and column.model.params is model.params)

    def shutdown(self) -> None:
        """Stop the worker thread (the running chunk finishes first)."""
        self.runner.stop()

    # -- the worker --------------------------------------------------------------------------
    def _submit(self, column_id: int) -> None:
        column = self.state.column(column_id)
        options, config, task = self.options[column_id], column.config, self.state.task
        start = self.current_model(column_id)
        history = self.histories[column_id]
        history.state, history.message = QUEUED, ""

        def job(ctx):
            model = start or config.build(task.input_size, task.output_size)
            ctx.report(_Started(model.spec))
            merger = ProgressMerger(REPORT_INTERVAL)

            def callback(progress):
                update = merger.add(progress)
                if update is not None:
                    ctx.report(update)

            result = train(model.spec, model.params, task, options, callback=callback,
                           should_stop=ctx.cancelled)
            return model.spec, merger.flush(), result

        handle = self.runner.submit(
            f"train:{column_id}", job,
            on_progress=lambda value: self._on_progress(column_id, config, value),
            on_done=lambda value: self._on_done(column_id, config, value),
            on_error=lambda message: self._on_failed(column_id, config, message))
        self._jobs[column_id] = (config, options, handle)

    def _current(self, cid: int, config) -> bool:
        """Whether a run's report is still about the column as it is (not removed, not
        reconfigured, not reset since)."""
        column = self.state.find(cid)
        return cid in self._jobs and column is not None and column.config is config

    def _on_progress(self, cid: int, config, value) -> None:
        if not self._current(cid, config):
            return
        history = self.histories[cid]
        if isinstance(value, _Started):
            history.start_run(self._jobs[cid][1].steps)
            self._run_specs[cid] = value.spec
            self.events.state.emit()
            return
        if isinstance(value, Update):
            self._add(cid, value, self._run_specs[cid])
            now = time.monotonic()
            if now - self._last_push.get(cid, 0.0) >= self.live_weights_interval:
                self._push(cid)

    def _add(self, cid: int, update: Update, spec) -> None:
        self.histories[cid].add(update)
        self._models[cid] = Model(spec, update.params)
        self.events.progress.emit(cid)

    def _push(self, cid: int) -> None:
        self._last_push[cid] = time.monotonic()
        model = self._models[cid]
        self.explorer.set_column_params(cid, model.params, model.spec)

    def _on_done(self, cid: int, config, value) -> None:
        if not self._current(cid, config):
            return
        self._jobs.pop(cid, None)
        spec, rest, result = value
        history = self.histories[cid]
        if rest is not None:
            self._add(cid, rest, spec)
        if history.state in (COMPILING, RUNNING, QUEUED):
            history.finish_run(result)
        self._models[cid] = Model(spec, result.params)
        title = self.state.column(cid).config.title
        if result.diverged:
            history.state = DIVERGED
            history.message = (f"{title}: training diverged at step {history.diverged_at} "
                               "(loss or gradient NaN/Inf): lower the learning rate or turn "
                               "on clipping, then Reset")
            self.events.message.emit(history.message, True)
        elif result.stopped:
            history.state = STOPPED
            self.events.message.emit(
                f"{title}: stopped at step {history.offset + result.steps}", False)
        else:
            history.state = DONE
            loss = result.val_losses[-1] if len(result.val_losses) else float("nan")
            self.events.message.emit(f"{title}: trained {result.steps} steps, validation loss "
                                     f"{loss:.4g} ({result.elapsed:.1f} s)", False)
        self._push(cid)
        self.events.progress.emit(cid)
        self.events.state.emit()

    def _on_failed(self, cid: int, config, message: str) -> None:
        if not self._current(cid, config):
            return
        self._jobs.pop(cid, None)
        history = self.histories[cid]
        history.state = FAILED
        history.message = f"{self.state.column(cid).config.title}: training failed: {message}"
        self.events.message.emit(history.message, True)
        self.events.state.emit()

    # -- following the explorer --------------------------------------------------------------
    def _cancel(self, cid: int) -> None:
        run = self._jobs.pop(cid, None)
        if run is not None:
            run[2].cancel()
        self._last_push.pop(cid, None)

    def _on_sequence_changed(self) -> None:
        """A new preset: every run stops, every history and option starts over."""
        for cid in list(self.histories):
            self._cancel(cid)
        self.histories.clear()
        self.options.clear()
        self._configs.clear()
        self._models.clear()
        self._sync_columns()
        self.events.state.emit()

    def _sync_columns(self) -> None:
        """New columns get the preset's options; a removed or reconfigured column's run is
        cancelled and its history cleared."""
        columns = self.state.columns
        alive = {c.id for c in columns}
        for cid in list(self.histories):
            if cid not in alive:
                self._cancel(cid)
                for table in (self.histories, self.options, self._configs, self._models):
                    table.pop(cid, None)
        for index, column in enumerate(columns):
            if column.id not in self.options:
                preset = self.state.preset
                fresh = (preset is not None and index < len(preset.models)
                         and column.config is preset.models[index])
                self.options[column.id] = self.default_options(index if fresh else None)
            if self._configs.get(column.id) is not column.config:
                if column.id in self._configs:
                    self._cancel(column.id)
                self._configs[column.id] = column.config
                self._models.pop(column.id, None)
                self.histories[column.id] = History()
                self.events.progress.emit(column.id)
        self.events.state.emit()

