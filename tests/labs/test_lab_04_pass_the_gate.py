"""Lab 04-pass-the-gate, proven both ways against the real engine, registry, syft and advisory snapshot.

The scripted solution (every pin bumped, rebuilt, pushed) passes, and so does the same fix done
the CLI way (`docker buildx build` and `docker push` on the work folder's build context).
Known-bad attempts fail their own requirement with its first hint, and the next hint
when checked again: allow-listing the blocking flaws (with 1.0 pushed again as 1.1),
hiding the packages' metadata so the SBOM no longer lists the dependencies, and bumping
only one dependency.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from labtools import fails_with_hints

from portside.base.labels import course_labels
from portside.base.proc import run
from portside.engine import provided
from portside.engine.build import build, buildx
from portside.engine.transfer import push, tag
from portside.labs import LabSession
from portside.labs import lab04_pass_the_gate as lab04
from portside.labs.model import Requirement
from portside.lessons import sample_app
from portside.security.scan import gate

SLUG = lab04.LAB.slug
REPO = lab04.REPO


def _only(lab: LabSession, failing: Requirement) -> None:
    """Every requirement of task 1 but ``failing`` passes."""
    report = lab.check(1)
    for requirement in lab04.LAB.task(1).requirements:
        result = report.requirement(requirement.name)
        assert result.passed == (requirement is not failing), (requirement.name, result.detail)


def _pins(folder: Path, **changes: str) -> None:
    """Rewrite ``requirements.txt`` with some pins changed (``GitPython="3.1.45"``)."""
    path = folder / "requirements.txt"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("==")[0].strip()
        lines.append(f"{name}=={changes[name]}" if name in changes else line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- the start state and the good solution ---------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """1.0 is in the registry and blocked by CRITICAL findings in two packages; the allow-list is empty."""
    ctx = lab.context
    assert lab.client().tags(REPO) == ["1.0"]
    verdict = gate(lab04.release_scan(ctx, "1.0"))
    assert not verdict.passed
    assert len({f.package.lower() for f in verdict.blocking}) >= 2
    app = lab04.app_folder(lab)
    assert (app / "requirements.txt").read_text().count("==") >= 10
    assert (app / "Dockerfile").read_text() == (sample_app.app_dir() / "Dockerfile").read_text()
    assert {w.name for w in (app / "wheels").glob("*.whl")} == {w.name for w in sample_app.wheels_dir().glob("*.whl")}
    report = lab.check(1)
    assert not report.requirement(lab04.PUBLISHED.name).passed
    assert report.requirement(lab04.NOTHING_ALLOWED.name).passed


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(2)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)


def _docker(*args: str) -> None:
    """Run the docker CLI as a learner's `!docker …` cell does: the course's CLI, client config and engine."""
    buildx()  # the course's DOCKER_CONFIG (with the buildx plugin) and DOCKER_HOST, as `import portside` sets them
    run([provided.docker_cli(), *args], timeout=600, what=f"docker {args[0]}")


def test_the_cli_way_passes(lab: LabSession) -> None:
    """The fixed pins written into app/requirements.txt, then `docker buildx build` and `docker push`: solved."""
    app = lab04.app_folder(lab)
    shutil.copyfile(sample_app.requirements_file("fixed"), app / "requirements.txt")
    name = lab.context.ref(REPO, "1.1")
    _docker("buildx", "build", "--network", "none", "-t", name, str(app))
    _docker("push", name)
    report = lab.check(1)
    assert report.passed, repr(report)


# -- known-bad attempts ----------------------------------------------------------------------------------------
def test_allow_listing_the_flaws(lab: LabSession) -> None:
    """1.0 pushed again as 1.1, its blocking flaws allow-listed: the gate passes, the allow-list rule does not."""
    ctx = lab.context
    blocking = gate(lab04.release_scan(ctx, "1.0")).blocking
    entries = "".join(f'[[allow]]\nid = "{f.id}"\nreason = "fix later"\nexpires = 2099-12-31\n\n' for f in blocking)
    allowlist = ctx.workdir / lab04.ALLOWLIST
    allowlist.write_text(allowlist.read_text() + entries, encoding="utf-8")
    tag(ctx.ref(REPO, "1.0"), ctx.ref(REPO, "1.1"))
    push(ctx.ref(REPO, "1.1"), progress=False)
    _only(lab, lab04.NOTHING_ALLOWED)
    ids = ", ".join(sorted({f.id for f in blocking}))
    fails_with_hints(lab, lab04.NOTHING_ALLOWED, 1, f"{lab04.ALLOWLIST} waves through {ids}: the flaw is still in "
                                                  "the image, the gate just no longer looks at it")


def test_hiding_the_package_metadata(lab: LabSession) -> None:
    """1.0 with every *.dist-info folder deleted: nothing to match, so the gate passes — and proves nothing."""
    ctx = lab.context
    dockerfile = (f"FROM {ctx.ref(REPO, '1.0')}\nUSER root\n"
                  "RUN find / -xdev -type d -name '*.dist-info' -prune -exec rm -rf {} +\n")
    name = ctx.ref(REPO, "1.1")
    context = ctx.workdir / "hide"
    context.mkdir()
    (context / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    build(context, tag=name, labels=course_labels("lab-image"), network="none")
    push(name, progress=False)
    _only(lab, lab04.DEPENDENCIES_VISIBLE)
    fails_with_hints(lab, lab04.DEPENDENCIES_VISIBLE, 1,
                      f"the SBOM of {REPO}:1.1 lists no GitPython, httpx: the scanner cannot see the app's "
                      "dependencies, so its verdict says nothing about them")


def test_bumping_only_one_dependency(lab: LabSession) -> None:
    """GitPython (and its own dependencies) bumped, httpx and its tree left alone: httpx's tree still blocks."""
    folder = lab04.app_folder(lab)
    _pins(folder, GitPython="3.1.45", gitdb="4.0.12", smmap="5.0.2")
    push(lab04.build_app(lab, "1.1"), progress=False)
    _only(lab, lab04.GATE_PASSES)
    verdict = gate(lab04.release_scan(lab.context))
    assert verdict.blocking and not {f.package.lower() for f in verdict.blocking} & {"gitpython", "gitdb", "smmap"}
    listed = ", ".join(sorted({f"{f.package} {f.installed} ({f.id})" for f in verdict.blocking}))
    fails_with_hints(lab, lab04.GATE_PASSES, 1,
                      f"{len(verdict.blocking)} CRITICAL finding(s) still block {REPO}:1.1: {listed}")
