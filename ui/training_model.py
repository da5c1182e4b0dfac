"""The training panel's model: per-column options, runs on a worker thread, loss histories.

It holds no widgets. ``train(column_ids)`` queues one job per column on its own ``JobRunner``;
each job runs ``rnnviz.training.train`` in chunks, merges the chunk reports
(``ProgressMerger``: at most one every ``REPORT_INTERVAL`` s) and sends them back through the
runner's queued ``progress`` signal. The newest weights go to the explorer's column every
``LIVE_WEIGHTS_INTERVAL`` s while a run goes on and when it ends (stopped, done or diverged),
where they are re-traced on the explorer's worker.

Why a second ``JobRunner`` rather than superqt's ``GeneratorWorker``: it is the contract the
explorer's jobs already use (``JobContext.cancelled`` is ``train``'s ``should_stop``,
``report`` its partial results, queued signals back to the UI thread, jobs run one after
another, so "Train all" is one job per column in order), and the GUI tests' fixture that fails
a test leaving a worker thread running covers it. It is a second thread, not the explorer's,
so that re-tracing with new weights, scrubbing and gradient rows never wait behind a run.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from rnnviz import columns as engine
from rnnviz.errors import RnnvizError
from rnnviz.model import Model
from rnnviz.training import TrainOptions, train
from ui.explorer import ExplorerModel
from ui.jobs import JobRunner
from ui.training_history import (
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

REPORT_INTERVAL = 0.1          # s: the UI gets at most ~10 updates a second
LIVE_WEIGHTS_INTERVAL = 1.0    # s: how often a running column is re-traced
OPTION_NAMES = ("optimizer", "learning_rate", "momentum", "clip_norm", "batch_size", "steps",
                "seed")


class _Started:
    """The first report of a job: it left the queue (the next step compiles)."""

    def __init__(self, spec):
        self.spec = spec


class TrainingModel(QObject):
    """Training of the explorer's columns; views subscribe to its signals."""

    state_changed = Signal()        # a run was queued, started or ended
    progress = Signal(int)          # column id: its history grew
    options_changed = Signal(int)   # column id: its options changed
    message = Signal(str, bool)     # one line, and whether it is a warning

    def __init__(self, explorer: ExplorerModel, runner: JobRunner | None = None, parent=None):
        super().__init__(parent)
        self.explorer = explorer
        self.runner = runner or JobRunner()
        self.runner.progress.connect(self._on_progress)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)
        self.histories: dict[int, History] = {}
        self.options: dict[int, TrainOptions] = {}
        self._configs: dict[int, object] = {}    # the config each column's history is about
        self._models: dict[int, Model] = {}      # the newest trained weights of each column
        # column id: (config, options, key) of its job; each run has a key of its own, so
        # that what a cancelled run still sends is never taken for the next run's
        self._jobs: dict[int, tuple] = {}
        self._runs = itertools.count(1)
        self._last_push: dict[int, float] = {}
        self.live_weights_interval = LIVE_WEIGHTS_INTERVAL  # s; inf: only when a run ends
        self.stopping = False  # Stop was pressed; the running chunk is finishing
        self._run_specs: dict[int, object] = {}  # the spec of each column's running job
        explorer.sequence_changed.connect(self._on_sequence_changed)
        explorer.columns_changed.connect(self._sync_columns)
        self._sync_columns()

    # -- options -----------------------------------------------------------------------------
    def default_options(self, index: int | None) -> TrainOptions:
        """The preset's options for model ``index`` (its ``[training]`` table and the model's
        own), or the preset-wide ones for a column added later, or ``TrainOptions()``."""
        preset = self.explorer.preset
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
            self.message.emit(f"training {exc}", True)
            return False
        for cid, options in new.items():
            if options != self.options[cid]:
                self.options[cid] = options
                self.options_changed.emit(cid)
        return True

    # -- runs --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return any(h.state in ACTIVE for h in self.histories.values())

    def running_column(self) -> int | None:
        """The column training now (or compiling), if any."""
        for cid, history in self.histories.items():
            if history.state in (COMPILING, RUNNING):
                return cid
        return None

    def train(self, column_ids=None) -> bool:
        """Train the given columns (default: all), one after another, each with its own
        options, from the weights it has now."""
        if self.running:
            self.message.emit("training is already running: Stop it first", True)
            return False
        ids = list(column_ids) if column_ids is not None else [c.id for c in
                                                                 self.explorer.columns]
        if self.explorer.task is None or not ids:
            return False
        self.stopping = False
        for cid in ids:
            self._submit(cid)
        self.state_changed.emit()
        return True

    def stop(self) -> None:
        """Stop the running column after its current chunk, keeping the weights it reached,
        and drop the queued ones."""
        self.stopping = self.running
        for cid, history in self.histories.items():
            if history.state in ACTIVE:
                if cid in self._jobs:
                    self.runner.cancel(self._jobs[cid][2])
                if history.state == QUEUED:
                    self._jobs.pop(cid, None)
                    history.state = STOPPED if len(history.losses) else IDLE
        self.state_changed.emit()

    def reset(self, column_id: int) -> None:
        """Forget the column's training: its initial weights back, its curves cleared."""
        self._cancel(column_id)
        self._models.pop(column_id, None)
        self.histories[column_id] = History()
        column = self.explorer.column(column_id)
        self.explorer.configure_column(column_id, column.config)
        self.progress.emit(column_id)
        self.state_changed.emit()

    def current_model(self, column_id: int) -> Model | None:
        """The column's newest weights: those training reached, else the column's model."""
        model = self._models.get(column_id)
        return model if model is not None else self.explorer.column(column_id).model

    def trained(self, column_id: int) -> bool:
        """Whether the column has weights training reached (since its last reset)."""
        return column_id in self._models

    def weights_shown(self, column_id: int) -> bool:
        """Whether the column's trace is of the newest weights training reached (their trace
        arrives from the explorer's worker a little after them)."""
        model = self._models.get(column_id)
        column = self.explorer.column(column_id)
        return model is None or (column.model is not None
                                 and column.model.params is model.params)

    def shutdown(self) -> None:
        """Stop the worker thread (the running chunk finishes first)."""
        self.runner.stop()

    # -- the worker --------------------------------------------------------------------------
    def _submit(self, column_id: int) -> None:
        explorer = self.explorer
        column = explorer.column(column_id)
        options, config, task = self.options[column_id], column.config, explorer.task
        start = self.current_model(column_id)
        history = self.histories[column_id]
        history.state, history.message = QUEUED, ""
        key = f"train:{column_id}:{next(self._runs)}"
        self._jobs[column_id] = (config, options, key)

        def job(ctx):
            model = start or engine.build_model(config, task.input_size, task.output_size)
            ctx.report(_Started(model.spec))
            merger = ProgressMerger(REPORT_INTERVAL)

            def callback(progress):
                update = merger.add(progress)
                if update is not None:
                    ctx.report(update)

            result = train(model.spec, model.params, task, options, callback=callback,
                           should_stop=ctx.cancelled)
            return model.spec, merger.flush(), result

        self.runner.submit(key, job)

    def _current_job(self, key: str) -> int | None:
        """The column of a job's key, if the job is the column's newest run and still about
        its config."""
        cid = int(key.split(":")[1])
        job = self._jobs.get(cid)
        if job is None or job[2] != key or not self.explorer.has_column(cid):
            return None
        if self.explorer.column(cid).config is not job[0]:
            return None
        return cid

    def _on_progress(self, key: str, value) -> None:
        cid = self._current_job(key)
        if cid is None:
            return
        history = self.histories[cid]
        if isinstance(value, _Started):
            history.start_run(self._jobs[cid][1].steps)
            self._run_specs[cid] = value.spec
            self.state_changed.emit()
            return
        if isinstance(value, Update):
            self._add(cid, value, self._run_specs[cid])
            now = time.monotonic()
            if now - self._last_push.get(cid, 0.0) >= self.live_weights_interval:
                self._push(cid)

    def _add(self, cid: int, update: Update, spec) -> None:
        self.histories[cid].add(update)
        self._models[cid] = Model(spec, update.params)
        self.progress.emit(cid)

    def _push(self, cid: int) -> None:
        self._last_push[cid] = time.monotonic()
        model = self._models[cid]
        self.explorer.set_column_params(cid, model.params, model.spec)

    def _on_done(self, key: str, value) -> None:
        if not key.startswith("train:"):
            return
        cid = self._current_job(key)
        if cid is None:
            return
        self._jobs.pop(cid, None)
        spec, rest, result = value
        history = self.histories[cid]
        if rest is not None:
            self._add(cid, rest, spec)
        if history.state in (COMPILING, RUNNING, QUEUED):
            history.finish_run(result)
        self._models[cid] = Model(spec, result.params)
        title = self.explorer.column(cid).config.title
        if result.diverged:
            history.state = DIVERGED
            history.message = (f"{title}: training diverged at step {history.diverged_at} "
                               "(loss or gradient NaN/Inf): lower the learning rate or turn "
                               "on clipping, then Reset")
            self.message.emit(history.message, True)
        elif result.stopped:
            history.state = STOPPED
            self.message.emit(f"{title}: stopped at step {history.offset + result.steps}", False)
        else:
            history.state = DONE
            loss = result.val_losses[-1] if len(result.val_losses) else float("nan")
            self.message.emit(f"{title}: trained {result.steps} steps, validation loss "
                              f"{loss:.4g} ({result.elapsed:.1f} s)", False)
        self._push(cid)
        self.progress.emit(cid)
        self.state_changed.emit()

    def _on_failed(self, key: str, message: str) -> None:
        cid = self._current_job(key)
        if cid is None:
            return
        self._jobs.pop(cid, None)
        history = self.histories[cid]
        history.state = FAILED if message != "cancelled" else STOPPED
        history.message = f"{self.explorer.column(cid).config.title}: training failed: {message}"
        self.message.emit(history.message, True)
        self.state_changed.emit()

    # -- following the explorer --------------------------------------------------------------
    def _cancel(self, cid: int) -> None:
        job = self._jobs.pop(cid, None)
        if job is not None:
            self.runner.cancel(job[2])
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
        self.state_changed.emit()

    def _sync_columns(self) -> None:
        """New columns get the preset's options; a removed or reconfigured column's run is
        cancelled and its history cleared."""
        columns = self.explorer.columns
        alive = {c.id for c in columns}
        for cid in list(self.histories):
            if cid not in alive:
                self._cancel(cid)
                for table in (self.histories, self.options, self._configs, self._models):
                    table.pop(cid, None)
        for index, column in enumerate(columns):
            if column.id not in self.options:
                preset = self.explorer.preset
                fresh = (preset is not None and index < len(preset.models)
                         and column.config is preset.models[index])
                self.options[column.id] = self.default_options(index if fresh else None)
            if self._configs.get(column.id) is not column.config:
                if column.id in self._configs:
                    self._cancel(column.id)
                self._configs[column.id] = column.config
                self._models.pop(column.id, None)
                self.histories[column.id] = History()
                self.progress.emit(column.id)
        self.state_changed.emit()

