"""The ``FROM`` lines of a Dockerfile: which base images a build starts from, and whether each is pinned by digest.

A tag is a pointer its owner can move; ``FROM name:tag@sha256:…`` names exactly one image, so the same
Dockerfile builds on the same base tomorrow (lesson 06). The build step reads the Dockerfile before it
builds and refuses (or warns about) every stage that starts from an image named by tag only. A stage
that starts from an earlier stage (``FROM build``) or from ``scratch`` pins nothing and needs nothing.

Only what decides the answer is parsed, the way BuildKit reads it: line continuations (``\\``, or the
character of an ``# escape=`` directive), comments, ``--platform=…`` flags, ``AS name``, and the
global ``ARG``\\ s before the first ``FROM`` (with their defaults, or the build's ``build_args``)::

    >>> [str(b) for b in base_images("ARG PY=3.11\\nFROM python:${PY}-slim AS build\\nFROM build\\n")]
    ['python:3.11-slim (stage build): by tag only']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BaseImage", "base_images", "stage_count"]

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)(?::?-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))")


@dataclass(frozen=True)
class BaseImage:
    """One ``FROM`` that names an image (not a stage, not ``scratch``): as written after ARG substitution."""

    image: str
    stage: str | None
    line: int

    @property
    def pinned(self) -> bool:
        """True when the reference ends in ``@sha256:<64 hex>``."""
        return bool(_DIGEST.search(self.image))

    @property
    def digest(self) -> str | None:
        found = _DIGEST.search(self.image)
        return found.group(0)[1:] if found else None

    def __str__(self) -> str:
        stage = f" (stage {self.stage})" if self.stage else ""
        return f"{self.image}{stage}: " + ("pinned by digest" if self.pinned else "by tag only")


def _instructions(text: str) -> list[tuple[int, str]]:
    """``(first line number, instruction text)`` with continuations joined and comments dropped."""
    escape = "\\"
    lines = text.splitlines()
    for line in lines:  # parser directives come first, before any instruction or other comment
        directive = re.fullmatch(r"\s*#\s*escape\s*=\s*(\S)\s*", line, re.IGNORECASE)
        if directive:
            escape = directive.group(1)
            break
        if not re.fullmatch(r"\s*#\s*\w+\s*=.*", line):
            break
    joined: list[tuple[int, str]] = []
    current, start = "", 0
    for number, line in enumerate(lines, start=1):
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):  # comments inside a continued instruction are dropped
            continue
        stripped = line.rstrip()
        if not current:
            start = number
        if stripped.endswith(escape):
            current += stripped[:-1] + " "
            continue
        joined.append((start, current + stripped))
        current = ""
    if current:
        joined.append((start, current))
    return joined


def _substitute(value: str, variables: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        if variables.get(name):
            return variables[name]
        return match["default"] or ""

    return _VARIABLE.sub(replace, value)


def base_images(dockerfile: str, build_args: Mapping[str, str] | None = None) -> list[BaseImage]:
    """Every ``FROM`` of ``dockerfile`` (its text) that names an image, in order."""
    variables: dict[str, str] = {}
    stages: set[str] = set()
    found: list[BaseImage] = []
    seen_from = False
    for line, instruction in _instructions(dockerfile):
        keyword, _, rest = instruction.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not seen_from:
            for part in rest.split():
                name, eq, default = part.partition("=")
                variables[name] = (build_args or {}).get(name, default.strip("\"'") if eq else "")
        if keyword != "FROM":
            continue
        seen_from = True
        words = [w for w in rest.split() if not w.startswith("--")]
        if not words:
            continue
        image = _substitute(words[0], variables)
        stage = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
        if image.lower() not in stages and image.lower() != "scratch":
            found.append(BaseImage(image, stage, line))
        if stage:
            stages.add(stage)
    return found


def stage_count(dockerfile: str) -> int:
    """How many stages (``FROM`` lines) the Dockerfile has."""
    return sum(1 for _, instruction in _instructions(dockerfile) if instruction.split(" ", 1)[0].upper() == "FROM")
