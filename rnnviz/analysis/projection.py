"""Principal component projection of a state trajectory, for drawing ``h_t`` in 2-D.

``pca_projection(h (T, H))`` centres the states on their mean over time and takes the top
right-singular vectors of the centred matrix::

    X = h - mean,   X = U S V^T,   coords = X V_k   (T, k),   ratio_j = S_j^2 / sum S^2

``V_k`` holds the first k principal directions (rows of ``components``, shape ``(k, H)``).
Each direction's sign is fixed so that its largest-magnitude loading is positive, so the same
states always give the same picture. When ``min(T, H) < k`` the missing components are zero
rows (coordinate 0, ratio 0), so a 1-unit model still draws, on a line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """``coords (T, k)``, ``ratios (k,)`` (share of the total variance), ``mean (H,)``,
    ``components (k, H)`` (orthonormal rows, or zero rows where there is no component)."""

    coords: np.ndarray
    ratios: np.ndarray
    mean: np.ndarray
    components: np.ndarray

    def project(self, h: np.ndarray) -> np.ndarray:
        """Coordinates of states ``(..., H)`` in this projection: ``(h - mean) @ components.T``."""
        return (np.asarray(h, np.float64) - self.mean) @ self.components.T


def pca_projection(h: np.ndarray, k: int = 2) -> Projection:
    """Project ``h (T, H)`` on its top ``k`` principal components (see the module docstring).

    Raises ``ValueError`` if ``h`` is not 2-D or holds NaN or Inf (a diverged state has no
    meaningful principal components).
    """
    h = np.asarray(h, np.float64)
    if h.ndim != 2 or h.shape[0] == 0:
        raise ValueError(f"states must be (T, H) with T >= 1, got shape {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("states hold NaN or Inf: no principal components")
    steps, units = h.shape
    mean = h.mean(axis=0)
    centred = h - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    n = min(k, len(s))
    components = np.zeros((k, units))
    components[:n] = vt[:n]
    for row in components[:n]:
        if row[np.argmax(np.abs(row))] < 0:
            row *= -1
    total = float(np.sum(s * s))
    ratios = np.zeros(k)
    if total > 0:
        ratios[:n] = s[:n] ** 2 / total
    else:
        components[:] = 0.0  # no variance: every state is the mean
    return Projection(centred @ components.T, ratios, mean, components)
