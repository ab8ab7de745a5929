"""Lab 04 — pass the gate.

Scenario: release 1.0 of the team's Python app (``team/app:1.0``, already in the lab's
registry) was blocked by the release pipeline's scan gate: its pinned dependencies have
known CRITICAL flaws. The app's build context is in the lab's work folder (``app/``: its
``Dockerfile``, ``app.py``, the lock file ``requirements.txt`` with every package pinned,
and ``wheels/``, the wheels this machine can install offline), next to the pipeline's
allow-list (``allowlist.toml``, empty).

1. Make release 1.1 pass the gate — for real: bump the pinned versions, rebuild, push
   ``team/app:1.1``. Nothing may be allow-listed, and the scanner must still see the
   app's dependencies.

The learner builds and pushes either way: ``docker buildx build --network none -t NAME app/``
and ``docker push NAME`` in a terminal or a ``!`` cell, or :func:`build_app` and ``push`` in
Python (the same Dockerfile, with each wheel's hash checked on top).

The checker scans the pushed ``team/app:1.1`` itself, straight from the registry, with
:func:`portside.security.scan.scan` (syft's inventory × the course's advisory snapshot), and
applies the pipeline's gate (fail on CRITICAL, with ``allowlist.toml``). Known shortcuts
fail their own requirement: allow-listing the flaw, hiding the packages' metadata so
the SBOM shows no dependencies, and bumping only one of the two vulnerable dependencies.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from portside.base.labels import course_labels
from portside.engine.transfer import push
from portside.labs import catalog
from portside.labs.context import LabContext
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import registry_scan, tag_exists
from portside.lessons import sample_app
from portside.security.advisories import Severity
from portside.security.scan import ScanReport, gate, load_allowlist

__all__ = ["ALLOWLIST", "APP_PACKAGES", "LAB", "REPO", "app_folder", "build_app", "release_scan", "wheels"]

SLUG = "04-pass-the-gate"
REPO = "team/app"
BLOCKED, RELEASE = "1.0", "1.1"
ALLOWLIST = "allowlist.toml"
#: the app's direct dependencies: a scan that cannot see them proves nothing
APP_PACKAGES = ("GitPython", "httpx")
_ALLOWLIST_HEADER = """\
# The release pipeline's allow-list: findings listed here do not block the gate.
# Each entry needs an id, a reason and an expiry date, e.g.
#
#   [[allow]]
#   id = "GHSA-xxxx-xxxx-xxxx"
#   reason = "why this risk is accepted, and the ticket that tracks the fix"
#   expires = 2026-12-31
#
# Lab 04 rule: pass the gate WITHOUT adding anything here.
"""


# -- the learner's tools -----------------------------------------------------------------------------------
def _context(lab: Any) -> LabContext:
    if isinstance(lab, LabContext):
        return lab
    found = getattr(lab, "lab", None)
    if isinstance(found, Lab):
        return LabContext.discover(found)
    return LabContext.discover(catalog.get(SLUG))


def app_folder(lab: Any) -> Path:
    """The app's build context in the lab's work folder: ``Dockerfile``, ``app.py``, ``requirements.txt``, wheels."""
    return _context(lab).workdir / "app"


def wheels() -> dict[str, list[str]]:
    """The package versions this machine can install offline (the wheel cache), by package name, oldest first."""
    from packaging.utils import parse_wheel_filename
    from packaging.version import Version

    found: dict[str, set[Version]] = {}
    for wheel in sample_app.wheels_dir().glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        found.setdefault(str(name), set()).add(version)
    return {name: [str(v) for v in sorted(versions)] for name, versions in sorted(found.items())}


def build_app(lab: Any, version: str) -> str:
    """Build the app with the pins of ``app/requirements.txt`` as ``team/app:VERSION``; returns the image name.

    The app's Dockerfile and code are the course's (``sample_app.app_dir()``, as copied into
    ``app/``); the build (BuildKit, no network) installs exactly the pins of the lab's
    ``app/requirements.txt`` from the wheel cache, each wheel checked against its hash, and
    names the image for the lab registry (``localhost:PORT/team/app:VERSION``). The same as
    ``docker buildx build --network none -t localhost:PORT/team/app:VERSION app/``.
    """
    ctx = _context(lab)
    name = ctx.ref(REPO, version)
    sample_app.build("vulnerable", name, requirements=app_folder(ctx) / "requirements.txt",
                     labels={**course_labels("lab-image", variant="learner"),
                             "org.opencontainers.image.version": version})
    return name


def release_scan(ctx: LabContext, tag: str = RELEASE) -> ScanReport:
    """The checker's scan of ``team/app:TAG`` as it is in the registry now (cached by digest)."""
    return registry_scan(ctx, REPO, tag)


# -- the start state ----------------------------------------------------------------------------------------
def _write_build_context(folder: Path) -> None:
    """The app's build context for ``docker buildx build``: the course's Dockerfile and code, the vulnerable
    pins, and a copy of every wheel in the (checked) wheel cache, which the Dockerfile installs from."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    for name in ("Dockerfile", "app.py"):
        shutil.copyfile(sample_app.app_dir() / name, folder / name)
    shutil.copyfile(sample_app.requirements_file("vulnerable"), folder / "requirements.txt")
    for wheel in sample_app.ensure_wheels().glob("*.whl"):
        shutil.copyfile(wheel, folder / "wheels" / wheel.name)


def _setup(ctx: LabContext) -> None:
    _write_build_context(ctx.workdir / "app")
    (ctx.workdir / ALLOWLIST).write_text(_ALLOWLIST_HEADER, encoding="utf-8")
    name = ctx.ref(REPO, BLOCKED)
    sample_app.build("vulnerable", name, labels={**course_labels("lab-image"),
                                                 "org.opencontainers.image.version": BLOCKED})
    push(name, progress=False)


# -- predicates ------------------------------------------------------------------------------------------------
def _allowlist(ctx: LabContext) -> list[Any]:
    path = ctx.workdir / ALLOWLIST
    return load_allowlist(path) if path.is_file() else []


def dependencies_visible() -> Predicate:
    """The inventory of 1.1 lists the app's direct dependencies as PyPI packages."""

    def check(ctx: LabContext) -> Outcome:
        if ctx.digest(REPO, RELEASE) is None:
            return Outcome.fail(f"{REPO}:{RELEASE} is not in the registry yet")
        report = release_scan(ctx)
        missing = [name for name in APP_PACKAGES if not report.inventory.find(name)]
        if missing:
            return Outcome.fail(f"the SBOM of {REPO}:{RELEASE} lists no {', '.join(missing)}: the scanner cannot "
                                "see the app's dependencies, so its verdict says nothing about them")
        return Outcome.ok()

    return check


def nothing_allowed() -> Predicate:
    """The pipeline's allow-list has no live entry."""

    def check(ctx: LabContext) -> Outcome:
        live = [entry for entry in _allowlist(ctx) if not entry.expired()]
        if live:
            return Outcome.fail(f"{ALLOWLIST} waves through {', '.join(sorted(e.id for e in live))}: the flaw "
                                "is still in the image, the gate just no longer looks at it")
        return Outcome.ok()

    return check


def gate_passes() -> Predicate:
    """The pipeline's gate (fail on CRITICAL, with the allow-list) passes for 1.1 as pushed."""

    def check(ctx: LabContext) -> Outcome:
        if ctx.digest(REPO, RELEASE) is None:
            return Outcome.fail(f"{REPO}:{RELEASE} is not in the registry yet")
        verdict = gate(release_scan(ctx), fail_on=Severity.CRITICAL, allow=_allowlist(ctx))
        if verdict.passed:
            return Outcome.ok()
        blocking = sorted({f"{f.package} {f.installed} ({f.id})" for f in verdict.blocking})
        return Outcome.fail(f"{len(verdict.blocking)} CRITICAL finding(s) still block {REPO}:{RELEASE}: "
                            + ", ".join(blocking))

    return check


# -- requirements --------------------------------------------------------------------------------------------
PUBLISHED = Requirement(
    f"{REPO}:{RELEASE} is in the registry",
    tag_exists(REPO, RELEASE),
    hints=[
        f"The release pipeline scans what is in the registry, so 1.1 has to be pushed there as {REPO}:{RELEASE}.",
        f"build_app(lab, '{RELEASE}') builds the app with app/requirements.txt as lab.ref('{REPO}', '{RELEASE}') "
        "(or `docker buildx build --network none -t NAME app/`); then push that name (`docker push NAME`).",
        f"Idea: push(build_app(lab, '{RELEASE}'), progress=False) — after fixing app/requirements.txt.",
    ],
)

DEPENDENCIES_VISIBLE = Requirement(
    f"the scanner sees the app's dependencies ({', '.join(APP_PACKAGES)}) in {REPO}:{RELEASE}",
    dependencies_visible(),
    hints=[
        "A scanner can only judge what its inventory lists. syft finds Python packages by their metadata "
        "(the *.dist-info folders); an image without it looks clean and is exactly as vulnerable.",
        "Do not delete or hide package metadata, and build 1.1 with build_app (the real app), not from another "
        "image.",
        "Idea: rebuild with build_app after fixing the pins in app/requirements.txt; the SBOM then lists the new, "
        "safe versions.",
    ],
)

NOTHING_ALLOWED = Requirement(
    f"nothing is allow-listed in {ALLOWLIST}",
    nothing_allowed(),
    hints=[
        "An allow-list entry is a dated, reasoned decision to ship a known flaw — not a fix. This lab asks for "
        "a real fix.",
        f"Remove every [[allow]] entry from {ALLOWLIST} in the lab's work folder (comments may stay).",
        "Idea: empty the allow-list, then fix the flaws themselves by upgrading the pinned packages.",
    ],
)

GATE_PASSES = Requirement(
    f"the gate passes for {REPO}:{RELEASE}: no CRITICAL finding",
    gate_passes(),
    hints=[
        "Each finding names its package, the installed version and the version that fixes it: scan(…) and "
        "its table(), or str(gate(report)), list them.",
        "Bump every vulnerable pin in app/requirements.txt, transitive ones too (requirements.txt pins the "
        "whole tree): one critical flaw left is enough to block. wheels() lists the versions available here.",
        "Idea: pin each flagged package to its 'fixed in' version or newer (from wheels()), rebuild with "
        "build_app, push, check again.",
    ],
)


def _solve(ctx: LabContext) -> None:
    (ctx.workdir / ALLOWLIST).write_text(_ALLOWLIST_HEADER, encoding="utf-8")
    shutil.copyfile(sample_app.requirements_file("fixed"), app_folder(ctx) / "requirements.txt")
    push(build_app(ctx, RELEASE), progress=False)


LAB = Lab(
    slug=SLUG,
    title="Pass the gate",
    images=["python:3.11-slim-bookworm"],
    users=(),
    setup=_setup,
    tasks=[
        Task(1, f"Make {REPO}:{RELEASE} pass the gate without allow-listing anything",
             [PUBLISHED, DEPENDENCIES_VISIBLE, NOTHING_ALLOWED, GATE_PASSES], _solve),
    ],
)
