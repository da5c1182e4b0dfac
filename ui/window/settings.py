"""What the app remembers between runs: window geometry, the last preset and the theme
("light" or "dark"), in an INI file in the user's config folder (platformdirs;
``RNNVIZ_CONFIG_DIR`` overrides it, as the tests do)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings


def config_dir() -> Path:
    return Path(os.environ.get("RNNVIZ_CONFIG_DIR") or platformdirs.user_config_dir("rnnviz"))


class Settings:
    def __init__(self, folder: Path | None = None):
        folder = folder or config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self._qs = QSettings(str(folder / "rnnviz.ini"), QSettings.Format.IniFormat)

    def geometry(self) -> bytes | None:
        value = self._qs.value("window/geometry")
        return bytes(value) if value else None

    def set_geometry(self, geometry: bytes) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.sync()

    def last_preset(self) -> str | None:
        value = self._qs.value("presets/last")
        return str(value) if value else None

    def set_last_preset(self, path: str) -> None:
        self._qs.setValue("presets/last", path)
        self._qs.sync()

    def theme(self) -> str:
        value = self._qs.value("view/theme")
        return "dark" if value == "dark" else "light"

    def set_theme(self, name: str) -> None:
        self._qs.setValue("view/theme", name)
        self._qs.sync()
