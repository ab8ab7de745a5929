"""Build Trivy's database files — ``db/trivy.db`` and ``db/metadata.json`` — from OSV advisories.

Trivy reads its database from ``<cache-dir>/db/``. With ``--skip-db-update`` it
only checks that both files exist and that ``metadata.json`` says schema version 2;
then it opens ``trivy.db`` read-only and looks advisories up by bucket::

    cache = trivydb.build(Path("trivy-cache"))        # the course's snapshot
    # trivy image --cache-dir trivy-cache --skip-db-update --scanners vuln myapp:vulnerable
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir
from portside.errors import ScanError
from portside.security import bbolt
from portside.security.advisories import load_raw
from portside.security.trivydb.layout import Layout, convert

__all__ = ["SCHEMA_VERSION", "Built", "build", "build_records", "db_folder", "ensure", "metadata"]

SCHEMA_VERSION = 2
DB_FILE, METADATA_FILE = "trivy.db", "metadata.json"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata(updated_at: datetime | None = None, *, valid_for: timedelta = timedelta(days=365)) -> dict[str, Any]:
    """The ``metadata.json`` Trivy expects.

    ``NextUpdate`` is when Trivy would fetch a newer database by itself (if it is not
    told ``--skip-db-update``); a year ahead keeps a pinned course database from ever
    sending Trivy online to look for one.
    """
    now = updated_at or datetime.now(UTC)
    return {"Version": SCHEMA_VERSION, "NextUpdate": _rfc3339(now + valid_for), "UpdatedAt": _rfc3339(now),
            "DownloadedAt": _rfc3339(now)}


@dataclass(frozen=True)
class Built:
    """What :func:`build_records` made."""

    cache_dir: Path                 #: pass this to ``trivy --cache-dir``
    db_dir: Path                    #: ``cache_dir/db``: trivy.db and metadata.json
    layout: Layout                  #: counts: advisories, entries, skipped ecosystems
    pages: bbolt.WriteStats
    seconds: float                  #: wall time to convert and write

    def __str__(self) -> str:
        skipped = ", ".join(f"{n} {eco}" for eco, n in sorted(self.layout.skipped.items()))
        return (f"Trivy database in {self.db_dir}: {self.layout.advisories} advisories, "
                f"{self.layout.entries} package entries, {self.pages.size // 1024} KiB, "
                f"{self.seconds:.2f} s" + (f" (left out: {skipped})" if skipped else ""))


def db_folder(path: Path) -> Path:
    """The folder holding ``trivy.db``: ``path`` itself, or ``path/db`` when given a cache folder."""
    for candidate in (path, path / "db"):
        if (candidate / DB_FILE).is_file() and (candidate / METADATA_FILE).is_file():
            return candidate
    raise ScanError(f"No Trivy database in {path}: expected {DB_FILE} and {METADATA_FILE} there or in "
                    f"{path / 'db'}.", hint="Build one first: `portside advisories trivy-db OUT`.")


def build_records(out_dir: Path, records: Iterable[Mapping[str, Any]], *,
                  updated_at: datetime | None = None) -> Built:
    """Write the database for ``records`` (OSV dicts) into ``out_dir/db/``."""
    began = time.perf_counter()
    out_dir = Path(out_dir)
    db_dir = out_dir / "db"
    try:
        db_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScanError(f"Could not create {db_dir}: {exc.strerror or exc}.",
                        hint="Choose a folder you can write to.") from None
    layout = convert(records)
    if not layout.advisories:
        raise ScanError("None of the advisories is for PyPI or Debian, so the Trivy database would be empty.",
                        hint="Pass a folder or OSV export with PyPI or Debian:NN records.")
    pages = bbolt.write(db_dir / DB_FILE, layout.root)
    partial = db_dir / f".{METADATA_FILE}.partial"
    partial.write_text(json.dumps(metadata(updated_at)) + "\n", encoding="utf-8")
    os.replace(partial, db_dir / METADATA_FILE)
    return Built(out_dir, db_dir, layout, pages, time.perf_counter() - began)


def build(out_dir: Path, source: Path | None = None) -> Path:
    """Build a Trivy database from an OSV source (``None``: the course's snapshot); returns the cache folder.

    The files go to ``out_dir/db/``; run ``trivy … --cache-dir out_dir --skip-db-update``.
    ``source`` is anything :func:`portside.security.advisories.load_raw` reads: a folder of OSV
    JSON files, an OSV ``all.zip`` export, or one record.
    """
    return build_records(out_dir, load_raw(source)).cache_dir


_STAMP = "portside-source.sha256"


def ensure(source: Path | None = None) -> Path:
    """The course's own Trivy cache folder (``<state>/trivy-db``), its database built from ``source``.

    Built on first use and rebuilt only when the advisories change (a hash of the
    records is kept beside the database), so a lesson can call it in every run.
    Trivy keeps its image-analysis cache there too, which makes repeated scans fast.
    """
    records = load_raw(source)
    digest = hashlib.sha256(json.dumps(records, sort_keys=True).encode()).hexdigest()
    folder = state_dir("trivy-db")
    stamp = folder / "db" / _STAMP
    if stamp.is_file() and stamp.read_text().strip() == digest and (folder / "db" / DB_FILE).is_file():
        return folder
    build_records(folder, records)
    stamp.write_text(digest + "\n")
    return folder
