"""The melody preset's input is a piano roll: its axis names the notes, and a task without
such names gets the plain channel numbers back."""

from rnnviz.files.presets import load_preset


def _ticks(view):
    return view.input.plot.getAxis("left")._tickLevels  # noqa: SLF001 (pyqtgraph's own)


def test_the_input_axis_names_the_notes_then_goes_back(make_window, wait_ready):
    window = make_window("melody")
    wait_ready(window)
    view = window.views[window.state.columns[1].id]
    (major, _) = _ticks(view)
    assert [name for _, name in major] == ["C4", "C5", "onset"]
    assert major[0][0] == 3.5 and major[-1][0] == 26.5  # C4 is channel 3; onset the top row
    assert view.input.map.data.shape == (27, 64)  # channels by steps: the roll
    window.load(load_preset("bidirectional"))
    wait_ready(window)
    assert _ticks(window.views[window.state.columns[0].id]) is None
