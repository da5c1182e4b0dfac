"""Redraw the pictures in docs/images with rnnviz's own render command (offscreen).

    .venv/bin/python scripts/make_screenshots.py            # every picture
    .venv/bin/python scripts/make_screenshots.py sine       # those whose name starts so

Each picture is ``rnnviz render`` of a shipped preset at its start step, at the size and in
the mode its name says; look at them before committing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
RNNVIZ = Path(sys.executable).parent / "rnnviz"
PICTURES = {  # file: arguments of `rnnviz render`
    "sine.png": ["sine", "--size", "1600x1000"],
    "anbn-dark.png": ["anbn", "--size", "1600x1000", "--theme", "dark"],
    "vanishing-presentation.png": ["vanishing", "--size", "1920x1080", "--presentation"],
}


def main(prefixes: list[str]) -> int:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, args in PICTURES.items():
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        out = IMAGES / name
        print(f"rnnviz render {' '.join(args)} -> {out}", flush=True)
        subprocess.run([str(RNNVIZ), "render", *args, "--out", str(out)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
