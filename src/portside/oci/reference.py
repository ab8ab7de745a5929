"""Image references: what ``nginx:alpine`` really means.

A reference names an image as ``[DOMAIN/]PATH[:TAG][@DIGEST]``. Docker fills in
what you leave out, and this module shows the result the same way Docker does
(it uses ``docker-image-py``, a port of Go's ``distribution/reference``):

>>> parse("nginx:alpine").normalized
'docker.io/library/nginx:alpine'
>>> parse("localhost:5000/team/app").normalized
'localhost:5000/team/app:latest'

The first path component is a registry *domain* only if it contains a ``.`` or
a ``:``, or is ``localhost``; otherwise the image lives on Docker Hub.
"""

from __future__ import annotations

from dataclasses import dataclass

from docker_image import digest as _digest
from docker_image import reference as _reference

from portside.errors import InvalidReference

__all__ = ["DEFAULT_DOMAIN", "DEFAULT_TAG", "Reference", "join", "parse", "parsed"]

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"


@dataclass(frozen=True)
class Reference:
    """A parsed image reference.

    ``tag`` and ``digest`` are what was written (``None`` when absent);
    ``normalized`` is the fully qualified form Docker acts on, with the implied
    ``:latest`` added when neither a tag nor a digest was given.
    """

    original: str
    domain: str
    path: str
    tag: str | None
    digest: str | None
    normalized: str

    def __str__(self) -> str:
        """The reference as it was written, so a parsed reference goes wherever a string does."""
        return self.original

    @property
    def repository(self) -> str:
        """``DOMAIN/PATH``: what ``docker push`` and the registry API call the repository."""
        return f"{self.domain}/{self.path}"

    @property
    def registry(self) -> str:
        """Alias of ``domain``: the registry host (and port) the image lives on."""
        return self.domain

    @property
    def tag_or_digest(self) -> str:
        """What the registry's ``/manifests/<reference>`` endpoint takes: the digest if given, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    @property
    def familiar(self) -> str:
        """The short form Docker prints (``nginx:alpine`` for ``docker.io/library/nginx:alpine``)."""
        path = self.path
        if self.domain == DEFAULT_DOMAIN:
            name = path.removeprefix("library/") if path.count("/") == 1 else path
        else:
            name = f"{self.domain}/{path}"
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def join(address: str, repository: str, tag: str | None = None, digest: str | None = None) -> str:
    """``ADDRESS/REPOSITORY[:TAG][@DIGEST]``, as written (:func:`parse` validates it)."""
    return f"{address}/{repository}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def parse(ref: str) -> Reference:
    """Parse and normalise ``ref`` like the Docker CLI; raise :class:`InvalidReference` with the reason."""
    if not isinstance(ref, str):
        raise InvalidReference(f"An image reference must be a string, not {type(ref).__name__}.")
    try:
        named = _reference.Reference.parse_normalized_named(ref)
    except (_reference.InvalidReference, _digest.InvalidDigest) as exc:
        reason = str(exc.args[0]) if exc.args else "invalid reference"
        raise InvalidReference(f"{ref!r} is not a valid image reference: {reason}.") from None
    domain, path = str(named.domain()), str(named.path())
    tag = named["tag"] or None
    digest = named["digest"] or None
    normalized = f"{domain}/{path}"
    if tag:
        normalized += f":{tag}"
    if digest:
        normalized += f"@{digest}"
    if not tag and not digest:
        normalized += f":{DEFAULT_TAG}"
    return Reference(original=ref, domain=domain, path=path, tag=tag, digest=digest, normalized=normalized)


def parsed(ref: str | Reference) -> Reference:
    """``ref`` parsed, or ``ref`` itself when it already is a :class:`Reference`: parse once, pass the value on."""
    return ref if isinstance(ref, Reference) else parse(ref)
