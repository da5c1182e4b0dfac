"""Test configuration: Qt draws offscreen, and JAX stays on the CPU."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path, monkeypatch):
    """Settings and caches go to a temporary folder, never the user's."""
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))
