"""A content-addressed cache of syft's SBOMs: syft runs once per image content, not once per scan.

syft takes seconds for an image (it saves and unpacks every layer); the lessons and the
tests scan the same images again and again. The CycloneDX document syft writes is a
function of

* the image's **content** — named by a digest: the engine's image ID for a local image
  (``docker:``; the sha256 of the image config, which lists every layer's diff id) or
  the manifest digest for a registry image (``registry:``; the sha256 of the manifest,
  which names the config and every layer by digest);
* the **source string** syft was given (``docker:pyapp:vulnerable``): syft copies the
  name and tag into ``metadata.component``, so the same image under another name gets
  its own entry — a hit is then byte-for-byte what syft wrote for exactly that request;
* **syft itself** (its version and the size of its binary) and every **option** that can
  change the output: the ``SYFT_*`` settings it sees, the JSON format, the machine
  architecture (which platform of a multi-platform image it picks), and the content of
  any syft configuration file it would read.

All of that goes into the cache key, so a hit can only return a document that the same
syft with the same options already produced for the same bytes; new content under a
known name (a rebuild, a tag moved to another image, a push over a tag) has a new digest
and misses. The digest is looked up again after syft has run, and the document is stored
only if it did not change meanwhile (a tag moved while syft read it). What comes back on
a hit is exactly the document syft returned the first time, ``serialNumber`` and
``metadata.timestamp`` included: they then say which SBOM this is and when it was made
(no lesson prints them; a CycloneDX report written from a hit carries the original ones).

Entries live in the course state folder (``state_dir("sbom-cache")``), one JSON file per
key, written to a temporary file and renamed into place (``os.replace``), so a reader —
in this process or another — sees a complete file or none; two processes that miss at
the same time both run syft and the last rename wins (same content). A file that does
not parse, does not match its key or whose document does not match its checksum is
ignored and rewritten. The folder is pruned to the newest :data:`MAX_ENTRIES` files
(a hit counts as use). Bypass: ``cache=False`` or ``PORTSIDE_SBOM_CACHE=0``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from portside.base.paths import docker_config_dir, state_dir
from portside.errors import PortsideError

__all__ = ["CACHE_ENV", "MAX_ENTRIES", "cache_dir", "cached_sbom", "enabled", "entry_path", "key_for",
           "local_digest", "prune", "registry_digest"]

#: set to 0 / false / no / off to switch the cache off (every inventory runs syft)
CACHE_ENV = "PORTSIDE_SBOM_CACHE"
#: how many documents the folder keeps (a demo-app SBOM is ~0.4 MB)
MAX_ENTRIES = 64
#: bump when the file layout or the key changes: old entries are then never read again
FORMAT = 1
#: syft settings that never change the document (tools.syft sets both itself)
_NEUTRAL = {"SYFT_CHECK_FOR_APP_UPDATE", "SYFT_CACHE_DIR"}
#: temporary files of a writer that died are removed by prune() after this many seconds
_STALE_TMP = 3600.0

#: what finding a digest or syft's identity may raise: the cache then steps aside and syft runs as without it
_LOOKUP_ERRORS = (PortsideError, OSError, ValueError)

_SYFT_IDS: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    """The folder holding the cached documents (inside the course state folder)."""
    return state_dir("sbom-cache")


def enabled(cache: bool | None = None) -> bool:
    """``cache`` if given, else what ``$PORTSIDE_SBOM_CACHE`` says (on unless 0/false/no/off)."""
    if cache is not None:
        return cache
    return os.environ.get(CACHE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


# -- the key ---------------------------------------------------------------------------------------------------
def local_digest(image: str) -> str:
    """The engine's image ID of ``image`` (``sha256:…`` of its config: content-addressed)."""
    from portside.engine.daemon import client

    return str(client().images.get(image).id)


def _syft_docker_config(env: Mapping[str, str]) -> str:
    """The ``DOCKER_CONFIG`` syft runs with (what tools._runner gives it)."""
    return env.get("DOCKER_CONFIG") or os.environ.get("DOCKER_CONFIG") or str(docker_config_dir())


def registry_digest(image: str, env: Mapping[str, str] | None = None) -> str | None:
    """The manifest digest ``image`` names in its registry: from the reference itself, or one ``HEAD`` request.

    Uses the course's :class:`~portside.oci.registry_client.RegistryClient` with the course
    login. A registry on loopback is asked over plain HTTP first, then over HTTPS (syft's
    library tries both there too), trusting ``SSL_CERT_FILE`` as syft does. ``None`` when
    the answer could differ from what syft sees: syft would read another Docker config.
    """
    from portside.errors import RegistryAuthError, RegistryError
    from portside.oci.reference import parse
    from portside.oci.registry_client import RegistryClient

    ref = parse(image)
    if ref.digest:
        return ref.digest
    env = env or {}
    if Path(_syft_docker_config(env)).resolve() != docker_config_dir().resolve():
        return None
    ca = env.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_FILE")
    if ref.domain.rsplit(":", 1)[0] in ("localhost", "127.0.0.1"):
        try:
            return RegistryClient(f"http://{ref.domain}").digest(ref.path, ref.tag_or_digest)
        except RegistryAuthError:
            raise
        except RegistryError:
            pass  # a TLS registry answers 400 to plain HTTP
    client = RegistryClient(f"https://{ref.domain}", ca_file=Path(ca) if ca else None)
    return client.digest(ref.path, ref.tag_or_digest)


def _syft_identity() -> str:
    """``VERSION (SIZE bytes)`` of the syft that will run; asked once per binary and process."""
    from portside.tools import install

    binary = install.path("syft")
    stat = os.stat(binary)
    marker = (os.path.realpath(binary), stat.st_mtime_ns, stat.st_size)
    if marker not in _SYFT_IDS:
        _SYFT_IDS[marker] = f"{install.version_of('syft', binary) or 'unknown'} ({stat.st_size} bytes)"
    return _SYFT_IDS[marker]


def _config_files() -> dict[str, str]:
    """sha256 of each syft configuration file syft would find (its search path), by path."""
    home = Path.home()
    xdg_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    candidates = [Path(".syft.yaml"), Path(".syft/config.yaml"), home / ".syft.yaml", xdg_home / "syft/config.yaml"]
    candidates += [Path(d) / "syft/config.yaml" for d in (os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")
                   if d]
    if os.environ.get("SYFT_CONFIG"):
        candidates.insert(0, Path(os.environ["SYFT_CONFIG"]))
    found: dict[str, str] = {}
    for candidate in candidates:
        with suppress(OSError):
            found[str(candidate.resolve())] = hashlib.sha256(candidate.read_bytes()).hexdigest()
    return found


def key_for(source: str, digest: str, env: Mapping[str, str], output_format: str = "cyclonedx-json") -> dict[str, Any]:
    """Everything the document depends on (see the module docstring), as a JSON-able dict."""
    settings = {**{k: v for k, v in os.environ.items() if k.startswith("SYFT_")},
                **{k: v for k, v in env.items() if k.startswith("SYFT_")}}
    return {
        "format": FORMAT,
        "source": source,
        "digest": digest,
        "syft": _syft_identity(),
        "output": output_format,
        "options": {k: settings[k] for k in sorted(settings) if k not in _NEUTRAL},
        "config_files": _config_files(),
        "machine": platform.machine(),
    }


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_path(key: Mapping[str, Any]) -> Path:
    """The file that holds (or will hold) the document of ``key``: its sha256, in :func:`cache_dir`."""
    return cache_dir() / f"{hashlib.sha256(_canonical(key)).hexdigest()}.json"


# -- reading and writing ---------------------------------------------------------------------------------------
def load(key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The cached document of ``key``, or ``None`` (absent, unreadable, or not what it claims to be)."""
    path = entry_path(key)
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not isinstance(entry.get("sbom"), dict):
        return None
    document: dict[str, Any] = entry["sbom"]
    if entry.get("sha256") != hashlib.sha256(_canonical(document)).hexdigest():
        return None
    with suppress(OSError):
        os.utime(path)  # recently used: prune() keeps the newest files
    return document


def store(key: Mapping[str, Any], document: Mapping[str, Any], *, keep: int = MAX_ENTRIES) -> Path:
    """Write ``document`` under ``key`` atomically (temporary file + ``os.replace``), then prune the folder."""
    path = entry_path(key)
    entry = {"key": dict(key), "sha256": hashlib.sha256(_canonical(document)).hexdigest(), "sbom": document}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    prune(path.parent, keep=keep)
    return path


def prune(folder: Path | None = None, *, keep: int = MAX_ENTRIES) -> int:
    """Delete all but the ``keep`` most recently used entries (and stale temporary files); returns how many went."""
    folder = folder or cache_dir()
    entries: list[tuple[float, Path]] = []
    removed = 0
    now = time.time()
    for path in folder.iterdir():
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue  # another process pruned it meanwhile
        if path.suffix == ".json":
            entries.append((mtime, path))
        elif path.suffix == ".tmp" and now - mtime > _STALE_TMP:
            with suppress(OSError):
                path.unlink()
                removed += 1
    entries.sort(reverse=True)
    for _, path in entries[keep:]:
        with suppress(OSError):
            path.unlink()
            removed += 1
    return removed


def cached_sbom(source: str, digest: Callable[[], str | None], run: Callable[[], dict[str, Any]],
                env: Mapping[str, str], *, cache: bool | None = None) -> dict[str, Any]:
    """``run()`` (syft on ``source``), or the document it returned before for the same key.

    ``digest`` names the image's content (called before and, on a miss, after ``run``);
    when it cannot be found (``None`` or a Portside error, e.g. the registry did not answer)
    syft simply runs, exactly as without a cache — including the error syft reports.
    """
    if not enabled(cache):
        return run()
    try:
        before = digest()
        key = key_for(source, before, env) if before else None
    except _LOOKUP_ERRORS:
        key = None
    if key is None:
        return run()
    found = load(key)
    if found is not None:
        return found
    document = run()
    try:
        unchanged = digest() == before
    except _LOOKUP_ERRORS:
        unchanged = False
    if unchanged:
        with suppress(OSError):
            store(key, document)
    return document
