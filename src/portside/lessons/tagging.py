"""A tagging strategy, as code: which tags a release gets, and what each tag promises.

One build, several names. Releasing ``1.2.3`` publishes the same manifest as

* ``1.2.3`` — this exact version (by convention never moved again);
* ``1.2``   — "the newest 1.2.x": moves with every patch release;
* ``1``     — "the newest 1.x.y": moves with every minor and patch release;
* ``sha-1a2b3c4`` — the git commit it was built from, for tracing a running image back to source.

A pre-release (``1.3.0-rc.1``) gets its exact tag only: nobody who follows ``1`` or
``1.3`` asked for a release candidate, and ``latest`` never points at one.

>>> release_tags("1.2.3")
['1.2.3', '1.2', '1']
>>> release_tags("1.3.0-rc.1")
['1.3.0-rc.1']
>>> release_tags("1.2.4", published=["1.2.3", "1.3.0", "1.3", "1"])  # 1 stays on the newer 1.3.0
['1.2.4', '1.2']

Versions are parsed by the ``semver`` library (Semantic Versioning 2.0.0): it keeps
``1.3.0-rc.1`` exactly as written, where PEP 440 tools would rewrite it as ``1.3.0rc1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import semver

from portside.base.proc import run
from portside.engine import transfer
from portside.errors import PortsideError, UsageError

if TYPE_CHECKING:
    from portside.oci.registry_client import RegistryClient

__all__ = [
    "TAG_PATTERN",
    "ReleasePlan",
    "TagKind",
    "classify",
    "commit_tag",
    "docker_retag",
    "git",
    "parse_version",
    "plan_release",
    "release_tags",
    "retag",
    "sort_tags",
    "tag_map",
]

#: what a registry accepts as a tag (OCI distribution spec): 1–128 characters, no leading '.' or '-'
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

TagKind = Literal["exact", "prerelease", "minor", "major", "commit", "latest", "other"]

_MINOR = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)")
_MAJOR = re.compile(r"v?(0|[1-9]\d*)")
_COMMIT = re.compile(r"sha-[0-9a-f]{7,40}")
_VERSION_HINT = "Write MAJOR.MINOR.PATCH (e.g. 1.2.3), optionally with a pre-release part (1.3.0-rc.1)."


# -- versions ---------------------------------------------------------------------------------------------
def parse_version(text: str) -> semver.Version:
    """Parse a semantic version; a leading ``v`` (as in git tags like ``v1.2.3``) is allowed and dropped.

    Build metadata (``1.2.3+build.7``) is refused: ``+`` is not allowed in a registry tag.
    """
    candidate = text[1:] if text[:1] in ("v", "V") else text
    try:
        version = semver.Version.parse(candidate)
    except (ValueError, TypeError):
        raise UsageError(f"{text!r} is not a semantic version.", hint=_VERSION_HINT) from None
    if version.build:
        raise UsageError(f"{text!r} carries build metadata (+{version.build}); a registry tag cannot contain '+'.",
                         hint="Drop the +… part, or put that information in a label or a separate tag.")
    return version


def _stable_version(tag: str) -> semver.Version | None:
    """The version an *exact, stable* release tag names (``1.2.3``), else ``None``."""
    if classify(tag) != "exact":
        return None
    return parse_version(tag)


def classify(tag: str) -> TagKind:
    """What kind of promise a tag makes.

    ``exact`` (1.2.3), ``prerelease`` (1.3.0-rc.1), ``minor`` (1.2: floats over patches),
    ``major`` (1: floats over minors and patches), ``commit`` (sha-1a2b3c4), ``latest``, or
    ``other`` (``stable``, ``main``, ``dev``…: a name that follows no rule).
    """
    if tag == "latest":
        return "latest"
    if _COMMIT.fullmatch(tag):
        return "commit"
    if _MINOR.fullmatch(tag):
        return "minor"
    if _MAJOR.fullmatch(tag):
        return "major"
    candidate = tag[1:] if tag[:1] in ("v", "V") else tag
    if semver.Version.is_valid(candidate):
        version = semver.Version.parse(candidate)
        if version.build:
            return "other"
        return "prerelease" if version.prerelease else "exact"
    return "other"


# -- which tags a release gets ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReleasePlan:
    """The tags one release should carry, and the floating tags it must leave alone (with the reason)."""

    version: str
    tags: list[str]
    left_alone: dict[str, str] = field(default_factory=dict)

    @property
    def prerelease(self) -> bool:
        return classify(self.version) == "prerelease"

    def __str__(self) -> str:
        text = f"{self.version}: {', '.join(self.tags)}"
        if self.left_alone:
            text += " (left alone: " + "; ".join(f"{t} — {why}" for t, why in self.left_alone.items()) + ")"
        return text


def plan_release(version: str, *, published: Iterable[str] = (), latest: bool = False) -> ReleasePlan:
    """Decide the tags of a release, given the tags already ``published`` in the repository.

    The exact tag is always there. A floating tag (``MAJOR.MINOR``, ``MAJOR``, and ``latest``
    when asked for) goes to this release only if no *stable* release already published in
    its line is newer — publishing a hotfix ``1.2.4`` after ``1.3.0`` must not pull ``1``
    back. A pre-release gets its exact tag only.
    """
    parsed = parse_version(version)
    exact = str(parsed)
    minor, major = f"{parsed.major}.{parsed.minor}", f"{parsed.major}"
    if parsed.prerelease:
        why = "a pre-release never moves a floating tag"
        skipped = {minor: why, major: why}
        if latest:
            skipped["latest"] = why
        return ReleasePlan(exact, [exact], skipped)
    stable = [v for v in (_stable_version(t) for t in published) if v is not None]
    lines: list[tuple[str, list[semver.Version]]] = [
        (minor, [v for v in stable if (v.major, v.minor) == (parsed.major, parsed.minor)]),
        (major, [v for v in stable if v.major == parsed.major]),
    ]
    if latest:
        lines.append(("latest", stable))
    tags, skipped = [exact], {}
    for tag, line in lines:
        newest = max(line, default=None)
        if newest is not None and newest > parsed:
            skipped[tag] = f"stays on {newest}, which is newer"
        else:
            tags.append(tag)
    return ReleasePlan(exact, tags, skipped)


def release_tags(version: str, *, published: Iterable[str] = (), latest: bool = False) -> list[str]:
    """The tags a release gets: ``release_tags("1.2.3") == ["1.2.3", "1.2", "1"]`` (see :func:`plan_release`)."""
    return plan_release(version, published=published, latest=latest).tags


# -- the commit tag -------------------------------------------------------------------------------------------
#: a fixed identity and clock for the commits the course makes, so their ids are the same on every run
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Portside Course", "GIT_AUTHOR_EMAIL": "course@portside.invalid",
    "GIT_COMMITTER_NAME": "Portside Course", "GIT_COMMITTER_EMAIL": "course@portside.invalid",
    "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00", "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",  # nobody's signing or hooks settings apply
    "GIT_TERMINAL_PROMPT": "0",
}


def git(repo: str | Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run ``git ARGS`` in ``repo`` and return its output (stripped).

    Commits get a fixed author, committer and date (``env`` can override them), and the
    user's own git configuration is ignored: the same files then give the same commit id
    on every machine and every run.
    """
    result = run(["git", *args], cwd=repo, env={**_GIT_ENV, **(env or {})}, timeout=60,
                 what=f"git {args[0] if args else ''}".strip(),
                 hint="Install git (`apt-get install git`) and check the repository folder exists.")
    return result.stdout.strip()


def commit_tag(repo: str | Path, revision: str = "HEAD", *, length: int = 7) -> str:
    """``sha-<first 7 hex digits of the commit>``: the tag that ties an image to its source."""
    try:
        full = git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except PortsideError:
        full = ""
    if not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", full):
        raise UsageError(f"{revision!r} is not a commit of the git repository at {Path(repo).name}.",
                         hint="Check the folder is a git repository (`git -C DIR log --oneline`) "
                              "and the revision exists.")
    return f"sha-{full[:length]}"


# -- tags in a registry -----------------------------------------------------------------------------------------
_ORDER: dict[TagKind, int] = {"exact": 0, "minor": 1, "major": 2, "prerelease": 3, "commit": 4, "latest": 5,
                              "other": 6}


def _sort_key(tag: str) -> tuple[int, tuple[int, ...], str]:
    kind = classify(tag)
    numbers: tuple[int, ...] = ()
    if kind in ("exact", "prerelease", "minor", "major"):
        numbers = tuple(-int(n) for n in re.findall(r"\d+", tag.split("-")[0]))
    return _ORDER[kind], numbers, tag


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Tags in a reading order: exact versions (newest first), floating, pre-releases, commit, latest, others."""
    return sorted(tags, key=_sort_key)


def tag_map(client: RegistryClient, repository: str, tags: Iterable[str] | None = None) -> dict[str, str]:
    """``{tag: manifest digest}`` for the ``tags`` of ``repository`` (all of them by default), in reading order.

    Tags that do not exist are left out.
    """
    wanted = client.tags(repository) if tags is None else list(tags)
    found: dict[str, str] = {}
    for tag in sort_tags(wanted):
        digest = client.digest(repository, tag)
        if digest is not None:
            found[tag] = digest
    return found


def retag(client: RegistryClient, repository: str, source: str, *targets: str) -> str:
    """Give the manifest ``repository:source`` more tags through the registry API; return its digest.

    This is what ``crane tag`` does: one ``GET`` of the manifest, then one ``PUT`` of
    the very same bytes per new tag. No layer is read or sent, no Docker engine is
    involved, and the digest cannot change (the bytes are identical).
    """
    bad = [t for t in targets if not TAG_PATTERN.fullmatch(t)]
    if bad:
        raise UsageError(f"Not valid tags: {', '.join(map(repr, bad))}.",
                         hint="A tag is 1–128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.")
    manifest = client.manifest(repository, source)
    for target in targets:
        client.put_manifest(repository, target, manifest)
    return manifest.digest


def docker_retag(source: str, target: str, *, pull_first: bool = True) -> str:
    """The engine's way to add a tag: ``docker pull SOURCE``, ``docker tag SOURCE TARGET``, ``docker push TARGET``.

    ``docker tag`` only works on an image the engine holds, so a machine that does not
    have it (a fresh CI runner promoting a release) must pull every layer first; the
    push then asks the registry about each layer before sending the manifest. Returns
    the digest the push reported. ``pull_first=False`` skips the pull (the image is local).
    """
    if pull_first:
        transfer.pull(source, progress=False)
    transfer.tag(source, target)
    return transfer.push(target, progress=False).digest
