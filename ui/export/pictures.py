"""Pictures of widgets: PNG bytes of a window or a plot, for every export and for render."""

from __future__ import annotations

from rnnviz.errors import RnnvizError


def png_bytes(image) -> bytes:
    """A ``QImage`` or ``QPixmap`` as PNG file bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buffer, "PNG")
    buffer.close()
    if not ok:
        raise RnnvizError("could not encode the picture as PNG")
    return bytes(data)
