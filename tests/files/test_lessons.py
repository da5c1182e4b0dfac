"""The lesson format: what a step may say, one line naming the file and the step for a damaged
one, and a round trip through TOML."""

from __future__ import annotations

import pytest

from rnnviz.errors import RnnvizError
from rnnviz.files.lessons import Highlight, Question, narration_parts, panels_named
from rnnviz.files.presets import parse_preset, preset_to_dict

BASE = """title = "Tiny"
[task]
name = "sine"
length = 40
[[models]]
cell = "rnn"
hidden_size = 4
[[models]]
cell = "lstm"
hidden_size = 3
"""

GOOD = BASE + """
[[lesson]]
text = "The {h:hidden state} of the RNN and the LSTM's {c:cell state}."
step = 5
select = { model = 1, row = "c", unit = 2 }
highlight = ["h", { panel = "grad", models = [1] }, "f"]
tab = "trajectory"

[[lesson]]
text = "Watch it fall."
play = [5, 30]
clear = true
change = { model = 0, spectral_radius = 2.0 }
train = { model = 1, steps = 20 }
[lesson.question]
ask = "Which forgets first?"
choices = ["RNN", "LSTM"]
answer = 0
why = "It has no gate."

[[lesson]]
text = "Click the step where the input peaks."
question = { ask = "Where?", steps = [10, 14] }
"""


def test_a_lesson_reads_and_writes_back_the_same():
    import tomli_w

    preset = parse_preset(GOOD, source="t.toml")
    first, second, third = preset.lesson
    assert first.step == 5 and first.select == (1, "c", 2, "l0") and first.tab == "trajectory"
    assert first.highlight == (Highlight("h"), Highlight("grad", (1,)), Highlight("f"))
    assert second.play == (5, 30) and second.cursor == 30 and second.clear
    assert second.changes == ((0, {"spectral_radius": 2.0}),) and second.train == (1, 20)
    assert second.question == Question("Which forgets first?", ("RNN", "LSTM"), 0,
                                       why="It has no gate.")
    assert third.question.steps == (10, 14) and third.question.is_right(12)
    assert not third.question.is_right(15) and second.question.is_right(0)
    again = parse_preset(tomli_w.dumps(preset_to_dict(preset)), source="again.toml")
    assert again.lesson == preset.lesson


def test_narration_marks_name_panels():
    text = "The {h:hidden state} and the {grad:orange curve}."
    assert narration_parts(text) == [("The ", None), ("hidden state", "h"), (" and the ", None),
                                     ("orange curve", "grad"), (".", None)]
    assert panels_named(text) == ["h", "grad"]


@pytest.mark.parametrize("step, message", [
    ('text = "x"\nhighlight = ["hidden"]', "lesson[0].highlight[0]: expected a panel"),
    ('text = "x"\nstep = 40', "lesson[0].step: expected an integer in 0..39, got 40"),
    ('text = "x"\nplay = [30, 50]', "lesson[0].play: expected [from, to] within 0..39"),
    ('text = "x"\nquestion = { ask = "?", choices = ["a", "b"] }',
     "lesson[0].question.answer: expected the index of the right choice"),
    ('text = "x"\nquestion = { ask = "?", choices = ["a", "b"], answer = 2 }',
     "lesson[0].question.answer: expected an integer in 0..1, got 2"),
    ('text = "x"\nselect = { model = 0, row = "c", unit = 0 }',
     "lesson[0].select.row: expected one of h (rows of a RNN)"),
    ('text = "x"\nselect = { model = 1, row = "c", unit = 3 }',
     "lesson[0].select.unit: expected an integer in 0..2, got 3"),
    ('text = "x"\nselect = { model = 2, unit = 0 }',
     "lesson[0].select.model: expected an integer in 0..1, got 2"),
    ('text = "See the {hidden:state}"', "lesson[0].text: expected a panel"),
    ('text = "broken {h:mark"', "lesson[0].text: expected marks written {panel:words}"),
    ('text = ""', "lesson[0].text: expected the narration"),
    ('text = "x"\ntab = "map"', "lesson[0].tab: expected one of unit, trajectory, weights"),
    ('text = "x"\nchange = { model = 0, spectral_radius = -1.0 }',
     "lesson[0].change: expected settings a column takes"),
    ('text = "x"\nchange = { model = 0, colour = 1 }', "lesson[0].change.colour: expected one of"),
    ('text = "x"\nchange = [{ model = 0, seed = 1 }, { model = 0, seed = 2 }]',
     "lesson[0].change[1].model: expected each column changed once in a step"),
    ('text = "x"\nchange = [{ model = 1, seed = 1 }, 3]', "lesson[0].change[1]: expected a table"),
    ('text = "x"\ntrain = { model = 0 }', "lesson[0].train: expected a table like"),
    ('text = "x"\nnarration = "y"', "lesson[0].narration: expected one of"),
    ('text = "x"\nstep = 3\nplay = [1, 2]', "lesson[0].play: expected either step or play"),
])
def test_a_damaged_step_is_one_line_naming_the_file_and_the_step(step, message):
    with pytest.raises(RnnvizError) as error:
        parse_preset(BASE + "\n[[lesson]]\n" + step + "\n", source="bad.toml")
    text = str(error.value)
    assert text.startswith("bad.toml: lesson[0]") and message in text, text
    assert "\n" not in text


def test_a_lesson_that_selects_a_column_no_longer_there_is_dropped():
    preset = parse_preset(GOOD, source="good.toml")
    assert preset.lesson and preset.lesson[0].select[0] == 1
    assert preset.with_models(preset.models[:1]).lesson == ()
    assert preset.with_models([]).lesson == ()
