"""Shared predicates: small factories that return a check over live state.

Every lab builds its requirements from these, e.g.::

    Requirement("learner/hello:1 and :1.0 are one image",
                tags_share_digest("learner/hello", ["1.0", "1"]),
                hints=[...])

A predicate asks the registry (through its HTTP API), the engine or a real tool
(cosign) — never printed text. It returns an :class:`~portside.labs.model.Outcome`
whose ``detail`` tells the learner what was actually found. Details name
repositories and tags only: no ports, digests or timings, so the text is the same
on every run. A predicate that cannot look (registry down) raises a
:class:`~portside.errors.PortsideError`; the requirement then fails with that text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import docker.errors
import requests

from portside.engine.identity import same_image
from portside.errors import ImageUnavailable, LabError, RegistryAuthError, RegistryError, http_error
from portside.labs.model import Outcome
from portside.oci import credentials
from portside.security.scan import ScanReport, scan

if TYPE_CHECKING:
    from portside.labs.context import LabContext
    from portside.labs.model import Predicate

__all__ = [
    "ANSWER_SECONDS",
    "anonymous_refused",
    "logged_in",
    "manifest_deleted",
    "registry_scan",
    "repository_lacks_tag",
    "signed_by_key",
    "tag_exists",
    "tag_is_image",
    "tags_share_digest",
    "user_can_pull",
]

#: seconds one plain request of a check may take: a registry just started on a loaded machine took more than 5
ANSWER_SECONDS = 30.0

#: a value known when the lab is written, or computed from the lab's context (e.g. a fact set by ``setup``)
Deferred = str | Callable[["LabContext"], str]


def _resolve(value: Deferred, ctx: LabContext) -> str:
    return value(ctx) if callable(value) else value


def _whats_there(ctx: LabContext, repo: str) -> str:
    """A short, stable description of what the registry holds, for a 'not found' detail."""
    tags = sorted(ctx.tags(repo))
    if tags:
        return f"{repo} has {'tag' if len(tags) == 1 else 'tags'} {', '.join(tags)}"
    if ctx.room is not None:  # a learner may not list a shared room's repositories
        return f"there is no repository {repo} in your namespace {ctx.room.account}"
    repos = sorted(ctx.catalog())
    if not repos:
        return f"there is no repository {repo}: the registry is empty"
    return f"there is no repository {repo} (the registry holds: {', '.join(repos)})"


#: the checkers' scans of images in a lab registry, by digest (what a digest names never changes)
_SCANS: dict[str, ScanReport] = {}


def registry_scan(ctx: LabContext, repo: str, tag: str) -> ScanReport:
    """The checker's own scan of ``repo:tag`` as the lab registry holds it now (cached by digest)."""
    digest = ctx.digest(repo, tag)
    if digest is None:
        raise LabError(f"{repo}:{tag} is not in the lab registry.")
    if digest not in _SCANS:
        _SCANS[digest] = scan(ctx.ref(repo, digest=digest), from_registry=True)
    return _SCANS[digest]


def tag_exists(repo: str, tag: str) -> Predicate:
    """``repo:tag`` is in the lab's registry."""

    def check(ctx: LabContext) -> Outcome:
        if ctx.digest(repo, tag) is not None:
            return Outcome.ok()
        return Outcome.fail(f"{repo}:{tag} not found — {_whats_there(ctx, repo)}")

    return check


def tags_share_digest(repo: str, tags: Sequence[str]) -> Predicate:
    """Every tag in ``tags`` exists in ``repo`` and all point at one manifest digest."""

    def check(ctx: LabContext) -> Outcome:
        digests = {tag: ctx.digest(repo, tag) for tag in tags}
        missing = [tag for tag, digest in digests.items() if digest is None]
        if missing:
            return Outcome.fail(f"{repo} lacks {', '.join(missing)} — {_whats_there(ctx, repo)}")
        first = tags[0]
        different = [tag for tag in tags[1:] if digests[tag] != digests[first]]
        if different:
            return Outcome.fail(f"{repo}:{', '.join(different)} points at a different manifest than {repo}:{first}")
        return Outcome.ok()

    return check


def repository_lacks_tag(repo: str, tag: str = "latest") -> Predicate:
    """``repo`` has no ``tag`` (by default: no ``latest``)."""

    def check(ctx: LabContext) -> Outcome:
        if tag in ctx.tags(repo):
            return Outcome.fail(f"{repo} has a tag {tag}")
        return Outcome.ok()

    return check


def manifest_deleted(repo: str, digest: Deferred) -> Predicate:
    """The manifest ``digest`` is gone from ``repo`` (``digest`` may be ``lambda ctx: ctx.facts[...]``)."""

    def check(ctx: LabContext) -> Outcome:
        wanted = _resolve(digest, ctx)
        if ctx.digest(repo, wanted) is None:
            return Outcome.ok()
        tags = sorted(t for t in ctx.tags(repo) if ctx.digest(repo, t) == wanted)
        where = f" (tagged {', '.join(tags)})" if tags else " (untagged, still fetchable by digest)"
        return Outcome.fail(f"the old manifest is still in {repo}{where}")

    return check


def anonymous_refused() -> Predicate:
    """An anonymous ``GET /v2/`` is answered with 401: the registry wants a login."""

    def check(ctx: LabContext) -> Outcome:
        # A plain request on purpose: RegistryClient would fall back to the course's saved login.
        try:
            response = requests.get(f"{ctx.url}/v2/", timeout=ANSWER_SECONDS,
                                    verify=str(ctx.ca_file) if ctx.ca_file else True)
        except requests.RequestException as exc:
            raise http_error(exc, ctx.url, path="/v2/", ca_file=ctx.ca_file) from None
        if response.status_code == 401:
            return Outcome.ok()
        return Outcome.fail(f"an anonymous request was answered {response.status_code}, not 401: anyone can read it")

    return check


def user_can_pull(repo: str, tag: str, user: str | None = None) -> Predicate:
    """``user`` (default: the lab's main user) can fetch ``repo:tag``: its manifest and every blob it names."""

    def check(ctx: LabContext) -> Outcome:
        who = user or ctx.user
        try:
            client = ctx.client(who)
            manifest = client.manifest(repo, tag).json()
        except RegistryAuthError:
            return Outcome.fail(f"the registry refused {who}'s credentials")
        except RegistryError as err:
            if err.status == 404:
                return Outcome.fail(f"{repo}:{tag} not found — {_whats_there(ctx, repo)}")
            raise
        blobs: list[str] = []
        if "manifests" in manifest:  # an index: check the per-platform manifests exist
            for entry in manifest["manifests"]:
                if client.digest(repo, entry["digest"]) is None:
                    return Outcome.fail(f"a platform manifest of {repo}:{tag} is missing")
        else:
            blobs = [manifest["config"]["digest"], *(layer["digest"] for layer in manifest.get("layers", []))]
        missing = [b for b in blobs if not client.blob_exists(repo, b)]
        if missing:
            return Outcome.fail(f"{len(missing)} blob(s) of {repo}:{tag} are missing: a pull would fail")
        return Outcome.ok()

    return check


def logged_in(user: str | None = None) -> Predicate:
    """The course's Docker client is logged in to the lab registry as ``user``, with a password that works now."""

    def check(ctx: LabContext) -> Outcome:
        who = user or ctx.user
        saved = credentials.saved_login(ctx.address)
        if saved is None:
            return Outcome.fail("the course's Docker config holds no login for the lab registry")
        name = saved.user
        if name != who:
            return Outcome.fail(f"logged in as {name!r}, not as {who!r}")
        status = ctx.endpoint.as_user(name, saved.password).client().ping()
        if status != 200:
            return Outcome.fail(f"the saved password of {name!r} is refused by the registry (log in again)")
        return Outcome.ok()

    return check


def tag_is_image(repo: str, tag: str, image: str) -> Predicate:
    """``repo:tag`` in the registry is the local image ``image``.

    The same image has the same config digest (the image ID on the classic store) and the same manifest
    digest (the image ID on the containerd store): :func:`portside.engine.identity.same_image`.
    """

    def check(ctx: LabContext) -> Outcome:
        try:
            local = ctx.docker.images.get(image)
        except docker.errors.ImageNotFound:
            raise ImageUnavailable(f"The image {image} is not on this machine.",
                                   hint="Run `portside images ensure`, then reset the lab.") from None
        digest = ctx.digest(repo, tag)
        if digest is None:
            return Outcome.fail(f"{repo}:{tag} not found — {_whats_there(ctx, repo)}")
        manifest = ctx.manifest(repo, tag).json()
        config = (manifest.get("config") or {}).get("digest")
        if same_image(local, manifest_digest=digest, config=config):
            return Outcome.ok()
        if config is None:
            return Outcome.fail(f"{repo}:{tag} is a multi-platform index, not the single image {image}")
        return Outcome.fail(f"{repo}:{tag} holds a different image than {image}")

    return check


def signed_by_key(repo: str, tag: str, public_key: str | Path | Callable[[LabContext], Path]) -> Predicate:
    """cosign verifies a signature on the manifest ``repo:tag`` points at now, with ``public_key``.

    The key may be a path or ``lambda ctx: ctx.workdir / "cosign.pub"``. Verification
    runs against the digest, so a signature made for an older image under the same tag
    does not count.
    """

    def check(ctx: LabContext) -> Outcome:
        from portside.tools import cosign

        key = public_key(ctx) if callable(public_key) else Path(public_key)
        if not key.is_file():
            return Outcome.fail(f"there is no public key at {key.name}")
        digest = ctx.digest(repo, tag)
        if digest is None:
            return Outcome.fail(f"{repo}:{tag} not found — {_whats_there(ctx, repo)}")
        env: dict[str, str] = {}
        if ctx.ca_file is not None:
            from portside.oci.tls import bundle

            env["SSL_CERT_FILE"] = str(bundle(ctx.ca_file, ctx.workdir / "ca-bundle.pem"))
        try:
            cosign.verify(ctx.ref(repo, digest=digest), key, env=env, registry_username=ctx.user,
                          registry_password=ctx.password)
        except cosign.VerificationFailed:
            return Outcome.fail(f"no signature on {repo}:{tag} (as it is now) verifies with {key.name}")
        return Outcome.ok()

    return check
