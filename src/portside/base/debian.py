"""Fetch Debian packages without touching the machine's own apt set-up.

Stand-in images and tools are built from Debian's archive. This module reads the
archive address from the machine's own apt sources (so it goes wherever this machine
already fetches packages from), keeps a private apt state folder per suite under the
course state folder, and uses ``apt-get download`` and ``dpkg -x``. It works as any
user and never changes ``/etc/apt``.

Everything fetched is authenticated the way apt always does it: ``apt-get update``
checks the signature of each suite's ``InRelease`` against Debian's archive keyring
(``signed-by``), ``InRelease`` carries the sha256 of the ``Packages`` index, and that
index the sha256 of every ``.deb``, which ``apt-get download`` checks. The options
below forbid unsigned or weakly signed suites and unauthenticated packages whatever
the machine's own apt configuration says; :func:`index_record` gives the signed
sha256 of a package so a cached ``.deb`` can be checked again later.

Debian's rolling suites (:data:`ROLLING_SUITES`: testing, currently forky, and unstable,
sid) are read the same way, with two differences: unstable has no ``-updates`` or
``-security`` suite (testing has both), and their ``InRelease`` files carry a
``Valid-Until`` date a week after they were made, which a frozen or lagging mirror has
passed. For those suites only, apt is told not to check that date
(``Acquire::Check-Valid-Until=false``); the signature of ``InRelease`` is still
checked against the archive keyring, and every hash below it as always.

Packages of another CPU architecture (``download(..., arch="arm64")``, e.g. a static
binary for a foreign-platform image) are read through a private state of their own
(``apt/SUITE-ARCH``) whose apt is told that this is an ``ARCH`` machine
(``APT::Architecture``, ``APT::Architectures``): the machine's own apt and its dpkg
architectures are never changed, and the same signatures and hashes are checked.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from portside.base.paths import state_dir
from portside.base.proc import run
from portside.errors import SetupError, UsageError

__all__ = ["ROLLING_SUITES", "AptSource", "DebRecord", "apt_options", "architecture_options", "deb_architecture",
           "download", "extract", "host_sources", "index_record", "is_rolling", "mirror_for", "pick_debs",
           "suite_sources_line"]

_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
_LISTS_MAX_AGE = 24 * 3600

#: Debian's rolling suites, by code name and by role: testing (forky until it is released as
#: Debian 14, then its successor's name) and unstable (always sid). Only these skip apt's
#: Valid-Until check; a released suite's stale index is still refused.
ROLLING_SUITES = frozenset({"forky", "testing", "sid", "unstable"})
#: rolling suites that have no -updates and -security suites beside them
_NO_UPDATES = frozenset({"sid", "unstable"})


def is_rolling(suite: str) -> bool:
    """True for Debian testing (``forky``) and unstable (``sid``): their indexes expire after a week."""
    return suite in ROLLING_SUITES


@dataclass(frozen=True)
class AptSource:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def _deb822(text: str) -> list[AptSource]:
    sources = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no" and "uris" in fields:
            for uri in fields["uris"].split():
                sources.append(AptSource(uri.rstrip("/"), tuple(fields.get("suites", "").split()),
                                         tuple(fields.get("components", "main").split())))
    return sources


def _one_line(text: str) -> list[AptSource]:
    sources = []
    for line in text.splitlines():
        line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()  # type: ignore[assignment]
        if len(line) >= 3 and line[0] == "deb":
            sources.append(AptSource(line[1].rstrip("/"), (line[2],), tuple(line[3:]) or ("main",)))
    return sources


def host_sources() -> list[AptSource]:
    """The Debian sources configured on this machine."""
    etc = Path("/etc/apt")
    found: list[AptSource] = []
    if (etc / "sources.list").is_file():
        found += _one_line((etc / "sources.list").read_text(errors="replace"))
    for path in sorted((etc / "sources.list.d").glob("*")) if (etc / "sources.list.d").is_dir() else []:
        if path.suffix == ".sources":
            found += _deb822(path.read_text(errors="replace"))
        elif path.suffix == ".list":
            found += _one_line(path.read_text(errors="replace"))
    return found


def mirror_for(kind: str = "debian") -> str:
    """The archive URI this machine uses: ``debian`` (main archive) or ``security``."""
    for source in host_sources():
        is_security = any(s.endswith("-security") for s in source.suites)
        is_debian = any(re.fullmatch(r"(bookworm|trixie|forky|sid|stable|testing|unstable|bullseye)"
                                     r"(-updates|-security|-backports)?", s) for s in source.suites)
        if is_debian and is_security == (kind == "security"):
            return source.uri
    raise SetupError(
        "This machine has no Debian archive in its apt sources, so the course cannot build its stand-in "
        "images or fetch tools from Debian packages.",
        hint="Run the course on Debian 12 or newer, or on a machine that can pull the official images.",
    )


def suite_sources_line(suite: str) -> str:
    """The one-line apt sources for ``suite``: with its -updates and, when known, -security (unstable has neither)."""
    main = mirror_for("debian")
    signed = f"[signed-by={_KEYRING}] " if _KEYRING.exists() else ""
    lines = [f"deb {signed}{main} {suite} main"]
    if suite in _NO_UPDATES:
        return lines[0] + "\n"
    lines.append(f"deb {signed}{main} {suite}-updates main")
    try:
        lines.append(f"deb {signed}{mirror_for('security')} {suite}-security main")
    except SetupError:
        pass
    return "\n".join(lines) + "\n"


_ARCH = re.compile(r"[a-z0-9]+")


def architecture_options(arch: str | None) -> list[str]:
    """The apt options that make a private state fetch ``arch`` packages (none for the machine's own, ``None``).

    ``arch`` is a Debian architecture name (``amd64``, ``arm64``, ``armhf``, ``riscv64``…).
    """
    if arch is None:
        return []
    if not _ARCH.fullmatch(arch):
        raise UsageError(f"{arch!r} is not a Debian architecture name.",
                         hint="Use one such as amd64, arm64, armhf, i386, ppc64el, riscv64 or s390x.")
    return ["-o", f"APT::Architecture={arch}", "-o", f"APT::Architectures={arch}"]


def _state_name(suite: str, arch: str | None) -> str:
    """The private apt state folder of ``suite``: its own per foreign architecture (their lists differ)."""
    return suite if arch is None else f"{suite}-{arch}"


def deb_architecture(deb: Path) -> tuple[str, str]:
    """``(package, architecture)`` of a ``.deb`` named the way apt names it (``NAME_VERSION_ARCH.deb``)."""
    parts = deb.name.removesuffix(".deb").split("_")
    return parts[0], parts[-1] if len(parts) >= 3 else ""


def pick_debs(found: list[Path], *, arch: str | None) -> dict[str, Path]:
    """The ``.deb`` files in ``found`` by package name: of architecture ``arch`` (or ``all``), any if ``None``."""
    picked: dict[str, Path] = {}
    for deb in sorted(found):
        name, deb_arch = deb_architecture(deb)
        if arch is None or deb_arch in (arch, "all"):
            picked[name] = deb
    return picked


def _apt_options(suite: str, arch: str | None = None) -> list[str]:
    extra = architecture_options(arch)
    root = state_dir("apt", _state_name(suite, arch))
    (root / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "preferences.d").mkdir(parents=True, exist_ok=True)
    sources = root / "etc" / "sources.list"
    text = suite_sources_line(suite)
    if not sources.exists() or sources.read_text() != text:
        sources.write_text(text)
    return [
        "-o", f"Dir::Etc::SourceList={sources}",
        "-o", "Dir::Etc::SourceParts=/nonexistent",
        "-o", f"Dir::Etc::Preferences={root / 'etc' / 'preferences'}",
        "-o", f"Dir::Etc::PreferencesParts={root / 'etc' / 'preferences.d'}",
        "-o", f"Dir::State={root}",
        "-o", f"Dir::State::Lists={root / 'lists'}",
        "-o", f"Dir::State::status={root / 'status'}",
        "-o", f"Dir::Cache={root / 'cache'}",
        "-o", "Debug::NoLocking=true",
        # signed suites and authenticated packages only, whatever /etc/apt/apt.conf.d says
        "-o", "Acquire::AllowInsecureRepositories=false",
        "-o", "Acquire::AllowDowngradeToInsecureRepositories=false",
        "-o", "Acquire::AllowWeakRepositories=false",
        "-o", "APT::Get::AllowUnauthenticated=false",
        "-o", "APT::Sandbox::User=root" if _is_root() else "APT::Sandbox::User=",
        # a rolling suite's InRelease expires a week after it was made (see the module docstring); its
        # signature is still checked. This private state holds that suite's sources alone.
        *(["-o", "Acquire::Check-Valid-Until=false"] if is_rolling(suite) else []),
        *extra,
    ]


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def _update(suite: str, options: list[str], arch: str | None = None) -> None:
    root = state_dir("apt", _state_name(suite, arch))
    stamp = root / "updated"
    status = root / "status"
    if not status.exists():
        status.write_text("")
    if stamp.exists() and time.time() - stamp.stat().st_mtime < _LISTS_MAX_AGE:
        return
    run(["apt-get", *options, "update", "-qq"], timeout=600, what=f"apt-get update ({suite}, private state)",
        hint="Check that this machine can reach its Debian archive (`apt-get update` as root).")
    stamp.touch()


def apt_options(suite: str, *, arch: str | None = None, places: Mapping[str, str | Path] | None = None) -> list[str]:
    """The ``apt-get`` options of the course's private apt state for ``suite``, its signed indexes fresh.

    The state is this module's (see its docstring): the sources of ``suite`` alone, signed suites and
    authenticated packages only, ``arch``'s packages when given; its indexes are updated (``apt-get update``)
    when they are more than a day old. Pass the options to every ``apt-get`` run on that state.

    ``places`` moves apt's ``Dir::`` items, ``{"Dir::State::status": FILE}`` to plan against another
    system's package database or ``{"Dir::Cache::archives": FOLDER}`` to download into a folder of the
    caller's; only ``Dir::`` items, so that no caller can loosen the signature and hash checks.
    """
    others = [key for key in places or {} if not key.startswith("Dir::")]
    if others:
        raise UsageError(f"apt_options moves only apt's Dir:: items, not {', '.join(others)}.",
                         hint="The private state's other settings (its signature checks) are fixed.")
    options = _apt_options(suite, arch)
    options += [part for key, value in (places or {}).items() for part in ("-o", f"{key}={value}")]
    _update(suite, options, arch)
    return options


def download(packages: list[str], *, suite: str, dest: Path, arch: str | None = None) -> list[Path]:
    """Download ``.deb`` files of ``packages`` from Debian ``suite`` into ``dest`` (cached).

    ``arch`` fetches another CPU architecture's packages (``"arm64"``…; see the module docstring);
    ``None``, the default, this machine's own. A cached file counts only if it is of that architecture
    (or ``all``); keep each architecture's files in a folder of their own all the same.
    """
    if shutil.which("apt-get") is None:
        raise SetupError("apt-get is not available, so Debian packages cannot be fetched on this machine.",
                         hint="Run the course on Debian 12 or newer, or pull the official images/tools instead.")
    options = apt_options(suite, arch=arch)
    dest.mkdir(parents=True, exist_ok=True)
    have = pick_debs(list(dest.glob("*.deb")), arch=arch)
    missing = [name for name in packages if name not in have]
    if missing:
        run(["apt-get", *options, "download", *missing], cwd=dest, timeout=900,
            what=f"apt-get download {' '.join(missing)} ({suite}{', ' + arch if arch else ''})")
    debs = pick_debs(list(dest.glob("*.deb")), arch=arch)
    return [debs[name] for name in packages]


@dataclass(frozen=True)
class DebRecord:
    """What Debian's signed index says about the package file ``apt-get download`` would fetch."""

    package: str
    version: str
    architecture: str
    filename: str
    size: int
    sha256: str
    suite: str
    uri: str


_PRINT_URI = re.compile(r"^'(?P<uri>[^']+)' (?P<file>\S+) (?P<size>\d+) SHA256:(?P<sha>[0-9a-f]{64})$")


def index_record(package: str, *, suite: str) -> DebRecord:
    """The candidate ``.deb`` of ``package`` in ``suite`` with its sha256, read from the signed index.

    Uses ``apt-get download --print-uris`` (which downloads nothing) in the private apt state.
    """
    if shutil.which("apt-get") is None:
        raise SetupError("apt-get is not available, so Debian packages cannot be fetched on this machine.",
                         hint="Run the course on Debian 12 or newer, or pull the official images/tools instead.")
    options = apt_options(suite)
    result = run(["apt-get", *options, "download", "--print-uris", package], timeout=120,
                 what=f"apt-get download --print-uris {package} ({suite})")
    for line in result.stdout.splitlines():
        match = _PRINT_URI.match(line.strip())
        if match:
            name, version, arch = match["file"].removesuffix(".deb").split("_")
            return DebRecord(name, version.replace("%3a", ":"), arch, match["file"], int(match["size"]),
                             match["sha"], suite, match["uri"])
    raise SetupError(f"apt did not report a SHA256 for {package} in Debian {suite}.",
                     hint="Check that this machine's apt is 2.x (Debian 12 or newer) and the package exists.")


def extract(deb: Path, dest: Path) -> Path:
    """Unpack a ``.deb`` into ``dest`` with ``dpkg -x`` (no install, no scripts run)."""
    dest.mkdir(parents=True, exist_ok=True)
    run(["dpkg", "-x", str(deb), str(dest)], timeout=300, what=f"dpkg -x {deb.name}")
    return dest
