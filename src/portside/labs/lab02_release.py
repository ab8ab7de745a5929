"""Lab 02 — release 2.4.1.

Scenario: you cut releases of ``shop``, a small app. Its git repository is in the lab's
work folder: the commit tagged ``v2.4.1`` is the release, and ``main`` has moved on to
2.5 work since. The production repository ``prod/shop`` already holds release 2.3.0
(``2.3.0``, ``2.3``, ``2`` and its commit tag).

1. Build the image from the commit tagged ``v2.4.1`` and publish it as ``prod/shop:2.4.1``.
2. Give it every tag a release gets — ``2.4``, ``2`` and ``sha-<commit>`` — on one digest,
   with no ``latest`` anywhere under ``prod/``.
3. Publish ``main`` as the release candidate ``2.5.0-rc.1`` (plus its commit tag) without
   moving any floating tag.

The checker reads the registry: tags, digests, and the ``VERSION`` file inside the
image's top layer (so it knows which commit an image was built from). A build with
``docker build`` on the containerd image store is pushed as an index holding the image and
a provenance attestation; the checker reads the image's own manifest inside it, so a
plain ``docker build`` + ``docker push`` passes as well as the Python way.
"""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

import semver

from portside.engine import transfer
from portside.engine.build import build
from portside.labs.context import LabContext
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import tag_exists, tags_share_digest
from portside.lessons.tagging import classify, commit_tag, git, parse_version, release_tags, retag

__all__ = ["LAB"]

REPO = "prod/shop"
NAMESPACE = "prod/"
SOURCE = "busybox:1.35"
DOCKERFILE = 'FROM busybox:1.35\nCOPY VERSION /app/VERSION\nCMD ["cat", "/app/VERSION"]\n'
VERSION_FILE = "app/VERSION"
#: the repository's history: (commit message, VERSION file, git tag, commit date)
HISTORY = [
    ("shop 2.3.0", "2.3.0", "v2.3.0", "2024-03-04T10:00:00+00:00"),
    ("shop 2.4.1", "2.4.1", "v2.4.1", "2024-04-15T10:00:00+00:00"),
    ("start 2.5 work", "2.5.0-dev", None, "2024-04-22T10:00:00+00:00"),
]


# -- the start state ----------------------------------------------------------------------------------
def _source(ctx: LabContext) -> Path:
    return ctx.workdir / "shop"


def _make_repository(path: Path) -> None:
    """The shop repository, commit by commit (fixed dates: the commit ids are the same on every run)."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    (path / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    for message, version, git_tag, date in HISTORY:
        (path / "VERSION").write_text(version + "\n", encoding="utf-8")
        dates = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        git(path, "add", "Dockerfile", "VERSION")
        git(path, "commit", "--quiet", "--message", message, env=dates)
        if git_tag:
            git(path, "tag", "--annotate", "--message", f"release {version}", git_tag, env=dates)


def _build_commit(ctx: LabContext, revision: str, name: str) -> None:
    """``docker build`` the tree of one commit (from ``git archive``, the work tree is not touched) as ``name``."""
    archive = ctx.workdir / f".context-{revision}.tar"
    git(_source(ctx), "archive", "--format=tar", "--output", str(archive), revision)
    try:
        build(archive.read_bytes(), tag=name, network="none")  # BuildKit; a failure raises BuildError
    finally:
        archive.unlink(missing_ok=True)


def _setup(ctx: LabContext) -> None:
    """A shop repository in the work folder, and release 2.3.0 already in prod/shop."""
    source = _source(ctx)
    shutil.rmtree(source, ignore_errors=True)
    _make_repository(source)
    first = ctx.ref(REPO, "2.3.0")
    _build_commit(ctx, "v2.3.0", first)
    for name in [*release_tags("2.3.0"), commit_tag(source, "v2.3.0")]:
        transfer.tag(first, ctx.ref(REPO, name))
        transfer.push(ctx.ref(REPO, name), progress=False)
    ctx.state.remember(old_digest=ctx.client().digest(REPO, "2.3.0"),
                       release_tag=commit_tag(source, "v2.4.1"), main_tag=commit_tag(source, "main"))


# -- predicates of this lab ------------------------------------------------------------------------------
def _image_manifest(ctx: LabContext, repo: str, tag: str) -> dict[str, Any]:
    """The manifest of the image ``repo:tag`` names; inside an index, the first entry for a real platform.

    ``docker build`` on the containerd image store makes an index of the image and its provenance
    attestation (platform ``unknown/unknown``); the attestation holds no files of the app.
    """
    document: dict[str, Any] = ctx.manifest(repo, tag).json()
    for entry in document.get("manifests") or []:
        if (entry.get("platform") or {}).get("os", "unknown") != "unknown":
            return dict(ctx.manifest(repo, str(entry["digest"])).json())
    return document


def _version_in_image(ctx: LabContext, repo: str, tag: str) -> str | None:
    """The ``app/VERSION`` file of ``repo:tag``, read from its layers in the registry (top layer first)."""
    manifest = _image_manifest(ctx, repo, tag)
    client = ctx.client()
    for layer in reversed(manifest.get("layers") or []):
        data = client.blob(repo, str(layer["digest"]))
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for member in tar.getmembers():
                    if member.name.lstrip("./") == VERSION_FILE and member.isfile():
                        handle = tar.extractfile(member)
                        return handle.read().decode(errors="replace").strip() if handle else None
        except tarfile.TarError:
            continue
    return None


def built_from(repo: str, tag: str, version: str, commit: str) -> Predicate:
    """``repo:tag`` exists and its ``VERSION`` file says ``version`` (the file at ``commit``)."""

    def check(ctx: LabContext) -> Outcome:
        if ctx.digest(repo, tag) is None:
            return Outcome.fail(f"{repo}:{tag} not found")
        found = _version_in_image(ctx, repo, tag)
        if found is None:
            return Outcome.fail(f"{repo}:{tag} has no /{VERSION_FILE}: it is not a build of shop")
        if found != version:
            return Outcome.fail(f"{repo}:{tag} contains VERSION {found}: it was not built from {commit}")
        return Outcome.ok()

    return check


def commit_tags_share_digest(repo: str, tag: str, fact: str) -> Predicate:
    """``repo:tag`` and the commit tag recorded by setup under ``fact`` exist and point at one digest."""

    def check(ctx: LabContext) -> Outcome | bool:
        return tags_share_digest(repo, [tag, str(ctx.facts[fact])])(ctx)

    return check


def release_tags_share_digest(repo: str, version: str, fact: str) -> Predicate:
    """Every tag of release ``version`` (exact, minor, major) and its commit tag point at one digest."""

    def check(ctx: LabContext) -> Outcome | bool:
        wanted = [version, *release_tags(version)[1:], str(ctx.facts[fact])]
        return tags_share_digest(repo, wanted)(ctx)

    return check


def floating_tags_follow_releases(repo: str) -> Predicate:
    """Each floating tag (``MAJOR.MINOR``, ``MAJOR``) points at the newest stable release of its line in ``repo``."""

    def check(ctx: LabContext) -> Outcome:
        tags = ctx.tags(repo)
        stable = {tag: parse_version(tag) for tag in tags if classify(tag) == "exact"}
        problems = []
        for floating in sorted(t for t in tags if classify(t) in ("minor", "major")):
            parts = tuple(int(p) for p in floating.lstrip("vV").split("."))
            line = {t: v for t, v in stable.items() if (v.major, v.minor)[: len(parts)] == parts}
            target = ctx.digest(repo, floating)
            if not line:
                problems.append(f"{repo}:{floating} exists but there is no {floating}.x release")
                continue
            newest = max(line, key=lambda t: line[t])
            if target == ctx.digest(repo, newest):
                continue
            named = sorted((t for t in tags if t != floating and classify(t) in ("exact", "prerelease")
                            and ctx.digest(repo, t) == target), key=_version_key)
            if named and classify(named[0]) == "prerelease":
                what = f"{named[0]}, a pre-release"
            elif named:
                what = named[0]
            else:
                what = "an image no version tag names"
            problems.append(f"{repo}:{floating} points at {what}; the newest {floating}.x release is {newest}")
        return Outcome.fail("; ".join(problems)) if problems else Outcome.ok()

    return check


def _version_key(tag: str) -> semver.Version:
    return parse_version(tag)


def no_latest_under(namespace: str) -> Predicate:
    """No repository whose name starts with ``namespace`` has a ``latest`` tag."""

    def check(ctx: LabContext) -> Outcome:
        offenders = sorted(r for r in ctx.catalog() if r.startswith(namespace) and "latest" in ctx.tags(r))
        if offenders:
            return Outcome.fail("; ".join(f"{r} has a tag latest" for r in offenders))
        return Outcome.ok()

    return check


def tag_still_at(repo: str, tag: str, fact: str) -> Predicate:
    """``repo:tag`` still points at the digest setup recorded under ``fact``."""

    def check(ctx: LabContext) -> Outcome:
        digest = ctx.digest(repo, tag)
        if digest is None:
            return Outcome.fail(f"{repo}:{tag} is gone")
        if digest != ctx.facts[fact]:
            return Outcome.fail(f"{repo}:{tag} was pushed over: it names another image now")
        return Outcome.ok()

    return check


# -- the scripted solution (fast_forward and the tests) --------------------------------------------------------
def _solve_build(ctx: LabContext) -> None:
    _build_commit(ctx, "v2.4.1", ctx.ref(REPO, "2.4.1"))
    transfer.push(ctx.ref(REPO, "2.4.1"), progress=False)


def _solve_tags(ctx: LabContext) -> None:
    names = [*release_tags("2.4.1", published=ctx.client().tags(REPO))[1:], str(ctx.facts["release_tag"])]
    retag(ctx.client(), REPO, "2.4.1", *names)


def _solve_candidate(ctx: LabContext) -> None:
    _build_commit(ctx, "main", ctx.ref(REPO, "2.5.0-rc.1"))
    transfer.push(ctx.ref(REPO, "2.5.0-rc.1"), progress=False)
    names = [*release_tags("2.5.0-rc.1", published=ctx.client().tags(REPO))[1:], str(ctx.facts["main_tag"])]
    retag(ctx.client(), REPO, "2.5.0-rc.1", *names)


# -- requirements ------------------------------------------------------------------------------------------------
PUBLISHED = Requirement(
    f"{REPO}:2.4.1 is in the registry",
    tag_exists(REPO, "2.4.1"),
    hints=[
        "A push goes where the image's name says: lab address, then prod/shop, then the tag 2.4.1.",
        f"lab.ref('{REPO}', '2.4.1') builds the full name; build the image under that name (or tag it so) "
        "and push it.",
        "Idea: !docker build -t {lab.ref('prod/shop', '2.4.1')} {repo} and !docker push with that name "
        "(or build(repo, tag=lab.ref('prod/shop', '2.4.1')) and push(that name) in Python).",
    ],
)

FROM_RELEASE_COMMIT = Requirement(
    f"{REPO}:2.4.1 was built from the commit tagged v2.4.1",
    built_from(REPO, "2.4.1", "2.4.1", "the commit tagged v2.4.1"),
    hints=[
        "The work folder is on main, which has moved past the release. A release is built from its own commit, "
        "not from whatever is checked out.",
        "git log --oneline --decorate shows where v2.4.1 is; check that commit out before you build "
        "(git(repo, 'checkout', '--quiet', 'v2.4.1')).",
        "Idea: check out v2.4.1, build again under prod/shop:2.4.1, push again: the tag moves to the right "
        "build (it is not released yet, so that is fine).",
    ],
)

ALL_TAGS = Requirement(
    f"{REPO}:2.4.1, :2.4, :2 and the commit tag of v2.4.1 are one image",
    release_tags_share_digest(REPO, "2.4.1", "release_tag"),
    hints=[
        "A release carries its exact tag, the floating tags of its minor and major line, and the tag of the "
        "commit it came from — all on the same manifest digest.",
        "release_tags('2.4.1', published=lab.client().tags('prod/shop')) lists the version tags; "
        "commit_tag(repo, 'v2.4.1') gives the commit tag.",
        "Idea: for each of those names, tag the 2.4.1 image with lab.ref('prod/shop', name) and push it "
        "(or retag through the API: portside.lessons.tagging.retag).",
    ],
)

FLOATING_FOLLOW = Requirement(
    f"every floating tag of {REPO} points at the newest stable release of its line",
    floating_tags_follow_releases(REPO),
    hints=[
        "A floating tag (2.4, 2) promises the newest *release* of its line. A pre-release is no release: "
        "it must never move 2, 2.5 or latest.",
        "Compare lab.client().digest('prod/shop', '2') with the digests of 2.4.1 and of the candidate: "
        "2 must name 2.4.1.",
        "Idea: put the floating tag back on the release with portside.lessons.tagging.retag(lab.client(), "
        "'prod/shop', '2.4.1', '2'), and publish a pre-release under its exact tag (and commit tag) only.",
    ],
)

NO_LATEST = Requirement(
    f"no repository under {NAMESPACE} has a latest tag",
    no_latest_under(NAMESPACE),
    hints=[
        "Production deploys must name a version or a digest; a latest tag in prod/ invites someone to "
        "deploy it. A name pushed without a tag is pushed as latest.",
        "registry:2 cannot delete a tag alone: deleting the manifest by digest would take every tag on it "
        "(2.4.1 too).",
        "Idea: lab.reset() and lab.fast_forward(N) to start over cleanly, and always push names with an "
        "explicit tag.",
    ],
)

OLD_RELEASE_KEPT = Requirement(
    f"{REPO}:2.3.0 still names the 2.3.0 release",
    tag_still_at(REPO, "2.3.0", "old_digest"),
    hints=[
        "Exact version tags are never moved: someone may have deployed 2.3.0 and expects those bytes.",
        "Only the floating tags (2.4, 2) and the new exact tags should have been pushed.",
        "Idea: start over with lab.reset() and lab.fast_forward(2), then push only the new release's tags.",
    ],
)

CANDIDATE_TAGS = Requirement(
    f"{REPO}:2.5.0-rc.1 and the commit tag of main are one image",
    commit_tags_share_digest(REPO, "2.5.0-rc.1", "main_tag"),
    hints=[
        "Every build gets its commit tag, a candidate too: sha- plus the first 7 hex digits of main's commit.",
        "commit_tag(repo, 'main') gives it; it must point at the same digest as 2.5.0-rc.1.",
        "Idea: build main as prod/shop:2.5.0-rc.1, push it, then tag and push the commit tag as well.",
    ],
)

CANDIDATE_FROM_MAIN = Requirement(
    f"{REPO}:2.5.0-rc.1 was built from main",
    built_from(REPO, "2.5.0-rc.1", "2.5.0-dev", "main"),
    hints=[
        "The candidate is the current state of main, not the 2.4.1 release.",
        "If you checked out v2.4.1 for task 1, the work folder is still there: git(repo, 'checkout', "
        "'--quiet', 'main').",
        "Idea: check out main, build it as prod/shop:2.5.0-rc.1 and push that name.",
    ],
)

LAB = Lab(
    slug="02-release",
    title="Release 2.4.1",
    images=[SOURCE],
    users=(),
    setup=_setup,
    tasks=[
        Task(1, "Build 2.4.1 from its commit and publish it", [PUBLISHED, FROM_RELEASE_COMMIT], _solve_build),
        Task(2, "Every tag of the release on one digest", [ALL_TAGS, FLOATING_FOLLOW, NO_LATEST, OLD_RELEASE_KEPT],
             _solve_tags),
        Task(3, "A release candidate that moves nothing",
             [CANDIDATE_TAGS, CANDIDATE_FROM_MAIN, FLOATING_FOLLOW, NO_LATEST], _solve_candidate),
    ],
)
