"""Qt's own messages while the window is drawn offscreen (``rnnviz render``, ``export``).

The offscreen platform prints a note for every window it shows ("This plugin does not support
propagateSizeHints()") that says nothing to a user and would stand before the command's one
line. ``platform_notes_dropped()`` drops those notes, and only those, while the window lives;
every other message still reaches stderr.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from PySide6.QtCore import qInstallMessageHandler

PLATFORM_NOTES = ("This plugin does not support propagateSizeHints()",)


@contextmanager
def platform_notes_dropped():
    """``with platform_notes_dropped():`` Qt's messages other than ``PLATFORM_NOTES`` go to
    stderr as they would; the handler before is put back at the end."""

    def handler(mode, context, message: str) -> None:
        if message not in PLATFORM_NOTES:
            print(message, file=sys.stderr, flush=True)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)
