"""The wheel holds every package: pyproject.toml lists rnnviz's packages by hand (ui/ installs
as rnnviz.ui and presets/ as rnnviz.presets through the package-dir mapping), and an editable
install finds a package left off that list while a wheel would leave it out, so the list is
checked against the folders here. Nothing installs at the top level beside rnnviz."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def packages_on_disk() -> set[str]:
    """Every folder of Python modules under rnnviz/, ui/ and presets/, by the name it installs
    under (a folder of data files only, rnnviz/data, counts too)."""
    found = set()
    for top, name in (("rnnviz", "rnnviz"), ("ui", "rnnviz.ui"), ("presets", "rnnviz.presets")):
        for folder in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if folder.name == "__pycache__" or not any(f.is_file() for f in folder.iterdir()):
                continue
            relative = folder.relative_to(ROOT / top).parts
            found.add(".".join((name, *relative)))
    return found


def test_pyproject_lists_every_package_and_only_inside_rnnviz():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    assert listed == packages_on_disk()
    assert {name.split(".")[0] for name in listed} == {"rnnviz"}
    assert setuptools["package-dir"] == {"rnnviz.ui": "ui", "rnnviz.presets": "presets"}
