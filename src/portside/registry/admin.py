"""Looking after a running registry: its users file, its disk, what a pull fetches, its ``docker run`` line.

:mod:`portside.registry` starts registries; this module looks at one the way an
operator does:

* :func:`htpasswd_line` writes a users-file entry in one of the hash formats the
  Apache ``htpasswd`` tool knows. registry:2 accepts **bcrypt only**; the others
  exist here so a lesson can show what happens with them.
* :func:`describe_htpasswd` says which format each line uses, without showing a hash.
  (These two, and :func:`hash_scheme`, live in :mod:`portside.registry.htpasswd`, the
  one writer of users files.)
* :func:`fetch_image` downloads an image over the API the way a pull does (manifest, then blobs).
* :func:`stored_blobs` and :func:`manifest_revisions` list what is on the registry's
  disk, below the HTTP API: the truth garbage collection works on.
* :func:`docker_run_line` writes the plain ``docker run`` command that starts the
  same registry as a :class:`~portside.registry.Registry`.

The functions that look at a running registry take a :class:`~portside.registry.Registry`
or the docker-py container of a registry (what a lab checker finds by label).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from testcontainers.core.exceptions import ContainerStartException

from portside.errors import RegistryError
from portside.registry.htpasswd import HashScheme, describe_htpasswd, hash_scheme, htpasswd_line
from portside.registry.layout import STORE as _STORE

if TYPE_CHECKING:
    import docker.models.containers

    from portside.oci.registry_client import RegistryClient

__all__ = [
    "HashScheme",
    "blob_links",
    "describe_htpasswd",
    "docker_run_line",
    "fetch_image",
    "hash_scheme",
    "htpasswd_line",
    "manifest_revisions",
    "stored_blobs",
    "wait_for_blobs",
]


def _container(target: Any) -> docker.models.containers.Container:
    if hasattr(target, "get_wrapped_container"):
        try:
            container = target.get_wrapped_container()
        except ContainerStartException:
            container = None
        if container is None:
            raise RegistryError("The registry is not running (start it first).")
        return container
    return target


# -- what a pull does -----------------------------------------------------------------------------------
def fetch_image(client: RegistryClient, repository: str, reference: str) -> list[str]:
    """Download an image over the API the way a pull does: its manifest, then every blob it names.

    Returns the blob digests (config first, then layers). A multi-platform index is
    refused: pick one platform's manifest digest first.
    """
    manifest = client.manifest(repository, reference).json()
    if "config" not in manifest:
        raise RegistryError(f"{repository}:{reference} is an index of several platforms, not one image.",
                            hint="Fetch one entry of its 'manifests' list by digest instead.")
    blobs = [manifest["config"]["digest"], *(layer["digest"] for layer in manifest.get("layers", []))]
    for blob in blobs:
        client.blob(repository, blob)
    return blobs


# -- the disk ------------------------------------------------------------------------------------------
def _find(target: Any, folder: str, name: str) -> list[str]:
    result = _container(target).exec_run(["busybox", "find", folder, "-name", name, "-type", "f"])
    output = bytes(result.output or b"").decode(errors="replace")
    if result.exit_code != 0:
        if "No such file" in output:
            return []  # nothing stored yet
        raise RegistryError(f"Listing {folder} in the registry container failed: {output.strip()[-300:]}")
    return [line for line in output.splitlines() if line.startswith(folder)]


def stored_blobs(target: Any) -> set[str]:
    """The digests of every blob on the registry's disk (``…/blobs/sha256/ab/<hex>/data``).

    Manifests are stored as blobs too, so this includes them. It reads the files,
    not the API: a deleted manifest's blobs stay here until garbage collection.
    """
    blobs = set()
    for path in _find(target, f"{_STORE}/blobs", "data"):
        parts = path.split("/")
        blobs.add(f"{parts[-4]}:{parts[-2]}")
    return blobs


def _links(target: Any, kind: str) -> dict[str, set[str]]:
    """For each repository, the digests of its ``link`` files under ``kind`` (e.g. ``/_layers/``)."""
    found: dict[str, set[str]] = {}
    prefix = f"{_STORE}/repositories/"
    for path in _find(target, f"{_STORE}/repositories", "link"):
        if kind not in path:
            continue
        repo, _, rest = path[len(prefix):].partition(kind)
        algorithm, hexdigest = rest.split("/")[:2]
        found.setdefault(repo, set()).add(f"{algorithm}:{hexdigest}")
    return found


def manifest_revisions(target: Any) -> dict[str, set[str]]:
    """For each repository, the manifest digests it still links (``_manifests/revisions/…/link``).

    These are the manifests garbage collection starts marking from; deleting a
    manifest through the API removes its link here.
    """
    return _links(target, "/_manifests/revisions/")


def blob_links(target: Any) -> dict[str, set[str]]:
    """For each repository, the blobs (configs and layers) linked to it (``_layers/…/link``).

    A push links every blob it uploads or mounts. Deleting a manifest leaves these
    links, and registry:2's garbage collection deletes the blob data but not the
    links, so they record what was ever pushed into a repository of this registry.
    """
    return _links(target, "/_layers/")


def wait_for_blobs(target: Any, digests: Iterable[str], *, timeout: float = 15) -> bool:
    """Wait until every digest is stored on the registry's disk (a pull-through cache stores in the background)."""
    wanted = set(digests)
    deadline = time.monotonic() + timeout
    while True:
        if wanted <= stored_blobs(target):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


# -- the equivalent command ---------------------------------------------------------------------------
_SECRET_ENV = ("SECRET", "PASSWORD")


def docker_run_line(target: Any, *, name: str = "registry") -> str:
    """The ``docker run`` command that starts a registry like this one, read from the live container.

    Secret values are shown as ``…``; files the harness copied in (users file,
    certificate) become bind mounts of a local folder, the usual way to hand them over.
    """
    container = _container(target)
    container.reload()
    attrs = container.attrs
    q = shlex.quote
    options: list[str] = [f"--name {q(name)}"]
    for port, bindings in sorted((attrs["HostConfig"].get("PortBindings") or {}).items()):
        for binding in bindings or []:
            host = f"{binding['HostIp']}:" if binding.get("HostIp") else ""
            options.append(f"-p {q(host + binding['HostPort'] + ':' + port.split('/')[0])}")
    for mount in attrs.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Name") and len(mount["Name"]) != 64:  # named, not anonymous
            options.append(f"-v {q(mount['Name'] + ':' + mount['Destination'])}")
    env = dict(item.split("=", 1) for item in attrs["Config"].get("Env") or [] if item.startswith("REGISTRY_"))
    folders = sorted({value.rsplit("/", 1)[0] for key, value in env.items()
                      if key.endswith(("_PATH", "_CERTIFICATE", "_KEY")) and value.startswith("/")})
    for folder in folders:  # the files the harness copied in: from a local folder of the same name
        options.append(f'-v "$PWD/{folder.strip("/")}":{q(folder)}:ro')
    for key in sorted(env):
        value = "…" if any(s in key for s in _SECRET_ENV) else env[key]
        options.append(f"-e {q(key + '=' + value)}")
    lines = ["docker run -d", *(f"  {option}" for option in options), f"  {q(attrs['Config']['Image'])}"]
    return " \\\n".join(lines)
