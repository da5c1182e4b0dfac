"""A 100,000-step CSV series in the window: it opens, the heatmaps are drawn at screen
resolution (binned means, finer once zoomed in), and the bars at the cursor and the hover
read the exact values of the step (kept small: one GRU of 4 units)."""

import numpy as np
import pytest
from rnnviz.ui.column.items import IMAGE_COLUMNS, bin_means

from rnnviz.files.presets import ModelConfig, Preset

STEPS = 100_000


def test_bin_means_by_hand():
    data = np.arange(10, dtype=np.float32).reshape(5, 2)  # rows (0,1) (2,3) (4,5) (6,7) (8,9)
    np.testing.assert_array_equal(bin_means(data, 2), [[1, 2], [5, 6], [8, 9]])
    np.testing.assert_array_equal(bin_means(data, 1), data)


@pytest.fixture
def long_csv(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(STEPS + 1)
    values = np.sin(t / 50.0) + 0.1 * rng.normal(size=t.shape)
    path = tmp_path / "long.csv"
    path.write_text("value\n" + "\n".join(f"{v:.5f}" for v in values) + "\n")
    return path


def _shown(qtbot, preset):
    """A window on ``preset``, shown (its columns not waited for: the conftest's
    ``make_window`` waits for the memory rows too, minutes at 100,000 steps)."""
    from rnnviz.ui.window.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.load(preset)
    window.show()
    return window


def test_a_100000_step_csv_opens_and_steps(long_csv, qtbot):
    preset = Preset("long series", "", "csv", {"path": str(long_csv), "length": STEPS},
                    (ModelConfig(cell="gru", hidden_size=4, seed=0),))
    window = _shown(qtbot, preset)
    qtbot.waitUntil(lambda: window.state.columns[0].ready, timeout=120_000)
    state, explorer = window.state, window.explorer
    assert state.steps == STEPS
    column = state.columns[0]
    view = window.views[column.id]
    heatmap = view.heatmaps["h"]
    h = column.trace["h_l0"]
    assert heatmap.data.shape == (4, STEPS)
    image = heatmap.image.image
    assert image.shape[0] == 4 and image.shape[1] <= IMAGE_COLUMNS  # not one column a step
    first, last, size = heatmap.drawn
    np.testing.assert_allclose(image[:, 0], h[first:first + size].mean(axis=0), rtol=1e-5)

    bars = view.states["h"].bars
    for t in (50_000, 50_001, STEPS - 1):
        explorer.set_cursor(t)
        qtbot.waitUntil(lambda t=t: state.t == t)
        np.testing.assert_array_equal(bars.values, h[t])  # the cursor's step exact
        assert heatmap.value_at(t, 2.5) == (t, 2, float(h[t, 2]))

    view.input.plot.setXRange(60_000, 60_100, padding=0)  # zoomed in: a column a step
    first, last, size = heatmap.drawn
    assert size == 1 and first <= 60_000 and last >= 60_100
    np.testing.assert_array_equal(heatmap.image.image, h[first:last].T)


def test_the_wheel_zooms_in_on_512_units_and_a_click_picks_one(qtbot):
    """512 units are thinner than a pixel each: the wheel over the heatmap zooms in on the
    units (the bars beside follow), and a click then selects the unit under it."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    preset = Preset("wide", "", "sine", {"length": 40},
                    (ModelConfig(cell="gru", hidden_size=512, seed=0),))
    window = _shown(qtbot, preset)
    state = window.state
    qtbot.waitUntil(lambda: state.columns[0].ready, timeout=120_000)
    view = window.views[state.columns[0].id]
    row = view.states["h"]
    box = row.plot.getViewBox()
    assert box.viewRange()[1] == [0, 512]

    def viewport_point(x, y):
        return view.canvas.mapFromScene(box.mapViewToScene(QPointF(x, y)))

    for _ in range(12):  # wheel steps up over unit 300 of step 20
        at = viewport_point(20, 300.5)
        wheel = QWheelEvent(QPointF(at), QPointF(view.canvas.viewport().mapToGlobal(at)),
                            QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.canvas.viewport(), wheel)
    lo, hi = box.viewRange()[1]
    assert 8 <= hi - lo < 100 and lo <= 300 <= hi  # zoomed in on the units, around 300
    assert row.side.getViewBox().viewRange()[1] == pytest.approx([lo, hi])  # bars follow
    unit = int(lo + (hi - lo) / 3)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=viewport_point(20, unit + 0.5))
    assert state.selection is not None and state.selection.index == unit
