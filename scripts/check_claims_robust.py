"""Does every preset's lesson hold on any machine? Retrain it under variations and measure.

    .venv/bin/python scripts/check_claims_robust.py                 # every preset (4-8 min)
    .venv/bin/python scripts/check_claims_robust.py exploding anbn  # only these

A training run's last digits depend on the CPU, the number of threads XLA splits a matmul
over and the XLA version; a lesson that rests on them holds on one machine and fails on the
next. For each preset this checks the claims of its description (``tests/presets/preset_claims.py``)
on:

- ``shipped``: the shipped weights, as the window shows them;
- ``retrain``: the weights ``rnnviz train`` gives here (the preset's seeds);
- ``1 core``: both of those again in a process pinned to one CPU (``os.sched_setaffinity``
  before JAX starts, as ``taskset -c 0`` does: XLA then runs every matmul on one thread;
  Linux only);
- ``perturbed 1..3``: retrained from the initial weights times ``1 + 1e-6 N(0, 1)``, the
  closest stand-in for another CPU's rounding (a chaotic run ends somewhere else); models
  that do not train are checked on their perturbed initial weights;
- ``seed +1..+4``: retrained with a nearby training seed (other batches; a unit named in the
  description may then be another unit, so those checks look at the unit that does it best).

It prints one row per check: its bound, the value in every variant (``!`` marks a broken
claim) and the smallest margin, ``value - bound`` for ``>`` and ``bound - value`` for ``<``.
Presets that do not train are checked as shipped and perturbed. Exit status 1 if any check fails.
``--json`` prints one JSON object per preset and variant instead (the tests read it): its
``preset``, ``variant``, the ``cpus`` the process ran on and its ``checks``;
``--pin`` runs this process on one CPU only; ``--variants`` picks variants by name
(``shipped,retrain,perturbed 1,seed +1,1 core: retrain``...).
"""

from __future__ import annotations

import os
import sys

if "--pin" in sys.argv:  # before JAX starts: its thread pool is sized from the CPUs allowed
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

# isort: split
import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "presets"))

# isort: split
from preset_claims import CLAIMS, Check, retrain, trains  # noqa: E402

from rnnviz.files.presets import load_preset, shipped_presets  # noqa: E402

PERTURBATIONS = (1, 2, 3)
SEED_OFFSETS = (1, 2, 3, 4)
IN_PROCESS = ("shipped", "retrain", *(f"perturbed {p}" for p in PERTURBATIONS),
              *(f"seed +{s}" for s in SEED_OFFSETS))
PINNED = ("shipped", "retrain")  # run again in a process on one core
VARIANTS = (*IN_PROCESS, *(f"1 core: {v}" for v in PINNED))


def checks_for(name: str, variant: str, folder: Path) -> list[Check] | None:
    """The claims of preset ``name`` on the weights of ``variant`` (an ``IN_PROCESS`` name);
    None where the variant does not apply (a preset that does not train)."""
    preset = load_preset(name)
    claim = CLAIMS[name]
    if variant == "shipped":
        return claim(preset)
    kind, _, number = variant.partition(" ")
    if not trains(preset) and kind != "perturbed":
        return None
    out = folder / variant.replace(" ", "_").replace("+", "")
    out.mkdir(parents=True, exist_ok=True)
    if variant == "retrain":
        return claim(retrain(preset, out))
    if kind == "perturbed":
        return claim(retrain(preset, out, perturb=int(number)))
    seed = options_seed(preset) + int(number)
    return claim(retrain(preset, out, seed=seed), named_unit=False)


def options_seed(preset) -> int:
    return (preset.training or {}).get("seed", 0)


def run_here(names: list[str], variants: list[str]):
    """``(name, variant, checks)`` for each pair, in this process."""
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            for variant in variants:
                checks = checks_for(name, variant, Path(folder) / name)
                if checks is not None:
                    yield name, variant, checks


def run_pinned(names: list[str], variants: list[str]):
    """The same in a child process on one CPU; variants come back named ``"1 core: <v>"``."""
    command = [sys.executable, __file__, *names, "--json", "--pin",
               "--variants", ",".join(variants)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    for line in done.stdout.splitlines():
        row = json.loads(line)
        yield row["preset"], f"1 core: {row['variant']}", [Check(**c) for c in row["checks"]]


def table(results: list[tuple[str, str, list[Check]]], variants: list[str]) -> str:
    """One row per (preset, check): bound, value per variant, smallest margin."""
    rows: dict[tuple[str, str, str], dict[str, Check]] = {}
    for name, variant, checks in results:
        for c in checks:
            rows.setdefault((name, _generic(c.what), f"{c.op} {c.bound:g}"), {})[variant] = c
    shown = [v for v in variants if any(v in r for r in rows.values())]
    width = max(len(f"{n}: {w}") for n, w, _ in rows) if rows else 10
    head = f"{'preset: check':{width}}  {'bound':>8}  " + "  ".join(
        f"{_short(v):>9}" for v in shown) + f"  {'min margin':>10}"
    lines = [head, "-" * len(head)]
    for (name, what, bound), cells in rows.items():
        values = "  ".join(
            f"{_cell(cells[v]):>9}" if v in cells else f"{'':>9}" for v in shown)
        worst = min(c.margin for c in cells.values())
        lines.append(f"{f'{name}: {what}':{width}}  {bound:>8}  {values}  {worst:>10.3g}")
    return "\n".join(lines)


def _generic(what: str) -> str:
    """A check's row: "unit (5): ..." and "unit (best: 3): ..." share one."""
    return re.sub(r" \(.*?\)", "", what)


def _short(variant: str) -> str:
    return (variant.replace("perturbed ", "pert ").replace("1 core: ", "1cpu ")
            .replace("shipped", "ship").replace("retrain", "retr"))


def _cell(check: Check) -> str:
    return f"{check.value:.3g}" + ("" if check.ok else "!")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("presets", nargs="*", help="preset names (default: all shipped)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated variant names (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--pin", action="store_true", help="run on one CPU only")
    args = parser.parse_args(argv)
    names = args.presets or [name for name, _ in shipped_presets()]
    variants = [v.strip() for v in args.variants.split(",")]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"--variants: expected some of {', '.join(VARIANTS)}, got {unknown[0]!r}")
    here = [v for v in variants if v in IN_PROCESS]
    pinned = [v[len("1 core: "):] for v in variants if v.startswith("1 core: ")]
    if pinned and not hasattr(os, "sched_setaffinity"):
        print("no '1 core' variants: pinning a process to a CPU needs Linux", file=sys.stderr)
        pinned = []
    results = []
    for name, variant, checks in run_here(names, here):
        if args.json:
            print(json.dumps({"preset": name, "variant": variant,
                              "cpus": sorted(os.sched_getaffinity(0)),
                              "checks": [vars(c) for c in checks]}), flush=True)
        else:
            print(f"{name}, {variant}: {sum(c.ok for c in checks)}/{len(checks)} hold",
                  file=sys.stderr, flush=True)
        results.append((name, variant, checks))
    if pinned:
        results += list(run_pinned(names, pinned))
    if not args.json:
        print(table(results, variants))
    return int(any(not c.ok for _, _, checks in results for c in checks))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
