"""Where advisories come from: the committed snapshot, a folder of OSV JSON files, or an OSV zip export.

All three are read the same way, so a learner can go from the course's pinned
snapshot to today's full data with one download (:func:`portside.security.advisories.download`)::

    load()                        # the snapshot committed with the course (offline, never changes)
    load(Path("my-advisories"))   # every *.json record below a folder, and every *.zip export in it
    load(Path("PyPI.zip"))        # one OSV per-ecosystem export (all.zip)
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from portside.errors import ScanError
from portside.security.advisories.model import Advisory, parse

__all__ = ["load", "load_raw", "snapshot_dir"]


def snapshot_dir() -> Path:
    """The advisory snapshot committed with the course: ``snapshot/{pypi,debian}/<ID>.json`` (OSV JSON)."""
    return Path(__file__).resolve().parent / "snapshot"


def _decode(data: bytes | str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScanError(f"{where} is not valid JSON: {exc}.",
                        hint="An advisory file must hold one OSV record (a JSON object).") from None
    if not isinstance(record, dict) or not record.get("id"):
        raise ScanError(f"{where} is not an OSV record (a JSON object with an 'id').",
                        hint="See https://ossf.github.io/osv-schema/ for the format.")
    return record


def _from_zip(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                if member.endswith(".json"):
                    yield _decode(archive.read(member), f"{path.name}:{member}")
    except zipfile.BadZipFile:
        raise ScanError(f"{path} is not a zip file.",
                        hint="Download it again (`portside advisories download`); it may be incomplete.") from None


def _from_folder(path: Path) -> Iterator[dict[str, Any]]:
    for file in sorted(path.rglob("*")):
        if file.suffix == ".json" and file.is_file():
            yield _decode(file.read_bytes(), str(file))
        elif file.suffix == ".zip" and file.is_file():
            yield from _from_zip(file)


def load_raw(source: Path | None = None) -> list[dict[str, Any]]:
    """Every OSV record in ``source`` as a dict, exactly as stored (``None``: the committed snapshot).

    ``source`` may be a folder (``*.json`` records and ``*.zip`` exports below it, in
    name order), one zip export, or one JSON record.
    """
    path = Path(source) if source is not None else snapshot_dir()
    if path.is_dir():
        return list(_from_folder(path))
    if path.is_file() and path.suffix == ".zip":
        return list(_from_zip(path))
    if path.is_file():
        return [_decode(path.read_bytes(), str(path))]
    raise ScanError(f"No advisories at {path}: it is neither a folder, a zip export nor a JSON file.",
                    hint="Pass a folder of OSV records or an OSV all.zip, or leave --advisories out to use "
                         "the course's snapshot.")


def load(source: Path | None = None) -> list[Advisory]:
    """The advisories in ``source`` (see :func:`load_raw`), parsed; withdrawn records are left out."""
    advisories = [parse(record) for record in load_raw(source)]
    return [a for a in advisories if not a.withdrawn]
