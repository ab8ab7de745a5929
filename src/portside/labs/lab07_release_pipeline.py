"""Lab 07 — make the release pipeline green: fix the image and the release, not the gate.

Scenario: the team releases its Python app (lesson 04's ``pyapp``) with the course's pipeline
(:mod:`portside.pipeline`), configured in ``pipeline.toml`` in the lab's work folder beside the app
(``app/``: a multi-stage Dockerfile pinned by digest, ``app.py``, the lock file ``requirements.txt``,
``wheels/``; a git repository), the pipeline's allow-list ``allow.toml`` and the team's CI signing key
pair (``keys/``: ``cosign.key``, its password file, ``cosign.pub``). The lab's registry is open. The
last release, ``team/app:1.0.0``, went out the old way: it was signed, then rebuilt and pushed again
(the tag moved after signing), and production runs it **by tag** (the deployment ``team-app``).

The pipeline as the team left it is broken three ways:

* **the image**: ``requirements.txt`` pins GitPython 3.1.29, which has a CRITICAL advisory in the course's
  snapshot (fixed in 3.1.32; the wheel cache holds 3.1.45);
* **the gate**: to get 1.0.0 out, someone set ``[scan] fail_on = "none"`` — the gate is off;
* **the deployment**: ``[deploy] image = "team/app:1.1.0"`` — verify and deploy by tag.

1. **Pass the gate, for real** — the team's gate back on (fail on CRITICAL, the course scanner, bases
   pinned by digest, no exception without a reason and a live expiry, none for a flaw that has a fix),
   and ``team/app:1.1.0`` in the registry passing it: the checker scans what the registry holds itself.
2. **Release it** — ``team/app:1.1.0``, as it is now, carries a signature and a CycloneDX SBOM attestation
   that verify with the team's key (the checker's own copy of ``cosign.pub``) and describe this image; the
   pipeline deploys by digest; and the deployment ``team-app`` runs exactly that digest, named by digest.

Both ways count: ``portside pipeline run`` in a terminal, or :class:`portside.pipeline.Pipeline` in Python;
the checker grades the registry, ``pipeline.toml`` and the deployed container only.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any, cast

from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.transfer import push
from portside.errors import LabError, PortsideError
from portside.labs import catalog
from portside.labs.context import LAB_LABEL, LabContext, LabState, require_containerd_store
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import registry_scan
from portside.lessons import sample_app
from portside.lessons.tagging import git
from portside.pipeline import DEPLOY_LABEL, Pipeline, deployments, load_config
from portside.security.advisories import Severity, load
from portside.security.scan import ScanReport, gate
from portside.security.signing import read_referrers, subject_of_tag
from portside.tools import cosign

__all__ = ["ALLOWLIST", "CONFIG", "DEPLOYMENT", "LAB", "REPO", "SLUG", "VERSION", "pipeline_file", "team_public_key",
           "work_folder"]

SLUG = "07-release-pipeline"
REPO = "team/app"
VERSION = "1.1.0"
OLD = "1.0.0"
DEPLOYMENT = "team-app"
CONFIG = "pipeline.toml"
ALLOWLIST = "allow.toml"
#: the vulnerable pin the app starts with, and the package whose version the attested SBOM must show
VULNERABLE = ("GitPython", "3.1.29")
#: the checker's copy of the team's public key, in the lab's state folder (outside the work folder)
TEAM_KEY = "team-cosign.pub"
_APP_OUTPUT = "pyapp: GitPython"

#: the team's Dockerfile (lesson 06's shape); ``{digest}`` is the course base image's digest
DOCKERFILE = "# The team's app: two stages, every base pinned by digest (lesson 06).\n" + sample_app.MULTI_STAGE_PINNED

#: the team's pipeline as the lab starts: the gate switched off, the deployment named by tag
PIPELINE = """\
# The team's release pipeline (docs/pipeline.md). Run it: portside pipeline run -c pipeline.toml
[release]
registry = "{address}"
repository = "team/app"
version = "1.1.0"
output = "out"

[build]
context = "app"
base_pin = "require"

[tag]
git = "app"
commit = "HEAD"

[scan]
scanner = "portside"
# switched off to get 1.0.0 out of the door ("we'll turn it back on after the release")
fail_on = "none"
allowlist = "allow.toml"

[sign]
key = "keys/cosign.key"
public_key = "keys/cosign.pub"
password_file = "keys/cosign.password"

[deploy]
name = "team-app"
# what production runs
image = "team/app:1.1.0"
keep = true
# the lab's label: closing the lab removes the deployment with it
labels = {{ "org.portside.lab" = "07-release-pipeline" }}
"""

ALLOWLIST_TEXT = """\
# The pipeline's allow-list: a finding listed here does not block the gate.
# Each entry is a decision someone must revisit: an id, a reason and an expiry date, e.g.
#
#   [[allow]]
#   id = "GHSA-xxxx-xxxx-xxxx"
#   package = "name"
#   reason = "why this risk is accepted, and the ticket that tracks the fix"
#   expires = 2027-01-31
"""



# -- the learner's tools -------------------------------------------------------------------------------------
def _context(lab: Any) -> LabContext:
    if isinstance(lab, LabContext):
        return lab
    return LabContext.discover(catalog.lab_of(lab, SLUG))


def work_folder(lab: Any) -> Path:
    """The lab's work folder: ``pipeline.toml``, ``allow.toml``, ``app/``, ``keys/`` (and ``out/`` once it ran)."""
    return _context(lab).workdir


def pipeline_file(lab: Any) -> Path:
    """The team's ``pipeline.toml`` in the work folder."""
    return work_folder(lab) / CONFIG


def team_public_key(lab: Any) -> Path:
    """The checker's copy of the team's public key (what every signature is verified with)."""
    return LabState(catalog.lab_of(lab, SLUG).slug).folder / TEAM_KEY


# -- the start state -------------------------------------------------------------------------------------------
def _write_app(folder: Path) -> None:
    """The app: the pinned Dockerfile, app.py, the fixed pins but a vulnerable GitPython, every cached wheel."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    shutil.copyfile(sample_app.app_dir() / "app.py", folder / "app.py")
    pins = sample_app.requirements_file("fixed").read_text(encoding="utf-8")
    name, version = VULNERABLE
    lines = [f"{name}=={version}" if line.startswith(f"{name}==") else line for line in pins.splitlines()]
    (folder / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for wheel in sample_app.ensure_wheels().glob("*.whl"):  # both pin sets: a fixed GitPython is there too
        shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    digest = str(_base_digest())
    (folder / "Dockerfile").write_text(DOCKERFILE.format(digest=digest), encoding="utf-8")
    git(folder, "init", "--quiet", "--initial-branch=main")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--message", "release 1.1.0")


def _base_digest() -> str:
    from portside import engine

    return str(engine.client().images.get(sample_app.BASE).id)


def _write_keys(ctx: LabContext) -> None:
    keys = ctx.workdir / "keys"
    password = secrets.token_urlsafe(24)
    pair = cosign.generate_key_pair(keys, password)
    secret = keys / "cosign.password"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    shutil.copyfile(pair.public, ctx.state.folder / TEAM_KEY)


def _old_release(ctx: LabContext) -> None:
    """1.0.0 the old way: signed, then rebuilt and pushed over its tag, and deployed by tag."""
    folder = ctx.workdir / "old"
    folder.mkdir()
    labels = course_labels("lab-image", lab=SLUG)
    digests = []
    for stage in ("candidate", "final"):
        (folder / "Dockerfile").write_text(f"FROM busybox:1.35\nLABEL org.opencontainers.image.version={OLD} "
                                           f"org.portside.old-release={stage}\n", encoding="utf-8")
        name = ctx.ref(REPO, OLD)
        build(folder, tag=name, labels=labels)
        digests.append(push(name, progress=False).digest)
        if stage == "candidate":
            password = (ctx.workdir / "keys" / "cosign.password").read_text(encoding="utf-8").strip()
            cosign.sign(ctx.ref(REPO, digest=digests[0]), ctx.workdir / "keys" / "cosign.key", password)
    shutil.rmtree(folder)
    ctx.state.remember(old_signed=digests[0], old_release=digests[1])
    deployed = {**course_labels("pipeline-deploy", deploy=DEPLOYMENT), LAB_LABEL: SLUG,
                "org.opencontainers.image.version": OLD}
    container = ctx.docker.containers.run(ctx.ref(REPO, OLD), ["true"], detach=True, labels=deployed,
                                          network_mode="none")
    container.wait(timeout=60)


def _setup(ctx: LabContext) -> None:
    require_containerd_store("Lab 07", "the team's Dockerfile pins its base by manifest digest, which the classic "
                                       "image store does not keep for a local image.")
    _write_app(ctx.workdir / "app")
    _write_keys(ctx)
    (ctx.workdir / CONFIG).write_text(PIPELINE.format(address=ctx.address), encoding="utf-8")
    (ctx.workdir / ALLOWLIST).write_text(ALLOWLIST_TEXT, encoding="utf-8")
    _old_release(ctx)


# -- what the checker reads ------------------------------------------------------------------------------------
def _current(ctx: LabContext) -> str | None:
    return ctx.digest(REPO, VERSION)


def _not_pushed() -> Outcome:
    return Outcome.fail(f"{REPO}:{VERSION} is not in the registry yet")


def release_scan(ctx: LabContext) -> ScanReport:
    """The checker's scan of ``team/app:1.1.0`` as the registry holds it now (cached by digest)."""
    return registry_scan(ctx, REPO, VERSION)


def _fixable(entry_id: str) -> list[str]:
    """The fixed versions the course's advisories give for the flaw ``entry_id`` (any of its ids)."""
    wanted = entry_id.upper()
    fixes = []
    for advisory in load():
        if wanted in (i.upper() for i in advisory.ids):
            fixes += [f for affected in advisory.affected for r in affected.ranges if r.type != "GIT"
                      for f in r.fixed]
    return sorted(set(fixes))


def gate_intact() -> Predicate:
    """pipeline.toml loads, fails on CRITICAL (or stricter) with the course scanner, requires pinned bases, and its
    allow-list has no entry without a reason and a live expiry, nor one for a flaw that has a fix."""

    def check(ctx: LabContext) -> Outcome:
        path = ctx.workdir / CONFIG
        if not path.is_file():
            return Outcome.fail(f"there is no {CONFIG} in the work folder: lab.reset() brings the team's back")
        allow = ctx.workdir / ALLOWLIST
        try:
            config = load_config(path)
        except PortsideError as err:
            return Outcome.fail(f"{CONFIG} cannot be used: {getattr(err, 'message', str(err))}")
        scan_config = config.scan
        if scan_config.fail_on is None:
            return Outcome.fail(f'{CONFIG} switches the gate off (fail_on = "none"): nothing can block a release')
        if not scan_config.uses_portside:
            return Outcome.fail(f'{CONFIG} drops the course scanner from the gate (scanner = "{scan_config.scanner}"): '
                                'keep scanner = "portside" (or "both")')
        if config.build.base_pin != "require":
            return Outcome.fail(f'{CONFIG} lets a FROM by tag through (base_pin = "{config.build.base_pin}")')
        if scan_config.allowlist is None or scan_config.allowlist != allow.resolve():
            return Outcome.fail(f"{CONFIG} no longer reads the team's {ALLOWLIST}: keep allowlist = \"{ALLOWLIST}\"")
        for entry in scan_config.allow:
            if entry.expired():
                return Outcome.fail(f"{ALLOWLIST} still lists {entry.id}, expired on {entry.expires}: an expired "
                                    "exception allows nothing, delete it")
            fixes = _fixable(entry.id)
            if fixes:
                return Outcome.fail(f"{ALLOWLIST} waves through {entry.id}, which has a fix ({', '.join(fixes)}): "
                                    "upgrade instead of accepting it")
        return Outcome.ok()

    return check


def gate_passes() -> Predicate:
    """The checker's own scan of team/app:1.1.0 from the registry sees the app's packages and no CRITICAL finding."""

    def check(ctx: LabContext) -> Outcome:
        if _current(ctx) is None:
            return _not_pushed()
        report = release_scan(ctx)
        if not report.inventory.find(VULNERABLE[0]):
            return Outcome.fail(f"the SBOM of {REPO}:{VERSION} lists no {VULNERABLE[0]}: the scanner cannot see the "
                                "app's dependencies, so its verdict says nothing about them")
        verdict = gate(report, fail_on=Severity.CRITICAL)
        if verdict.passed:
            return Outcome.ok()
        blocking = sorted({f"{f.package} {f.installed} ({f.id}, fixed in {f.fixed})" for f in verdict.blocking})
        return Outcome.fail(f"{len(verdict.blocking)} CRITICAL finding(s) in {REPO}:{VERSION} as pushed: "
                            + ", ".join(blocking))

    return check


def _signed(ctx: LabContext, digest: str) -> bool:
    """Some signature (whoever made it) is stored for ``REPO@digest``."""
    key = ("lab07-signed", REPO, digest)
    if key not in ctx._answers:
        index, bundles = read_referrers(ctx.client(), REPO, digest)
        ctx._answers[key] = index is not None and any(b.is_signature for b in bundles)
    return bool(ctx._answers[key])


def _verified(ctx: LabContext, digest: str, kind: str) -> list[dict[str, Any]] | None:
    """What cosign verifies on ``REPO@digest`` with the team's key: signature payloads, or SBOM statements."""
    key = ("lab07-verified", kind, digest)
    if key not in ctx._answers:
        ref = ctx.ref(REPO, digest=digest)
        public = ctx.state.folder / TEAM_KEY
        try:
            found = cosign.verify(ref, public) if kind == "signature" else \
                cosign.verify_attestation(ref, public, "cyclonedx")
        except cosign.VerificationFailed:
            found = None
        ctx._answers[key] = found
    return cast("list[dict[str, Any]] | None", ctx._answers[key])


def signed_by_team() -> Predicate:
    """team/app:1.1.0, as it is now, carries a signature that verifies with the team's key."""

    def check(ctx: LabContext) -> Outcome:
        digest = _current(ctx)
        if digest is None:
            return _not_pushed()
        if _verified(ctx, digest, "signature") is not None:
            return Outcome.ok()
        if _signed(ctx, digest):
            return Outcome.fail(f"{REPO}:{VERSION} carries a signature, but not one the team's key verifies: sign "
                                "with keys/cosign.key")
        old = {ctx.facts.get("old_signed"), ctx.facts.get("old_release"), digest}
        stale = {d for d, _ in filter(None, map(subject_of_tag, ctx.tags(REPO)))} - old
        if any(_signed(ctx, d) for d in sorted(stale)):
            return Outcome.fail(f"{REPO} holds a signature for an image {REPO}:{VERSION} no longer names: the tag "
                                "moved after signing")
        return Outcome.fail(f"{REPO}:{VERSION} carries no signature")

    return check


def _components(statements: list[dict[str, Any]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for statement in statements:
        for component in (statement.get("predicate") or {}).get("components") or []:
            if isinstance(component, dict) and component.get("name"):
                found.setdefault(str(component["name"]).lower(), str(component.get("version", "")))
    return found


def sbom_attested() -> Predicate:
    """A CycloneDX SBOM attestation by the team's key on team/app:1.1.0 that describes this image."""

    def check(ctx: LabContext) -> Outcome:
        digest = _current(ctx)
        if digest is None:
            return _not_pushed()
        statements = _verified(ctx, digest, "sbom")
        if not statements:
            return Outcome.fail(f"no CycloneDX SBOM attestation on {REPO}:{VERSION} verifies with the team's key")
        listed = _components(statements)
        package = VULNERABLE[0]
        installed = [p.version for p in release_scan(ctx).inventory.find(package)]
        if listed.get(package.lower()) not in installed:
            return Outcome.fail(f"the attested SBOM says {package} {listed.get(package.lower(), '(absent)')}, the "
                                f"image holds {', '.join(installed) or 'none'}: it was made from another image")
        return Outcome.ok()

    return check


def deploys_by_digest() -> Predicate:
    """pipeline.toml deploys what the verify step approved: no ``[deploy] image``, or one named by digest."""

    def check(ctx: LabContext) -> Outcome:
        try:
            config = load_config(ctx.workdir / CONFIG)
        except PortsideError as err:
            return Outcome.fail(f"{CONFIG} cannot be used: {getattr(err, 'message', str(err))}")
        reference = config.deploy_reference()
        if reference is not None and not reference.digest:
            return Outcome.fail(f"{CONFIG} deploys {reference.path}:{reference.tag}, a tag: what was verified "
                                "is not what the tag names when production pulls it")
        if not config.deploy.keep or config.deploy.name != DEPLOYMENT:
            return Outcome.fail(f'{CONFIG} must keep the deployment "{DEPLOYMENT}" (name = "{DEPLOYMENT}", '
                                "keep = true): the checker looks at it")
        return Outcome.ok()

    return check


def deployed() -> Predicate:
    """The deployment team-app is one container, started from team/app@<1.1.0's digest> by digest, that ran fine."""

    def check(ctx: LabContext) -> Outcome:
        containers = deployments(DEPLOYMENT)
        if not containers:
            return Outcome.fail(f"there is no deployment {DEPLOYMENT} (a container labelled "
                                f"{DEPLOY_LABEL}={DEPLOYMENT})")
        if len(containers) > 1:
            return Outcome.fail(f"{len(containers)} containers claim to be the deployment {DEPLOYMENT}")
        container = containers[0]
        image = str(container.attrs["Config"]["Image"])
        name = image.split("/", 1)[-1]
        if "@sha256:" not in image:
            return Outcome.fail(f"{DEPLOYMENT} runs {name}, named by tag: production must run the digest that was "
                                "verified")
        digest = _current(ctx)
        if digest is None or image != ctx.ref(REPO, digest=digest):
            return Outcome.fail(f"{DEPLOYMENT} runs a digest that is not the one {REPO}:{VERSION} names")
        state = container.attrs.get("State") or {}
        if not state.get("Running") and int(state.get("ExitCode", 1)) != 0:
            return Outcome.fail(f"{DEPLOYMENT} exited with status {state.get('ExitCode')}")
        logs = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        if not logs.startswith(_APP_OUTPUT):
            return Outcome.fail(f"{DEPLOYMENT} does not run the app: it printed no report")
        return Outcome.ok()

    return check


# -- requirements -----------------------------------------------------------------------------------------------
GATE_INTACT = Requirement(
    "the team's gate is on: fail on CRITICAL, no exception without a reason, an expiry and a flaw that has no fix",
    gate_intact(),
    hints=[
        "A gate that is off, or an exception that waves a fixable flaw through, hides the problem from every later "
        f"step — the signature and the deployment would then vouch for a vulnerable image. Read {CONFIG}'s [scan].",
        f'Set fail_on = "critical" again (keep scanner = "portside", allowlist = "{ALLOWLIST}", base_pin = '
        f'"require"). An entry in {ALLOWLIST} needs a reason and an expiry in the future, and is for a flaw nobody '
        "can fix yet: one that has a fixed version is fixed by upgrading.",
        f'Idea: fail_on = "critical" in {CONFIG}, and {ALLOWLIST} with comments only; the fix goes into the image.',
    ],
)

def pushed() -> Predicate:
    """team/app:1.1.0 is in the registry (the detail names the releases there, not cosign's referrers tags)."""

    def check(ctx: LabContext) -> Outcome:
        if _current(ctx) is not None:
            return Outcome.ok()
        releases = ", ".join(sorted(t for t in ctx.tags(REPO) if subject_of_tag(t) is None)) or "nothing"
        return Outcome.fail(f"{REPO}:{VERSION} is not in the registry yet (it holds {releases})")

    return check


PUSHED = Requirement(
    f"{REPO}:{VERSION} is in the registry",
    pushed(),
    hints=[
        "The pipeline pushes only what passed its gate, so 1.1.0 reaches the registry once the image is fixed and "
        "the gate is on.",
        f"Run the pipeline up to the push: portside pipeline run -c {CONFIG} --until push (in Python: "
        f"Pipeline(pipeline_file(lab), registry=lab).run(until='push')) and read where it stops.",
        "Idea: fix the image and the gate, then run the pipeline up to its push step.",
    ],
)

GATE_PASSES = Requirement(
    f"the checker's own scan of {REPO}:{VERSION} finds no CRITICAL flaw",
    gate_passes(),
    hints=[
        "The checker scans what the registry holds, with the team's threshold. The scan step's verdict names each "
        "flaw, the version installed and the version that fixes it.",
        "The flaw is in a pinned dependency: app/requirements.txt pins it. The wheel cache in app/wheels/ holds "
        "the versions you can install offline; bump the pin (and commit it: the sha- tag names the commit).",
        f"Idea: pin {VULNERABLE[0]} to a fixed version that app/wheels/ holds, then run the pipeline again.",
    ],
)

SIGNED = Requirement(
    f"{REPO}:{VERSION}, as it is now, is signed with the team's key",
    signed_by_team(),
    hints=[
        "A signature belongs to a digest. The checker verifies the digest the tag names now, with its own copy of "
        "the team's public key (keys/cosign.pub when the lab started).",
        "The pipeline's sign step signs the digest it pushed with [sign] key; if anything pushed to the tag after "
        "that, the signature stayed with the old digest. Sign with keys/cosign.key, not a key of your own.",
        "Idea: run the whole pipeline once more, and push nothing to team/app:1.1.0 by hand afterwards.",
    ],
)

ATTESTED = Requirement(
    f"a CycloneDX SBOM attestation of {REPO}:{VERSION} verifies with the team's key and describes it",
    sbom_attested(),
    hints=[
        "The deploy gate scans the SBOM that was signed, so the attestation must be there, by the team's key, and "
        "be the SBOM of this very image.",
        "The pipeline's sign step attests the SBOM after it signs (cosign attest --type cyclonedx). An SBOM of "
        "another build lists other versions.",
        "Idea: let the pipeline sign and attest the digest it pushed, in one run.",
    ],
)

BY_DIGEST = Requirement(
    f"{CONFIG} deploys what it verified: by digest, never by tag",
    deploys_by_digest(),
    hints=[
        "A tag is checked once and pulled later: in between, it can be moved to an image nobody verified — as "
        "1.0.0's tag was moved after it was signed.",
        f"Read [deploy] in {CONFIG}: `image` names what to deploy. Without it, the verify step resolves 1.1.0 to a "
        "digest once and the deploy step runs exactly that digest.",
        "Idea: delete the `image = …` line of [deploy] (keep name, keep = true and the labels).",
    ],
)

DEPLOYED = Requirement(
    f"the deployment {DEPLOYMENT} runs {REPO}:{VERSION}'s signed digest, named by digest",
    deployed(),
    hints=[
        f"The checker reads the container labelled {DEPLOY_LABEL}={DEPLOYMENT}: which image reference it was "
        "started from, and what it printed.",
        "The pipeline's deploy step replaces the deployment with a container started from REPO@sha256:… — the "
        "digest its verify step approved — once verify passes.",
        "Idea: with the image, the gate and [deploy] fixed, run the whole pipeline: portside pipeline run.",
    ],
)


# -- solutions -----------------------------------------------------------------------------------------------------
def _fix_image_and_gate(ctx: LabContext) -> None:
    """Bump the vulnerable pin (and commit it), switch the gate back on, empty the allow-list: idempotent."""
    requirements = ctx.workdir / "app" / "requirements.txt"
    fixed = dict(line.split("==", 1) for line in sample_app.requirements_file("fixed").read_text().splitlines()
                 if "==" in line and not line.startswith("#"))
    name = VULNERABLE[0]
    text = requirements.read_text(encoding="utf-8").replace(f"{name}=={VULNERABLE[1]}", f"{name}=={fixed[name]}")
    requirements.write_text(text, encoding="utf-8")
    if git(ctx.workdir / "app", "status", "--porcelain"):
        git(ctx.workdir / "app", "commit", "--quiet", "--all", "--message", f"{name} {fixed[name]}: fixes the gate")
    config = ctx.workdir / CONFIG
    config.write_text(config.read_text(encoding="utf-8").replace('fail_on = "none"', 'fail_on = "critical"'),
                      encoding="utf-8")
    (ctx.workdir / ALLOWLIST).write_text(ALLOWLIST_TEXT, encoding="utf-8")


def _fix_deploy(ctx: LabContext) -> None:
    config = ctx.workdir / CONFIG
    text = config.read_text(encoding="utf-8").replace(f'# what production runs\nimage = "{REPO}:{VERSION}"\n', "")
    config.write_text(text, encoding="utf-8")


def _solve_gate(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    _fix_image_and_gate(ctx)
    result = Pipeline(ctx.workdir / CONFIG, registry=ctx).run(until="push")
    if not result.passed:
        raise LabError(f"The scripted solution's pipeline did not pass:\n{result}")


def _solve_release(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    if not GATE_INTACT.evaluate(ctx).passed:
        _fix_image_and_gate(ctx)
    _fix_deploy(ctx)
    result = Pipeline(ctx.workdir / CONFIG, registry=ctx).run()
    if not result.released:
        raise LabError(f"The scripted solution's pipeline did not release:\n{result}")


LAB = Lab(
    slug=SLUG,
    title="Make the release pipeline green",
    images=[sample_app.BASE, "busybox:1.35"],
    users=(),
    setup=_setup,
    tasks=[
        Task(1, f"Pass the gate with {REPO}:{VERSION}, by fixing the image", [GATE_INTACT, PUSHED, GATE_PASSES],
             _solve_gate),
        Task(2, f"Release {REPO}:{VERSION}: signed, attested, deployed by digest",
             [SIGNED, ATTESTED, BY_DIGEST, DEPLOYED], _solve_release),
    ],
)
