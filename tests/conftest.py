"""Test configuration: Qt draws offscreen, JAX stays on the CPU, and Keras 3 (a test
dependency, building the reference models of tests/keras_reference.py) runs on JAX."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["KERAS_BACKEND"] = "jax"  # the reference: Keras on its JAX backend


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path, monkeypatch):
    """Settings and caches go to a temporary folder, never the user's."""
    monkeypatch.setenv("RNNVIZ_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def keras_models(tmp_path_factory):
    """Keras models built and saved by Keras once per run (``tests/keras_reference.py``):
    ``(folder, {name: Keras's answers})``, ``folder`` holding ``{name}.keras`` and
    ``{name}.weights.h5``. Copy a file before changing it: the folder is shared."""
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))  # not ~/.keras
    from keras_reference import build_all

    folder = tmp_path_factory.mktemp("keras")
    return folder, build_all(folder)
