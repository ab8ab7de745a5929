"""portside.lessons.quiz: reading a quiz file (and refusing a broken one with a message naming the file and the
problem), and the forms a quiz is shown in: the widget, and the stored text/html and text/plain fallbacks, which
list the questions and keep the answers out of sight.

The course's own quiz files are checked in ``test_quiz_data.py``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from portside.errors import UsageError
from portside.lessons import quiz

GOOD = """\
title: Check yourself
questions:
  - prompt: Which reference names `exactly` one manifest?
    choices:
      - text: app:1.0
        why: A tag can move.
      - text: app@sha256:<digest>
        why: A digest is the hash of the manifest.
        right: true
      - text: app:latest
        why: latest moves with every push that leaves out the tag.
  - prompt: Where does a push of ada/app go?
    choices:
      - text: To Docker Hub
        why: With no host in the name, docker.io.
        right: true
      - text: To the last registry you logged in to
        why: Logins do not pick the destination.
"""


def _write(tmp_path: Path, text: str, name: str = "09-demo.yaml") -> Path:
    folder = tmp_path / quiz.FOLDER
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _refused(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        quiz.read(path)
    message = str(caught.value)
    assert "quizzes/09-demo.yaml" in message  # every refusal names the file
    return message


def test_a_good_file_reads_into_questions(tmp_path: Path) -> None:
    loaded = quiz.load("09", folder=_write(tmp_path, GOOD).parent)
    assert loaded.source == "quizzes/09-demo.yaml"
    assert [q.answer for q in loaded.questions] == [1, 0]
    assert loaded.questions[0].options[1] == "app@sha256:<digest>"
    assert loaded.choose(0, 2) == (False, "latest moves with every push that leaves out the tag.")
    assert loaded.choose(1, 0) == (True, "With no host in the name, docker.io.")
    assert loaded.score == 1


def test_the_plain_text_form_lists_questions_and_choices_not_answers(tmp_path: Path) -> None:
    loaded = quiz.read(_write(tmp_path, GOOD))
    text = loaded.text()
    assert text.splitlines()[:5] == ["Check yourself (2 questions)", "",
                                     "1. Which reference names `exactly` one manifest?",
                                     "   a) app:1.0", "   b) app@sha256:<digest>"]
    for question in loaded.questions:
        assert not any(why in text for why in question.explanations)
    assert text.splitlines()[-1] == ("Answers: run this cell and press Check, or read quizzes/09-demo.yaml "
                                     "beside this notebook.")


def test_the_html_form_folds_the_answers_in_a_closed_details_element(tmp_path: Path) -> None:
    page = quiz.read(_write(tmp_path, GOOD)).html()
    questions, _, answers = page.partition("<details><summary>Answers</summary>")
    assert answers.endswith("</details>") and "<details open" not in page
    assert "A digest is the hash of the manifest." not in questions and "A tag can move." not in page
    assert "<b>1. b) app@sha256:&lt;digest&gt;</b><br>\nA digest is the hash of the manifest." in answers
    # escaped, and `code` set as code, as in the widget
    assert "<b>1. Which reference names <code>exactly</code> one manifest?</b>" in questions
    assert "b) app@sha256:&lt;digest&gt;<br>" in questions


def test_the_stored_bundle_has_the_widget_and_both_fallbacks(tmp_path: Path) -> None:
    loaded = quiz.read(_write(tmp_path, GOOD))
    bundle = loaded._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.jupyter.widget-view+json", "text/plain", "text/html"}
    assert bundle["text/plain"] == loaded.text() and bundle["text/html"] == loaded.html()


def test_the_widget_has_radio_buttons_and_check_buttons(tmp_path: Path) -> None:
    import ipywidgets as w

    loaded = quiz.read(_write(tmp_path, GOOD))
    box = loaded.widget()
    radios = [c for c in box.children if isinstance(c, w.RadioButtons)]
    rows = [c for c in box.children if isinstance(c, w.HBox)]
    assert [r.options for r in radios] == [(("app:1.0", 0), ("app@sha256:<digest>", 1), ("app:latest", 2)),
                                           (("To Docker Hub", 0), ("To the last registry you logged in to", 1))]
    button, result = rows[0].children
    assert button.description == "Check"
    button.click()
    assert result.value == "<em>Pick an answer first.</em>"
    radios[0].value = 1
    button.click()
    assert "Right." in result.value and "A digest is the hash of the manifest." in result.value
    radios[0].value = 0
    button.click()
    assert "Not quite." in result.value and "A tag can move." in result.value


def test_load_finds_the_file_beside_the_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, GOOD)
    monkeypatch.chdir(tmp_path)  # the kernel's working folder is the notebook's
    assert quiz.load("09").questions[1].prompt == "Where does a push of ada/app go?"


def test_a_missing_file_names_where_it_was_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match=r"No quiz file for lesson 42: looked for quizzes/42-\*\.yaml in .*"):
        quiz.load("42")
    with pytest.raises(UsageError, match="does not exist"):
        quiz.read(tmp_path / quiz.FOLDER / "42-gone.yaml")


@pytest.mark.parametrize("lesson", ["3", "lesson 03", 3])
def test_a_lesson_is_two_digits(lesson: object) -> None:
    with pytest.raises(UsageError, match="is not a lesson number"):
        quiz.load(lesson)  # type: ignore[arg-type]


def test_two_files_for_one_lesson_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "09-one.yaml")
    _write(tmp_path, GOOD, "09-two.yaml")
    with pytest.raises(UsageError, match=r"Lesson 09 has 2 quiz files .*: 09-one\.yaml, 09-two\.yaml"):
        quiz.quiz_file("09", folder=tmp_path / quiz.FOLDER)


def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    message = _refused(tmp_path, """\
        questions:
          - prompt: Which one?
            choices:
              - text: `crane tag` does it
                why: x
        """)
    assert "is not valid YAML at line 4, column 15: found character '`' that cannot start any token" in message
    assert "Quote a text" in message


@pytest.mark.parametrize(("text", "problem"), [
    ("- a list\n", "the file must be a mapping with a `questions` list"),
    ("questions: []\n", "`questions` must be a list of at least one question"),
    ("title: Quiz\nquestons: []\n", "unknown key questons (keys: title, questions)"),
    ("title: 3\n" + GOOD.split("\n", 1)[1], "`title` must be a text"),
    ("questions:\n  - prompt: Q?\n", "question 1: it must have exactly `prompt` and `choices` (it has: prompt)"),
    ("questions:\n  - prompt: Q?\n    choices:\n      - text: a\n        why: b\n        right: true\n",
     "question 1: `choices` must be a list of at least two choices"),
    (GOOD.replace("        why: A tag can move.\n", ""),
     "question 1: choice a: it must have `text` and `why`, and may have `right` (it has: text)"),
    (GOOD.replace("why: A tag can move.", "why:"), "question 1: choice a: `why` must be a text, YAML read nothing"),
    (GOOD.replace("text: app:1.0", "text: 1.0"),
     "question 1: choice a: `text` must be a text, YAML read a float (1.0); quote it"),
    (GOOD.replace("        right: true\n      - text: app:latest", "      - text: app:latest"),
     "question 1: exactly one choice must be `right: true` (marked: none)"),
    (GOOD.replace("why: A tag can move.", "why: A tag can move.\n        right: true"),
     "question 1: exactly one choice must be `right: true` (marked: a, b)"),
    (GOOD.replace("right: true\n      - text: app:latest", "right: yes please\n      - text: app:latest"),
     "question 1: choice b: `right` must be true or false, not 'yes please'"),
])
def test_malformed_files_name_the_question_choice_and_field(tmp_path: Path, text: str, problem: str) -> None:
    message = _refused(tmp_path, text)
    assert message.startswith(f"The quiz file quizzes/09-demo.yaml is malformed: {problem}."), message
    assert "exactly one of them `right: true`" in message  # the hint describes the format
