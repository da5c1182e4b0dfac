"""The bound on compiled programs: which (spec, length) pairs count, when every program is
dropped, and that results stay exactly the same after a drop."""

import numpy as np

from rnnviz.core.model import Model
from rnnviz.core.programs import PROGRAMS, ProgramBudget
from rnnviz.tasks import make_task


def test_programs_are_dropped_when_one_pair_too_many_comes():
    drops = []
    budget = ProgramBudget(max_live=3, clear=lambda: drops.append(1))
    for steps in (10, 20, 30, 10, 20):  # a pair seen before does not count again
        budget.use("spec", steps)
    assert not drops and budget.live() == [("spec", 30), ("spec", 10), ("spec", 20)]
    budget.use("other spec", 10)
    assert len(drops) == 1 and budget.drops == 1
    assert budget.live() == [("other spec", 10)]  # counting starts over with the new pair
    budget.use("spec", 10, "batch 32")
    budget.use("spec", 10, "batch 8")
    assert budget.live()[-1] == ("spec", 10, "batch 8") and len(drops) == 1
    budget.clear()
    assert len(drops) == 2 and budget.live() == []


def test_the_engine_counts_what_it_runs_and_results_survive_a_drop():
    """A trace and its gradient rows are counted as one pair; after every program is
    dropped they are compiled again and give the same arrays, bit for bit."""
    model = Model.create("lstm", input_size=1, hidden_size=3, output_size=1, seed=4)
    inputs, target = make_task("sine", length=13).example(seed=1)
    before = model.trace(inputs, target)
    rows = (model.gradient_flow(inputs, target, 6)["l0"], model.memory(inputs, 6, "l0"),
            model.saliency(inputs, 6))
    assert PROGRAMS.live()[-1] == (model.spec, 13)
    drops = PROGRAMS.drops
    PROGRAMS.clear()
    assert PROGRAMS.drops == drops + 1 and PROGRAMS.live() == []
    after = model.trace(inputs, target)
    assert PROGRAMS.live() == [(model.spec, 13)]
    for name, value in before.arrays.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)
    again = (model.gradient_flow(inputs, target, 6)["l0"], model.memory(inputs, 6, "l0"),
             model.saliency(inputs, 6))
    for old, new in zip(rows, again, strict=True):
        np.testing.assert_array_equal(new, old)
