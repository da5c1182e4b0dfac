"""The engine never loads Qt: importing every module of ``rnnviz`` but its front end
(``rnnviz.ui``) leaves PySide6, pyqtgraph and ``rnnviz.ui`` unloaded (checked in a fresh
interpreter, since the GUI tests load Qt here)."""

import subprocess
import sys
import textwrap


def test_engine_imports_no_qt():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import rnnviz
        for info in pkgutil.walk_packages(rnnviz.__path__, "rnnviz."):
            if info.name != "rnnviz.__main__" and not info.name.startswith("rnnviz.ui"):
                importlib.import_module(info.name)
        bad = sorted(m for m in sys.modules
                     if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6")
                     or m.startswith("rnnviz.ui"))
        print(",".join(bad))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"rnnviz loaded Qt modules: {result.stdout}"
