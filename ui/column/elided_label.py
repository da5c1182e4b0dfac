"""A one-line label that gives up its room first: cut with "…" to the width the layout leaves.

A plain ``QLabel`` asks for its whole text as its minimum width, so a long figure in a column's
header (the trace time, the memory back-propagation holds) widened the column until the last
column slid under the side panel. This one asks for no width and shows what fits; ``text()``
keeps the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel


class ElidedLabel(QLabel):
    """A ``QLabel`` whose minimum width is 0; its text is elided on the right to its width."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(0, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """The text as drawn at the label's present width."""
        room = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)  # the pen and font come from the label's (styled) palette
        painter.drawText(self.contentsRect(), int(self.alignment().value), self.shown_text())
        painter.end()
