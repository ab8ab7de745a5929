"""``cosign tree`` output made comparable between runs."""

from __future__ import annotations

__all__ = ["tidy_tree"]


def tidy_tree(text: str) -> str:
    """``cosign tree`` output without its emoji, with its sections (signatures, attestations, SBOMs) sorted.

    cosign prints the sections in a random order (a Go map); sorted, the same registry gives the same text.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    for mark in ("📦 ", "🔐 ", "🍒 ", "💾 "):
        lines = [line.replace(mark, "") for line in lines]
    head = [line for line in lines if not line.startswith(("└──", " "))]
    sections: list[list[str]] = []
    for line in lines[len(head):]:
        if line.startswith("└──") or not sections:
            sections.append([line])
        else:
            sections[-1].append(line)
    return "\n".join(head + [line for section in sorted(sections) for line in section])
