"""Repaint the window hundreds of times.

PySide6 6.12.0 with pyqtgraph 0.14.0 crashes the interpreter ("none_dealloc" in
AxisItem.drawPicture) after a few hundred repaints; pyproject.toml pins PySide6 below 6.12.
If an upgrade brings the crash back, this test takes the test run down with it.
"""

import PySide6


def test_hundreds_of_repaints_with_moving_axes(make_window, qtbot):
    window = make_window()
    view = window.views[window.state.columns[1].id]
    steps = window.state.steps
    for i in range(400):
        window.explorer.set_cursor(i % steps)
        # a new x range re-generates every axis picture, which is where 6.12 crashed
        view.input_plot.setXRange(-0.5 + (i % 7), steps - 0.5 - (i % 5), padding=0)
        image = view.canvas.grab()
        assert not image.isNull()
    assert PySide6.__version_info__[:2] < (6, 12), "re-check the repaint crash before upgrading"
