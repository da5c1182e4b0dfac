"""Does the melody lesson's trained LSTM track the melody's contour? Measured for its sixth step.

    .venv/bin/python scripts/probe_melody_contour.py

For 64 passages of the shipped chorales (the claims' evaluation batch) it prints, for the
untrained and the trained LSTM of ``presets/melody.toml``: the largest |correlation| of one
unit's c or h with the direction of the melody's last move (+1 up, -1 down, rests skipped),
and how often a linear read-out of all the units (least squares on half the passages, tested
on the other half) tells up from down, beside always guessing the commoner direction. The
lesson's claim (every unit's |r| < 0.4 across retrains) is checked by
``tests/presets/preset_claims.py``; this script adds the read-out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "presets"), str(ROOT / "tests")]

from preset_claims import (  # noqa: E402 (the tests' helpers, found above)
    EVAL_SEED,
    _contour_correlations,
    _last_moves,
    models_of,
)

from rnnviz.files.presets import load_preset  # noqa: E402


def read_out(model, xs, moves) -> float:
    """Accuracy of a least-squares read-out of [c, h, 1] for the sign of the last move."""
    traces = [model.trace(x) for x in xs]
    states = np.concatenate([np.stack([t["c_l0"] for t in traces]),
                             np.stack([t["h_l0"] for t in traces]),
                             np.ones(moves.shape + (1,))], axis=-1)
    half = len(xs) // 2
    fit, test = moves[:half] != 0, moves[half:] != 0
    w, *_ = np.linalg.lstsq(states[:half][fit], moves[:half][fit], rcond=None)
    return float(np.mean(np.sign(states[half:][test] @ w) == moves[half:][test]))


def main() -> None:
    task, models = models_of(load_preset("melody"))
    xs, _, _ = task.batch(64, seed=EVAL_SEED)
    moves = _last_moves(xs)
    later = moves[len(xs) // 2:]
    later = later[later != 0]
    common = max(np.mean(later > 0), np.mean(later < 0))
    print(f"guessing the commoner direction: {common:.1%}")
    for name, model in zip(("untrained", "trained"), models, strict=True):
        print(f"{name}: largest |r| of a unit with the last move "
              f"{_contour_correlations(model, xs).max():.3f}; read-out of all units "
              f"{read_out(model, xs, moves):.1%}")


if __name__ == "__main__":
    main()
