"""Lab 05 — sign the release.

Scenario: CI has built the team's app (the demo app of lessons 04–05, with its fixed
pins) and pushed it to the lab registry as ``team/app:1.0``. Before anyone may deploy
it, the release must be signed **by digest** with the learner's own key, and its SBOM
attached as a signed attestation.

1. Make a key pair in a private temporary folder (``cosign generate-key-pair``, or
   :class:`portside.security.signing.TemporaryKeys`) and hand the checker the **public** key
   with :func:`share_public_key`.
2. Sign the digest ``team/app:1.0`` points at (``cosign sign --key cosign.key --signing-config …
   --trusted-root … REPO@sha256:…``, or :func:`portside.tools.cosign.sign`).
3. Make the image's CycloneDX SBOM with syft and attach it (``cosign attest --type cyclonedx``, or
   :func:`portside.tools.cosign.attest`).

The real commands and the Python helpers are equally welcome: the checker grades state only.

The checker runs the real cosign (``verify``, ``verify-attestation``) against the
learner's shared public key, always on the digest the tag points at *now*: a signature
made before the tag moved, one made with another key, or a missing attestation each
fail with their own hint. It grades what the registry holds: cosign 3's bundles (listed
under the referrers tag ``sha256-<hex>`` on ``registry:2``), or cosign 2's ``.sig``/``.att``
tags when the learner signed with a cosign 2 of their own.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from portside.engine.transfer import push
from portside.errors import LabError, SigningError
from portside.labs import catalog
from portside.labs.context import LabContext, LabState
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import signed_by_key
from portside.lessons import sample_app
from portside.registry.container import docker_login
from portside.security.signing import (
    TemporaryKeys,
    attestation_tag,
    load_public_key,
    read_referrers,
    referrers_tag,
    signature_tag,
    subject_of_tag,
)
from portside.tools import cosign

__all__ = ["LAB", "PUBLIC_KEY", "REPO", "SLUG", "TAG", "share_public_key"]

SLUG = "05-sign-release"
REPO = "team/app"
TAG = "1.0"
PUBLIC_KEY = "cosign.pub"  #: the file name the checker reads in the lab's work folder


# -- the learner's tool ------------------------------------------------------------------------------------
def share_public_key(lab: Any, public_key: str | Path) -> None:
    """Give the checker your **public** key (copied into the lab's work folder as ``cosign.pub``).

    A private key is refused: verifiers only ever get the ``.pub`` file.
    """
    source = Path(public_key)
    load_public_key(source)  # raises for a private key or anything that is not an ECDSA public key
    dest = LabState(catalog.lab_of(lab, SLUG).slug).workdir / PUBLIC_KEY
    shutil.copyfile(source, dest)
    print(f"Shared {source.name} with the checker (as {PUBLIC_KEY}). Your private key stays where it is.")


# -- helpers for the predicates ---------------------------------------------------------------------------
def _key(ctx: LabContext) -> Path:
    return ctx.workdir / PUBLIC_KEY


def _env(ctx: LabContext) -> dict[str, str]:
    if ctx.ca_file is None:
        return {}
    from portside.oci.tls import bundle

    return {"SSL_CERT_FILE": str(bundle(ctx.ca_file, ctx.workdir / "ca-bundle.pem"))}


def _current(ctx: LabContext) -> str | None:
    return ctx.digest(REPO, TAG)


@dataclass(frozen=True)
class _Stored:
    """What cosign stored for one digest, in either layout (nothing verified yet: that is cosign's job)."""

    signature: bool
    attestation: bool


def _stored(ctx: LabContext, digest: str) -> _Stored:
    """Whether ``REPO@digest`` carries a signature and an attestation: cosign 3 bundles or cosign 2 tags.

    Asked once per digest and check (the answer is kept in the context's cache).
    """
    key = ("cosign-stored", REPO, digest)
    if key not in ctx._answers:
        tags = ctx.tags(REPO)
        signature, attestation = signature_tag(digest) in tags, attestation_tag(digest) in tags
        if referrers_tag(digest) in tags:
            _, bundles = read_referrers(ctx.client(), REPO, digest)
            signature = signature or any(b.is_signature for b in bundles)
            attestation = attestation or any(not b.is_signature for b in bundles)
        ctx._answers[key] = _Stored(signature, attestation)
    return cast("_Stored", ctx._answers[key])


def _signed_elsewhere(ctx: LabContext, digest: str) -> bool:
    """Some other digest of ``REPO`` carries a signature (e.g. the one the tag pointed at before it moved)."""
    others = {found for found, _ in filter(None, map(subject_of_tag, ctx.tags(REPO))) if found != digest}
    return any(_stored(ctx, other).signature for other in sorted(others))


def _app_packages() -> set[str]:
    """The Python packages the release pins (lower case): what its SBOM must list."""
    return {pin.key[0] for pin in sample_app.pins(sample_app.requirements_file("fixed"))}


# -- predicates ------------------------------------------------------------------------------------------------
def public_key_shared() -> Predicate:
    """The lab's work folder holds ``cosign.pub``, an ECDSA public key (and not a private key)."""

    def check(ctx: LabContext) -> Outcome:
        path = _key(ctx)
        if not path.is_file():
            return Outcome.fail("the checker has no public key of yours yet")
        data = path.read_bytes()
        if b"PRIVATE KEY" in data:
            return Outcome.fail("the shared file is a PRIVATE key: anyone holding it (and its password) can sign "
                                "as you")
        try:
            load_public_key(data)
        except SigningError:
            return Outcome.fail("the shared file is not an ECDSA public key in PEM form")
        return Outcome.ok()

    return check


def release_carries_signature() -> Predicate:
    """There is a signature for the digest ``team/app:1.0`` points at now (whoever signed it).

    A cosign 3 bundle labelled as a signature under the digest's referrers tag, or a cosign 2 ``.sig`` tag.
    """

    def check(ctx: LabContext) -> Outcome:
        digest = _current(ctx)
        if digest is None:
            return Outcome.fail(f"{REPO}:{TAG} is not in the registry: run lab.reset() to get the release back")
        stored = _stored(ctx, digest)
        if stored.signature:
            return Outcome.ok()
        if _signed_elsewhere(ctx, digest):
            return Outcome.fail(f"{REPO} holds a signature, but for an image {REPO}:{TAG} no longer points at: "
                                "the tag moved after it was signed")
        if stored.attestation:
            return Outcome.fail(f"{REPO}:{TAG} carries an attestation but no signature: cosign attest vouches for "
                                "the SBOM, cosign sign for the image")
        return Outcome.fail(f"{REPO}:{TAG} carries no signature")

    return check


def _verified_sbom(ctx: LabContext) -> Outcome | list[dict[str, Any]]:
    """The statements ``cosign verify-attestation`` accepts on the current digest, or why there are none.

    Asked once per check (two requirements need it): the answer is kept in the context's cache.
    """
    key = ("verified-sbom", REPO, TAG)
    if key in ctx._answers:
        return cast("Outcome | list[dict[str, Any]]", ctx._answers[key])
    answer: Outcome | list[dict[str, Any]]
    digest = _current(ctx)
    if digest is None:
        answer = Outcome.fail(f"{REPO}:{TAG} is not in the registry: run lab.reset() to get the release back")
    elif not _key(ctx).is_file():
        answer = Outcome.fail("the checker has no public key of yours yet (task 1)")
    elif not _stored(ctx, digest).attestation:
        answer = Outcome.fail(f"{REPO}:{TAG} carries no attestation")
    else:
        try:
            answer = cosign.verify_attestation(ctx.ref(REPO, digest=digest), _key(ctx), "cyclonedx", env=_env(ctx),
                                               registry_username=ctx.user, registry_password=ctx.password)
        except cosign.VerificationFailed:
            answer = Outcome.fail(f"{REPO}:{TAG} has an attestation, but no CycloneDX attestation on it verifies "
                                  f"with your {PUBLIC_KEY}")
    ctx._answers[key] = answer
    return answer


def sbom_attested() -> Predicate:
    """cosign verify-attestation --type cyclonedx finds an attestation by the shared key on the current digest."""

    def check(ctx: LabContext) -> Outcome:
        found = _verified_sbom(ctx)
        return found if isinstance(found, Outcome) else Outcome.ok()

    return check


def _component_names(statements: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        predicate = statement.get("predicate") or {}
        for component in predicate.get("components") or []:
            if isinstance(component, dict) and component.get("name"):
                names.add(str(component["name"]).lower())
    return names


def sbom_describes_release() -> Predicate:
    """The verified SBOM lists the Python packages the release pins (it was made from this image)."""

    def check(ctx: LabContext) -> Outcome:
        found = _verified_sbom(ctx)
        if isinstance(found, Outcome):
            return Outcome.fail("there is no verified SBOM to look at yet")
        listed = _component_names(found)
        missing = sorted(_app_packages() - listed)
        if not listed:
            return Outcome.fail("the attested SBOM lists no packages at all")
        if missing:
            return Outcome.fail(f"the attested SBOM lacks {len(missing)} of the app's Python packages "
                                f"(e.g. {missing[0]}): it was made from another image")
        return Outcome.ok()

    return check


# -- requirements ----------------------------------------------------------------------------------------------
KEY_SHARED = Requirement(
    "your public key is shared with the checker",
    public_key_shared(),
    hints=[
        "The checker verifies with your public key, so it needs a copy — only of the public half. Make a key pair "
        "first, in a private temporary folder, with a password nobody sees.",
        "TemporaryKeys() (from portside.security.signing) runs cosign generate-key-pair in a temporary folder with a "
        "generated password; its .public is the file to share.",
        "Idea: keys = TemporaryKeys(); share_public_key(lab, keys.public) — or, with COSIGN_PASSWORD set, "
        "!cd {keydir} && cosign generate-key-pair, then share_public_key(lab, f'{keydir}/cosign.pub').",
    ],
)

RELEASE_SIGNED = Requirement(
    f"{REPO}:{TAG}, as it is now, carries a signature",
    release_carries_signature(),
    hints=[
        "cosign keeps a signature next to the image, listed under a tag made from the image digest (sha256-<hex>, "
        f"the referrers tag). A signature belongs to that digest, not to the tag: if {REPO}:{TAG} moved after you "
        "signed, your signature stayed with the old image.",
        f"Resolve the digest {REPO}:{TAG} points at now — lab.client().digest(…) or !crane digest — and sign "
        "lab.ref(repository, digest=…), never the tag.",
        "Idea: after docker_login, cosign.sign(lab.ref(REPO, digest=current_digest), keys.private, keys.password); "
        "on the command line: cosign sign --key cosign.key --signing-config signing-config.json --trusted-root "
        "trusted-root.json REF@sha256:… (cosign signing-config create / trusted-root create make the two files).",
    ],
)

SIGNED_BY_YOU = Requirement(
    "that signature verifies with your public key",
    signed_by_key(REPO, TAG, _key),
    hints=[
        "The checker runs cosign verify on the digest team/app:1.0 points at now, with the public key you shared. "
        "Only a signature made with the private key of that same pair passes.",
        "A signature that is there but does not verify was made with another private key: sign with keys.private "
        "of the pair whose keys.public you shared (or share the public key that matches the key you used).",
        "Idea: share_public_key(lab, keys.public), then sign the current digest again with keys.private.",
    ],
)

ATTESTED = Requirement(
    f"a CycloneDX SBOM attestation on {REPO}:{TAG} verifies with your key",
    sbom_attested(),
    hints=[
        "A signature says who vouches for the image; an attestation says something about it — here, its SBOM. "
        "cosign attest signs the SBOM and stores it next to the image, like a signature (one more bundle under "
        "sha256-<hex>).",
        "Make the SBOM with syft from the registry (syft.write_sbom(f'registry:{ref}', path), or !syft scan "
        "registry:REF -o cyclonedx-json=sbom.json), then attach it with cosign.attest(ref, path, 'cyclonedx', "
        "keys.private, keys.password) or !cosign attest --key cosign.key --type cyclonedx --predicate sbom.json "
        "--signing-config … --trusted-root … REF — ref by digest.",
        "Idea: the same digest you signed, the same key pair, predicate type cyclonedx.",
    ],
)

SBOM_MATCHES = Requirement(
    "the attested SBOM describes the release",
    sbom_describes_release(),
    hints=[
        "An SBOM only means something about the image it was made from. The attested one must list the app's "
        "Python packages (gitpython, httpx, …).",
        "Run syft on the release itself, straight from the registry and by digest — not on another image.",
        "Idea: syft.write_sbom(f'registry:{ref}', path) with ref = the release digest, then attest that file.",
    ],
)


# -- start state and solutions ---------------------------------------------------------------------------------
def _setup(ctx: LabContext) -> None:
    """CI's part: build the app with its fixed pins and push it as team/app:1.0."""
    sample_app.build("fixed", ctx.ref(REPO, TAG))
    pushed = push(ctx.ref(REPO, TAG), username=ctx.user, password=ctx.password, progress=False)
    ctx.state.remember(release_digest=pushed.digest)


def _signing_env(ctx: LabContext) -> dict[str, Any]:
    return {"env": _env(ctx), "registry_username": ctx.user, "registry_password": ctx.password}


def _release_ref(ctx: LabContext) -> str:
    digest = ctx.digest(REPO, TAG)
    if digest is None:
        raise LabError(f"{REPO}:{TAG} is gone from the lab registry.", hint="Run lab.reset().")
    return ctx.ref(REPO, digest=digest)


# The scripted solution signs with a throwaway key pair of its own, made in a private temporary
# folder and deleted at once: no private key outlives the step. Each step is self-contained (it
# shares its public key and signs what it needs), so any order of fast_forward calls works.
def _solve_keys(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    shared = public_key_shared()(ctx)
    if isinstance(shared, Outcome) and shared.passed:
        return
    with TemporaryKeys() as keys:
        share_public_key(ctx.lab, keys.public)


def _solve_sign(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    if all(req.evaluate(ctx).passed for req in (RELEASE_SIGNED, SIGNED_BY_YOU)):
        return
    with TemporaryKeys() as keys:
        share_public_key(ctx.lab, keys.public)
        cosign.sign(_release_ref(ctx), keys.private, keys.password, **_signing_env(ctx))


def _solve_attest(ctx: LabContext) -> None:
    from portside.tools import syft

    ctx = LabContext.discover(ctx.lab)
    if all(req.evaluate(ctx).passed for req in (RELEASE_SIGNED, SIGNED_BY_YOU, ATTESTED, SBOM_MATCHES)):
        return
    ref = _release_ref(ctx)
    assert ctx.user and ctx.password
    docker_login(ctx.address, ctx.user, ctx.password)  # syft reads the login from the course's Docker config
    with TemporaryKeys() as keys:
        sbom = syft.write_sbom(f"registry:{ref}", keys.folder / "sbom.json", env=_env(ctx))
        json.loads(sbom.read_text(encoding="utf-8"))  # a readable SBOM, or a clear error here
        share_public_key(ctx.lab, keys.public)
        cosign.sign(ref, keys.private, keys.password, **_signing_env(ctx))
        cosign.attest(ref, sbom, "cyclonedx", keys.private, keys.password, **_signing_env(ctx))


LAB = Lab(
    slug=SLUG,
    title="Sign the release",
    images=[sample_app.BASE],
    setup=_setup,
    users=("learner",),
    tasks=[
        Task(1, "Make your key pair and share the public key", [KEY_SHARED], _solve_keys),
        Task(2, "Sign the release by digest", [RELEASE_SIGNED, SIGNED_BY_YOU], _solve_sign),
        Task(3, "Attest the release's SBOM", [ATTESTED, SBOM_MATCHES], _solve_attest),
    ],
)
