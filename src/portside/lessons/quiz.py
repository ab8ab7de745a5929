"""Self-check quizzes at the end of each lesson.

A lesson's questions live in a data file beside it, ``notebooks/quizzes/NN-name.yaml``, and its quiz cell is one
line: ``portside.quiz.load("NN")``. Each question has a prompt and its choices, each choice a ``why`` (shown after
*Check*), and exactly one marked ``right: true``; :func:`read` checks all of it and names the file, question and
field when something is wrong.

With a running kernel a quiz is a set of ipywidgets: pick an answer, press *Check*, read why it is right or wrong.
The output stored in the notebook carries two fallbacks for where widgets do not render, and neither puts the
answers next to the questions:

* ``text/html``, what GitHub, nbviewer and JupyterLab show for a notebook it does not trust (every lesson a learner
  has not run on their own machine): the questions and choices, then the answers with their explanations inside a
  collapsed ``<details>`` element;
* ``text/plain`` (nbval, a terminal): the questions and choices, and where the answers are.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portside.base.paths import project_root
from portside.errors import UsageError

__all__ = ["FOLDER", "Question", "Quiz", "letter", "load", "quiz_file", "read"]

#: the folder beside the lesson notebooks that holds their quiz files
FOLDER = "quizzes"

_LESSON = re.compile(r"\d\d")
_CODE = re.compile(r"`([^`]+)`")
_FORMAT_HINT = ("Each question needs a `prompt` and a list of `choices`; each choice a `text`, a `why`, and exactly "
                "one of them `right: true` (see the comment at the top of any quiz file).")


def letter(index: int) -> str:
    """The letter a learner sees for option ``index``: 0 → ``a``."""
    return chr(ord("a") + index)


def _html(text: str) -> str:
    """``text`` as HTML: escaped, with `code spans` set in ``<code>``."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text, quote=False))


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; ``explanations[i]`` says why option ``i`` is right or wrong."""

    prompt: str
    options: Sequence[str]
    answer: int
    explanations: Sequence[str]

    def __post_init__(self) -> None:
        if len(self.options) != len(self.explanations):
            raise ValueError(f"{self.prompt!r}: every option needs an explanation")
        if not 0 <= self.answer < len(self.options):
            raise ValueError(f"{self.prompt!r}: answer {self.answer} is not one of the options")

    def feedback(self, choice: int) -> tuple[bool, str]:
        """Whether ``choice`` is right, and the explanation for it."""
        return choice == self.answer, self.explanations[choice]


@dataclass
class Quiz:
    """A list of questions, shown as widgets in Jupyter and as text elsewhere.

    ``source`` is the quiz file's name as the learner finds it beside the notebook (``quizzes/00-setup.yaml``),
    named by the text form as the place of the answers.
    """

    questions: Sequence[Question]
    title: str = "Check yourself"
    source: str | None = None
    choices: dict[int, int] = field(default_factory=dict)

    def choose(self, question: int, option: int) -> tuple[bool, str]:
        """Record an answer (what the widget's *Check* button does) and return its feedback."""
        self.choices[question] = option
        return self.questions[question].feedback(option)

    @property
    def score(self) -> int:
        """How many recorded answers are right."""
        return sum(self.questions[q].answer == c for q, c in self.choices.items())

    @property
    def heading(self) -> str:
        return f"{self.title} ({len(self.questions)} questions)"

    def text(self) -> str:
        """The plain-text form: the questions and their options, then where the answers are (not the answers)."""
        lines = [self.heading]
        for number, question in enumerate(self.questions, 1):
            lines.append(f"\n{number}. {question.prompt}")
            lines += [f"   {letter(i)}) {option}" for i, option in enumerate(question.options)]
        where = f", or read {self.source} beside this notebook" if self.source else ""
        lines.append(f"\nAnswers: run this cell and press Check{where}.")
        return "\n".join(lines)

    def answers(self) -> str:
        """The right answers with their explanations, as text (for a terminal; the notebook folds them away)."""
        return "\n".join(f"{number}. {letter(q.answer)}) {q.options[q.answer]}\n   {q.explanations[q.answer]}"
                         for number, q in enumerate(self.questions, 1))

    def html(self) -> str:
        """The HTML form: the questions and options, then the answers inside a collapsed ``<details>`` element."""
        parts = [f"<h3>{_html(self.heading)}</h3>"]
        for number, question in enumerate(self.questions, 1):
            options = "<br>\n".join(f"{letter(i)}) {_html(option)}" for i, option in enumerate(question.options))
            parts.append(f"<p><b>{number}. {_html(question.prompt)}</b><br>\n{options}</p>")
        answers = "\n".join(
            f"<p><b>{number}. {letter(q.answer)}) {_html(q.options[q.answer])}</b><br>\n"
            f"{_html(q.explanations[q.answer])}</p>" for number, q in enumerate(self.questions, 1))
        parts.append(f"<details><summary>Answers</summary>\n{answers}\n</details>")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return self.text()

    def widget(self) -> Any:
        """The ipywidgets form of the quiz."""
        import ipywidgets as w

        boxes = [w.HTML(f"<h3>{_html(self.title)}</h3>")]
        for index, question in enumerate(self.questions):
            radio = w.RadioButtons(options=[(o, i) for i, o in enumerate(question.options)], value=None,
                                   layout=w.Layout(width="max-content"))
            button = w.Button(description="Check", button_style="primary")
            result = w.HTML()

            def on_click(_: Any, index: int = index, radio: Any = radio, result: Any = result) -> None:
                if radio.value is None:
                    result.value = "<em>Pick an answer first.</em>"
                    return
                right, why = self.choose(index, radio.value)
                colour, verdict = ("#1a7f37", "Right") if right else ("#cf222e", "Not quite")
                result.value = f"<span style='color:{colour}'><b>{verdict}.</b></span> {_html(why)}"

            button.on_click(on_click)
            boxes += [w.HTML(f"<b>{index + 1}. {_html(question.prompt)}</b>"), radio, w.HBox([button, result])]
        return w.VBox(boxes)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            bundle: dict[str, Any] = self.widget()._repr_mimebundle_()
        except ImportError:  # no ipywidgets: the fallbacks only
            bundle = {}
        bundle["text/plain"] = self.text()
        bundle["text/html"] = self.html()
        return bundle


def _folders() -> list[Path]:
    """Where quiz files are looked for: beside the notebook (the kernel's working folder), then the checkout's."""
    folders = [Path.cwd() / FOLDER]
    root = project_root()
    if root is not None and (root / "notebooks" / FOLDER).resolve() != folders[0].resolve():
        folders.append(root / "notebooks" / FOLDER)
    return folders


def quiz_file(lesson: str, *, folder: Path | None = None) -> Path:
    """The quiz file of lesson ``lesson`` (``"00"``…): ``quizzes/NN-*.yaml`` in ``folder`` or the usual places."""
    if not isinstance(lesson, str) or not _LESSON.fullmatch(lesson):
        raise UsageError(f"{lesson!r} is not a lesson number.",
                         hint='Give the lesson\'s two digits as a string, e.g. portside.quiz.load("03").')
    folders = [folder] if folder is not None else _folders()
    for place in folders:
        found = sorted(place.glob(f"{lesson}-*.yaml"))
        if len(found) > 1:
            raise UsageError(f"Lesson {lesson} has {len(found)} quiz files in {place}: "
                             + ", ".join(path.name for path in found) + ".",
                             hint="Keep one file per lesson, named after its notebook (00-setup.yaml).")
        if found:
            return found[0]
    raise UsageError(f"No quiz file for lesson {lesson}: looked for {FOLDER}/{lesson}-*.yaml in "
                     + " and ".join(str(place.parent) for place in folders) + ".",
                     hint=f"Run the lesson from its own folder (notebooks/), where {FOLDER}/ holds the quiz files, "
                          "or restore the file from the course's repository.")


def load(lesson: str, *, folder: Path | None = None) -> Quiz:
    """Lesson ``lesson``'s quiz (``"00"``…), read from its file beside the notebooks: a lesson's quiz cell."""
    return read(quiz_file(lesson, folder=folder))


def read(path: Path) -> Quiz:
    """The quiz in the YAML file ``path``; a missing or malformed file raises :class:`UsageError` naming the problem."""
    import yaml

    name = f"{FOLDER}/{path.name}" if path.parent.name == FOLDER else str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"The quiz file {name} does not exist.",
                         hint="Restore it from the course's repository.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"The quiz file {name} cannot be read: {err}.") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UsageError(f"The quiz file {name} is not valid YAML{where}: {problem}.",
                         hint="Quote a text that contains ': ' or ' #', or starts with a backtick, a quote or "
                              "a '-'.") from None
    questions = _questions(data, name)  # checks first that the file is a mapping
    return Quiz(questions, title=_title(data, name), source=name)


def _fail(name: str, where: str, problem: str) -> UsageError:
    return UsageError(f"The quiz file {name} is malformed: {where}{problem}.", hint=_FORMAT_HINT)


def _title(data: Any, name: str) -> str:
    title = data.get("title", "Check yourself")
    if not isinstance(title, str) or not title.strip():
        raise _fail(name, "", "`title` must be a text")
    return title


def _text(value: Any, name: str, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        read_as = "nothing" if value is None else f"a {type(value).__name__} ({value!r}); quote it"
        raise _fail(name, where, f"`{key}` must be a text, YAML read {read_as}")
    return value.strip()


def _questions(data: Any, name: str) -> list[Question]:
    if not isinstance(data, dict):
        raise _fail(name, "", "the file must be a mapping with a `questions` list")
    unknown = set(data) - {"title", "questions"}
    if unknown:
        raise _fail(name, "", f"unknown key {', '.join(sorted(map(str, unknown)))} (keys: title, questions)")
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        raise _fail(name, "", "`questions` must be a list of at least one question")
    questions = []
    for number, item in enumerate(items, 1):
        where = f"question {number}: "
        if not isinstance(item, dict) or set(item) != {"prompt", "choices"}:
            keys = ", ".join(sorted(map(str, item))) if isinstance(item, dict) else type(item).__name__
            raise _fail(name, where, f"it must have exactly `prompt` and `choices` (it has: {keys})")
        prompt = _text(item["prompt"], name, where, "prompt")
        choices = item["choices"]
        if not isinstance(choices, list) or len(choices) < 2:
            raise _fail(name, where, "`choices` must be a list of at least two choices")
        options, explanations, right = [], [], []
        for index, choice in enumerate(choices):
            here = f"{where}choice {letter(index)}: "
            if not isinstance(choice, dict) or not {"text", "why"} <= set(choice) <= {"text", "why", "right"}:
                keys = ", ".join(sorted(map(str, choice))) if isinstance(choice, dict) else type(choice).__name__
                raise _fail(name, here, f"it must have `text` and `why`, and may have `right` (it has: {keys})")
            options.append(_text(choice["text"], name, here, "text"))
            explanations.append(_text(choice["why"], name, here, "why"))
            mark = choice.get("right", False)
            if not isinstance(mark, bool):
                raise _fail(name, here, f"`right` must be true or false, not {mark!r}")
            if mark:
                right.append(index)
        if len(right) != 1:
            marked = ", ".join(letter(i) for i in right) or "none"
            raise _fail(name, where, f"exactly one choice must be `right: true` (marked: {marked})")
        questions.append(Question(prompt, options, right[0], explanations))
    return questions
