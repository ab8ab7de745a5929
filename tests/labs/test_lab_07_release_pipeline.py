"""Lab 07-release-pipeline, proven both ways against the real engine, registry, pipeline and cosign.

The scripted solution passes, and so does the learner's way through the command line (`portside pipeline run`
on the fixed files). Each known-bad move fails its own requirement with its detail and first hint (the next
hint when checked again): the gate left off (the start state), an allow-list entry without an expiry or a
reason, an expired one, one for a flaw that has a fix, the course scanner dropped, unpinned bases let through,
the vulnerable image pushed with the gate off; the deployment named by tag (the start state, in pipeline.toml
and by hand), a tag moved after signing, a signature by another key, no attestation, an SBOM of another image.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from labtools import fails_with_hints

from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.daemon import uses_containerd_store
from portside.engine.transfer import push
from portside.labs import LabSession
from portside.labs import lab07_release_pipeline as lab07
from portside.labs.model import Requirement
from portside.lessons.tagging import git
from portside.pipeline import DEPLOY_LABEL, Pipeline, RunResult, deployments
from portside.security.signing import TemporaryKeys
from portside.tools import cosign

SLUG = lab07.LAB.slug
REPO = lab07.REPO
FLAW = "GHSA-pr76-5cm5-w9cj"


# -- helpers ---------------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _containerd_store() -> None:
    """The lab pins its base by the local image's manifest digest, which only the containerd image store keeps."""
    if not uses_containerd_store():
        pytest.skip("lab 07 needs the engine's containerd image store")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def _gate_on(lab: LabSession) -> None:
    _edit(lab07.pipeline_file(lab), 'fail_on = "none"', 'fail_on = "critical"')


def _fix_image(lab: LabSession) -> None:
    app = lab07.work_folder(lab) / "app"
    requirements = app / "requirements.txt"
    requirements.write_text(re.sub(r"(?m)^GitPython==.*$", "GitPython==3.1.45", requirements.read_text()))
    git(app, "commit", "--quiet", "-am", "GitPython 3.1.45")


def _by_digest(lab: LabSession) -> None:
    _edit(lab07.pipeline_file(lab), 'image = "team/app:1.1.0"\n', "")


def _allow(lab: LabSession, entry: str) -> None:
    (lab07.work_folder(lab) / lab07.ALLOWLIST).write_text(lab07.ALLOWLIST_TEXT + "\n[[allow]]\n" + entry)


def _run(lab: LabSession, until: str | None = None) -> RunResult:
    return Pipeline(lab07.pipeline_file(lab), registry=lab).run(until=until)


def _only(lab: LabSession, task: int, failing: set[Requirement]) -> None:
    """Every requirement of ``task`` but ``failing`` passes."""
    report = lab.check(task)
    for requirement in lab07.LAB.task(task).requirements:
        result = report.requirement(requirement.name)
        assert result.passed == (requirement not in failing), (requirement.name, result.detail)


# -- the start state and the good solutions ----------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """The app, the team's pipeline (gate off, deployment by tag), its keys; 1.0.0 signed before its tag moved."""
    work = lab07.work_folder(lab)
    assert {p.name for p in work.iterdir()} == {"app", "keys", lab07.CONFIG, lab07.ALLOWLIST}
    assert {p.name for p in (work / "app").iterdir()} == {".git", "Dockerfile", "app.py", "requirements.txt",
                                                         "wheels"}
    assert "GitPython==3.1.29\n" in (work / "app" / "requirements.txt").read_text()
    assert oct((work / "keys" / "cosign.password").stat().st_mode & 0o777) == "0o600"
    assert lab07.team_public_key(lab).read_bytes() == (work / "keys" / "cosign.pub").read_bytes()
    client = lab.client()
    assert [t for t in client.tags(REPO) if not t.startswith("sha256-")] == ["1.0.0"]
    current = client.digest(REPO, "1.0.0")
    signed = lab.context.facts["old_signed"]
    assert current != signed and f"sha256-{signed.removeprefix('sha256:')}" in client.tags(REPO)
    (old,) = deployments(lab07.DEPLOYMENT)
    assert old.attrs["Config"]["Image"] == lab.context.ref(REPO, "1.0.0")
    report = lab.check()
    assert not any(r.passed for t in report.tasks for r in t.results), repr(report)
    fails_with_hints(lab, lab07.GATE_INTACT, 1, 'pipeline.toml switches the gate off (fail_on = "none"): nothing '
                                               "can block a release")
    fails_with_hints(lab, lab07.PUSHED, 1, f"{REPO}:1.1.0 is not in the registry yet (it holds 1.0.0)")
    fails_with_hints(lab, lab07.BY_DIGEST, 2, "pipeline.toml deploys team/app:1.1.0, a tag: what was verified is not "
                                             "what the tag names when production pulls it")
    fails_with_hints(lab, lab07.DEPLOYED, 2, "team-app runs team/app:1.0.0, named by tag: production must run the "
                                            "digest that was verified")


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(3)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)
    (deployed,) = deployments(lab07.DEPLOYMENT)
    digest = lab.client().digest(REPO, "1.1.0")
    assert deployed.attrs["Config"]["Image"] == lab.context.ref(REPO, digest=digest)
    assert cosign.verify(lab.context.ref(REPO, digest=digest), lab07.team_public_key(lab))


def test_the_cli_way_passes(lab: LabSession) -> None:
    """The files fixed by hand, then `portside pipeline run -c pipeline.toml` in another process: both tasks."""
    _gate_on(lab)
    _fix_image(lab)
    _by_digest(lab)
    done = subprocess.run([sys.executable, "-m", "portside.cli", "pipeline", "run", "-c",
                           str(lab07.pipeline_file(lab))], capture_output=True, text=True, timeout=900,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "RELEASED (exit 0)"
    report = lab.check()
    assert report.passed, repr(report)


# -- task 1: the gate, and the image ------------------------------------------------------------------------------
@pytest.mark.parametrize(("entry", "detail"), [
    (f'id = "{FLAW}"\nreason = "the app never clones"\n',
     "pipeline.toml cannot be used: pipeline.toml: [scan] allowlist: allow.toml, entry 1 has no expires."),
    (f'id = "{FLAW}"\nexpires = 2027-01-31\n',
     "pipeline.toml cannot be used: pipeline.toml: [scan] allowlist: allow.toml, entry 1 has no reason."),
    (f'id = "{FLAW}"\nreason = "accepted for 1.0.0"\nexpires = 2026-06-30\n',
     f"allow.toml still lists {FLAW}, expired on 2026-06-30: an expired exception allows nothing, delete it"),
])
def test_exceptions_without_a_reason_or_an_expiry_are_refused(lab: LabSession, entry: str, detail: str) -> None:
    _gate_on(lab)
    _allow(lab, entry)
    fails_with_hints(lab, lab07.GATE_INTACT, 1, detail)


def test_an_exception_for_a_flaw_that_has_a_fix(lab: LabSession) -> None:
    """A reason and an expiry, but the flaw has a fixed version: the gate passes, the checker does not."""
    _gate_on(lab)
    _allow(lab, f'id = "{FLAW}"\npackage = "GitPython"\nreason = "the app never clones"\nexpires = 2027-01-31\n')
    result = _run(lab, until="push")
    assert result.passed and "allowed: GHSA-pr76-5cm5-w9cj in gitpython" in result["scan"].detail
    _only(lab, 1, {lab07.GATE_INTACT, lab07.GATE_PASSES})
    fails_with_hints(lab, lab07.GATE_INTACT, 1, f"allow.toml waves through {FLAW}, which has a fix (3.1.32): upgrade "
                                               "instead of accepting it")
    fails_with_hints(lab, lab07.GATE_PASSES, 1, f"1 CRITICAL finding(s) in {REPO}:1.1.0 as pushed: gitpython 3.1.29 "
                                               f"({FLAW}, fixed in 3.1.32)")


@pytest.mark.parametrize(("change", "detail"), [
    (('scanner = "portside"', 'scanner = "trivy"'),
     'pipeline.toml drops the course scanner from the gate (scanner = "trivy"): keep scanner = "portside" (or "both")'),
    (('base_pin = "require"', 'base_pin = "warn"'), 'pipeline.toml lets a FROM by tag through (base_pin = "warn")'),
    (('allowlist = "allow.toml"\n', ""), 'pipeline.toml no longer reads the team\'s allow.toml: keep allowlist = '
                                         '"allow.toml"'),
])
def test_other_ways_to_weaken_the_gate(lab: LabSession, change: tuple[str, str], detail: str) -> None:
    _gate_on(lab)
    _edit(lab07.pipeline_file(lab), *change)
    fails_with_hints(lab, lab07.GATE_INTACT, 1, detail)


def test_the_vulnerable_image_pushed_with_the_gate_off(lab: LabSession) -> None:
    """The start state's pipeline up to its push: 1.1.0 reaches the registry, and the checker's scan blocks it."""
    result = _run(lab, until="push")
    assert result.passed and result["scan"].detail.startswith("OFF: fail_on = none")
    _only(lab, 1, {lab07.GATE_INTACT, lab07.GATE_PASSES})
    fails_with_hints(lab, lab07.GATE_PASSES, 1, f"1 CRITICAL finding(s) in {REPO}:1.1.0 as pushed: gitpython 3.1.29 "
                                               f"({FLAW}, fixed in 3.1.32)")


def test_the_gate_stops_the_vulnerable_image(lab: LabSession) -> None:
    """The gate on, the image not fixed: the pipeline stops at its scan step, and nothing is pushed."""
    _gate_on(lab)
    result = _run(lab)
    assert result.verdict == "REFUSED at scan" and result["scan"].summary == "1 CRITICAL"
    _only(lab, 1, {lab07.PUSHED, lab07.GATE_PASSES})


# -- task 2: the release --------------------------------------------------------------------------------------------
def _fixed(lab: LabSession) -> None:
    _gate_on(lab)
    _fix_image(lab)


def test_the_start_states_deployment_by_tag(lab: LabSession) -> None:
    """Image and gate fixed, [deploy] image still a tag: the run stops at verify; 1.0.0 stays deployed."""
    _fixed(lab)
    result = _run(lab)
    assert result.verdict == "REFUSED at verify"
    assert result["verify"].detail.startswith("✘ pinned by digest: the reference names a tag")
    assert lab.check(1).passed
    _only(lab, 2, {lab07.BY_DIGEST, lab07.DEPLOYED})  # signed and attested: the run got that far


def test_a_deployment_started_by_tag_by_hand(lab: LabSession) -> None:
    """A correct release, then the deployment replaced by hand: `docker run …:1.1.0`, labelled like the pipeline's."""
    _fixed(lab)
    _by_digest(lab)
    assert _run(lab).released
    for container in deployments(lab07.DEPLOYMENT):
        container.remove(force=True)
    labels = {**course_labels("pipeline-deploy", deploy=lab07.DEPLOYMENT), "org.portside.lab": SLUG}
    lab.context.docker.containers.run(lab.context.ref(REPO, "1.1.0"), detach=True, labels=labels,
                                      network_mode="none").wait(timeout=60)
    _only(lab, 2, {lab07.DEPLOYED})
    fails_with_hints(lab, lab07.DEPLOYED, 2, "team-app runs team/app:1.1.0, named by tag: production must run the "
                                            "digest that was verified")


def test_a_tag_moved_after_signing(lab: LabSession) -> None:
    """A correct release, then another build pushed over 1.1.0: its signature stays with the old digest."""
    _fixed(lab)
    _by_digest(lab)
    assert _run(lab).released
    app = lab07.work_folder(lab) / "app"
    name = lab.context.ref(REPO, "1.1.0")
    build(app, tag=name, network="none", labels={**course_labels("lab-image"), "org.portside.test": "moved"})
    push(name, progress=False)
    report = lab.check(2)
    assert not report.requirement(lab07.DEPLOYED.name).passed
    assert report.requirement(lab07.DEPLOYED.name).detail == ("team-app runs a digest that is not the one "
                                                              "team/app:1.1.0 names")
    fails_with_hints(lab, lab07.SIGNED, 2, f"{REPO} holds a signature for an image {REPO}:1.1.0 no longer names: "
                                          "the tag moved after signing")


def test_signed_with_another_key(lab: LabSession) -> None:
    """The learner's own key pair in keys/: everything verifies with it, nothing with the team's key."""
    _fixed(lab)
    _by_digest(lab)
    keys = lab07.work_folder(lab) / "keys"
    with TemporaryKeys() as mine:
        for name, source in (("cosign.key", mine.private), ("cosign.pub", mine.public)):
            (keys / name).write_bytes(source.read_bytes())
        (keys / "cosign.password").write_text(mine.password)
        assert _run(lab).released
    _only(lab, 2, {lab07.SIGNED, lab07.ATTESTED})
    fails_with_hints(lab, lab07.SIGNED, 2, f"{REPO}:1.1.0 carries a signature, but not one the team's key verifies: "
                                          "sign with keys/cosign.key")
    fails_with_hints(lab, lab07.ATTESTED, 2, f"no CycloneDX SBOM attestation on {REPO}:1.1.0 verifies with the "
                                            "team's key")


def test_signed_but_not_attested_then_an_sbom_of_another_image(lab: LabSession) -> None:
    """Signed by hand after the push, no attestation; then an attestation carrying the vulnerable build's SBOM."""
    _fixed(lab)
    work = lab07.work_folder(lab)
    assert _run(lab, until="push").passed
    digest = lab.client().digest(REPO, "1.1.0")
    ref = lab.context.ref(REPO, digest=digest)
    password = (work / "keys" / "cosign.password").read_text().strip()
    cosign.sign(ref, work / "keys" / "cosign.key", password)
    report = lab.check(2)
    assert report.requirement(lab07.SIGNED.name).passed
    fails_with_hints(lab, lab07.ATTESTED, 2, f"no CycloneDX SBOM attestation on {REPO}:1.1.0 verifies with the "
                                            "team's key")
    sbom = work / "out" / "scan-sbom.cdx.json"
    sbom.write_text(sbom.read_text().replace('"version": "3.1.45"', '"version": "3.1.29"')
                    .replace("gitpython@3.1.45", "gitpython@3.1.29"))
    cosign.attest(ref, sbom, "cyclonedx", work / "keys" / "cosign.key", password)
    fails_with_hints(lab, lab07.ATTESTED, 2, "the attested SBOM says GitPython 3.1.29, the image holds 3.1.45: it was "
                                            "made from another image")
    assert DEPLOY_LABEL == "org.portside.deploy"
