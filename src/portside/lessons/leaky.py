"""The secret-in-a-layer demo: one small build done the wrong way and the right way.

A build often needs a credential for one step — a token to fetch a private package, a
cloud key to download an artifact. The Dockerfiles in ``apps/leaky/`` all do the same
job ("fetch" a private dependency with an AWS-style credentials file) three ways:

* ``Dockerfile.leaky`` copies the file in one layer and deletes it in the next: the
  final file system has no credential, but the COPY layer still carries it;
* ``Dockerfile.multistage`` uses the file in a first stage and starts the final stage
  again from the base image, copying out only the result;
* ``Dockerfile.buildsecret`` mounts it as a BuildKit build secret for one ``RUN``.
  The course's engine runs the legacy builder, which rejects ``RUN --mount``: the
  lessons show that file as text.

The credentials are made up for each build (:func:`fake_credentials`): random values
in the shape of an AWS key pair, valid nowhere. They are never printed.
"""

from __future__ import annotations

import io
import secrets
import string
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import docker.errors

from portside import engine
from portside.base.labels import course_labels
from portside.engine.buildcache import guarded, remove_discarded_stages, step_ids
from portside.errors import BuildError, PortsideError, UsageError, engine_detail, engine_error
from portside.setup.images import require_base

__all__ = ["BASE", "CREDENTIALS_PATH", "VARIANTS", "LeakyBuild", "app_dir", "build", "dockerfile",
           "fake_credentials", "remove"]

Variant = Literal["leaky", "multistage", "buildsecret"]

#: the Dockerfile of each variant, in ``apps/leaky/``
VARIANTS: dict[str, str] = {
    "leaky": "Dockerfile.leaky",
    "multistage": "Dockerfile.multistage",
    "buildsecret": "Dockerfile.buildsecret",
}
BASE = "busybox:1.35"
CREDENTIALS_PATH = "root/.aws/credentials"  #: where the build puts the file (in the image)
_FIXED_MTIME = 1_700_000_000


def app_dir() -> Path:
    """The folder with the demo's Dockerfiles (``src/portside/lessons/apps/leaky``)."""
    return Path(__file__).resolve().parent / "apps" / "leaky"


def dockerfile(variant: Variant) -> str:
    """The text of one variant's Dockerfile."""
    try:
        return (app_dir() / VARIANTS[variant]).read_text(encoding="utf-8")
    except KeyError:
        raise UsageError(f"There is no leaky-demo variant {variant!r}.",
                         hint=f"Pick one of {', '.join(VARIANTS)}.") from None


def fake_credentials() -> str:
    """An AWS-style credentials file with random values: the shape scanners look for, valid nowhere."""
    upper = string.ascii_uppercase + string.digits
    key_id = "AKIA" + "".join(secrets.choice(upper) for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
    return f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"


@dataclass(frozen=True)
class LeakyBuild:
    """A built variant: its name and id, and the credentials it was built with (never shown)."""

    variant: str
    image: str
    image_id: str
    credentials: str = field(repr=False)
    #: intermediate images of discarded stages the legacy builder left behind, removed after the build
    removed_intermediates: int = 0
    #: the (short) id of the image after each build step, as the builder printed them
    steps: tuple[str, ...] = field(default=(), repr=False)


def _context(variant: Variant, credentials: str) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile(variant).encode()), ("credentials", credentials.encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), _FIXED_MTIME, 0o600
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def build(variant: Variant, tag: str, *, credentials: str | None = None) -> LeakyBuild:
    """Build one variant as ``tag`` with (fake) credentials in its build context; returns the build.

    ``buildsecret`` needs BuildKit: on the legacy builder it fails with a clear error.
    """
    if variant not in VARIANTS:
        dockerfile(variant)  # raises the clear error
    credentials = credentials if credentials is not None else fake_credentials()
    cli = engine.client()
    require_base(BASE, for_what=f"the {variant} demo")
    return guarded(lambda: _build_and_clean(cli, variant, tag, credentials))  # the step cache is shared


def _build_and_clean(cli: Any, variant: Variant, tag: str, credentials: str) -> LeakyBuild:
    image, log = _build(cli, variant, tag, credentials)
    text = "".join(str(entry.get("stream", "")) for entry in log)
    removed = remove_discarded_stages(image.id, text, base=BASE)
    return LeakyBuild(variant, tag, str(image.id), credentials, removed, tuple(step_ids(text)))


def _build(cli: Any, variant: Variant, tag: str, credentials: str) -> tuple[Any, Any]:
    try:
        return cli.images.build(fileobj=_context(variant, credentials), custom_context=True, tag=tag,  # type: ignore[no-any-return]
                                rm=True, forcerm=True, pull=False, labels=course_labels("leaky-demo"))
    except docker.errors.BuildError as exc:
        reason = str(exc.msg or exc)
        if "--mount" in reason or "mount" in reason.lower():
            # the base class on purpose: lesson 04 shows this error, and its saved output names PortsideError
            raise PortsideError(
                f"Building the {variant} demo failed: this engine's builder does not understand `RUN --mount` "
                f"({reason.strip()}).",
                hint="Build secrets need BuildKit (`docker buildx build`, or DOCKER_BUILDKIT=1 on Docker 18.09+); "
                     "without it, use a multi-stage build (Dockerfile.multistage).") from None
        raise BuildError(f"Building the {variant} demo failed: {reason}") from None
    except docker.errors.APIError as exc:
        raise engine_error(exc, "Building the demo", variant, instead={
            "other": BuildError(f"Building the {variant} demo failed: {engine_detail(exc)}")}) from None


def remove(*images: str | LeakyBuild) -> None:
    """Remove demo images (by name or build) that the course built; others are left alone."""
    cli = engine.client()
    for item in images:
        name = item.image if isinstance(item, LeakyBuild) else item
        try:
            found = cli.images.get(name)
        except docker.errors.ImageNotFound:
            continue
        if (found.labels or {}).get("org.portside.kind") == "leaky-demo":
            try:
                cli.images.remove(name, force=True)
            except docker.errors.NotFound:
                pass
