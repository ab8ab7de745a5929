"""A deploy policy: every image a production deploy names must be pinned.

Pinned means the reference cannot silently start naming other bytes:

* a **digest** (``app@sha256:…``) — the only reference the registry itself guarantees;
* an **exact version** tag (``app:1.2.3``) or a **commit** tag (``app:sha-1a2b3c4``) —
  pinned by team convention: the registry would still let someone push over them.

Rejected: ``latest`` (said or implied by a missing tag), floating version tags
(``app:1.2``, ``app:1``) and free-form names (``app:stable``). With
``require_digest=True`` only digests pass.

>>> print(check_deploy(["shop/web:1.4.2", "shop/api:latest"]))
1 of 2 references allowed
ok      shop/web:1.4.2
        exact version tag: pinned by convention (the registry would accept an overwrite)
REJECT  shop/api:latest
        latest moves with every push that forgets a tag
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portside.errors import InvalidReference, UsageError
from portside.lessons.tagging import classify
from portside.oci.reference import parse

__all__ = ["PolicyReport", "Verdict", "check_deploy", "check_reference", "enforce"]

_REASONS = {
    "exact": "exact version tag: pinned by convention (the registry would accept an overwrite)",
    "prerelease": "exact pre-release tag: pinned by convention (the registry would accept an overwrite)",
    "commit": "commit tag: one build of one commit, pinned by convention",
    "latest": "latest moves with every push that forgets a tag",
    "minor": "floating tag: moves to every new patch release of this minor version",
    "major": "floating tag: moves to every new minor and patch release of this major version",
    "other": "a free-form tag: nothing says what it points at next week",
}


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one reference."""

    reference: str
    allowed: bool
    reason: str


def check_reference(reference: str, *, require_digest: bool = False) -> Verdict:
    """Judge one image reference (see the module docstring for the rules)."""
    try:
        ref = parse(reference)
    except InvalidReference as err:
        reason = err.message.partition("is not a valid image reference: ")[2].rstrip(".") or err.message
        return Verdict(reference, False, f"not a valid reference: {reason}")
    if ref.digest:
        note = " (the tag beside it is ignored)" if ref.tag else ""
        return Verdict(reference, True, f"digest: names exactly one manifest, forever{note}")
    if ref.tag is None:
        return Verdict(reference, False, "no tag means :latest, which moves with every push that forgets a tag")
    kind = classify(ref.tag)
    if require_digest:
        return Verdict(reference, False, "this policy wants a digest: any tag, even an exact one, can be pushed over")
    return Verdict(reference, kind in ("exact", "prerelease", "commit"), _REASONS[kind])


@dataclass(frozen=True)
class PolicyReport:
    """Verdicts for a deploy list; ``passed`` when every reference is allowed."""

    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.allowed for v in self.verdicts)

    @property
    def rejected(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.allowed]

    def __str__(self) -> str:
        allowed = len(self.verdicts) - len(self.rejected)
        lines = [f"{allowed} of {len(self.verdicts)} references allowed"]
        for v in self.verdicts:
            lines += [f"{'ok' if v.allowed else 'REJECT':<7} {v.reference}", f"{'':<8}{v.reason}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def check_deploy(references: Iterable[str], *, require_digest: bool = False) -> PolicyReport:
    """Judge every reference of a deploy list (image names as a manifest or compose file lists them)."""
    return PolicyReport(tuple(check_reference(r, require_digest=require_digest) for r in references))


def enforce(references: Iterable[str], *, require_digest: bool = False) -> PolicyReport:
    """Like :func:`check_deploy`, but a list with any rejected reference raises :class:`~portside.errors.UsageError`.

    A usage error: the deploy list is a value the policy cannot accept, and the message names each
    rejected reference with its reason.
    """
    report = check_deploy(references, require_digest=require_digest)
    if not report.passed:
        lines = "\n".join(f"  {v.reference}: {v.reason}" for v in report.rejected)
        count = len(report.rejected)
        raise UsageError(f"Deploy refused: {count} image reference{'s are' if count > 1 else ' is'} "
                         f"not pinned.\n{lines}",
                         hint="Deploy an exact version (app:1.2.3), a commit tag (app:sha-1a2b3c4) or, "
                              "best, a digest (app@sha256:…).")
    return report
