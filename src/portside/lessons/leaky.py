"""The secret-in-a-layer demo: one small build done the wrong ways and the right way.

A build often needs a credential for one step — a token to fetch a private package, a
cloud key to download an artifact. The Dockerfiles in ``apps/leaky/`` all do the same
job ("fetch" a private dependency with an AWS-style credential) five ways, all built
with BuildKit (:func:`portside.engine.build.build`, as ``docker buildx build`` does):

* ``Dockerfile.leaky`` copies the credentials file in one layer and deletes it in the
  next: the final file system has no credential, but the COPY layer still carries it;
* ``Dockerfile.arg`` takes the secret key as a build argument (``--build-arg``): no file
  anywhere, but the image history records the value of every argument a ``RUN`` used;
* ``Dockerfile.env`` copies that argument into ``ENV``: the image configuration keeps it,
  and every container started from the image has it in its environment;
* ``Dockerfile.multistage`` uses the file in a first stage and starts the final stage
  again from the base image, copying out only the result: the image is clean, but the
  file was in the build context, which the builder keeps in its cache;
* ``Dockerfile.buildsecret`` mounts it as a build secret (``--secret id=aws,src=…``) for
  one ``RUN``: it is in no layer, no history, no cache and not in the build context.

The credentials are made up for each build (:func:`fake_credentials`): random values
in the shape of an AWS key pair, valid nowhere. They are never printed, and error
messages mask them (BuildKit's own log shows build arguments' values).
"""

from __future__ import annotations

import secrets
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import docker.errors

from portside import engine
from portside.base.labels import course_labels
from portside.engine.build import BuildResult, log_steps
from portside.engine.build import build as buildkit_build
from portside.errors import BuildError, UsageError
from portside.setup.images import require_base

__all__ = ["BASE", "CREDENTIALS_PATH", "SECRET_ARG", "SECRET_ID", "VARIANTS", "LeakyBuild", "app_dir", "build",
           "dockerfile", "fake_credentials", "remove", "secret_key"]

Variant = Literal["leaky", "arg", "env", "multistage", "buildsecret"]

#: the Dockerfile of each variant, in ``apps/leaky/``
VARIANTS: dict[Variant, str] = {
    "leaky": "Dockerfile.leaky",
    "arg": "Dockerfile.arg",
    "env": "Dockerfile.env",
    "multistage": "Dockerfile.multistage",
    "buildsecret": "Dockerfile.buildsecret",
}
#: how each variant is handed the credential: a file in the build context, a build argument, a build secret
_HANDED: dict[Variant, Literal["context", "build-arg", "secret"]] = {
    "leaky": "context", "multistage": "context", "arg": "build-arg", "env": "build-arg", "buildsecret": "secret",
}
BASE = "busybox:1.35"
CREDENTIALS_PATH = "root/.aws/credentials"  #: where the build puts the file (in the image)
SECRET_ARG = "AWS_SECRET_ACCESS_KEY"  #: the build argument of the ``arg`` and ``env`` variants
SECRET_ID = "aws"  #: the build secret's id in ``Dockerfile.buildsecret`` (``--secret id=aws,src=…``)


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


def secret_key(credentials: str) -> str:
    """The ``aws_secret_access_key`` of a credentials file (what the ``arg`` and ``env`` variants are given)."""
    for line in credentials.splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "aws_secret_access_key" and value.strip():
            return value.strip()
    raise UsageError("These credentials have no aws_secret_access_key line.",
                     hint="Use leaky.fake_credentials(), or a file in the same format.")


@dataclass(frozen=True)
class LeakyBuild:
    """A built variant: its name and id, the credentials it was built with and BuildKit's log (never shown)."""

    variant: str
    image: str
    image_id: str
    credentials: str = field(repr=False)
    #: BuildKit's ``--progress=plain`` lines (the ``arg``/``env`` variants' hold the secret key: do not print)
    log: tuple[str, ...] = field(default=(), repr=False)

    @property
    def secret_key(self) -> str:
        """The secret key of :attr:`credentials` (to look for it, never to print it)."""
        return secret_key(self.credentials)

    def steps(self) -> list[tuple[str, str, bool]]:
        """The Dockerfile steps BuildKit ran, as ``(stage, instruction, from cache)``, with the secret key masked."""
        key = self.secret_key
        return [(stage, text.replace(key, "***"), cached) for stage, text, cached in log_steps(self.log)]


def build(variant: Variant, tag: str, *, credentials: str | None = None) -> LeakyBuild:
    """Build one variant as ``tag`` with BuildKit, handing it (fake) credentials its own way; returns the build.

    ``leaky`` and ``multistage`` find the credentials file in their build context, ``arg`` and
    ``env`` get the secret key as the build argument :data:`SECRET_ARG`, ``buildsecret`` as the
    build secret :data:`SECRET_ID` (``docker buildx build --secret id=aws,src=FILE``). No ``RUN``
    step has a network.
    """
    text = dockerfile(variant)  # raises the clear error for an unknown variant
    credentials = credentials if credentials is not None else fake_credentials()
    key = secret_key(credentials)
    require_base(BASE, for_what=f"the {variant} demo")
    with tempfile.TemporaryDirectory(prefix="portside-leaky-") as folder:
        context = Path(folder) / "context"
        context.mkdir()
        (context / "Dockerfile").write_text(text, encoding="utf-8")
        handed = _HANDED[variant]
        secret_file = Path(folder) / "credentials" if handed == "secret" else context / "credentials"
        if handed != "build-arg":
            secret_file.touch(mode=0o600)
            secret_file.write_text(credentials, encoding="utf-8")
        try:
            result: BuildResult = buildkit_build(
                context, tag=tag, labels=course_labels("leaky-demo"), network="none",
                build_args={SECRET_ARG: key} if handed == "build-arg" else None,
                secrets=[f"id={SECRET_ID},src={secret_file}"] if handed == "secret" else ())
        except BuildError as exc:  # BuildKit's log prints build arguments' values: mask the key
            raise BuildError(f"Building the {variant} demo failed: {exc.message.replace(key, '***')}",
                             hint=exc.hint) from None
    return LeakyBuild(variant, tag, result.id, credentials, tuple(result.log))


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
