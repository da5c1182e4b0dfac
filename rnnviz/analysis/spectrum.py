"""Eigenvalues of the recurrent weights, gate block by gate block.

``weight_hh (G*H, H)`` stacks one ``(H, H)`` block per gate in PyTorch's order (``i f g o``
for the LSTM, ``r z n`` for the GRU, a single block for the vanilla RNN). Near ``h = 0`` a
vanilla RNN's state evolves as ``h_t ~ W_hh h_{t-1}`` (tanh'(0) = 1), so the spectral radius
``rho = max |lambda|`` of ``W_hh`` decides what happens to a signal, and to a gradient,
carried back over n steps: it shrinks roughly like ``rho^n`` when ``rho < 1`` (vanishing) and
can grow like ``rho^n`` when ``rho > 1`` (exploding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.core.init import spectral_radius
from rnnviz.core.spec import ModelSpec


@dataclass(frozen=True)
class Spectrum:
    """One unit's recurrent weights: ``gates`` names each block (``"h"`` for the RNN),
    ``eigenvalues`` a complex ``(H,)`` array per block, ``radii`` the spectral radius of
    each block."""

    gates: tuple[str, ...]
    eigenvalues: tuple[np.ndarray, ...]
    radii: tuple[float, ...]


def gate_names(spec: ModelSpec) -> tuple[str, ...]:
    """The letters of ``weight_hh``'s row blocks in order: ``("h",)`` for the RNN."""
    letters = tuple(spec.cell_type.gates)
    return letters if letters else ("h",)


def recurrent_spectrum(spec: ModelSpec, weight_hh) -> Spectrum:
    """Eigenvalues and spectral radius of each ``(H, H)`` gate block of ``weight_hh``."""
    names = gate_names(spec)
    weight = np.asarray(weight_hh, np.float64)
    blocks = np.split(weight, len(names), axis=0)
    eigenvalues = tuple(np.linalg.eigvals(b) for b in blocks)
    return Spectrum(names, eigenvalues, tuple(spectral_radius(weight, len(names))))


def diagonal_spectrum(spec: ModelSpec, params: dict, unit: str, record: dict) -> np.ndarray:
    """The eigenvalues of a modern cell's diagonal transition ``h_{t-1} -> h_t`` at one step
    (complex, one per state value: ``1 - z_t`` for minGRU, ``f'_t`` for minLSTM, the LRU's
    fixed ``lambda``, Mamba's ``exp(Delta_t A)`` per channel and state), from ``unit``'s
    parameters and its records at that step (``record``: short names, e.g. ``{"z": (H,)}``)."""
    cell = spec.cell_type
    if cell.transition is None:
        raise ValueError(f"a {cell.label} has recurrent weights, not a diagonal transition")
    own = {k[: -len(unit) - 1]: np.asarray(v, np.float64) for k, v in params.items()
           if k.endswith(f"_{unit}")}
    return np.asarray(cell.transition(own, record), complex)
