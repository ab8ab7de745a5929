"""A run drawn as a chain of steps: one box per step, coloured by its outcome, with a short label under its name.

Plain SVG text (no plotting library), like the scanner's severity chart; the same chain as one line of
text for a terminal (:func:`chain_text`): ``build ✔ → tag ✔ → scan ✘ → push · → …``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portside.pipeline.result import RunResult

__all__ = ["COLOURS", "chain_svg", "chain_text"]

#: fill and text colour per outcome, readable on white
COLOURS = {
    "passed": ("#2f9e44", "white"),
    "refused": ("#c92a2a", "white"),
    "error": ("#e8590c", "white"),
    "not run": ("#e9ecef", "#495057"),
}
_MARK = {"passed": "✔", "refused": "✘", "error": "!", "not run": "·"}
_LABEL = {"passed": "passed", "refused": "refused", "error": "could not run", "not run": "not run"}


def _label(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chain_svg(run: RunResult, *, box: int = 112, gap: int = 22) -> str:
    """The SVG document: the run's title and verdict, then the steps left to right with arrows between."""
    steps = run.steps
    width = max(len(steps), 1) * (box + gap) - gap + 20
    height = 118
    top = 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12" role="img">',
        f"<title>{escape(run.title)}: {escape(run.verdict)}</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="13" font-weight="bold">{escape(run.title)} — {escape(run.verdict)}</text>',
    ]
    for number, step in enumerate(steps):
        x = 10 + number * (box + gap)
        fill, ink = COLOURS[step.outcome]
        parts.append(f'<rect x="{x}" y="{top}" width="{box}" height="64" rx="8" fill="{fill}"/>')
        parts.append(f'<text x="{x + box / 2:g}" y="{top + 24}" text-anchor="middle" fill="{ink}" font-size="14" '
                     f'font-weight="bold">{_MARK[step.outcome]} {escape(step.name)}</text>')
        label = _label(step.summary or _LABEL[step.outcome])
        parts.append(f'<text x="{x + box / 2:g}" y="{top + 46}" text-anchor="middle" fill="{ink}">'
                     f"{escape(label)}</text>")
        if number < len(steps) - 1:
            ax = x + box + 3
            parts.append(f'<path d="M{ax} {top + 32} h{gap - 8} m-5 -5 l5 5 l-5 5" stroke="#495057" '
                         'stroke-width="2" fill="none"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def chain_text(run: RunResult) -> str:
    """``build ✔ → tag ✔ → scan ✘ (3 CRITICAL) → push · → …``: the chain on one line."""
    pieces = []
    for step in run.steps:
        piece = f"{step.name} {_MARK[step.outcome]}"
        if step.outcome in ("refused", "error") and step.summary:
            piece += f" ({step.summary})"
        pieces.append(piece)
    return " → ".join(pieces)
