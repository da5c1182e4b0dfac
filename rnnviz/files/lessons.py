"""Lessons: a preset's ordered steps, each saying what to show and what to say.

A lesson lives in its preset's TOML as an array of ``[[lesson]]`` tables, one per step::

    [[lesson]]
    text = "Each {h:row of the hidden state} is one unit. Step through the sine."
    step = 40                                  # move the time cursor here
    play = [40, 80]                            # or play from..to (the cursor ends at 80)
    select = { model = 1, row = "c", unit = 5 }   # outline a unit (layer = "l1" as in presets)
    clear = true                               # or clear the selection
    highlight = ["grad", { panel = "c", models = [1] }]   # frame panels (all columns, or some)
    tab = "trajectory"                         # unit | trajectory | weights | flow map
    change = { model = 0, spectral_radius = 2.0 }   # a column's init settings, re-drawn
                                               # (several columns: a list of such tables)
    train = { model = 2, steps = 100 }         # train one column for this many steps
    [lesson.question]                          # asked before the step's answer is shown
    ask = "Which column forgets first?"
    choices = ["RNN", "LSTM"]
    answer = 0
    why = "Its gradient falls a thousandfold every few steps."
    # or a question answered by clicking a step: steps = [10, 20] (the right ones, inclusive)

Every key but ``text`` is optional. In ``text``, ``{panel:words}`` names a panel: the words are
drawn in the panel's colour, and hovering or clicking them frames the panel. Panels are
``input``, ``saliency``, ``output``, ``h``, ``c``, ``gates`` (every gate row), a gate letter
(``i f g o r z n``), ``means`` and ``grad``.

``parse_lesson`` checks a lesson against its preset (models, units, rows, steps) and raises one
``RnnvizError`` line naming the file and the step (``lesson[3].select.unit: ...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rnnviz.errors import RnnvizError

PANELS = ("input", "saliency", "output", "h", "c", "gates", "means", "grad")
TABS = ("unit", "trajectory", "weights", "flow map")  # the side panel's tabs, named in lower case
# settings of a column a step may change: its initialisation, seed and size
CHANGES = ("spectral_radius", "recurrent_gain", "forget_bias", "recurrent", "seed",
           "hidden_size")
MAX_STEPS = 100          # steps of one lesson
MAX_TEXT = 2000          # characters of one step's narration
MAX_TRAIN_STEPS = 5000   # update steps one lesson step may train
_MARK = re.compile(r"\{(\w+):([^{}]*)\}")


@dataclass(frozen=True)
class Highlight:
    """A panel to frame: in every column (``models`` None) or in the columns listed."""

    panel: str
    models: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Question:
    """Asked before the step's answer is shown: pick one of ``choices`` (``answer`` is the
    right one's index) or click a step of the sequence (``steps``: the right ones, from..to);
    ``why`` is shown once answered."""

    ask: str
    choices: tuple[str, ...] = ()
    answer: int | None = None
    steps: tuple[int, int] | None = None
    why: str = ""

    def is_right(self, reply: int) -> bool:
        """Whether ``reply`` (a choice's index, or a clicked step) is right."""
        if self.steps is not None:
            return self.steps[0] <= reply <= self.steps[1]
        return reply == self.answer


@dataclass(frozen=True)
class LessonStep:
    """One step of a lesson (see the module docstring); ``select`` is ``(model, row, unit,
    layer)``."""

    text: str
    step: int | None = None
    play: tuple[int, int] | None = None
    select: tuple[int, str, int, str] | None = None
    clear: bool = False
    highlight: tuple[Highlight, ...] = ()
    tab: str | None = None
    changes: tuple[tuple[int, dict[str, Any]], ...] = ()   # (model, settings) per column
    train: tuple[int, int] | None = None
    question: Question | None = None

    @property
    def cursor(self) -> int | None:
        """Where the step leaves the time cursor (the end of ``play``, or ``step``)."""
        return self.play[1] if self.play is not None else self.step


def narration_parts(text: str) -> list[tuple[str, str | None]]:
    """``text`` cut into ``(words, panel)`` pieces: ``panel`` is None outside a
    ``{panel:words}`` mark."""
    parts: list[tuple[str, str | None]] = []
    at = 0
    for match in _MARK.finditer(text):
        if match.start() > at:
            parts.append((text[at:match.start()], None))
        parts.append((match.group(2), match.group(1)))
        at = match.end()
    if at < len(text):
        parts.append((text[at:], None))
    return parts


def panels_named(text: str) -> list[str]:
    """The panels a narration's marks name, in order."""
    return [panel for _, panel in narration_parts(text) if panel is not None]


# -- reading -----------------------------------------------------------------------------------
class _Step:
    """Reads one ``[[lesson]]`` table; every error names the file and ``lesson[k]``."""

    def __init__(self, source: str, k: int, models, gate_letters: set[str], length: int):
        self.source, self.where = source, f"lesson[{k}]"
        self.models, self.letters, self.length = models, gate_letters, length

    def fail(self, key: str, expected: str, got: Any = ...) -> RnnvizError:
        tail = "" if got is ... else f", got {got!r}"
        name = f"{self.where}.{key}" if key else self.where
        return RnnvizError(f"{self.source}: {name}: expected {expected}{tail}")

    def integer(self, value, key: str, lo: int, hi: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.fail(key, f"an integer in {lo}..{hi}", value)
        return value

    def model(self, value, key: str) -> int:
        return self.integer(value, key, 0, len(self.models) - 1)

    def panel(self, value, key: str) -> str:
        if not isinstance(value, str) or value not in PANELS + tuple(sorted(self.letters)):
            raise self.fail(key, f"a panel ({', '.join(PANELS)} or a gate letter "
                            f"{' '.join(sorted(self.letters))})", value)
        return value

    def text(self, table: dict) -> str:
        text = table.get("text")
        if not isinstance(text, str) or not text.strip():
            raise self.fail("text", "the narration, a non-empty string", text)
        if len(text) > MAX_TEXT:
            raise self.fail("text", f"at most {MAX_TEXT} characters", len(text))
        if text.count("{") != len(_MARK.findall(text)) or text.count("}") != text.count("{"):
            raise self.fail("text", "marks written {panel:words}", text)
        for panel in panels_named(text):
            self.panel(panel, "text")
        return text

    def select(self, value) -> tuple[int, str, int, str]:
        if not isinstance(value, dict):
            raise self.fail("select", 'a table like { model = 0, row = "h", unit = 3 }', value)
        unknown = sorted(set(value) - {"model", "row", "unit", "layer"})
        if unknown:
            raise self.fail(f"select.{unknown[0]}", "model, row, unit or layer (unknown key)")
        k = self.model(value.get("model", 0), "select.model")
        config = self.models[k]
        from rnnviz.core.cells import get_cell

        rows = get_cell(config.cell).state_names
        row = value.get("row", "h")
        if row not in rows:
            raise self.fail("select.row", f"one of {', '.join(rows)} (rows of a "
                            f"{config.title})", row)
        unit = self.integer(value.get("unit"), "select.unit", 0, config.hidden_size - 1)
        layer = value.get("layer", config.units[0])
        if layer not in config.units:
            raise self.fail("select.layer", f"one of {', '.join(config.units)}", layer)
        return k, row, unit, layer

    def highlight(self, value) -> tuple[Highlight, ...]:
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            key = f"highlight[{i}]"
            if isinstance(item, str):
                out.append(Highlight(self.panel(item, key)))
                continue
            if not isinstance(item, dict) or "panel" not in item:
                raise self.fail(key, 'a panel name or { panel = "grad", models = [0, 2] }',
                                item)
            models = item.get("models")
            if models is not None:
                if not isinstance(models, list) or not models:
                    raise self.fail(f"{key}.models", "a list of model indices", models)
                models = tuple(self.model(m, f"{key}.models") for m in models)
            out.append(Highlight(self.panel(item["panel"], f"{key}.panel"), models))
        return tuple(out)

    def changes(self, value) -> tuple[tuple[int, dict[str, Any]], ...]:
        """``change``: one table, or a list of tables for several columns (each once)."""
        tables = value if isinstance(value, list) and value else [value]
        out: list[tuple[int, dict[str, Any]]] = []
        for n, table in enumerate(tables):
            key = "change" if tables is not value else f"change[{n}]"
            if not isinstance(table, dict) or "model" not in table or len(table) < 2:
                raise self.fail(key, "a table like { model = 0, spectral_radius = 2.0 }, or "
                                "a list of such tables", table)
            k = self.model(table["model"], f"{key}.model")
            if any(k == done for done, _ in out):
                raise self.fail(f"{key}.model", "each column changed once in a step", k)
            settings = {name: v for name, v in table.items() if name != "model"}
            for name in settings:
                if name not in CHANGES:
                    raise self.fail(f"{key}.{name}", f"one of {', '.join(CHANGES)}")
            try:  # checked by building the column's new config
                changed_config(self.models[k], settings)
            except (RnnvizError, ValueError, TypeError) as exc:
                raise self.fail(key, f"settings a column takes ({exc})") from None
            out.append((k, settings))
        return tuple(out)

    def question(self, value) -> Question:
        if not isinstance(value, dict):
            raise self.fail("question", "a table with ask, and choices and answer or steps",
                            value)
        unknown = sorted(set(value) - {"ask", "choices", "answer", "steps", "why"})
        if unknown:
            raise self.fail(f"question.{unknown[0]}",
                            "ask, choices, answer, steps or why (unknown key)")
        ask = value.get("ask")
        if not isinstance(ask, str) or not ask.strip():
            raise self.fail("question.ask", "the question, a non-empty string", ask)
        why = value.get("why", "")
        if not isinstance(why, str):
            raise self.fail("question.why", "a string", why)
        if "steps" in value:
            steps = value["steps"]
            if (not isinstance(steps, list) or len(steps) != 2
                    or not all(isinstance(s, int) and not isinstance(s, bool) for s in steps)
                    or not 0 <= steps[0] <= steps[1] < self.length):
                raise self.fail("question.steps",
                                f"[from, to], the right steps, within 0..{self.length - 1}",
                                steps)
            if "choices" in value or "answer" in value:
                raise self.fail("question", "either steps or choices and answer, not both")
            return Question(ask, steps=(steps[0], steps[1]), why=why)
        choices = value.get("choices")
        if (not isinstance(choices, list) or not 2 <= len(choices) <= 6
                or not all(isinstance(c, str) and c.strip() for c in choices)):
            raise self.fail("question.choices", "2 to 6 answers to choose from (strings)",
                            choices)
        if "answer" not in value:
            raise self.fail("question.answer", "the index of the right choice (a question "
                            "without an answer cannot be revealed)")
        answer = self.integer(value["answer"], "question.answer", 0, len(choices) - 1)
        return Question(ask, tuple(choices), answer, why=why)

    def read(self, table) -> LessonStep:
        if not isinstance(table, dict):
            raise self.fail("", "a [[lesson]] table", table)
        allowed = {"text", "step", "play", "select", "clear", "highlight", "tab", "change",
                   "train", "question"}
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(unknown[0], f"one of {', '.join(sorted(allowed))} (unknown key)")
        text = self.text(table)
        step = table.get("step")
        if step is not None:
            step = self.integer(step, "step", 0, self.length - 1)
        play = table.get("play")
        if play is not None:
            if (not isinstance(play, list) or len(play) != 2
                    or not all(isinstance(s, int) and not isinstance(s, bool) for s in play)
                    or not 0 <= play[0] <= play[1] < self.length):
                raise self.fail("play", f"[from, to] within 0..{self.length - 1}", play)
            play = (play[0], play[1])
            if step is not None:
                raise self.fail("play", "either step or play, not both")
        select = self.select(table["select"]) if "select" in table else None
        clear = table.get("clear", False)
        if not isinstance(clear, bool):
            raise self.fail("clear", "true or false", clear)
        if clear and select is not None:
            raise self.fail("clear", "either select or clear, not both")
        highlight = self.highlight(table["highlight"]) if "highlight" in table else ()
        tab = table.get("tab")
        if tab is not None and tab not in TABS:
            raise self.fail("tab", f"one of {', '.join(TABS)}", tab)
        changes = self.changes(table["change"]) if "change" in table else ()
        train = None
        if "train" in table:
            value = table["train"]
            if not isinstance(value, dict) or set(value) != {"model", "steps"}:
                raise self.fail("train", "a table like { model = 0, steps = 100 }", value)
            train = (self.model(value["model"], "train.model"),
                     self.integer(value["steps"], "train.steps", 1, MAX_TRAIN_STEPS))
        question = self.question(table["question"]) if "question" in table else None
        return LessonStep(text, step, play, select, clear, highlight, tab, changes, train,
                          question)


def changed_config(config, settings: dict[str, Any]):
    """``config`` (a ``ModelConfig``) with a lesson step's ``change`` applied: new weights
    drawn from its (new) initialisation, its weights file and label dropped."""
    from dataclasses import replace

    init_keys = {"spectral_radius", "recurrent_gain", "forget_bias", "recurrent"}
    init = replace(config.init, **{k: v for k, v in settings.items() if k in init_keys})
    rest = {k: v for k, v in settings.items() if k not in init_keys}
    return replace(config, init=init, weights=None, label=None, **rest)


def config_changes(before, after) -> dict[str, Any]:
    """The settings a step's ``change`` would need to take ``before`` to ``after`` (both
    ``ModelConfig``): those of ``CHANGES`` that differ."""
    found: dict[str, Any] = {}
    for key in CHANGES:
        old, new = (getattr(c.init if hasattr(c.init, key) else c, key) for c in (before, after))
        if old != new:
            found[key] = new
    return found


def configs_after(configs, steps) -> list:
    """The columns' configs once ``steps`` have made their changes, from ``configs``."""
    configs = list(configs)
    for step in steps:
        for k, settings in step.changes:
            if k < len(configs):
                configs[k] = changed_config(configs[k], settings)
    return configs


def parse_lesson(tables, *, source: str, models, length: int) -> tuple[LessonStep, ...]:
    """Check and read a preset's ``[[lesson]]`` tables (see the module docstring) against its
    ``models`` (``ModelConfig``) and its sequence ``length``."""
    if not isinstance(tables, list) or not 1 <= len(tables) <= MAX_STEPS:
        raise RnnvizError(f"{source}: lesson: expected 1 to {MAX_STEPS} [[lesson]] tables, "
                          f"got {tables!r:.60}")
    from rnnviz.core.cells import get_cell

    letters = {letter for m in models for letter in get_cell(m.cell).gates}
    return tuple(_Step(source, k, models, letters, length).read(table)
                 for k, table in enumerate(tables))


# -- writing -----------------------------------------------------------------------------------
def lesson_to_tables(steps, models) -> list[dict[str, Any]]:
    """The ``[[lesson]]`` tables of ``steps`` (what ``parse_lesson`` reads back)."""
    tables = []
    for s in steps:
        table: dict[str, Any] = {"text": s.text}
        if s.step is not None:
            table["step"] = s.step
        if s.play is not None:
            table["play"] = list(s.play)
        if s.select is not None:
            k, row, unit, layer = s.select
            table["select"] = {"model": k, "row": row, "unit": unit}
            if k >= len(models) or layer != models[k].units[0]:  # a column gone: parse says
                table["select"]["layer"] = layer
        if s.clear:
            table["clear"] = True
        if s.highlight:
            table["highlight"] = [h.panel if h.models is None
                                  else {"panel": h.panel, "models": list(h.models)}
                                  for h in s.highlight]
        if s.tab is not None:
            table["tab"] = s.tab
        if s.changes:
            changes = [{"model": k, **settings} for k, settings in s.changes]
            table["change"] = changes[0] if len(changes) == 1 else changes
        if s.train is not None:
            table["train"] = {"model": s.train[0], "steps": s.train[1]}
        if s.question is not None:
            q = s.question
            question: dict[str, Any] = {"ask": q.ask}
            if q.steps is not None:
                question["steps"] = list(q.steps)
            else:
                question["choices"] = list(q.choices)
                question["answer"] = q.answer
            if q.why:
                question["why"] = q.why
            table["question"] = question
        tables.append(table)
    return tables
