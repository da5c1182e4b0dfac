"""What the training panel shows, without Qt: merged progress reports and each column's history.

``train`` (``rnnviz.training.loop``) reports one ``Progress`` per chunk of update steps. The worker
merges them with ``ProgressMerger`` so that the window gets at most one ``Update`` every
``min_interval`` seconds (a tiny model runs many short chunks), and never fewer than one per
chunk once ``min_interval`` has passed. ``History`` appends the updates of every run of one
column, with step numbers that continue across runs (a second Train continues from the
weights the first reached).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

# the states of one column's training
IDLE, QUEUED, COMPILING, RUNNING = "idle", "queued", "compiling", "running"
DONE, STOPPED, DIVERGED, FAILED = "done", "stopped", "diverged", "failed"
ACTIVE = (QUEUED, COMPILING, RUNNING)


@dataclass
class Update:
    """One or more chunks of a run merged: steps ``first_step..step-1`` of ``total``.

    ``losses``, ``grad_norms`` ``(n,)`` one value per step (the global gradient norm before
    clipping); ``param_steps (m,)`` the chunk ends at which ``param_norms[name] (m,)``
    (``||dL/dW||`` of each parameter tensor) were taken; ``val_steps``, ``val_losses`` ``(v,)``
    the validations reported since the previous update; ``params`` the weights after ``step``.
    """

    first_step: int
    step: int
    total: int
    losses: np.ndarray
    grad_norms: np.ndarray
    param_steps: np.ndarray
    param_norms: dict[str, np.ndarray]
    val_steps: np.ndarray
    val_losses: np.ndarray
    val_accuracy: float | None
    eta: float | None
    elapsed: float
    params: dict[str, np.ndarray]
    diverged: bool


class ProgressMerger:
    """Merges ``Progress`` reports into ``Update``\\ s, at most one per ``min_interval`` s.

    ``add(progress)`` returns an ``Update`` when one is due (the first report, a diverged one,
    the last step, or ``min_interval`` since the previous one), else None; ``flush()`` returns
    what is left (None when nothing is).
    """

    def __init__(self, min_interval: float = 0.1, clock=time.monotonic):
        self.min_interval, self.clock = min_interval, clock
        self._pending: list = []
        self._last_emit: float | None = None
        self._last_val_step: int | None = None

    def add(self, progress) -> Update | None:
        self._pending.append(progress)
        now = self.clock()
        due = (self._last_emit is None or progress.diverged or progress.step >= progress.total
               or now - self._last_emit >= self.min_interval)
        if not due:
            return None
        self._last_emit = now
        return self.flush()

    def flush(self) -> Update | None:
        if not self._pending:
            return None
        chunks, self._pending = self._pending, []
        last = chunks[-1]
        val_steps, val_losses = [], []
        for p in chunks:
            if p.val_step is not None and p.val_step != self._last_val_step:
                self._last_val_step = p.val_step
                val_steps.append(p.val_step)
                val_losses.append(p.val_loss)
        names = list(last.param_grad_norms)
        return Update(
            first_step=chunks[0].first_step, step=last.step, total=last.total,
            losses=np.concatenate([np.asarray(p.losses, np.float64) for p in chunks]),
            grad_norms=np.concatenate([np.asarray(p.grad_norms, np.float64) for p in chunks]),
            param_steps=np.array([p.step for p in chunks]),
            param_norms={n: np.array([p.param_grad_norms[n] for p in chunks]) for n in names},
            val_steps=np.array(val_steps, dtype=np.int64),
            val_losses=np.array(val_losses, dtype=np.float64),
            val_accuracy=last.val_accuracy, eta=last.eta, elapsed=last.elapsed,
            params=last.params, diverged=any(p.diverged for p in chunks))


def _grow(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0)


@dataclass
class History:
    """Every step one column was trained, over all its runs since its weights were last
    reset. Steps are counted from the column's initial weights."""

    state: str = IDLE
    offset: int = 0                  # steps done by earlier runs
    step: int = 0                    # steps of the current run done
    total: int = 0                   # steps of the current run asked for
    eta: float | None = None
    val_accuracy: float | None = None
    diverged_at: int | None = None
    message: str = ""
    _steps: list = field(default_factory=list)
    _losses: list = field(default_factory=list)
    _grad: list = field(default_factory=list)
    _val_steps: list = field(default_factory=list)
    _val_losses: list = field(default_factory=list)
    _param_steps: list = field(default_factory=list)
    _param_norms: dict = field(default_factory=dict)
    _run_start: tuple = (0, 0)

    def start_run(self, total: int) -> None:
        self.offset += self.step
        self.step, self.total, self.eta, self.state = 0, total, None, COMPILING
        self.diverged_at, self.message = None, ""
        self._run_start = (len(self._val_steps), len(self._param_steps))

    def finish_run(self, result) -> None:
        """Replace what the run's updates said of validation and of each parameter's
        gradient norm (the latest only, at chunk ends) by ``result``'s (a ``TrainResult``:
        every validation, every step's norms)."""
        vals, params = self._run_start
        base = self.offset
        del self._val_steps[vals:], self._param_steps[params:]
        self._val_steps.append(base + np.asarray(result.eval_steps, np.int64))
        self._val_losses[vals:] = [np.asarray(result.val_losses, np.float64)]
        self._param_steps.append(base + np.arange(1, result.steps + 1))
        for name, values in result.param_grad_norms.items():
            self._param_norms.setdefault(name, [])[params:] = [np.asarray(values, np.float64)]

    def add(self, update: Update) -> None:
        base = self.offset
        self._steps.append(base + np.arange(update.first_step, update.step) + 1)
        self._losses.append(update.losses)
        self._grad.append(update.grad_norms)
        self._val_steps.append(base + update.val_steps)
        self._val_losses.append(update.val_losses)
        self._param_steps.append(base + update.param_steps)
        for name, values in update.param_norms.items():
            self._param_norms.setdefault(name, []).append(values)
        self.step, self.total, self.eta = update.step, update.total, update.eta
        self.val_accuracy = update.val_accuracy
        if update.diverged and self.diverged_at is None:
            bad = ~(np.isfinite(update.losses) & np.isfinite(update.grad_norms))
            first_bad = int(np.argmax(bad)) if bad.any() else len(bad) - 1
            self.diverged_at = base + update.first_step + first_bad + 1
        if self.state in (QUEUED, COMPILING):
            self.state = RUNNING

    @property
    def steps(self) -> np.ndarray:
        """``(S,)`` the step number (1-based, counted from the initial weights) of each loss."""
        return _grow(self._steps)

    @property
    def losses(self) -> np.ndarray:
        return _grow(self._losses)

    @property
    def grad_norms(self) -> np.ndarray:
        return _grow(self._grad)

    @property
    def val_steps(self) -> np.ndarray:
        return _grow(self._val_steps)

    @property
    def val_losses(self) -> np.ndarray:
        return _grow(self._val_losses)

    @property
    def param_steps(self) -> np.ndarray:
        return _grow(self._param_steps)

    def param_norms(self) -> dict[str, np.ndarray]:
        return {name: _grow(parts) for name, parts in self._param_norms.items()}

    @property
    def running(self) -> bool:
        return self.state in ACTIVE
