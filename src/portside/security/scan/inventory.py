"""Step 1 of a scan: the inventory — which packages, in which versions, are inside the image.

The real ``syft`` writes it as a CycloneDX SBOM (Software Bill of Materials). Each
component carries a *package URL* (purl) that says its ecosystem::

    pkg:pypi/gitpython@3.1.29
    pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc

Debian advisories are written against the *source* package (``glibc``), not the
binary packages built from it (``libc6``, ``libc-bin``…); syft gives the source in the
purl's ``upstream`` qualifier (``glibc``, or ``glibc@2.36-9`` when its version differs)
and leaves it out when source and binary share a name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from portside.security.scan.cache import cached_sbom, local_digest, registry_digest
from portside.tools import syft

__all__ = ["Inventory", "Package", "inventory", "packages_of", "parse_purl", "source_for"]

_ECOSYSTEMS = {"pypi": "PyPI", "deb": "Debian"}


@dataclass(frozen=True)
class Package:
    """One package found in the image.

    ``ecosystem`` is ``"PyPI"``, ``"Debian"`` or the purl type for others; ``source_name``
    is the Debian source package (``glibc`` for ``libc6``); ``distro`` is e.g. ``debian-12``;
    ``layer`` is the id of the layer that holds it (a base-image layer or the app's own).
    """

    name: str
    version: str
    ecosystem: str
    purl: str
    source_name: str | None = None
    distro: str | None = None
    layer: str | None = None
    path: str | None = None
    bom_ref: str | None = None

    @property
    def distro_release(self) -> str | None:
        """``debian-12`` → ``12``."""
        if not self.distro:
            return None
        return self.distro.rsplit("-", 1)[-1]


@dataclass
class Inventory:
    """What syft found: the image it looked at, its packages, and the CycloneDX SBOM itself."""

    image: str
    packages: list[Package]
    sbom: dict[str, Any] = field(repr=False)

    def by_ecosystem(self) -> dict[str, int]:
        """How many packages of each ecosystem, e.g. ``{"Debian": 98, "PyPI": 14}``."""
        counts: dict[str, int] = {}
        for package in self.packages:
            counts[package.ecosystem] = counts.get(package.ecosystem, 0) + 1
        return dict(sorted(counts.items()))

    def by_layer(self) -> dict[str, list[Package]]:
        """The packages grouped by the layer (diff id) that holds them, in the order syft met the layers.

        The base image's layers hold the operating system's packages; the app's own
        layers hold what its build installed. Rebuilding on a refreshed base replaces
        the first group without touching the second.
        """
        groups: dict[str, list[Package]] = {}
        for package in self.packages:
            groups.setdefault(package.layer or "(unknown layer)", []).append(package)
        return groups

    def find(self, name: str) -> list[Package]:
        """The packages called ``name`` (PyPI names compared per PEP 503)."""
        from portside.security.scan.versions import normalize_name

        return [p for p in self.packages if normalize_name(p.ecosystem, p.name) == normalize_name(p.ecosystem, name)]


def parse_purl(purl: str) -> tuple[str, str, str, dict[str, str]]:
    """``pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`` → (type, name, version, qualifiers), percent-decoded."""
    body = purl.removeprefix("pkg:")
    parts = urlsplit("x:" + body.split("#", 1)[0])
    path, _, version = parts.path.partition("@")
    kind, _, rest = path.partition("/")
    name = rest.rsplit("/", 1)[-1]
    qualifiers = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return kind.lower(), unquote(name), unquote(version), qualifiers


def source_for(purl: str) -> str | None:
    """The Debian source package named by a deb purl's ``upstream`` qualifier, or None."""
    upstream = parse_purl(purl)[3].get("upstream")
    if not upstream:
        return None
    return upstream.split("@", 1)[0]


def _properties(component: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for prop in component.get("properties") or []:
        name, value = prop.get("name"), prop.get("value")
        if isinstance(name, str) and isinstance(value, str):
            found.setdefault(name, value)
    return found


def packages_of(sbom: Mapping[str, Any]) -> list[Package]:
    """The packages of a CycloneDX SBOM made by syft (components with a purl), sorted by ecosystem and name."""
    found: list[Package] = []
    for component in sbom.get("components") or []:
        purl = component.get("purl")
        if not isinstance(purl, str) or not purl.startswith("pkg:"):
            continue
        kind, name, version, qualifiers = parse_purl(purl)
        ecosystem = _ECOSYSTEMS.get(kind, kind)
        props = _properties(component)
        source = source_for(purl) if ecosystem == "Debian" else None
        found.append(Package(
            name=str(component.get("name") or name),
            version=str(component.get("version") or version),
            ecosystem=ecosystem,
            purl=purl,
            source_name=(source or str(component.get("name") or name)) if ecosystem == "Debian" else None,
            distro=qualifiers.get("distro"),
            layer=props.get("syft:location:0:layerID"),
            path=props.get("syft:location:0:path"),
            bom_ref=component.get("bom-ref"),
        ))
    return sorted(found, key=lambda p: (p.ecosystem, p.name.lower(), p.version))


#: skip hashing every file a package owns: the CycloneDX output is the same, the scan ~20 % faster
_FAST = {"SYFT_FILE_METADATA_SELECTION": "none", "SYFT_FILE_METADATA_DIGESTS": ""}


def _require_local(image: str) -> str:
    """The engine's image ID of ``image``; fails early, and clearly, when the engine has no such image."""
    import docker.errors

    from portside.engine.daemon import client
    from portside.errors import ImageUnavailable, engine_detail, engine_error

    try:
        return str(client().images.get(image).id)
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"There is no image {image} on this machine to scan.",
                               hint="Build or pull it first (`docker images` lists what is here), or scan it "
                                    "straight from its registry with --from-registry / from_registry=True.") from None
    except docker.errors.APIError as exc:
        raise engine_error(exc, "Looking up", image, instead={"other": ImageUnavailable(
            f"The engine could not look up {image}: {engine_detail(exc)}.", hint="Check the image reference.")}) \
            from None


def _local_digest_now(image: str) -> str | None:
    """The image ID ``image`` names now, or None if the engine no longer has it."""
    import docker.errors

    try:
        return local_digest(image)
    except docker.errors.DockerException:
        return None


def _local_digests(image: str, checked: str) -> Callable[[], str | None]:
    """The image ID of ``image``: first the one :func:`_require_local` just read, then asked anew each call."""
    first = iter([checked])

    def digest() -> str | None:
        return next(first, None) or _local_digest_now(image)

    return digest


def inventory(image: str, *, from_registry: bool = False, env: Mapping[str, str] | None = None,
              sbom: Mapping[str, Any] | None = None, cache: bool | None = None) -> Inventory:
    """Run syft on ``image`` (from the local engine, or straight from its registry) and list its packages.

    ``env`` goes to syft (for example ``SSL_CERT_FILE`` for a registry with the course
    CA). Pass an ``sbom`` you already have to skip running syft.

    syft's document is cached by the image's digest (the engine's image ID, or the
    registry's manifest digest), the source string, syft's version and its options:
    the same request for the same bytes gets back exactly the document syft wrote the
    first time, in milliseconds instead of seconds; any other image, name, syft or
    option misses (see :mod:`portside.security.scan.cache` for why that is correct). ``cache=False``
    (or ``PORTSIDE_SBOM_CACHE=0``) always runs syft and stores nothing.
    """
    if sbom is None:
        source = f"registry:{image}" if from_registry else f"docker:{image}"
        syft_env = {**_FAST, **(env or {})}
        digest = (partial(registry_digest, image, syft_env) if from_registry
                  else _local_digests(image, _require_local(image)))
        document = cached_sbom(source, digest, partial(syft.sbom, source, env=syft_env), syft_env, cache=cache)
    else:
        document = dict(sbom)
    return Inventory(image=image, packages=packages_of(document), sbom=document)
