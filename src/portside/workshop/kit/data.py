"""The two state-folder caches a lesson needs offline: Trivy's database and the demo app's wheels.

* ``trivy-db/db/``: ``trivy.db`` and ``metadata.json``, built from the course's OSV advisories by
  :func:`portside.security.trivydb.ensure` (``portside advisories trivy-db``), with the stamp that says which
  advisories it was built from, so the learner's ``trivydb.ensure()`` finds it current and builds nothing.
* ``app-wheels/``: the wheels of the demo app ``pyapp`` that lessons 04-05 build into an image
  (:func:`portside.lessons.sample_app.ensure_wheels`, hash-checked against ``wheels.sha256``); on the learner's
  machine they go where that function looks (``<state>/wheels/pyapp``), and it checks them again when used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portside.errors import PortsideError, SetupError
from portside.lessons import sample_app
from portside.security import trivydb
from portside.workshop.kit.files import put_file
from portside.workshop.kit.manifest import FileEntry, sha256_of

__all__ = ["APP_WHEELS", "TRIVY_DB", "collect_app_wheels", "collect_trivy_db", "install_app_wheels",
           "install_trivy_db"]

TRIVY_DB = "trivy-db"
APP_WHEELS = "app-wheels"
Say = Callable[[str], object]


def collect_trivy_db(kit: Path, *, say: Say = print) -> None:
    """Copy the course's Trivy database (built first if needed: offline, from the shipped advisories)."""
    db = trivydb.ensure() / "db"
    for path in sorted(db.iterdir()):
        if path.is_file():
            put_file(path, kit / TRIVY_DB / "db" / path.name, sha256_of(path))
    say(f"trivy-db: {', '.join(sorted(p.name for p in (kit / TRIVY_DB / 'db').iterdir()))}")


def collect_app_wheels(kit: Path, *, say: Say = print) -> None:
    """Copy the demo app's wheels (downloaded first, hash-checked, when the state folder lacks some)."""
    try:
        folder = sample_app.ensure_wheels()
    except PortsideError as exc:
        raise SetupError(f"The demo app's wheels (lessons 04-05) are not all here: {exc.message}",
                         hint="Run `portside setup` once with PyPI reachable; it downloads them into the state "
                              "folder.") from None
    wheels = sorted(folder.glob("*.whl"))
    for path in wheels:
        put_file(path, kit / APP_WHEELS / path.name, sha256_of(path))
    say(f"app-wheels: {len(wheels)} wheels of the demo app")


def _install(kit: Path, part: str, files: dict[str, FileEntry], dest: Path) -> int:
    copied = 0
    for rel, entry in sorted(files.items()):
        if rel.startswith(part + "/"):
            copied += put_file(kit / rel, dest / Path(rel).relative_to(part), entry.sha256) == "copied"
    return copied


def install_trivy_db(kit: Path, files: dict[str, FileEntry], dest: Path, *, say: Say = print) -> None:
    """Put the kit's Trivy database into ``dest`` (the learner's ``<state>/trivy-db``, where ``trivydb.ensure()``
    looks: ``dest/db/trivy.db``)."""
    copied = _install(kit, TRIVY_DB, files, dest)
    say(f"trivy-db: {'installed' if copied else 'already here'} ({dest / 'db'})")


def install_app_wheels(kit: Path, files: dict[str, FileEntry], dest: Path, *, say: Say = print) -> None:
    """Put the demo app's wheels into ``dest`` (the learner's ``sample_app.wheels_dir()``)."""
    copied = _install(kit, APP_WHEELS, files, dest)
    total = sum(1 for rel in files if rel.startswith(APP_WHEELS + "/"))
    say(f"app-wheels: {copied} of {total} copied ({dest})")
