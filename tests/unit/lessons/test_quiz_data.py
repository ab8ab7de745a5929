"""The course's quiz files (notebooks/quizzes/): each parses, each lesson's quiz cell loads its own, and the right
answers are spread over the positions a learner sees (they were option b in 25 of 42 questions before).

How a quiz file is read and shown is in ``test_quiz_forms.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from portside.lessons import quiz

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
FILES = sorted((NOTEBOOKS / quiz.FOLDER).glob("*.yaml"))


def _quiz_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and "quiz" in "".join(c["source"])]


def _positions() -> list[tuple[str, str]]:
    """(lesson, letter of the right answer) for every question of the course, in order."""
    return [(path.name[:2], quiz.letter(q.answer)) for path in FILES for q in quiz.read(path).questions]


def test_every_lesson_has_one_quiz_file_named_after_it() -> None:
    assert len(LESSONS) >= 8
    assert [path.stem for path in FILES] == [path.stem for path in LESSONS]


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda path: path.name[:2])
def test_the_quiz_cell_is_one_line_that_loads_the_lesson_s_file(notebook: Path) -> None:
    """No questions, answers or explanations in the notebook's code: only the line that loads them."""
    lesson = notebook.name[:2]
    assert _quiz_cells(notebook) == [f'portside.quiz.load("{lesson}")']
    assert quiz.quiz_file(lesson, folder=NOTEBOOKS / quiz.FOLDER).stem == notebook.stem


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name[:2])
def test_each_file_parses_into_well_formed_questions(path: Path) -> None:
    """read() refuses a file without a prompt, a why for every choice or exactly one right one; this also holds
    the course's own files to a few more rules of its house style."""
    questions = quiz.read(path).questions
    assert len(questions) >= 3
    for question in questions:
        assert 3 <= len(question.options) <= 4, question.prompt
        assert len(set(question.options)) == len(question.options), question.prompt
        assert 0 <= question.answer < len(question.options)
        assert all(why.strip() for why in question.explanations), question.prompt
        # the widget says "Right." itself; the answer's explanation should not repeat it
        assert not question.explanations[question.answer].lower().startswith("right"), question.prompt


def test_right_answers_are_spread_over_the_positions() -> None:
    positions = _positions()
    counts = Counter(letter for _, letter in positions)
    assert len(positions) >= 40
    assert max(counts.values()) <= 0.4 * len(positions), counts
    # every position is used; d exists only where a question has four choices
    assert min(counts[p] for p in "abc") >= 0.15 * len(positions), counts
    assert counts["d"] >= 0.1 * len(positions), counts


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name[:2])
def test_no_quiz_has_a_run_of_three_in_the_same_position(path: Path) -> None:
    letters = "".join(quiz.letter(q.answer) for q in quiz.read(path).questions)
    assert not any(letters[i] == letters[i + 1] == letters[i + 2] for i in range(len(letters) - 2)), letters
    if len(letters) >= 4:
        assert len(set(letters)) >= 3, letters


def test_all_of_the_above_choices_stay_last() -> None:
    """A choice that sums up the others ("All three") only makes sense after them."""
    for path in FILES:
        for question in quiz.read(path).questions:
            for index, option in enumerate(question.options):
                if option.lower().startswith(("all three", "all of the above", "both of the above")):
                    assert index == len(question.options) - 1, (path.name, question.prompt)
