"""What a class sees: rows no column has collapse, the gradient curves are named in words,
one-step answers are written out, a bidirectional model's saliency is not veiled, titles say
what their number is, and row labels fit their rows."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication
from rnnviz.ui.column.layout import MIN_LABEL_SCALE, label_forms
from rnnviz.ui.column.view import unit_words
from rnnviz.ui.state.controller import overflow_words


def _row_height(view, slot):
    return view.states[slot].plot.geometry().height()


def test_rows_no_column_has_collapse_and_the_rest_grow(make_window, qtbot):
    window = make_window("exploding")  # three vanilla RNNs: no cell state, no gates
    view = next(iter(window.views.values()))
    assert view.rows_in_use() == {"h"}
    hidden = [view.states[s].plot for s in ("c", "gate0", "gate1", "gate2", "gate3")]
    assert all(not plot.isVisible() for plot in hidden)
    assert not view.means.plot.isVisible()
    assert all(plot.geometry().height() < 1 for plot in hidden)
    h_tall = _row_height(view, "h")
    # a unit row too thin to click is reached with the arrow keys
    column = window.state.columns[2]
    window.explorer.select(column.id, "h", 30)
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Down)
    assert window.state.selection.index == 31  # the last of 32, no further
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert window.state.selection.index == 30
    # an LSTM column brings the rows back, in every column, lined up
    explorer, state = window.explorer, window.state
    first = state.columns[0]
    explorer.configure_column(first.id, first.config.__class__(cell="lstm", hidden_size=8))
    qtbot.waitUntil(lambda: state.find(first.id).ready, timeout=60_000)
    for v in window.views.values():
        assert v.rows_in_use() >= {"h", "c", "gate3", "means"}
        assert v.states["gate3"].plot.isVisible()
    qtbot.waitUntil(lambda: _row_height(view, "h") < 0.8 * h_tall, timeout=5_000)
    tops = {round(v.states["c"].plot.mapRectToScene(v.states["c"].plot.boundingRect()).top())
            for v in window.views.values()}
    assert len(tops) == 1  # the rows line up across the columns


def test_gradient_curves_are_named_in_words_and_time_is_labelled(make_window):
    window = make_window("sine")
    view = next(iter(window.views.values()))
    legend = view.grad.legend.text
    words = ["whole loss", "loss at t", "memory"]
    assert view.grad.legend_words == words and all(w in legend for w in words)
    assert view.grad.legend.isVisible() or not window.isVisible()
    assert view.grad.legend.geometry().height() > 5
    assert view.grad.plot.getAxis("bottom").labelText == "time step"
    assert view.title.text().endswith("units")


def test_a_one_step_answer_is_written_once_the_cursor_reaches_it(make_window, wait_ready):
    window = make_window("temporal_order")  # scored at the last step only
    state, explorer = window.state, window.explorer
    lstm = next(v for v in window.views.values() if "LSTM" in v.title.text())
    last = state.steps - 1
    explorer.set_cursor(last)
    wait_ready(window)
    text = lstm.output.answer.toPlainText()
    assert text.startswith("answer ") and ", target " in text
    assert text.endswith((": right", ": wrong"))
    classes = state.task.classes
    assert any(f"target {name}:" in text for name in classes)
    assert lstm.output.answer.isVisible() or not window.isVisible()
    explorer.set_cursor(last - 5)  # before the scored step it would give the answer away
    assert not lstm.output.answer.isVisible()


def test_a_bidirectional_models_saliency_shows_the_future(make_window, wait_ready, qtbot):
    window = make_window("bidirectional")
    window.explorer.set_cursor(5)
    wait_ready(window)
    left, bi = list(window.views.values())
    qtbot.waitUntil(lambda: all(v.input.saliency.t == 5 for v in (left, bi)), timeout=60_000)
    assert left.input.saliency_cursor.has_shade and not bi.input.saliency_cursor.has_shade
    assert bi.input.saliency.value_at(8) is not None   # after t, still readable
    assert left.input.saliency.value_at(8) is None
    # the picker names layers and directions in words
    assert [bi.unit_box.itemText(k) for k in range(bi.unit_box.count())] == [
        "layer 1 →", "layer 1 ←"]


@pytest.mark.parametrize(("text", "forms"), [
    ("f forget", ["f forget", "forget", "f"]),
    ("gate mean", ["gate mean", "mean"]),
    ("h", ["h"]),
])
def test_row_labels_shorten_in_order(text, forms):
    assert label_forms(text) == forms


def test_short_rows_get_short_labels(make_window):
    window = make_window("adding")
    window.resize(1280, 620)
    lstm = next(v for v in window.views.values() if "LSTM" in v.title.text())
    QApplication.processEvents()
    row = lstm.states["gate2"]  # g candidate
    label = row.plot.getAxis("left").labelText
    assert label in label_forms("g candidate")
    room = row.plot.getViewBox().height()
    width = QFontMetricsF(window.theme.font()).horizontalAdvance(label)
    assert width <= room or label == "g"
    # a row shorter than its shortest label draws it smaller, so that it stays in its row
    plot = lstm.means.plot
    axis = plot.getAxis("left")
    room = plot.getViewBox().height() - 4
    size = float(axis.labelStyle["font-size"].removesuffix("pt"))
    assert size < window.theme.font_size  # this row is shorter than "mean" at full size
    font = window.theme.font(size / window.theme.font_size)
    assert QFontMetricsF(font).horizontalAdvance(axis.labelText) <= room + 1 or (
        size == round(window.theme.font_size * MIN_LABEL_SCALE, 1))
    for plot in (row.plot, lstm.means.plot, lstm.grad.plot):  # each label centred on its row
        box = plot.getViewBox().sceneBoundingRect()
        text = plot.getAxis("left").label.sceneBoundingRect()
        assert abs(text.center().y() - box.center().y()) <= 2, plot.getAxis("left").labelText


def test_overflow_and_layers_in_words():
    text = overflow_words(["h_l0", "h_l1", "grad_loss_h_l0", "output", "loss"])
    assert text == ("numbers grew too large to compute (infinite or NaN) in the hidden state, "
                    "the gradient, the output and the loss")
    assert unit_words("l1", False) == "layer 2"
    assert unit_words("l0_reverse", True) == "layer 1 ←"


def test_a_short_window_scrolls_the_columns_instead_of_squashing_them(make_window, qtbot):
    window = make_window("adding")
    window.resize(1280, 720)
    window.training.dock.show()  # the Training panel takes the bottom of the window
    QApplication.processEvents()
    view = next(v for v in window.views.values() if "LSTM" in v.title.text())
    line = window.theme.font(1.0).pointSizeF() * 96 / 72
    qtbot.waitUntil(lambda: window.columns_scroll.verticalScrollBar().maximum() > 0,
                    timeout=5_000)
    assert view.states["gate3"].plot.geometry().height() >= 2 * line


def test_three_columns_fit_beside_the_side_panel_at_1280(make_window, qtbot):
    window = make_window("exploding")  # long titles, a trace time and a memory figure each
    window.resize(1280, 720)
    QApplication.processEvents()
    scroll = window.columns_scroll
    qtbot.waitUntil(lambda: window.columns_area.width() <= scroll.viewport().width(),
                    timeout=5_000)  # no column slides under the side panel
    for view in window.views.values():
        assert view.memory.text().startswith("BPTT")
        assert view.memory.width() >= view.memory.sizeHint().width()  # the figure stays whole
        assert view.title.text() in view.title.toolTip()  # whole, where the title is cut
        assert view.edit_button.geometry().right() <= view.width()
