"""``rnnviz.show``'s window in this process: built in the running ``QApplication``'s event loop
(Jupyter's ``%gui qt``, a PySide6 script's own), shown and returned without waiting.

Unlike the ``rnnviz`` command it leaves JAX's settings alone (no persistent compilation
cache): the process is the user's."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from .window.main_window import MainWindow
from .window.settings import Settings

# Windows shown here, kept from the garbage collector while they are open: a notebook cell
# that does not keep the returned window would otherwise close it at once.
_OPEN: list[MainWindow] = []


def show_window(session) -> MainWindow:
    """A new window showing ``session`` (``rnnviz.files.session.Session``; a model of None is
    built from its preset entry), shown and returned."""
    if QApplication.instance() is None:
        raise RuntimeError("show_window needs a running QApplication")
    _OPEN[:] = [w for w in _OPEN if w.isVisible()]  # closed ones: their workers are stopped
    window = MainWindow(settings=Settings())
    window.explorer.restore(session)
    window.show()
    window.raise_()
    _OPEN.append(window)
    window.destroyed.connect(lambda *_: window in _OPEN and _OPEN.remove(window))
    return window
