"""Self-check quizzes at the end of each lesson.

In JupyterLab a quiz is a set of ipywidgets: pick an answer, press *Check*, read why
it is right or wrong. Where widgets are not rendered (nbval, a terminal, GitHub's
notebook view) the same quiz shows as plain text, with the answers and their
explanations folded at the end so a reader can still check themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Question", "Quiz"]


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
    """A list of questions, shown as widgets in Jupyter and as text elsewhere."""

    questions: Sequence[Question]
    title: str = "Check yourself"
    choices: dict[int, int] = field(default_factory=dict)

    def choose(self, question: int, option: int) -> tuple[bool, str]:
        """Record an answer (what the widget's *Check* button does) and return its feedback."""
        self.choices[question] = option
        return self.questions[question].feedback(option)

    @property
    def score(self) -> int:
        """How many recorded answers are right."""
        return sum(self.questions[q].answer == c for q, c in self.choices.items())

    def text(self) -> str:
        """The plain-text form: questions and options, then the answers with their explanations."""
        lines = [f"{self.title} ({len(self.questions)} questions)"]
        for number, question in enumerate(self.questions, 1):
            lines.append(f"\n{number}. {question.prompt}")
            lines += [f"   {chr(97 + i)}) {option}" for i, option in enumerate(question.options)]
        lines.append("\nAnswers:")
        for number, question in enumerate(self.questions, 1):
            lines.append(f"{number}. {chr(97 + question.answer)}) {question.explanations[question.answer]}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def widget(self) -> Any:
        """The ipywidgets form of the quiz."""
        import ipywidgets as w

        boxes = [w.HTML(f"<h3>{self.title}</h3>")]
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
                result.value = f"<span style='color:{colour}'><b>{verdict}.</b></span> {why}"

            button.on_click(on_click)
            boxes += [w.HTML(f"<b>{index + 1}. {question.prompt}</b>"), radio, w.HBox([button, result])]
        return w.VBox(boxes)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            bundle: dict[str, Any] = self.widget()._repr_mimebundle_()
        except ImportError:  # no ipywidgets: text only
            bundle = {}
        bundle["text/plain"] = self.text()
        return bundle
