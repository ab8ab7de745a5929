"""Lab 02-release, proven both ways against the real engine and registry.

The scripted solution (Python: BuildKit through ``portside.engine.build``, tags through the
registry API) passes every requirement, and so does the CLI way a learner types
(``git checkout``, ``docker build``, ``docker tag``, ``docker push``: on the containerd image
store that build is pushed as an index with a provenance attestation). Known-bad attempts
fail the intended requirement with its first hint, and the next hint when checked again:
a build of the wrong commit, a release missing ``2.4``, a ``latest`` in ``prod/``, an exact
tag pushed over, and a pre-release that moved ``2``.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

from pathlib import Path

from labtools import fails_with_hints

from portside.base.paths import isolate_docker_config
from portside.base.proc import run
from portside.engine import provided
from portside.engine.transfer import push, tag
from portside.labs import LabContext, LabSession
from portside.labs import lab02_release as lab02
from portside.lessons.tagging import commit_tag, git

SLUG = lab02.LAB.slug
REPO = lab02.REPO


def _repo(lab: LabSession) -> Path:
    return Path(lab.workdir) / "shop"


def _docker(*args: str) -> str:
    """A ``!docker …`` line of the notebook: the course's docker CLI (with buildx) and client config."""
    isolate_docker_config()
    provided.link_buildx()
    return run([provided.docker_cli(), *args], timeout=180).stdout


def _build(lab: LabSession, revision: str, tag_name: str) -> str:
    """What a learner types: git checkout REVISION, docker build -t prod/shop:TAG ., docker push; returns the digest."""
    git(_repo(lab), "checkout", "--quiet", revision)
    name = lab.ref(REPO, tag_name)
    _docker("build", "--quiet", "-t", name, str(_repo(lab)))
    _docker("push", "--quiet", name)
    digest = lab.client().digest(REPO, tag_name)
    assert digest is not None
    return digest


def _push_as(lab: LabSession, source_tag: str, *names: str) -> None:
    for name in names:
        tag(lab.ref(REPO, source_tag), lab.ref(REPO, name))
        push(lab.ref(REPO, name), progress=False)


# -- the good solution ---------------------------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """A shop repository on main with v2.3.0 and v2.4.1 tagged; release 2.3.0 already in prod/shop."""
    repo = _repo(lab)
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "tag", "--list").split() == ["v2.3.0", "v2.4.1"]
    client = lab.client()
    assert sorted(client.tags(REPO)) == sorted(["2.3.0", "2.3", "2", commit_tag(repo, "v2.3.0")])
    assert len({client.digest(REPO, t) for t in client.tags(REPO)}) == 1
    facts = lab.context.facts
    assert facts["release_tag"] == commit_tag(repo, "v2.4.1") and facts["main_tag"] == commit_tag(repo, "main")
    assert not lab.check().passed


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(len(lab02.LAB.tasks) + 1)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)


def test_the_cli_way_passes_too(lab: LabSession) -> None:
    """git checkout + docker build + docker tag + docker push, every step with the real CLI."""
    _build(lab, "v2.4.1", "2.4.1")
    assert lab.check(1).passed, repr(lab.check(1))
    for name in ("2.4", "2", commit_tag(_repo(lab), "v2.4.1")):
        _docker("tag", lab.ref(REPO, "2.4.1"), lab.ref(REPO, name))
        _docker("push", "--quiet", lab.ref(REPO, name))
    assert lab.check(2).passed, repr(lab.check(2))
    _build(lab, "main", "2.5.0-rc.1")
    _docker("tag", lab.ref(REPO, "2.5.0-rc.1"), lab.ref(REPO, commit_tag(_repo(lab), "main")))
    _docker("push", "--quiet", lab.ref(REPO, commit_tag(_repo(lab), "main")))
    assert lab.check(3).passed, repr(lab.check(3))
    assert lab.check().passed


# -- known-bad attempts ----------------------------------------------------------------------------------------
def test_task1_built_from_main(lab: LabSession) -> None:
    """The checked-out main built as 2.4.1: the tag exists, but the image holds VERSION 2.5.0-dev."""
    _build(lab, "main", "2.4.1")
    assert lab.check(1).requirement(lab02.PUBLISHED.name).passed
    lab.progress.forget(SLUG)
    fails_with_hints(lab, lab02.FROM_RELEASE_COMMIT, 1,
                      "prod/shop:2.4.1 contains VERSION 2.5.0-dev: it was not built from the commit tagged v2.4.1")


def test_task2_missing_minor_tag(lab: LabSession) -> None:
    """2.4.1, 2 and the commit tag pushed, 2.4 forgotten."""
    lab.fast_forward(2)
    release = commit_tag(_repo(lab), "v2.4.1")
    _push_as(lab, "2.4.1", "2", release)
    report = lab.check(2)
    assert report.requirement(lab02.FLOATING_FOLLOW.name).passed
    assert report.requirement(lab02.NO_LATEST.name).passed
    lab.progress.forget(SLUG)
    old = commit_tag(_repo(lab), "v2.3.0")
    listed = ", ".join(sorted(["2", "2.3", "2.3.0", "2.4.1", old, release]))
    fails_with_hints(lab, lab02.ALL_TAGS, 2, f"prod/shop lacks 2.4 — prod/shop has tags {listed}")


def test_task2_latest_in_prod(lab: LabSession) -> None:
    """The release is complete, but it was also pushed as latest (and so was another prod repository)."""
    lab.fast_forward(3)
    _push_as(lab, "2.4.1", "latest")
    tag(lab.ref(REPO, "2.4.1"), lab.ref("prod/shop-worker"))  # no tag: latest
    push(lab.ref("prod/shop-worker"), progress=False)
    tag(lab.ref(REPO, "2.4.1"), lab.ref("staging/shop"))      # outside prod/: allowed
    push(lab.ref("staging/shop"), progress=False)
    report = lab.check(2)
    assert report.requirement(lab02.ALL_TAGS.name).passed
    lab.progress.forget(SLUG)
    fails_with_hints(lab, lab02.NO_LATEST, 2, "prod/shop has a tag latest; prod/shop-worker has a tag latest")


def test_task2_exact_tag_pushed_over(lab: LabSession) -> None:
    """The new release pushed as 2.3.0 as well: the old release's exact tag moved."""
    lab.fast_forward(3)
    _push_as(lab, "2.4.1", "2.3.0")
    fails_with_hints(lab, lab02.OLD_RELEASE_KEPT, 2,
                      "prod/shop:2.3.0 was pushed over: it names another image now")
    detail = lab.check(2).requirement(lab02.FLOATING_FOLLOW.name).detail
    assert detail == "prod/shop:2.3 points at an image no version tag names; the newest 2.3.x release is 2.3.0"


def test_task3_prerelease_moved_major_tag(lab: LabSession) -> None:
    """The candidate also pushed as 2: the floating tag now names a pre-release."""
    lab.fast_forward(3)
    _build(lab, "main", "2.5.0-rc.1")
    _push_as(lab, "2.5.0-rc.1", commit_tag(_repo(lab), "main"), "2")
    report = lab.check(3)
    assert report.requirement(lab02.CANDIDATE_TAGS.name).passed
    assert report.requirement(lab02.CANDIDATE_FROM_MAIN.name).passed
    lab.progress.forget(SLUG)
    fails_with_hints(lab, lab02.FLOATING_FOLLOW, 3,
                      "prod/shop:2 points at 2.5.0-rc.1, a pre-release; the newest 2.x release is 2.4.1")


def test_task3_candidate_built_from_the_release(lab: LabSession) -> None:
    """The release commit (still checked out) published as the candidate."""
    lab.fast_forward(3)
    _build(lab, "v2.4.1", "2.5.0-rc.1")
    _push_as(lab, "2.5.0-rc.1", commit_tag(_repo(lab), "main"))
    fails_with_hints(lab, lab02.CANDIDATE_FROM_MAIN, 3,
                      "prod/shop:2.5.0-rc.1 contains VERSION 2.4.1: it was not built from main")


def test_floating_tag_without_a_release(lab: LabSession) -> None:
    """A 2.5 tag made for the candidate: there is no 2.5.x release for it to follow."""
    lab.fast_forward(4)
    _push_as(lab, "2.5.0-rc.1", "2.5")
    detail = lab.check(3).requirement(lab02.FLOATING_FOLLOW.name).detail
    assert detail == "prod/shop:2.5 exists but there is no 2.5.x release"


def test_context_reads_version_from_layers(lab: LabSession) -> None:
    lab.fast_forward(2)
    ctx = LabContext.discover(lab02.LAB)
    assert lab02._version_in_image(ctx, REPO, "2.3.0") == "2.3.0"
    assert lab02._version_in_image(ctx, REPO, "2.4.1") == "2.4.1"
