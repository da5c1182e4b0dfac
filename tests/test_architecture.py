"""The rules of the code, checked by the tools that own them, so that CI fails when one breaks:
``ruff check`` (style and imports), ``lint-imports`` (the contracts in pyproject.toml: the
engine never imports the front end or Qt, the explorer's state imports no Qt, the engine's
layers, no import cycles) and ``mypy`` on the engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)


@pytest.mark.parametrize("tool, args", [
    ("ruff", ("check", "rnnviz", "ui", "tests", "benchmarks", "scripts")),
    ("lint-imports", ()),
    ("mypy", ()),
])
def test_the_code_keeps_its_rules(tool, args):
    result = run(tool, *args)
    assert result.returncode == 0, f"{tool} failed:\n{result.stdout}\n{result.stderr}"
