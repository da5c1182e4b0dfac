"""Re-create the weights shipped with the presets, from the repository alone.

    .venv/bin/python scripts/train_presets.py            # every preset that trains (~2 min)
    .venv/bin/python scripts/train_presets.py anbn text  # only these

For each ``presets/NAME.toml`` with a ``[training]`` table (or a model with its own
``training``) and a model whose ``weights`` key names a file, this runs exactly ``rnnviz
train presets/NAME.toml --out presets``, which trains every model from its seeded
initialisation and writes ``presets/NAME-<k>-<cell>.safetensors``,
the files the preset's ``weights`` keys name. Training is deterministic (same preset, same
losses) on a given machine and JAX version; ``tests/presets/test_preset_claims.py`` checks that the
lessons hold for the shipped weights and for a fresh run, and ``scripts/check_claims_robust.py``
that they hold with margin when the run's rounding changes (another machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

from rnnviz.cli import main
from rnnviz.files.presets import load_preset

PRESETS = Path(__file__).resolve().parent.parent / "presets"


def trains(path: Path) -> bool:
    """Whether the preset ships trained weights (its ``[training]`` alone may be only the
    Training panel's starting options, as in ``memory_cost``)."""
    preset = load_preset(path, require_weights=False)
    return ((preset.training is not None or any(m.training for m in preset.models))
            and any(m.weights is not None for m in preset.models))


def run(names: list[str]) -> int:
    paths = [PRESETS / f"{n}.toml" for n in names] if names else sorted(PRESETS.glob("*.toml"))
    for path in paths:
        if not trains(path):
            print(f"{path.name}: no training, skipped", file=sys.stderr)
            continue
        print(f"== rnnviz train {path.relative_to(PRESETS.parent)} --out presets",
              file=sys.stderr)
        status = main(["train", str(path), "--out", str(PRESETS)])
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
