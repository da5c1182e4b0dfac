"""Training a model on a task with optax, in chunks, without Qt (safe to run on a worker thread).

One update step on a batch of ``B`` sequences minimises the mean over the batch of each
sequence's loss (``rnnviz.core.losses``: the mean over its scored steps),

    L(W) = (1/B) sum_b  sum_t m_bt l_bt / max(1, sum_t m_bt),

with the model run by ``jax.vmap`` of ``rnnviz.core.forward.run`` (one scan with ``(B, H)``
carries once XLA has batched it), differentiated through ``rnnviz.core.recurrence``'s backward
pass (truncated to windows or rematerialised in chunks with ``bptt_window`` and
``remat_chunk``: ``rnnviz.training.bptt``). The gradient's global norm
``||g|| = sqrt(sum_W ||dL/dW||^2)`` is recorded before optional clipping,
``g <- g * min(1, clip_norm / ||g||)`` (``optax.clip_by_global_norm``).

``train`` runs ``K`` update steps per call of one jitted ``lax.scan`` (a chunk), then reports a
``Progress`` to its callback and checks ``should_stop``. Step ``s`` trains on
``task.batch(batch_size, seed=step_seed(options.seed, s))`` whatever the chunk size, and the
validation batch is ``task.batch(eval_batch, seed=options.seed + 1)``, so a run is
deterministic: the same spec, initial parameters, task and options give identical losses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from rnnviz.checks import integer, number
from rnnviz.core.forward import run
from rnnviz.core.losses import sequence_loss, step_losses
from rnnviz.core.programs import PROGRAMS
from rnnviz.core.spec import ModelSpec
from rnnviz.errors import RnnvizError
from rnnviz.limits import (
    MAX_BATCH,
    MAX_BATCH_VALUES,
    MAX_CHUNK_STEPS,
    MAX_LENGTH,
    MAX_SEED,
    MAX_STEPS,
)
from rnnviz.training import bptt as bptt_grad
from rnnviz.training.bptt import Bptt, check_bptt

OPTIMIZERS = ("adam", "sgd", "rmsprop")

# A chunk aims at this many seconds: short enough for a responsive stop button and a live
# loss curve, long enough that the per-call overhead is negligible.
CHUNK_SECONDS = 0.15
MAX_CHUNK = 200


@dataclass(frozen=True)
class TrainOptions:
    """How to train.

    - ``optimizer``: ``"adam"``, ``"sgd"`` (with ``momentum``; 0 for plain SGD) or
      ``"rmsprop"`` (optax's defaults: decay 0.9, no momentum);
    - ``learning_rate``; ``momentum`` (SGD only);
    - ``clip_norm``: clip the gradient to this global norm before the optimizer, None = off;
    - ``batch_size`` sequences per step, ``steps`` update steps, ``seed`` for the batches;
    - ``eval_every``: validate every this many steps (rounded up to whole chunks; also before
      the first step and after the last) on ``eval_batch`` sequences;
    - ``chunk_steps``: update steps per jitted chunk (between callbacks); None picks a number
      from the model's size so that a chunk takes about ``CHUNK_SECONDS``;
    - ``bptt_window``: truncated back-propagation through time, the gradient cut into
      windows of this many steps (None: through the whole sequence); ``bptt_carry``: the
      state crosses from one window to the next (detached) rather than restarting at zero;
    - ``remat_chunk``: rematerialisation, only the state entering each chunk of this many
      steps kept and the chunk's activations recomputed in the backward pass (None: every
      step's kept). ``rnnviz.training.bptt`` defines the three, ``rnnviz.training.memory``
      what each holds.

    Bounded by ``rnnviz.limits``: ``MAX_BATCH``, ``MAX_STEPS``, ``MAX_SEED``,
    ``MAX_CHUNK_STEPS``; ``check_sizes`` bounds what a batch takes with a given model and task.
    """

    optimizer: str = "adam"
    learning_rate: float = 0.01
    momentum: float = 0.9
    clip_norm: float | None = None
    batch_size: int = 32
    steps: int = 500
    seed: int = 0
    eval_every: int = 50
    eval_batch: int = 128
    chunk_steps: int | None = None
    bptt_window: int | None = None
    bptt_carry: bool = True
    remat_chunk: int | None = None

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise RnnvizError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, "
                              f"got {self.optimizer!r}")
        set_ = partial(object.__setattr__, self)
        set_("learning_rate", number("learning_rate", self.learning_rate, 0.0, 1e3, open_lo=True))
        set_("momentum", number("momentum", self.momentum, 0.0, 0.999))
        set_("clip_norm", number("clip_norm", self.clip_norm, 0.0, open_lo=True, none=True))
        set_("batch_size", integer("batch_size", self.batch_size, 1, MAX_BATCH,
                                    limit="MAX_BATCH"))
        set_("steps", integer("steps", self.steps, 0, MAX_STEPS, limit="MAX_STEPS"))
        # seed + 1 (the validation batch's) and step_seed's are within MAX_BATCH_SEED
        set_("seed", integer("seed", self.seed, 0, MAX_SEED, limit="MAX_SEED"))
        set_("eval_every", integer("eval_every", self.eval_every, 1))
        set_("eval_batch", integer("eval_batch", self.eval_batch, 1, MAX_BATCH,
                                    limit="MAX_BATCH"))
        set_("chunk_steps", integer("chunk_steps", self.chunk_steps, 1, MAX_CHUNK_STEPS,
                                     limit="MAX_CHUNK_STEPS", none=True))
        set_("bptt_window", integer("bptt_window", self.bptt_window, 1, MAX_LENGTH,
                                     limit="MAX_LENGTH", none=True))
        if not isinstance(self.bptt_carry, bool):
            raise RnnvizError(f"bptt_carry: expected true or false, got {self.bptt_carry!r}")
        set_("remat_chunk", integer("remat_chunk", self.remat_chunk, 1, MAX_LENGTH,
                                     limit="MAX_LENGTH", none=True))

    @property
    def bptt(self) -> Bptt:
        """How the gradient goes back through time (``rnnviz.training.bptt``)."""
        return Bptt(self.bptt_window, self.bptt_carry, self.remat_chunk)


@dataclass(frozen=True)
class Progress:
    """What ``train`` reports after each chunk (numpy and Python values only).

    ``losses`` and ``grad_norms`` ``(K,)`` cover the chunk's steps ``first_step..step-1``;
    ``param_grad_norms`` maps each parameter name to ``||dL/dW||`` at the chunk's last step;
    ``val_loss``/``val_accuracy`` are the latest validation (at step ``val_step``; accuracy
    None for regression); ``params`` are the weights after ``step`` steps.
    """

    step: int
    total: int
    first_step: int
    losses: np.ndarray
    grad_norms: np.ndarray
    param_grad_norms: dict[str, float]
    val_loss: float | None
    val_accuracy: float | None
    val_step: int | None
    elapsed: float
    eta: float | None
    params: dict[str, np.ndarray]
    diverged: bool


@dataclass
class TrainResult:
    """What ``train`` reached.

    ``losses``, ``grad_norms`` ``(S,)`` and each ``param_grad_norms[name]`` ``(S,)`` hold one
    value per step done (NaN/Inf kept as they came); ``eval_steps``, ``val_losses`` and
    ``val_accuracies`` ``(E,)`` the validations (accuracies None for regression tasks).
    ``stopped``: ``should_stop`` ended the run early; ``diverged``: a loss or gradient became
    NaN or Inf, and training stopped after that chunk (``params`` are then what it reached,
    possibly non-finite).
    """

    params: dict[str, np.ndarray]
    losses: np.ndarray
    grad_norms: np.ndarray
    param_grad_norms: dict[str, np.ndarray]
    eval_steps: np.ndarray
    val_losses: np.ndarray
    val_accuracies: np.ndarray | None
    steps: int
    stopped: bool = False
    diverged: bool = False
    elapsed: float = 0.0
    options: TrainOptions = field(default_factory=TrainOptions)


class _OptKey(NamedTuple):
    """The hashable part of ``TrainOptions`` that shapes the compiled update step."""

    optimizer: str
    learning_rate: float
    momentum: float
    clip_norm: float | None
    bptt: Bptt = Bptt()


def _optimizer(key: _OptKey) -> optax.GradientTransformation:
    if key.optimizer == "adam":
        opt = optax.adam(key.learning_rate)
    elif key.optimizer == "sgd":
        opt = optax.sgd(key.learning_rate, momentum=key.momentum or None)
    else:
        opt = optax.rmsprop(key.learning_rate)
    if key.clip_norm is not None:
        opt = optax.chain(optax.clip_by_global_norm(key.clip_norm), opt)
    return opt


def step_seed(seed: int, step: int) -> int:
    """The batch seed of update step ``step`` of a run seeded ``seed`` (never ``seed + 1``,
    the validation batch's, but for a 2**-63 chance)."""
    return int(np.random.SeedSequence((seed, step)).generate_state(2, np.uint64)[0] >> 1)


def batch_loss(spec: ModelSpec, params: dict, xs, ys, mask, kind: str):
    """Mean over the batch of each sequence's loss, for ``xs (B, T, I)``, ``ys (B, T, O)`` or
    ``(B, T)``, ``mask (B, T)``. Returns ``(loss, outputs (B, T, O))``.

    ``jax.vmap`` of one run per sequence: XLA turns it into one scan with ``(B, H)`` carries.
    (Calling ``run`` on ``(T, B, I)`` directly does the same work and measured 5-15 % slower,
    benchmarks/bench_levers.py.)"""
    def one(x, y, m):
        _, _, out = run(spec, params, x)
        return sequence_loss(step_losses(out, y, m, kind), m), out

    losses, outputs = jax.vmap(one)(xs, ys, mask)
    return jnp.mean(losses), outputs


@partial(jax.jit, static_argnames=("spec", "kind", "opt_key"))
def _train_chunk(spec: ModelSpec, kind: str, opt_key: _OptKey, params, opt_state, xs, ys, mask,
                 active):
    """``K`` update steps over ``xs (K, B, T, I)``, ``ys``, ``mask (K, B, T)``; a step whose
    ``active`` is False leaves the state unchanged (it pads the last chunk)."""
    tx = _optimizer(opt_key)

    def update(carry, batch):
        params, opt_state = carry
        x, y, m, on = batch
        if opt_key.bptt.whole:
            (loss, _), grads = jax.value_and_grad(batch_loss, argnums=1, has_aux=True)(
                spec, params, x, y, m, kind)
        else:
            loss, grads, _ = bptt_grad.value_and_grad(spec, params, x, y, m, kind,
                                                      opt_key.bptt)
        norms = {name: jnp.sqrt(jnp.sum(g * g)) for name, g in grads.items()}
        global_norm = jnp.sqrt(sum(n * n for n in norms.values()))
        updates, new_opt_state = tx.update(grads, opt_state, params)
        new = (optax.apply_updates(params, updates), new_opt_state)
        carry = jax.tree.map(lambda a, b: jnp.where(on, a, b), new, carry)
        return carry, (loss, global_norm, norms)

    (params, opt_state), (losses, global_norms, norms) = lax.scan(
        update, (params, opt_state), (xs, ys, mask, active))
    return params, opt_state, losses, global_norms, norms


@partial(jax.jit, static_argnames=("spec", "kind"))
def _eval_batch(spec: ModelSpec, kind: str, params, xs, ys, mask):
    return batch_loss(spec, params, xs, ys, mask, kind)


def _check(spec: ModelSpec, params: dict, task) -> None:
    if spec.in_size != task.input_size:
        raise RnnvizError(f"input_size: expected {task.input_size} for task {task.name}, "
                          f"got {spec.in_size}")
    if spec.out_size != task.output_size:
        raise RnnvizError(f"output_size: expected {task.output_size} for task {task.name}, "
                          f"got {spec.out_size}")
    missing = sorted(set(spec.param_shapes()) - set(params))
    if missing:
        raise RnnvizError(f"params: expected every parameter of {spec.describe()}, "
                          f"got none for {missing[0]}")


def batch_values(spec: ModelSpec, task, n: int) -> int:
    """Values that a batch of ``n`` sequences takes with what its backward pass keeps,
    roughly: ``n T (I + O + G H L D)`` (inputs, targets, and each layer's gates and state at
    every step)."""
    kept = spec.cell_type.num_gates * spec.hidden_size * spec.num_layers * spec.num_directions
    return n * task.length * (task.input_size + task.output_size + kept)


def check_sizes(spec: ModelSpec, task, options: TrainOptions) -> None:
    """Refuse, before anything is allocated, a training batch, validation batch or chunk of
    stacked batches above ``MAX_BATCH_VALUES``, and truncation or rematerialisation of a
    bidirectional model; the one-line error names the option."""
    check_bptt(spec, options.bptt)
    k = min(options.chunk_steps or chunk_size(spec, task, options.batch_size),
            max(1, options.steps))
    for key, n, values in (
            ("batch_size", options.batch_size, batch_values(spec, task, options.batch_size)),
            ("eval_batch", options.eval_batch, batch_values(spec, task, options.eval_batch)),
            ("chunk_steps", k, k * options.batch_size * task.length
             * (task.input_size + task.output_size + 1))):
        if values > MAX_BATCH_VALUES:
            raise RnnvizError(f"{key}: {n} with a {spec.describe()} model on {task.length} "
                              f"steps of task {task.name} takes about {values} values; at most "
                              f"{MAX_BATCH_VALUES} (limit MAX_BATCH_VALUES): lower {key}")


def _cast(spec: ModelSpec, task, xs, ys, mask):
    dtype = jnp.dtype(spec.dtype)
    ys = ys if task.loss == "xent" else ys.astype(dtype)
    return xs.astype(dtype), ys, mask.astype(dtype)


def evaluate(spec: ModelSpec, params: dict, task, *, seed: int, n: int) -> dict:
    """Loss (as in training) and accuracy (None for regression) on ``task.batch(n,
    seed=seed)``: ``{"loss": float, "accuracy": float | None}``."""
    _check(spec, params, task)
    if batch_values(spec, task, n) > MAX_BATCH_VALUES:
        raise RnnvizError(f"n: {n} sequences of task {task.name} take about "
                          f"{batch_values(spec, task, n)} values; at most {MAX_BATCH_VALUES} "
                          f"(limit MAX_BATCH_VALUES)")
    xs, ys, mask = task.batch(n, seed=seed)
    loss, outputs = _eval_batch(spec, task.loss, params, *_cast(spec, task, xs, ys, mask))
    return {"loss": float(loss), "accuracy": task.accuracy(np.asarray(outputs), ys, mask)}


def chunk_size(spec: ModelSpec, task, batch_size: int) -> int:
    """Steps per chunk so that one chunk takes about ``CHUNK_SECONDS`` on a laptop CPU.

    The cost model (fitted roughly on a 2-core CPU): a forward and backward scan pay a fixed
    ~10 us per time step, plus the flops, ``6 B T G H (I + H)`` per layer and direction at
    ~20 GFLOP/s.
    """
    T, H, G = task.length, spec.hidden_size, spec.cell_type.num_gates
    flops = sum(6 * batch_size * T * G * H * (spec.layer_input_size(k) + H)
                for k in range(spec.num_layers)) * spec.num_directions
    seconds = 10e-6 * T * spec.num_layers * spec.num_directions + flops / 20e9
    return int(max(1, min(MAX_CHUNK, CHUNK_SECONDS / seconds)))


def _make_chunk(task, options: TrainOptions, first: int, k: int, total: int):
    """Stacked batches of steps ``first..first+k-1``; steps at or past ``total`` are zeros
    and inactive."""
    batches = [task.batch(options.batch_size, seed=step_seed(options.seed, s))
               for s in range(first, min(first + k, total))]
    pad = k - len(batches)
    stacked = []
    for arrays in zip(*batches, strict=True):
        a = np.stack(arrays)
        if pad:
            a = np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)])
        stacked.append(a)
    active = np.arange(k) < len(batches)
    return (*stacked, active)


def train(spec: ModelSpec, params: dict, task, options: TrainOptions = TrainOptions(), *,
          callback: Callable[[Progress], Any] | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``params`` of ``spec`` on ``task`` for ``options.steps`` steps (see the module
    docstring). ``callback(progress)`` runs after each chunk on the calling thread;
    ``should_stop()`` is checked before each chunk and ends the run, keeping what was
    reached. NaN or Inf in a loss or gradient never raises: the run stops after that chunk
    with ``diverged=True``."""
    _check(spec, params, task)
    check_sizes(spec, task, options)
    start = time.perf_counter()
    opt_key = _OptKey(options.optimizer, options.learning_rate, options.momentum,
                      options.clip_norm, options.bptt)
    params = {name: jnp.asarray(params[name], spec.dtype) for name in spec.param_shapes()}
    opt_state = _optimizer(opt_key).init(params)
    total = options.steps
    k = max(1, min(options.chunk_steps or chunk_size(spec, task, options.batch_size), total))
    PROGRAMS.use(spec, task.length, task.loss, opt_key, options.batch_size,
                 options.eval_batch, k)

    val_data = _cast(spec, task, *task.batch(options.eval_batch, seed=options.seed + 1))
    val_targets, val_mask = val_data[1], val_data[2]
    eval_steps: list[int] = []
    val_losses: list[float] = []
    val_accs: list[float | None] = []

    def validate(step: int) -> None:
        loss, outputs = _eval_batch(spec, task.loss, params, *val_data)
        eval_steps.append(step)
        val_losses.append(float(loss))
        val_accs.append(task.accuracy(np.asarray(outputs), val_targets, val_mask))

    validate(0)
    losses: list[np.ndarray] = []
    grad_norms: list[np.ndarray] = []
    param_norms: list[dict[str, np.ndarray]] = []
    done, stopped, diverged = 0, False, False
    first_chunk_end: tuple[float, int] | None = None
    upcoming = _make_chunk(task, options, 0, k, total) if total else None
    while done < total:
        if should_stop is not None and should_stop():
            stopped = True
            break
        assert upcoming is not None  # made before the loop and after every chunk but the last
        xs, ys, mask, active = upcoming
        outs = _train_chunk(spec, task.loss, opt_key, params, opt_state,
                            *_cast(spec, task, xs, ys, mask), active)
        n = int(active.sum())
        # Draw the next chunk's batches while this one runs (dispatch is asynchronous).
        if done + n < total:
            upcoming = _make_chunk(task, options, done + n, k, total)
        params, opt_state = outs[0], outs[1]
        chunk_losses, chunk_norms, chunk_param_norms = jax.device_get(outs[2:])
        chunk_losses, chunk_norms = chunk_losses[:n], chunk_norms[:n]
        chunk_param_norms = {name: v[:n] for name, v in chunk_param_norms.items()}
        losses.append(chunk_losses)
        grad_norms.append(chunk_norms)
        param_norms.append(chunk_param_norms)
        first = done
        done += n
        diverged = not (np.all(np.isfinite(chunk_losses)) and np.all(np.isfinite(chunk_norms)))
        if done == total or diverged or (done // options.eval_every
                                         > eval_steps[-1] // options.eval_every):
            validate(done)

        now = time.perf_counter()
        if first_chunk_end is None:  # the first chunk includes compiling: leave it out
            first_chunk_end = (now, done)
            eta = (now - start) / done * (total - done)
        else:
            t0, s0 = first_chunk_end
            eta = (now - t0) / max(1, done - s0) * (total - done)
        if callback is not None:
            callback(Progress(
                step=done, total=total, first_step=first, losses=chunk_losses,
                grad_norms=chunk_norms,
                param_grad_norms={name: float(v[-1]) for name, v in chunk_param_norms.items()},
                val_loss=val_losses[-1], val_accuracy=val_accs[-1], val_step=eval_steps[-1],
                elapsed=now - start, eta=eta, params=jax.device_get(params),
                diverged=diverged))
        if diverged:
            break

    def cat(chunks):
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)

    accuracies = None if task.loss != "xent" else np.array(
        [np.nan if a is None else a for a in val_accs])
    return TrainResult(
        params=jax.device_get(params), losses=cat(losses), grad_norms=cat(grad_norms),
        param_grad_norms={name: cat([p[name] for p in param_norms])
                          for name in spec.param_shapes()},
        eval_steps=np.array(eval_steps), val_losses=np.array(val_losses),
        val_accuracies=accuracies, steps=done, stopped=stopped, diverged=diverged,
        elapsed=time.perf_counter() - start, options=options)
