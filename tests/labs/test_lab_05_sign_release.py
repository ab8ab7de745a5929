"""Lab 05-sign-release, proven both ways against the real engine, registry, cosign and syft.

The scripted solution, the learner's way (the solution notebook's calls), the CLI way
(``cosign generate-key-pair``, ``crane digest``, ``cosign sign``/``attest`` with an offline
signing config and trusted root, ``syft scan``) and cosign 2's ``.sig``/``.att`` layout pass
every requirement. Known-bad attempts fail the intended requirement with its first hint, and the
next hint when checked again: a private key handed to the checker, no signature, a signature
made before the tag moved (the tag's old digest), a signature by another key, no attestation,
an attestation by another key, and the SBOM of another image.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from labtools import fails_with_hints

from portside.base.labels import session_id
from portside.base.paths import isolate_docker_config
from portside.base.proc import run
from portside.engine.transfer import push
from portside.errors import PortsideError
from portside.labs import LabSession
from portside.labs import lab05_sign_release as lab05
from portside.labs.context import LabState
from portside.lessons import sample_app
from portside.registry.container import docker_login
from portside.security.signing import TemporaryKeys, referrers_tag, signature_tag, verify_signature
from portside.tools import cosign, install, syft

SLUG = lab05.SLUG
REPO, TAG = lab05.REPO, lab05.TAG


@pytest.fixture
def keys() -> Iterator[TemporaryKeys]:
    with TemporaryKeys() as pair:
        yield pair


@pytest.fixture
def other_keys() -> Iterator[TemporaryKeys]:
    with TemporaryKeys(prefix="other") as pair:
        yield pair


def _release(lab: LabSession) -> str:
    digest = lab.client().digest(REPO, TAG)
    assert digest is not None
    return lab.ref(REPO, digest=digest)


def _sign(lab: LabSession, keys: TemporaryKeys, *, share: TemporaryKeys | None = None) -> str:
    """Tasks 1 and 2 the learner's way (optionally sharing another key than the one that signs)."""
    assert lab.user and lab.password
    lab05.share_public_key(lab, (share or keys).public)
    docker_login(lab.address, lab.user, lab.password)
    ref = _release(lab)
    cosign.sign(ref, keys.private, keys.password)
    return ref


def _attest(lab: LabSession, keys: TemporaryKeys, ref: str, *, sbom_of: str | None = None) -> None:
    sbom = syft.write_sbom(sbom_of or f"registry:{ref}", keys.folder / "sbom.json")
    cosign.attest(ref, sbom, "cyclonedx", keys.private, keys.password)


# -- the start state and the good solution ---------------------------------------------------------------------
def test_solution_passes_every_requirement(lab: LabSession) -> None:
    mine = f"portside-keys-{session_id()}-*"  # this process's key folders (another run may be signing too)
    before = set(Path(tempfile.gettempdir()).glob(mine))
    forwarded = lab.fast_forward(len(lab05.LAB.tasks) + 1)
    assert set(Path(tempfile.gettempdir()).glob(mine)) == before  # its throwaway keys are gone
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)
    lab.fast_forward(len(lab05.LAB.tasks) + 1)  # solving again changes nothing
    assert lab.check().passed


def test_the_learner_way_passes_too(lab: LabSession, keys: TemporaryKeys) -> None:
    lab05.share_public_key(lab, keys.public)
    assert lab.check(1).passed
    ref = _sign(lab, keys)
    assert lab.check(2).passed, repr(lab.check(2))
    assert verify_signature(ref, keys.public, client=lab.client()).passed  # Python agrees with the checker
    _attest(lab, keys, ref)
    report = lab.check()
    assert report.passed, repr(report)


def _cli(tool: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """A ``cosign …``/``crane …``/``syft …`` line as the learner types it: the course's binary and Docker config."""
    isolate_docker_config()
    return run([install.path(tool), *args], cwd=cwd, env=env, timeout=300, what=f"{tool} {args[0]}").stdout


def test_the_cli_way_passes_too(lab: LabSession) -> None:
    """The task texts' commands, run as typed: the registry's state is what is graded, not how it got there."""
    assert lab.user and lab.password
    docker_login(lab.address, lab.user, lab.password)  # what the lab notebook's first cell does
    with tempfile.TemporaryDirectory(prefix=f"portside-keys-{session_id()}-") as folder:
        keydir = Path(folder)
        password = {"COSIGN_PASSWORD": secrets.token_urlsafe(24)}
        _cli("cosign", "generate-key-pair", cwd=keydir, env=password)
        lab05.share_public_key(lab, keydir / "cosign.pub")
        assert lab.check(1).passed

        digest = _cli("crane", "digest", lab.ref(REPO, TAG), cwd=keydir).strip()
        assert digest == lab.client().digest(REPO, TAG)
        release = lab.ref(REPO, digest=digest)
        _cli("cosign", "signing-config", "create", "--out", "signing-config.json", cwd=keydir)
        _cli("cosign", "trusted-root", "create", "--out", "trusted-root.json", cwd=keydir)
        offline = ["--signing-config", "signing-config.json", "--trusted-root", "trusted-root.json"]
        _cli("cosign", "sign", "--key", "cosign.key", *offline, release, cwd=keydir, env=password)
        assert lab.check(2).passed, repr(lab.check(2))
        assert sorted(lab.client().tags(REPO)) == [TAG, referrers_tag(digest)]  # cosign 3's layout: no .sig tag

        _cli("syft", "scan", f"registry:{release}", "-o", "cyclonedx-json=sbom.json", cwd=keydir,
             env={"SYFT_CHECK_FOR_APP_UPDATE": "false"})
        _cli("cosign", "attest", "--key", "cosign.key", "--type", "cyclonedx", "--predicate", "sbom.json", *offline,
             release, cwd=keydir, env=password)
        report = lab.check()
        assert report.passed, repr(report)


def test_cosign_2_layout_passes_too(lab: LabSession, keys: TemporaryKeys) -> None:
    """Signed and attested the way cosign 2 did (``.sig`` and ``.att`` tags, no bundle): the checker reads it too."""
    ref = _release(lab)
    lab05.share_public_key(lab, keys.public)
    assert lab.user and lab.password
    docker_login(lab.address, lab.user, lab.password)
    cosign.sign(ref, keys.private, keys.password, legacy=True)
    digest = ref.rpartition("@")[2]
    assert signature_tag(digest) in lab.client().tags(REPO) and referrers_tag(digest) not in lab.client().tags(REPO)
    assert lab.check(2).passed, repr(lab.check(2))
    sbom = syft.write_sbom(f"registry:{ref}", keys.folder / "sbom.json")
    cosign.attest(ref, sbom, "cyclonedx", keys.private, keys.password, legacy=True)
    report = lab.check()
    assert report.passed, repr(report)


# -- known-bad attempts: task 1 --------------------------------------------------------------------------------
def test_start_state_then_task1_mistakes(lab: LabSession, keys: TemporaryKeys) -> None:
    """CI pushed the app as team/app:1.0, nothing is signed, the checker has no key; then a private key is shared."""
    assert lab.client().tags(REPO) == [TAG]
    assert lab.client().digest(REPO, TAG) == lab.context.facts["release_digest"]
    report = lab.check()
    assert not any(r.passed for t in report.tasks for r in t.results)
    assert lab.check(2).requirement(lab05.RELEASE_SIGNED.name).detail == "team/app:1.0 carries no signature"
    fails_with_hints(lab, lab05.KEY_SHARED, 1, "the checker has no public key of yours yet")
    with pytest.raises(PortsideError, match="private key"):
        lab05.share_public_key(lab, keys.private)
    shutil.copyfile(keys.private, LabState(SLUG).workdir / lab05.PUBLIC_KEY)  # handed over by hand instead
    fails_with_hints(lab, lab05.KEY_SHARED, 1, "the shared file is a PRIVATE key: anyone holding it (and its "
                                                "password) can sign as you")


# -- known-bad attempts: task 2 --------------------------------------------------------------------------------
def test_task2_signed_the_tags_old_digest(lab: LabSession, keys: TemporaryKeys) -> None:
    """Signed, then CI pushed a rebuild under the same tag: the signature stayed with the old image."""
    old = _sign(lab, keys)
    assert lab.check(2).passed
    sample_app.build("vulnerable", lab.ref(REPO, "rebuild"))  # a new local name: no image loses its last one
    push(lab.ref(REPO, "rebuild"), progress=False)
    client = lab.client()
    client.put_manifest(REPO, TAG, client.manifest(REPO, "rebuild"))  # CI moves 1.0 to the rebuild
    assert _release(lab) != old
    fails_with_hints(lab, lab05.RELEASE_SIGNED, 2,
                      "team/app holds a signature, but for an image team/app:1.0 no longer points at: the tag "
                      "moved after it was signed")
    assert lab.check(2).requirement(lab05.SIGNED_BY_YOU.name).detail == \
        "no signature on team/app:1.0 (as it is now) verifies with cosign.pub"
    cosign.verify(old, keys.public)  # the old digest is still signed


def test_task2_signed_with_another_key(lab: LabSession, keys: TemporaryKeys, other_keys: TemporaryKeys) -> None:
    _sign(lab, other_keys, share=keys)
    report = lab.check(2)
    assert report.requirement(lab05.RELEASE_SIGNED.name).passed
    fails_with_hints(lab, lab05.SIGNED_BY_YOU, 2,
                      "no signature on team/app:1.0 (as it is now) verifies with cosign.pub")


# -- known-bad attempts: task 3 --------------------------------------------------------------------------------
def test_task3_no_attestation_another_key_another_image(lab: LabSession, keys: TemporaryKeys,
                                                        other_keys: TemporaryKeys) -> None:
    """Three wrong attestations in a row: none; one by another key; then the SBOM of another image."""
    ref = _sign(lab, keys)
    assert lab.check(2).passed
    fails_with_hints(lab, lab05.ATTESTED, 3, "team/app:1.0 carries no attestation")
    assert lab.check(3).requirement(lab05.SBOM_MATCHES.name).detail == "there is no verified SBOM to look at yet"

    _attest(lab, other_keys, ref)
    fails_with_hints(lab, lab05.ATTESTED, 3, "team/app:1.0 has an attestation, but no CycloneDX attestation on "
                                              "it verifies with your cosign.pub")

    _attest(lab, keys, ref, sbom_of="docker:busybox:1.35")
    assert lab.check(3).requirement(lab05.ATTESTED.name).passed
    pins = sorted(lab05._app_packages())
    fails_with_hints(lab, lab05.SBOM_MATCHES, 3, f"the attested SBOM lacks {len(pins)} of the app's Python "
                                                  f"packages (e.g. {pins[0]}): it was made from another image")
