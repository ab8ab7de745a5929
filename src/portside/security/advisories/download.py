"""Download today's advisories from OSV (online only): one ``all.zip`` per ecosystem.

OSV publishes every record of an ecosystem as one zip file in a public bucket, at
``<BUCKET>/<ECOSYSTEM>/all.zip`` (for example ``PyPI/all.zip`` or ``Debian:12/all.zip``).
:func:`download` fetches the ones you name into a folder; :func:`portside.security.advisories.load`
reads that folder like the snapshot. The zip files are large (PyPI: tens of MB) and
change every day — which is why the lessons use the pinned snapshot instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import requests

from portside.errors import ScanError, UsageError

__all__ = ["OSV_BUCKET", "download", "export_url"]

#: OSV's public export bucket
OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"


def export_url(ecosystem: str) -> str:
    """The URL of the ``all.zip`` export of one OSV ecosystem (``"PyPI"``, ``"Debian:12"``)."""
    return f"{OSV_BUCKET}/{quote(ecosystem, safe=':')}/all.zip"


def _file_name(ecosystem: str) -> str:
    return ecosystem.replace(":", "-").replace("/", "-") + ".zip"


def download(ecosystems: Sequence[str], dest: Path, *, timeout: float = 60) -> Path:
    """Download the OSV export of each ecosystem into ``dest`` (``PyPI.zip``, ``Debian-12.zip``…); return ``dest``.

    Needs the internet. Each file is written under a temporary name and renamed when
    complete, so an interrupted download never leaves a half zip that looks whole.
    """
    if not ecosystems:
        raise UsageError("No ecosystem to download.", hint="Name one or more, e.g. PyPI Debian:12.")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for ecosystem in ecosystems:
        url = export_url(ecosystem)
        target = dest / _file_name(ecosystem)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with requests.get(url, stream=True, timeout=timeout) as response:
                if response.status_code == 404:
                    raise ScanError(f"OSV has no export for the ecosystem {ecosystem!r} ({url} → 404).",
                                    hint="Ecosystem names are case-sensitive: PyPI, Debian:12, npm, Go…")
                response.raise_for_status()
                with open(partial, "wb") as out:
                    for chunk in response.iter_content(chunk_size=1 << 20):
                        out.write(chunk)
        except requests.RequestException as exc:
            partial.unlink(missing_ok=True)
            raise ScanError(f"Could not download {url}: {exc.__class__.__name__}.",
                            hint="This needs the internet. Offline, scan with the course's snapshot "
                                 "(leave --advisories out).") from None
        partial.replace(target)
    return dest
