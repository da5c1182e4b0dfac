"""``rnnviz.show``: with a QApplication running here (Jupyter's ``%gui qt``) it returns a window
built in this process; otherwise it starts ``python -m rnnviz SESSION`` in a process of its own
(here drawing one frame to a PNG, asked by ``RNNVIZ_SNAPSHOT``, and exiting) and returns at
once."""

import dataclasses

import numpy as np
from PySide6.QtGui import QImage

import rnnviz
from rnnviz.files.presets import load_preset
from rnnviz.files.session import read_session


def _alone():
    """The sine task without its columns (and their lesson): the model's column only, a quick
    start."""
    return dataclasses.replace(load_preset("sine"), models=(), lesson=(), select=None)


def _gru():
    return rnnviz.Model.create("gru", input_size=1, hidden_size=4, output_size=1, seed=3)


def test_show_with_a_running_qapplication_returns_the_window(qtbot, wait_ready):
    model = _gru()
    x = np.sin(np.linspace(0, 6, 25))[:, None].astype(np.float32)
    target = np.roll(x, -1, axis=0)
    # pytest-qt's QApplication stands for %gui qt's
    window = rnnviz.show(model, x, target, preset=_alone())
    qtbot.addWidget(window)
    assert window.isVisible()
    wait_ready(window)
    state = window.state
    column = state.columns[-1]
    assert column.config.label == "GRU (notebook)" and len(state.columns) == 1
    assert "GRU (notebook)" in window.views[column.id].title.text()
    np.testing.assert_array_equal(state.inputs, x)
    expected = model.trace(x, rnnviz.Target(target))
    for key in ("output", "gate_z_l0", "loss"):
        np.testing.assert_allclose(column.trace[key], expected[key], atol=1e-6, err_msg=key)


def test_show_without_one_starts_a_process_of_its_own(tmp_path, monkeypatch):
    out = tmp_path / "shown.png"
    monkeypatch.setenv("RNNVIZ_SNAPSHOT", str(out))
    monkeypatch.setenv("RNNVIZ_CACHE_DIR", str(tmp_path / "cache"))  # the child's JAX cache
    model = _gru()
    x = np.linspace(-1, 1, 12, dtype=np.float32)[:, None]
    handle = rnnviz.show(model, x, preset=_alone(), in_process=False)
    try:
        session = read_session(handle.session)  # what the child opens, as written
        np.testing.assert_array_equal(session.inputs, x)
        np.testing.assert_array_equal(session.models[0].params["weight_hh_l0"],
                                      model.params["weight_hh_l0"])
        assert handle.wait(timeout=300) == 0, handle.log()
        assert "columns: GRU (notebook)" in handle.log()
        image = QImage(str(out))
        assert not image.isNull() and image.width() > 500
    finally:
        handle.close()
    assert not handle.session.parent.exists()


def test_closing_the_process_ends_it(monkeypatch):
    monkeypatch.delenv("RNNVIZ_SNAPSHOT", raising=False)
    handle = rnnviz.show(preset=_alone(), in_process=False)
    assert handle.running()
    handle.close()
    assert not handle.running() and not handle.session.parent.exists()
