"""Stepping a model through a sequence one time step at a time, with a cursor.

The stepper caches every step it has computed, so going back, or to a step computed before,
costs nothing; editing the input at step t, or replacing the weights, drops only what follows.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from rnnviz.core.forward import carries_from, run, state_key, step, widths
from rnnviz.core.losses import Target, step_losses
from rnnviz.core.programs import PROGRAMS
from rnnviz.core.spec import ModelSpec
from rnnviz.core.trace import as_input, check_target


def _layout(spec: ModelSpec, with_loss: bool) -> list[tuple[str, int]]:
    width = widths(spec)
    sizes = [(state_key(name, unit), width[name]) for unit in spec.units
             for name in spec.cell_type.state_names]
    sizes += [("h", spec.top_size), ("output", spec.out_size)]
    return sizes + [("loss", 1)] if with_loss else sizes


def _flatten(states: dict, output, loss, layout) -> jax.Array:
    parts = {**states, "output": output, "loss": loss}
    return jnp.concatenate([jnp.reshape(parts[name], (-1,)) for name, _ in layout])


@partial(jax.jit, static_argnames=("spec", "kind"))
def _step_flat(spec: ModelSpec, params, carries, x, y, m, kind):
    """One step; every recorded value packed in one vector so one copy brings it to numpy."""
    carries, states, output = step(spec, params, carries, x)
    loss = None if kind is None else step_losses(output, y, m, kind)
    return carries, _flatten(states, output, loss, _layout(spec, kind is not None))


@partial(jax.jit, static_argnames=("spec", "kind"))
def _scan_flat(spec: ModelSpec, params, carries, xs, ys, ms, kind):
    """All steps from ``carries`` over ``xs``, packed as ``(T, width)`` like ``_step_flat``."""
    _, states, outputs = run(spec, params, xs, carry0=carries)
    losses = None if kind is None else step_losses(outputs, ys, ms, kind)
    layout = _layout(spec, kind is not None)
    parts = {**states, "output": outputs, "loss": losses}
    return jnp.concatenate([jnp.reshape(parts[n], (len(xs), -1)) for n, _ in layout], axis=1)


class Stepper:
    """A model, an input sequence ``(T, input_size)`` and a cursor ``t``.

    ``t == -1`` before the first step; ``step()`` runs exactly one jitted cell step through
    every layer (or reads the cache) and moves to ``t + 1``. ``record(t)`` returns every state
    at step t (names as in ``rnnviz.core.trace``), ``history(name)`` the values up to the cursor.

    A bidirectional model cannot run causally (its reverse direction needs the future), so its
    stepper computes the whole sequence in one scan and stepping reveals it.
    """

    def __init__(self, spec: ModelSpec, params: dict, inputs, target: Target | None = None):
        self.spec = spec
        self._inputs = np.array(as_input(spec, inputs))
        PROGRAMS.use(spec, len(self._inputs))
        if target is not None:
            check_target(spec, target, len(self._inputs))
        self.target = target
        self._kind = None if target is None else target.kind
        self._layout = _layout(spec, target is not None)
        self._slices = {}
        start = 0
        for name, width in self._layout:
            self._slices[name] = slice(start, start + width)
            start += width
        self._cache = np.full((len(self._inputs), start), np.nan, dtype=spec.dtype)
        self.params = params
        self.t = -1

    # -- the sequence ---------------------------------------------------------------------
    @property
    def steps(self) -> int:
        return len(self._inputs)

    @property
    def inputs(self) -> np.ndarray:
        """The input sequence (read-only view; edit with ``set_input``)."""
        view = self._inputs.view()
        view.flags.writeable = False
        return view

    @property
    def computed(self) -> int:
        """How many steps from the start are computed and cached."""
        return self._computed

    @property
    def params(self) -> dict:
        return self._params

    @params.setter
    def params(self, params: dict) -> None:
        """New weights: every cached step is dropped (the cursor stays)."""
        self._params = jax.device_put(params)
        self._computed = 0
        self._carries = None

    def set_input(self, t: int, x) -> None:
        """Replace the input at step ``t``; steps from ``t`` on are dropped from the cache."""
        x = np.asarray(x, dtype=self._inputs.dtype).reshape(self.spec.in_size)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"input at step {t} holds NaN or Inf")
        as_input(self.spec, x[None], f"input at step {t}")  # a token id: whole, in range
        self._inputs[t] = x
        self._invalidate(t)

    def _invalidate(self, t: int) -> None:
        if self.spec.bidirectional:
            t = 0  # the reverse direction sees step t from every earlier step
        if t < self._computed:
            self._computed = t
            self._carries = None

    # -- moving the cursor ----------------------------------------------------------------
    def step(self) -> bool:
        """Move one step forward, computing it if needed. False at the end (no move)."""
        if self.t + 1 >= self.steps:
            return False
        self._ensure(self.t + 1)
        self.t += 1
        return True

    def back(self) -> bool:
        """Move one step back (never recomputes). False at the start."""
        if self.t < 0:
            return False
        self.t -= 1
        return True

    def seek(self, t: int) -> None:
        """Move to step ``t`` (``-1`` .. ``steps - 1``), computing what is missing."""
        if not -1 <= t < self.steps:
            raise IndexError(f"step {t} out of range -1..{self.steps - 1}")
        if t >= 0:
            self._ensure(t)
        self.t = t

    def reset(self) -> None:
        """Back to before the first step; the cache is kept."""
        self.t = -1

    def run_to_end(self) -> None:
        """Compute every remaining step in one scan (the cursor does not move)."""
        if self._computed < self.steps:
            self._scan_from(self._computed)

    # -- reading --------------------------------------------------------------------------
    def record(self, t: int | None = None) -> dict[str, np.ndarray]:
        """Every recorded value at step ``t`` (default: the cursor), as numpy views."""
        t = self.t if t is None else t
        if not 0 <= t < self._computed:
            raise IndexError(f"step {t} is not computed (computed: 0..{self._computed - 1})")
        row = self._cache[t]
        return {name: row[s] for name, s in self._slices.items()}

    def history(self, name: str) -> np.ndarray:
        """``name`` for steps ``0..t``, shape ``(t + 1, width)``."""
        return self._cache[: self.t + 1, self._slices[name]]

    # -- computing ------------------------------------------------------------------------
    def _ensure(self, t: int) -> None:
        if t < self._computed:
            return
        if self.spec.bidirectional or t > self._computed:
            self._scan_from(self._computed)
            return
        carries = self._carries if self._carries is not None else self._carry_before(t)
        y, m = self._target_at(t)
        self._carries, flat = _step_flat(self.spec, self._params, carries, self._inputs[t],
                                         y, m, self._kind)
        self._cache[t] = np.asarray(flat)
        self._computed = t + 1

    def _scan_from(self, start: int) -> None:
        """Compute steps ``start..T-1`` in one scan. The scan always spans T steps (the rest
        padded with zeros) so that it is compiled once per sequence length."""
        steps = self.steps
        pad = np.zeros_like(self._inputs)
        pad[: steps - start] = self._inputs[start:]
        ys, ms = self._target_from(start)
        flat = np.asarray(_scan_flat(self.spec, self._params, self._carry_before(start), pad,
                                     ys, ms, self._kind))
        self._cache[start:] = flat[: steps - start]
        self._computed = steps
        self._carries = None

    def _carry_before(self, t: int) -> dict:
        """The carry entering step ``t``, rebuilt from the cache (zeros at t = 0)."""
        row = self._cache[t - 1]
        return carries_from(self.spec, None if t == 0 else (lambda name: row[self._slices[name]]))

    def _target_at(self, t: int):
        if self.target is None:
            return None, None
        return self.target.values[t], self.target.mask[t]

    def _target_from(self, start: int):
        if self.target is None:
            return None, None
        ys, ms = np.zeros_like(self.target.values), np.zeros_like(self.target.mask)
        n = self.steps - start
        ys[:n], ms[:n] = self.target.values[start:], self.target.mask[start:]
        return ys, ms
