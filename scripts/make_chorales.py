"""Convert the soprano lines of Bach's chorales (music21's public-domain corpus) into the small
text file ``rnnviz/data/chorales.txt`` that the ``melody`` task reads.

    .venv/bin/pip install -e ".[data]"         # music21: a development tool, never a dependency
    .venv/bin/python scripts/make_chorales.py  # ~1 min; rewrites rnnviz/data/chorales.txt

Each chorale in 4/4 with a part named Soprano is sampled on a grid of eighth notes: every
step is the MIDI pitch sounding then (0 for a rest) and the step's position in its bar (0..7,
from music21's measure offsets, so a pickup bar starts mid-bar). A step is an onset when a
new note starts there. Notes shorter than an eighth are merged into the step they start in
(the first one wins). One line per chorale, tab-separated:

    bwv1.6<TAB>67,67,69,...<TAB>0,1,2,...<TAB>1,0,1,...

name, pitches, positions and onsets, the three lists of the same length. The file is written
once through rnnviz.paths (atomic) and committed; rnnviz never imports music21.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rnnviz.paths import write_bytes_atomic  # noqa: E402

OUT = REPO / "rnnviz" / "data" / "chorales.txt"
STEP = 0.5  # quarter lengths per step: an eighth note


def soprano_steps(score):
    """``(pitches, positions, onsets)`` of the score's soprano part on the eighth-note grid,
    or None when it has no part named Soprano, is not in 4/4 throughout or has no notes."""
    from music21 import meter

    sopranos = [p for p in score.parts if (p.partName or "").lower().startswith("soprano")]
    if not sopranos:
        return None
    part = sopranos[0]
    signatures = {ts.ratioString for ts in part.recurse().getElementsByClass(meter.TimeSignature)}
    if signatures != {"4/4"}:
        return None
    flat = part.flatten().notesAndRests
    if not flat:
        return None
    end = float(part.highestTime)
    n = int(round(end / STEP))
    pitches, onsets, positions = [0] * n, [0] * n, [0] * n
    filled = [False] * n
    for element in flat:
        start = float(element.offset)
        first = int(start / STEP + 1e-9)
        last = max(first + 1, int(round((start + float(element.quarterLength)) / STEP)))
        midi = 0 if element.isRest else int(element.pitches[-1].midi)  # top of a chord
        for k in range(first, min(last, n)):
            if not filled[k]:
                pitches[k], filled[k] = midi, True
                onsets[k] = int(k == first and midi != 0)
    measures = list(part.getElementsByClass("Measure"))
    for index, measure in enumerate(measures):
        first_step = int(round(float(measure.offset) / STEP))
        length = float(measure.duration.quarterLength)
        pad = float(measure.paddingLeft or 0.0)
        if index == 0 and not pad and length < 4:  # a pickup bar: it ends on the bar line
            pad = 4 - length
        for k in range(first_step, min(n, first_step + int(round(length / STEP)))):
            positions[k] = int(round(k - first_step + pad / STEP)) % 8
    return pitches, positions, onsets


def main() -> None:
    from music21 import corpus

    lines = []
    for path in sorted(corpus.getComposer("bach"), key=lambda p: p.name):
        try:
            score = corpus.parse(path)
        except Exception as exc:  # a file music21 cannot read: say so and go on
            print(f"skipped {path.name}: {exc}", file=sys.stderr)
            continue
        steps = soprano_steps(score)
        if steps is None:
            continue
        name = path.name.rsplit(".", 1)[0]
        lines.append("\t".join([name, *(",".join(map(str, v)) for v in steps)]))
    text = "\n".join(lines) + "\n"
    write_bytes_atomic(OUT, text.encode("ascii"))
    print(f"wrote {OUT}: {len(lines)} chorales, {len(text)} characters")


if __name__ == "__main__":
    main()
