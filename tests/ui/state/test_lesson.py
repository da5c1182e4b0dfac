"""Playing and recording a lesson without Qt: each step moves the cursor, selects, frames and
changes what it says; questions wait for an answer; a clicker's Next alone runs a lesson."""

from __future__ import annotations

import pytest
from rnnviz.ui.state.controller import Explorer
from rnnviz.ui.state.jobs import InlineJobRunner
from tests_support import TINY_LESSON, settle

from rnnviz.files.lessons import Highlight
from rnnviz.files.presets import parse_preset


@pytest.fixture
def explorer(tmp_path):
    ex = Explorer(jobs=InlineJobRunner())
    path = tmp_path / "lesson.toml"
    path.write_text(TINY_LESSON)
    from rnnviz.files.presets import load_preset

    ex.load_preset(load_preset(path))
    settle(ex)
    yield ex
    ex.shutdown()


def test_each_step_does_what_it_says(explorer):
    s, lesson = explorer.state, explorer.lesson
    seen = []
    lesson.events.changed.connect(lambda: seen.append(lesson.index))
    played, tabs = [], []
    lesson.events.play.connect(lambda a, b: played.append((a, b)))
    lesson.events.tab.connect(tabs.append)
    assert lesson.count == 3 and not lesson.active
    assert lesson.start() and lesson.index == 0 and seen == [0]
    assert s.t == 5 and s.selection.column == s.columns[1].id and s.selection.name == "c"
    assert s.highlights == (Highlight("h"), Highlight("c", (1,)))
    assert s.highlighted(s.columns[1].id) == {"h", "c"}
    assert s.highlighted(s.columns[0].id) == {"h"}
    assert tabs == ["trajectory"]
    assert lesson.next() and lesson.index == 1
    assert played == [(5, 12)] and s.t == 5 and s.selection is None and s.highlights == ()
    settle(explorer)
    radius = s.columns[0].config.init.spectral_radius
    assert radius == 2.0 and s.columns[0].ready  # the change drew new weights, re-traced
    # a question holds the lesson until answered or revealed
    assert not lesson.revealed() and lesson.next() and lesson.index == 1 and lesson.revealed()
    assert lesson.right() is None  # revealed without a reply
    assert lesson.next() and lesson.index == 2 and lesson.wants_step()
    explorer.click_step(20)  # a click on a time plot answers it (wrong: 10..14)
    assert lesson.revealed() and lesson.right() is False and s.t == 20
    explorer.click_step(12)  # the first answer stays
    assert lesson.right() is False and s.t == 12
    assert not lesson.next()  # the end
    assert lesson.back() and lesson.index == 1
    assert s.columns[0].config.init.spectral_radius == 2.0  # not changed again
    lesson.leave()
    assert not lesson.active and s.t == 5


def test_a_choice_question_and_restart(explorer):
    lesson = explorer.lesson
    lesson.start()
    lesson.next()
    assert lesson.answer(0) and lesson.right() is True
    assert not lesson.answer(1) or lesson.right() is True  # the first answer stays
    assert lesson.restart() and lesson.index == 0 and lesson.replies == {}


def test_starting_over_undoes_what_the_steps_changed(explorer):
    s, lesson = explorer.state, explorer.lesson
    before = s.columns[0].config
    lesson.start()
    lesson.next()  # step 2 changes column 0's spectral radius
    settle(explorer)
    assert s.columns[0].config.init.spectral_radius == 2.0
    assert lesson.restart() and lesson.index == 0
    settle(explorer)
    assert s.columns[0].config == before and s.columns[0].ready
    lesson.next()  # and step 2 changes it again
    settle(explorer)
    assert s.columns[0].config.init.spectral_radius == 2.0


def test_record_move_delete_and_save(explorer, tmp_path):
    import tomli_w

    from rnnviz.files.presets import preset_to_dict

    s, lesson = explorer.state, explorer.lesson
    lesson.start()
    explorer.set_cursor(33)
    explorer.select(s.columns[0].id, "h", 3)
    explorer.set_highlights([Highlight("output")])
    lesson.tab = "weights"
    step = lesson.record("Here the RNN's unit 3 peaks.")
    assert lesson.index == 1 and lesson.count == 4
    assert (step.step, step.select, step.highlight, step.tab) == (
        33, (0, "h", 3, "l0"), (Highlight("output"),), "weights")
    lesson.set_text(1, "Unit 3 peaks here.")
    lesson.move(1, 3)
    assert lesson.steps[3].text == "Unit 3 peaks here." and lesson.index == 3
    lesson.delete(0)
    saved = explorer.preset_now()
    again = parse_preset(tomli_w.dumps(preset_to_dict(saved)), source="saved.toml")
    assert again.lesson == tuple(lesson.steps) and len(again.lesson) == 3
    lesson.tab = "flow map"  # every side tab is one a lesson can name (it was dropped once)
    lesson.record("The flow map.")
    saved = explorer.preset_now()
    assert saved.lesson == tuple(lesson.steps) and saved.lesson[-1].tab == "flow map"


def test_a_task_change_ends_the_lesson_and_drops_it_from_what_is_saved(explorer):
    from rnnviz.tasks import make_task

    lesson = explorer.lesson
    lesson.start()
    explorer.set_task(make_task("sine", length=12), 0)
    assert not lesson.active and lesson.count == 0
    assert explorer.preset_now().lesson == ()


def test_a_recorded_step_keeps_a_column_change_and_the_lesson_saves_its_start(explorer):
    from rnnviz.files.lessons import changed_config

    s, lesson = explorer.state, explorer.lesson
    lesson.start()
    lstm = s.columns[1]
    explorer.configure_column(lstm.id, changed_config(lstm.config, {"forget_bias": 3.0}))
    step = lesson.record("A forget bias of 3 keeps the cell state.")
    assert step.changes == ((1, {"forget_bias": 3.0}),)
    lesson.go(2)  # the step after it changes column 0's spectral radius
    settle(explorer)
    saved = explorer.preset_now()
    # the columns are saved as the lesson starts; its steps make the changes
    assert saved.models[0].init.spectral_radius is None
    assert saved.models[1].init.forget_bias != 3.0
    assert saved.lesson[1].changes == ((1, {"forget_bias": 3.0}),)
    assert saved.lesson[2].changes == ((0, {"spectral_radius": 2.0}),)
    # recorded again with nothing changed since, a step changes nothing
    assert lesson.record("Nothing new.").changes == ()
    assert s.columns[1].config.init.forget_bias == 3.0  # what is shown stays as it is


def test_a_recorded_step_keeps_every_column_changed_and_replays_them(explorer):
    from rnnviz.files.lessons import changed_config

    s, lesson = explorer.state, explorer.lesson
    lesson.start()
    rnn, lstm = s.columns[0], s.columns[1]
    explorer.configure_column(lstm.id, changed_config(lstm.config, {"forget_bias": 3.0}))
    explorer.configure_column(rnn.id, changed_config(rnn.config, {"seed": 7}))
    step = lesson.record("Both columns drawn again.")
    assert step.changes == ((0, {"seed": 7}), (1, {"forget_bias": 3.0}))
    settle(explorer)
    saved = explorer.preset_now()
    assert saved.lesson[1].changes == step.changes  # written as a list of tables, read back
    assert saved.models[0].seed != 7 and saved.models[1].init.forget_bias != 3.0
    lesson.restart()  # starting over puts both back, then the step makes both changes again
    settle(explorer)
    assert s.columns[0].config.seed != 7 and s.columns[1].config.init.forget_bias != 3.0
    lesson.go(1)
    settle(explorer)
    assert s.columns[0].config.seed == 7 and s.columns[1].config.init.forget_bias == 3.0


def test_a_session_reopens_at_the_lesson_step(explorer, tmp_path):
    from rnnviz.files.session import read_session, write_session

    s, lesson = explorer.state, explorer.lesson
    lesson.start()
    lesson.next()  # step 2 changes column 0's spectral radius
    settle(explorer)
    explorer.set_cursor(17)
    path = tmp_path / "class.rnnviz"
    write_session(path, explorer.session_now())
    lesson.leave()
    explorer.restore(read_session(path))
    settle(explorer)
    assert lesson.active and lesson.index == 1 and s.t == 17
    assert s.columns[0].config.init.spectral_radius == 2.0  # the columns as they were shown
    assert lesson.count == 3 and s.highlights == lesson.steps[1].highlight
    lesson.back()
    lesson.next()  # entered before: not changed again
    assert s.columns[0].config.init.spectral_radius == 2.0
