"""``cosign tree`` output made comparable between runs."""

from __future__ import annotations

__all__ = ["tidy_tree"]

#: the marks cosign prints: the image (and SBOMs), a referrer (cosign 3), signatures, attestations, a layer
_MARKS = ("📦 ", "🔗 ", "🔐 ", "💾 ", "🍒 ")


def tidy_tree(text: str) -> str:
    """``cosign tree`` output without its emoji, with its sections sorted.

    cosign 3 prints one section per OCI referrer (``└── https://sigstore.dev/cosign/sign/v1 artifacts
    via OCI referrer: REPO@sha256:…``, then its bundle layer) and, for cosign 2's layout, one per
    ``.sig``/``.att``/``.sbom`` tag (``└── Signatures for an image tag: …``). It prints them in the
    order the registry or a Go map gives; sorted, the same registry gives the same text.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    for mark in _MARKS:
        lines = [line.replace(mark, "") for line in lines]
    head = [line for line in lines if not line.startswith(("└──", " "))]
    sections: list[list[str]] = []
    for line in lines[len(head):]:
        if line.startswith("└──") or not sections:
            sections.append([line])
        else:
            sections[-1].append(line)
    return "\n".join(head + [line for section in sorted(sections) for line in section])
