"""Pack a Trivy database as the OCI artifact ``trivy --db-repository`` pulls, and push it to a registry.

The official database is published the same way, as ``…/trivy-db:2`` (2 is the
schema version): an OCI image manifest with

* a config blob of media type ``application/vnd.aquasec.trivy.config.v1+json``
  (Trivy never fetches it; it is ``{}`` here), also the manifest's ``artifactType``;
* exactly **one layer**, ``application/vnd.aquasec.trivy.db.layer.v1.tar+gzip``:
  a tar.gz of ``trivy.db`` and ``metadata.json``, with the annotation
  ``org.opencontainers.image.title: db.tar.gz``.

An air-gapped site copies that artifact into its own registry and points every Trivy
at it; :func:`publish` does exactly that with a database built from the course's data.
The tar.gz is reproducible (fixed times and owners), so the same database always
gets the same digest.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from portside.errors import RegistryError
from portside.oci.reference import parse
from portside.oci.registry_client import OCI_MANIFEST, Manifest, RegistryClient, sha256_digest
from portside.security.trivydb.database import DB_FILE, METADATA_FILE, db_folder

__all__ = ["CONFIG_MEDIA_TYPE", "LAYER_MEDIA_TYPE", "TITLE", "archive", "manifest", "publish"]

LAYER_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
CONFIG_MEDIA_TYPE = "application/vnd.aquasec.trivy.config.v1+json"
TITLE = "db.tar.gz"
_CONFIG = b"{}"


def archive(db_dir: Path) -> bytes:
    """``db.tar.gz``: ``metadata.json`` and ``trivy.db`` at the root of a reproducible tar.gz."""
    folder = db_folder(Path(db_dir))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in (METADATA_FILE, DB_FILE):
            data = (folder / name).read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def manifest(layer: bytes) -> bytes:
    """The OCI image manifest for a ``db.tar.gz`` layer (bytes exactly as pushed)."""
    body = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": CONFIG_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": sha256_digest(_CONFIG), "size": len(_CONFIG)},
        "layers": [{"mediaType": LAYER_MEDIA_TYPE, "digest": sha256_digest(layer), "size": len(layer),
                    "annotations": {"org.opencontainers.image.title": TITLE}}],
    }
    return json.dumps(body, indent=2).encode()


def _push_blob(client: RegistryClient, repository: str, data: bytes) -> str:
    """Upload one blob (a monolithic POST-then-PUT upload) unless the repository already has it."""
    digest = sha256_digest(data)
    if client.blob_exists(repository, digest):
        return digest
    transport = client._t  # the client's authenticated, error-mapping transport (oras-py provider)
    started = transport.do_request(f"{client.url}/v2/{repository}/blobs/uploads/", "POST")
    location = started.headers.get("Location")
    if started.status_code != 202 or not location:
        raise RegistryError(f"{client.url} did not start a blob upload to {repository!r} "
                            f"({started.status_code}).", status=started.status_code)
    if location.startswith("/"):
        location = f"{client.url}{location}"
    joiner = "&" if "?" in location else "?"
    done = transport.do_request(f"{location}{joiner}digest={digest}", "PUT", data=data,
                                headers={"Content-Type": "application/octet-stream"})
    if done.status_code != 201:
        raise RegistryError(f"{client.url} refused the blob {digest[:19]}… for {repository!r} "
                            f"({done.status_code}).", status=done.status_code)
    return digest


def publish(registry_ref: str, db_dir: Path, *, client: RegistryClient | None = None) -> str:
    """Push the database in ``db_dir`` as ``registry_ref`` (e.g. ``localhost:5000/trivy-db:2``); returns its digest.

    ``db_dir`` is the folder :func:`portside.security.trivydb.build` returned (or its ``db/``).
    Without ``client``, a registry on ``localhost``/``127.0.0.1`` is reached over
    HTTP and any other over HTTPS, with the course's saved login if there is one;
    pass ``registry.client()`` for a TLS or password-protected course registry.
    """
    ref = parse(registry_ref)
    if ref.digest:
        raise RegistryError(f"Publish to a tag, not a digest ({registry_ref}).",
                            hint="Trivy asks for the database by tag: use REGISTRY/REPO:2.")
    host = ref.domain
    if client is None:
        local = host.split(":")[0] in ("localhost", "127.0.0.1")
        client = RegistryClient(f"{'http' if local else 'https'}://{host}")
    layer = archive(Path(db_dir))
    _push_blob(client, ref.path, _CONFIG)
    _push_blob(client, ref.path, layer)
    raw = manifest(layer)
    return client.put_manifest(ref.path, ref.tag or "2", Manifest(OCI_MANIFEST, sha256_digest(raw), raw))
